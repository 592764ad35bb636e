package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
)

// refuse returns the error of a write refused because of the element at
// path (a FHIRPath such as "Patient.identifier[1]").
func refuse(status int, code, path, format string, args ...any) *rest.Error {
	return &rest.Error{Status: status, Issues: []rest.Issue{{
		Severity: "error", Code: code, Diagnostics: path + ": " + fmt.Sprintf(format, args...), Expression: []string{path},
	}}}
}

// invalid is a 400 refusal: the element's value is wrong in itself.
func invalid(path, format string, args ...any) *rest.Error {
	return refuse(http.StatusBadRequest, "value", path, format, args...)
}

// businessRule is a 422 refusal: the element is well formed but breaks a
// rule of the platform.
func businessRule(path, format string, args ...any) *rest.Error {
	return refuse(http.StatusUnprocessableEntity, "business-rule", path, format, args...)
}

// warning returns a warning about the element at path.
func warning(code, path, format string, args ...any) rest.Issue {
	return rest.Issue{Severity: "warning", Code: code, Diagnostics: path + ": " + fmt.Sprintf(format, args...), Expression: []string{path}}
}

// objects returns the elements of the array res[key] that are objects,
// with their index in the array.
func objects(res map[string]any, key string) (out []indexed) {
	arr, _ := res[key].([]any)
	for i, v := range arr {
		if m, ok := v.(map[string]any); ok {
			out = append(out, indexed{i, m})
		}
	}
	return out
}

type indexed struct {
	i int
	m map[string]any
}

// str returns res[key] if it is a string.
func str(res map[string]any, key string) string {
	s, _ := res[key].(string)
	return s
}

// decode decodes a stored resource, numbers kept as written.
func decode(content []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("identity: decoding a stored resource: %w", err)
	}
	return m, nil
}

// codings returns the codings of a CodeableConcept.
func codings(cc map[string]any) []indexed { return objects(cc, "coding") }

// hasCoding reports whether the CodeableConcept cc holds system|code.
func hasCoding(cc map[string]any, system, code string) bool {
	for _, c := range codings(cc) {
		if str(c.m, "system") == system && str(c.m, "code") == code {
			return true
		}
	}
	return false
}

// tags returns the meta.tag codings of res.
func tags(res map[string]any) []any {
	meta, _ := res["meta"].(map[string]any)
	t, _ := meta["tag"].([]any)
	return t
}

// tagCode returns the code of the first tag of the system, "" if none.
func tagCode(res map[string]any, system string) string {
	for _, t := range tags(res) {
		if m, ok := t.(map[string]any); ok && str(m, "system") == system {
			return str(m, "code")
		}
	}
	return ""
}

// setTag makes system|code the only tag of that system in res; an empty
// code removes the system's tags.
func setTag(res map[string]any, system, code string) {
	editTags(res, func(sys, _ string) bool { return sys == system }, system, code)
}

// markTag adds the tag system|code to res when on, removes it otherwise.
func markTag(res map[string]any, system, code string, on bool) {
	add := code
	if !on {
		add = ""
	}
	editTags(res, func(sys, c string) bool { return sys == system && c == code }, system, add)
}

// editTags removes the tags for which drop is true, then adds system|code
// unless code is empty. meta.tag disappears when no tag is left.
func editTags(res map[string]any, drop func(system, code string) bool, system, code string) {
	kept := slices.DeleteFunc(slices.Clone(tags(res)), func(t any) bool {
		m, ok := t.(map[string]any)
		return ok && drop(str(m, "system"), str(m, "code"))
	})
	if code != "" {
		kept = append(kept, map[string]any{"system": system, "code": code})
	}
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	if len(kept) == 0 {
		delete(meta, "tag")
		return
	}
	meta["tag"] = kept
}
