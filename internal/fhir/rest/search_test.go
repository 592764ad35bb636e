package rest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestSearch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		org := c.create(map[string]any{"resourceType": "Organization", "name": "Clinique des Lilas"})
		alice := patient("Dupont", "a")
		alice["birthDate"] = "1980-05-01"
		alice["managingOrganization"] = map[string]any{"reference": "Organization/" + org}
		a := c.create(alice)
		bob := patient("Durand, fils", "b")
		bob["birthDate"] = "1990-05-01"
		bob["gender"] = "male"
		b := c.create(bob)
		o1 := c.create(observation("Patient/"+a, "1111-1"))
		o2 := c.create(observation("Patient/"+a, "2222-2"))
		o3 := c.create(observation("Patient/"+b, "1111-1"))

		tests := []struct {
			query  string
			want   []string // ids of the matches, in any order unless sorted
			incl   []string // ids of the included resources
			sorted bool
		}{
			{"Patient?family=dup", []string{"Patient/" + a}, nil, false},
			{"Patient?family:exact=Dupont", []string{"Patient/" + a}, nil, false},
			{"Patient?family:exact=dupont", nil, nil, false},
			{"Patient?family:contains=rand", []string{"Patient/" + b}, nil, false},
			{`Patient?family=Durand\,%20fils`, []string{"Patient/" + b}, nil, false},
			{"Patient?family=Dupont,Durand", []string{"Patient/" + a, "Patient/" + b}, nil, false},
			{"Patient?family=Dupont&family=Durand", nil, nil, false},
			{"Patient?gender=male", []string{"Patient/" + b}, nil, false},
			{"Patient?gender:not=male", []string{"Patient/" + a}, nil, false},
			{"Patient?identifier=urn:test|a", []string{"Patient/" + a}, nil, false},
			{"Patient?identifier=other|a", nil, nil, false},
			{"Patient?birthdate=ge1985", []string{"Patient/" + b}, nil, false},
			{"Patient?birthdate=lt1985-01-01", []string{"Patient/" + a}, nil, false},
			{"Patient?birthdate=1980-05", []string{"Patient/" + a}, nil, false},
			{"Patient?_id=" + a + "," + b, []string{"Patient/" + a, "Patient/" + b}, nil, false},
			{"Patient?organization:missing=true", []string{"Patient/" + b}, nil, false},
			{"Patient?_sort=-birthdate", []string{"Patient/" + b, "Patient/" + a}, nil, true},
			{"Patient?_sort=family", []string{"Patient/" + a, "Patient/" + b}, nil, true},
			{"Observation?subject=Patient/" + a, []string{"Observation/" + o1, "Observation/" + o2}, nil, false},
			{"Observation?patient=" + b, []string{"Observation/" + o3}, nil, false},
			{"Observation?code=http://loinc.org|1111-1&patient=" + a, []string{"Observation/" + o1}, nil, false},
			{"Observation?subject:Patient.family=durand", []string{"Observation/" + o3}, nil, false},
			{"Observation?patient.birthdate=1980", []string{"Observation/" + o1, "Observation/" + o2}, nil, false},
			{"Observation?patient.organization.name=x", nil, nil, false}, // refused below
			{"Patient?_has:Observation:patient:code=2222-2", []string{"Patient/" + a}, nil, false},
			{"Observation?code=1111-1&_include=Observation:subject", []string{"Observation/" + o1, "Observation/" + o3}, []string{"Patient/" + a, "Patient/" + b}, false},
			{"Patient?_id=" + a + "&_revinclude=Observation:subject&_include=Patient:organization", []string{"Patient/" + a}, []string{"Observation/" + o1, "Observation/" + o2, "Organization/" + org}, false},
		}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				r := c.do(http.MethodGet, tc.query, nil)
				if strings.Contains(tc.query, "organization.name") {
					r.outcome(t, http.StatusBadRequest, "one level")
					return
				}
				r.must(t, http.StatusOK)
				got := ids(r.json, "match")
				if !tc.sorted {
					slices.Sort(got)
					slices.Sort(tc.want)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("matches %v, want %v", got, tc.want)
				}
				incl := ids(r.json, "include")
				slices.Sort(incl)
				slices.Sort(tc.incl)
				if !slices.Equal(incl, tc.incl) {
					t.Errorf("included %v, want %v", incl, tc.incl)
				}
			})
		}

		// POST _search takes the parameters as a form.
		r := c.do(http.MethodPost, "Patient/_search", "family=Dupont", "Content-Type", "application/x-www-form-urlencoded").must(t, http.StatusOK)
		if got := ids(r.json, "match"); !slices.Equal(got, []string{"Patient/" + a}) {
			t.Errorf("POST _search: %v", got)
		}
		if self := link(r.json, "self"); self != c.base+"/Patient?family=Dupont" {
			t.Errorf("POST _search self link %q", self)
		}

		// Unknown parameters are ignored, said so, and left out of self.
		r = c.do(http.MethodGet, "Patient?family=Dupont&colour=blue", nil).must(t, http.StatusOK)
		if self := link(r.json, "self"); strings.Contains(self, "colour") || !strings.Contains(self, "family=Dupont") {
			t.Errorf("self link %q", self)
		}
		es := entries(r.json)
		last := es[len(es)-1]
		if str(last, "search.mode") != "outcome" || !strings.Contains(str(last, "resource.issue.0.diagnostics"), "colour") ||
			str(last, "resource.issue.0.severity") != "warning" {
			t.Errorf("no outcome entry about colour: %v", last)
		}

		// Counting, totals, shaping.
		r = c.do(http.MethodGet, "Observation?_summary=count", nil).must(t, http.StatusOK)
		if at(r.json, "total") != float64(3) || len(entries(r.json)) != 0 {
			t.Errorf("_summary=count: %s", r.body)
		}
		r = c.do(http.MethodGet, "Observation?_count=1&_total=accurate", nil).must(t, http.StatusOK)
		if at(r.json, "total") != float64(3) || len(entries(r.json)) != 1 {
			t.Errorf("_total=accurate: %s", r.body)
		}
		r = c.do(http.MethodGet, "Patient?_id="+a+"&_elements=birthDate", nil).must(t, http.StatusOK)
		res := entries(r.json)[0]["resource"].(map[string]any)
		if res["name"] != nil || str(res, "birthDate") != "1980-05-01" || str(res, "meta.tag.0.code") != "SUBSETTED" {
			t.Errorf("_elements: %v", res)
		}
		r = c.do(http.MethodGet, "Patient/"+a+"?_elements=gender", nil).must(t, http.StatusOK)
		if r.json["name"] != nil || str(r.json, "gender") != "female" {
			t.Errorf("read with _elements: %s", r.body)
		}
	})
}

