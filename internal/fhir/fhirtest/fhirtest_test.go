package fhirtest

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestAt(t *testing.T) {
	var b map[string]any
	err := json.Unmarshal([]byte(`{"resourceType":"Bundle","entry":[
		{"resource":{"resourceType":"Patient","id":"p1"},"search":{"mode":"match"}},
		{"resource":{"resourceType":"Organization","id":"o1"},"search":{"mode":"include"}},
		{"response":{"status":"201 Created"}}]}`), &b)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want any
	}{
		{"resourceType", "Bundle"},
		{"entry.0.resource.id", "p1"},
		{"entry.2.response.status", "201 Created"},
		{"entry.3.resource.id", nil},
		{"entry.x.resource", nil},
		{"resourceType.id", nil},
		{"missing", nil},
	} {
		if got := At(b, tc.path); got != tc.want {
			t.Errorf("At(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if got := Str(b, "entry.1.search.mode"); got != "include" {
		t.Errorf("Str = %q, want include", got)
	}
	if n := len(Entries(b)); n != 3 {
		t.Errorf("%d entries, want 3", n)
	}
	for mode, want := range map[string][]string{
		"":        {"Patient/p1", "Organization/o1"},
		"match":   {"Patient/p1"},
		"include": {"Organization/o1"},
	} {
		if got := IDs(b, mode); !slices.Equal(got, want) {
			t.Errorf("IDs(%q) = %v, want %v", mode, got, want)
		}
	}
}
