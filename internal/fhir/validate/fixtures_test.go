package validate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

// The shared fixtures live beside the work tree; they are not copied here.
const fixtures = "../../../../shared/fixtures"

// decode decodes JSON as the server does: numbers kept as json.Number.
func decode(t testing.TB, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// loadFixtures returns the decoded JSON files matching pattern, skipping
// the test when the shared fixtures are not there.
func loadFixtures(t testing.TB, pattern string) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtures, pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no fixtures %s", pattern)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		if strings.HasSuffix(f, ".openapi.json") {
			continue // an OpenAPI document, not a resource
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = decode(t, data)
	}
	return out
}

func reportIssues(t *testing.T, name string, issues []validate.Issue) {
	t.Helper()
	for i, is := range issues {
		if i == 10 {
			t.Errorf("%s: … %d issues in all", name, len(issues))
			break
		}
		t.Errorf("%s: %s %s at %s: %s", name, is.Severity, is.Code, is.Path, is.Message)
	}
}

// TestSyntheaValid holds the validator to zero false errors on the Synthea
// bundles, validated whole and entry by entry.
func TestSyntheaValid(t *testing.T) {
	n := 0
	for name, bundle := range loadFixtures(t, "synthea/*.json") {
		reportIssues(t, name, validate.Resource(bundle))
		for _, e := range bundle["entry"].([]any) {
			res := e.(map[string]any)["resource"].(map[string]any)
			reportIssues(t, name+" "+res["resourceType"].(string)+"/"+res["id"].(string), validate.Resource(res))
			n++
		}
	}
	t.Logf("%d resources", n)
}

// TestPDSmValid holds the validator to zero false errors on the French
// PDSm examples, with their profiles' extensions.
func TestPDSmValid(t *testing.T) {
	for name, res := range loadFixtures(t, "pdsm/*.json") {
		reportIssues(t, name, validate.Resource(res))
	}
}

// spot is a place in a decoded resource where the test injects a fault.
type spot struct {
	path  string
	apply func() (undo func())
}

// spots lists, for every object, a spot adding an unknown property, and
// for every string, a spot emptying it.
func spots(path string, val any, set func(any)) []spot {
	var out []spot
	switch x := val.(type) {
	case map[string]any:
		out = append(out, spot{path + ".carnetUnknown", func() func() {
			x["carnetUnknown"] = true
			return func() { delete(x, "carnetUnknown") }
		}})
		for k, child := range x {
			if k != "resourceType" {
				out = append(out, spots(path+"."+k, child, func(v any) { x[k] = v })...)
			}
		}
	case []any:
		for i, child := range x {
			out = append(out, spots(fmt.Sprintf("%s[%d]", path, i), child, func(v any) { x[i] = v })...)
		}
	case string:
		out = append(out, spot{path, func() func() {
			set("")
			return func() { set(x) }
		}})
	}
	return out
}

// TestSyntheaInjectedFaults checks, on real resources, that a fault put
// anywhere is found and reported at its exact path: an unknown property in
// every object, an empty string in place of every string.
func TestSyntheaInjectedFaults(t *testing.T) {
	bundles := loadFixtures(t, "synthea/*.json")
	names := make([]string, 0, len(bundles))
	for name := range bundles {
		names = append(names, name)
	}
	slices.Sort(names)
	n := 0
	for _, e := range bundles[names[0]]["entry"].([]any) {
		res := e.(map[string]any)["resource"].(map[string]any)
		for _, s := range spots(res["resourceType"].(string), res, nil) {
			undo := s.apply()
			issues := validate.Resource(res)
			undo()
			if len(issues) != 1 || issues[0].Path != s.path {
				t.Fatalf("fault at %s: issues %+v", s.path, issues)
			}
			n++
		}
	}
	t.Logf("%d faults found", n)
}
