package rest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/carnet-sante/carnet/internal/store"
)

// mustJSON encodes a value built by this package (an OperationOutcome, a
// Bundle), which cannot fail to encode; "<" and "&" stay as they are, as
// in the narratives the resources carry.
func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("rest: encoding a response: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// marshalResource encodes a decoded resource: resourceType, id and meta
// first, the other elements after them in name order (the order of a
// JSON object carries no meaning in FHIR), numbers as they were written.
func marshalResource(res map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(1024)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	keys := make([]string, 0, len(res))
	for k := range res {
		if k != "resourceType" && k != "id" && k != "meta" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	buf.WriteByte('{')
	first := true
	for _, k := range append([]string{"resourceType", "id", "meta"}, keys...) {
		v, ok := res[k]
		if !ok {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// CloneJSON deep-copies a decoded JSON value.
func CloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = CloneJSON(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = CloneJSON(x)
		}
		return s
	}
	return v
}

// versionPath is Type/id/_history/version, relative to the base.
func versionPath(r *store.Resource) string {
	return r.Type + "/" + r.ID + "/_history/" + strconv.FormatInt(r.Version, 10)
}
