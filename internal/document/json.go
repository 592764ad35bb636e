package document

import (
	"bytes"
	"encoding/json"
	"strings"
)

// indexed is an object of a JSON array and its index there.
type indexed struct {
	i int
	m map[string]any
}

// objects returns the objects of the array m[key], with their indexes.
func objects(m map[string]any, key string) []indexed {
	list, _ := m[key].([]any)
	out := make([]indexed, 0, len(list))
	for i, v := range list {
		if o, ok := v.(map[string]any); ok {
			out = append(out, indexed{i, o})
		}
	}
	return out
}

// object returns m[key] when it is an object.
func object(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// str returns the string at a path of keys, "" if absent.
func str(m map[string]any, path ...string) string {
	for _, k := range path[:len(path)-1] {
		if m = object(m, k); m == nil {
			return ""
		}
	}
	s, _ := m[path[len(path)-1]].(string)
	return s
}

// decode decodes stored JSON, numbers kept as written.
func decode(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}

// refID splits a relative reference "Type/id" (or "Type/id/_history/n"),
// ok false for any other form.
func refID(ref string) (typ, id string, ok bool) {
	parts := strings.Split(ref, "/")
	if len(parts) != 2 && !(len(parts) == 4 && parts[2] == "_history") {
		return "", "", false
	}
	if parts[0] == "" || parts[1] == "" || strings.ContainsAny(ref, "?#:") {
		return "", "", false
	}
	return parts[0], parts[1], true
}
