package rest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// syntheaDir holds the shared Synthea fixtures, read in place.
const syntheaDir = "../../../../shared/fixtures/synthea"

// TestSyntheaTransaction loads a Synthea patient through POST /fhir and
// reads the record back with $everything.
func TestSyntheaTransaction(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(syntheaDir, "*.json"))
	if len(files) == 0 {
		t.Skip("no Synthea fixtures at " + syntheaDir)
	}
	body, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var bundle map[string]any
	if err := json.Unmarshal(body, &bundle); err != nil {
		t.Fatal(err)
	}
	forEachEngine(t, func(t *testing.T, c *client) {
		r := c.do(http.MethodPost, "", body, "Prefer", "return=minimal").must(t, http.StatusOK)
		es := entries(r.json)
		if len(es) != len(entries(bundle)) {
			t.Fatalf("%d response entries for %d requests", len(es), len(entries(bundle)))
		}
		var patientID string
		for i, e := range es {
			if str(e, "response.status") != "201 Created" {
				t.Fatalf("entry %d: %v", i, e["response"])
			}
			if loc := str(e, "response.location"); strings.HasPrefix(loc, "Patient/") {
				patientID = strings.Split(loc, "/")[1]
			}
		}
		if patientID == "" {
			t.Fatal("no Patient created")
		}
		// Every resource of the compartment comes back, with its
		// urn:uuid references rewritten.
		inBundle := 0
		for _, e := range entries(bundle) {
			switch str(e, "resource.resourceType") {
			case "Organization", "Practitioner":
			default:
				inBundle++
			}
		}
		seen := 0
		next := c.base + "/Patient/" + patientID + "/$everything?_count=50"
		for next != "" {
			r := c.get(next).must(t, http.StatusOK)
			for _, e := range entries(r.json) {
				if e["resource"] != nil {
					seen++
				}
			}
			if strings.Contains(string(r.body), `"reference":"urn:uuid:`) {
				t.Errorf("a urn:uuid reference was stored as is")
			}
			next = link(r.json, "next")
		}
		if seen != inBundle {
			t.Errorf("$everything returned %d resources, the bundle has %d in the compartment", seen, inBundle)
		}
	})
}