// TestPaging pages through a search with next links while other resources
// are being created: every resource that existed at the start is seen
// exactly once.
func TestPaging(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		const n = 23
		want := map[string]bool{}
		for i := range n {
			want["Patient/"+c.create(patient(fmt.Sprintf("Page%02d", i), fmt.Sprint(i)))] = true
		}
		for _, sort := range []string{"", "&_sort=family", "&_sort=-_lastUpdated"} {
			t.Run(sort, func(t *testing.T) {
				seen := map[string]int{}
				next := c.base + "/Patient?family=page&_count=5" + sort
				pages := 0
				for next != "" {
					r := c.get(next).must(t, http.StatusOK)
					for _, id := range ids(r.json, "match") {
						seen[id]++
					}
					c.create(patient("Page-new", "new")) // matches the search: inserted while paging
					next = link(r.json, "next")
					if pages++; pages > 20 {
						t.Fatal("too many pages")
					}
				}
				for id := range want {
					if seen[id] != 1 {
						t.Errorf("%s seen %d times", id, seen[id])
					}
				}
				for id, k := range seen {
					if k > 1 {
						t.Errorf("%s seen %d times", id, k)
					}
				}
			})
		}
		// A next link is bound to its search.
		r := c.do(http.MethodGet, "Patient?family=page&_count=5", nil).must(t, http.StatusOK)
		u, _ := url.Parse(link(r.json, "next"))
		cursor := u.Query().Get("_cursor")
		c.do(http.MethodGet, "Patient?family=other&_count=5&_cursor="+cursor, nil).outcome(t, http.StatusBadRequest, "_cursor")
	})
}

func TestEverything(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		p := c.create(patient("Everything", "e"))
		other := c.create(patient("Other", "o"))
		want := map[string]bool{"Patient/" + p: true}
		for i := range 12 {
			want["Observation/"+c.create(observation("Patient/"+p, fmt.Sprint(i)))] = true
		}
		c.create(observation("Patient/"+other, "x"))
		seen := map[string]bool{}
		next := c.base + "/Patient/" + p + "/$everything?_count=5"
		for pages := 0; next != ""; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			r := c.get(next).must(t, http.StatusOK)
			for _, id := range ids(r.json, "match") {
				if seen[id] {
					t.Errorf("%s seen twice", id)
				}
				seen[id] = true
			}
			next = link(r.json, "next")
		}
		for id := range want {
			if !seen[id] {
				t.Errorf("$everything lacks %s", id)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("$everything returned %d resources, want %d", len(seen), len(want))
		}
		r := c.do(http.MethodGet, "Patient/"+p+"/$everything?_since=2999-01-01T00:00:00Z&start=2020", nil).must(t, http.StatusOK)
		if got := ids(r.json, "match"); len(got) != 0 {
			t.Errorf("$everything?_since in the future: %v", got)
		}
		if es := entries(r.json); len(es) != 1 || str(es[0], "search.mode") != "outcome" || !strings.Contains(link(r.json, "self"), "_since") {
			t.Errorf("the ignored start parameter is not reported: %s", r.body)
		}
	})
}
