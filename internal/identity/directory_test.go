package identity_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/directory/extract"
	"github.com/carnet-sante/carnet/internal/identity"
)

// ident is an identifier element.
func ident(system, value string) map[string]any {
	return map[string]any{"system": system, "value": value}
}

// The RPPS of the ANS directory's own examples fails the Luhn check.
const ansExampleRPPS = "10003461033"

func TestDirectoryIdentifiers(t *testing.T) {
	validRPPS := "10000000009" // 1000000000 + its Luhn digit
	role := func(prof, specialty string) map[string]any {
		r := map[string]any{"resourceType": "PractitionerRole",
			"code": []any{map[string]any{"coding": []any{map[string]any{"system": identity.SystemProfession, "code": prof}}}}}
		if specialty != "" {
			r["specialty"] = []any{map[string]any{"coding": []any{map[string]any{"system": identity.SystemSpecialty, "code": specialty}}}}
		}
		return r
	}
	tests := []struct {
		name     string
		res      map[string]any
		status   int
		severity string // of the issue expected at path; "" for none
		path     string
	}{
		{"IdNatPS and RPPS", map[string]any{"resourceType": "Practitioner", "identifier": []any{
			ident(directory.SystemIdNatPS, "8"+validRPPS), ident(directory.SystemRPPS, validRPPS)}}, http.StatusCreated, "", ""},
		{"RPPS failing Luhn", map[string]any{"resourceType": "Practitioner", "identifier": []any{
			ident("urn:oid:1.2.3", "anything"), ident(directory.SystemRPPS, ansExampleRPPS)}}, http.StatusBadRequest, "error", "Practitioner.identifier[1]"},
		{"IdNatPS of unknown prefix", map[string]any{"resourceType": "Practitioner", "identifier": []any{
			ident(directory.SystemIdNatPS, "9"+validRPPS)}}, http.StatusBadRequest, "error", "Practitioner.identifier[0]"},
		{"ADELI with a letter", map[string]any{"resourceType": "Practitioner", "identifier": []any{
			ident(directory.SystemIdNatPS, "07510A1234")}}, http.StatusBadRequest, "error", "Practitioner.identifier[0]"},
		{"FINESS failing Luhn", map[string]any{"resourceType": "Organization", "identifier": []any{
			ident(directory.SystemFINESS, "750712185")}}, http.StatusBadRequest, "error", "Organization.identifier[0]"},
		{"IdNatStruct FINESS and SIRET", map[string]any{"resourceType": "Organization", "identifier": []any{
			ident(directory.SystemIdNatStruct, "1750712184"), ident(directory.SystemSIRENE, "73282932000074")}}, http.StatusCreated, "", ""},
		{"SIRET failing Luhn", map[string]any{"resourceType": "Organization", "identifier": []any{
			ident(directory.SystemSIRENE, "73282932000075")}}, http.StatusBadRequest, "error", "Organization.identifier[0]"},
		{"legal entity FINESS in partOf", map[string]any{"resourceType": "Organization", "partOf": map[string]any{
			"identifier": ident(directory.SystemFINESS, "750712185")}}, http.StatusBadRequest, "error", "Organization.partOf.identifier"},
		{"practitioner RPPS in a role", map[string]any{"resourceType": "PractitionerRole", "practitioner": map[string]any{
			"identifier": ident(directory.SystemRPPS, ansExampleRPPS)}}, http.StatusBadRequest, "error", "PractitionerRole.practitioner.identifier"},
		{"médecin généraliste", role("10", "SM54"), http.StatusCreated, "", ""},
		{"unknown profession", role("99", ""), http.StatusCreated, "warning", "PractitionerRole.code[0].coding[0]"},
		{"specialty of another profession", role("21", "SM54"), http.StatusCreated, "warning", "PractitionerRole.specialty[0].coding[0]"},
	}
	opt := defaults
	opt.Terminology = catalog(t)
	forEachEngine(t, opt, func(t *testing.T, c *client) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := c.do(http.MethodPost, tt.res["resourceType"].(string), tt.res).must(t, tt.status)
				if tt.severity == "" {
					if str(r.json, "resourceType") != tt.res["resourceType"] {
						t.Errorf("a clean write answers the resource; got %s", r.body)
					}
					return
				}
				if findIssue(r.json, tt.severity, tt.path) == nil {
					t.Errorf("want a %s naming %s; got %s", tt.severity, tt.path, r.body)
				}
			})
		}
	})
}

// TestDirectoryKeysSwitch: with the RPPS key check off, the ANS examples'
// RPPS is accepted; SIRET keys are always checked.
func TestDirectoryKeysSwitch(t *testing.T) {
	opt := defaults
	opt.Directory = directory.Validator{SkipRPPSKey: true, SkipADELIKey: true, SkipFINESSKey: true}
	forEachEngine(t, opt, func(t *testing.T, c *client) {
		c.do(http.MethodPost, "Practitioner", map[string]any{"resourceType": "Practitioner",
			"identifier": []any{ident(directory.SystemRPPS, ansExampleRPPS)}}).must(t, http.StatusCreated)
		c.do(http.MethodPost, "Organization", map[string]any{"resourceType": "Organization",
			"identifier": []any{ident(directory.SystemSIRENE, "73282932000075")}}).must(t, http.StatusBadRequest)
	})
}

// TestSharedFixtures loads the PDSm example Patient and Organization.
// The Patient carries no identifier and no official name: no INS to
// check, no duplicate key. The Organization's IdNatStruct (2 + SIREN
// 264403106) and SIREN pass their Luhn check; altered, they are refused.
func TestSharedFixtures(t *testing.T) {
	read := func(name string) map[string]any {
		data, err := os.ReadFile(filepath.Join(sharedDir, "fixtures", "pdsm", name))
		if err != nil {
			t.Skipf("shared fixtures not beside the checkout: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	patient, org := read("Patient-fr-patient-123.json"), read("Organization-org-example.json")
	forEachEngine(t, defaults, func(t *testing.T, c *client) {
		r := c.do(http.MethodPut, "Patient/fr-patient-123", patient).must(t, http.StatusCreated)
		if str(r.json, "resourceType") != "Patient" || tagCode(r.json, identity.SystemDuplicateKey) != "" {
			t.Errorf("Patient: %s", r.body)
		}
		if state, _ := identity.RecordStatus(r.json); state != identity.RecordOpen {
			t.Errorf("record %s, want open", state)
		}
		r = c.do(http.MethodPut, "Organization/org-example", org).must(t, http.StatusCreated)
		if str(r.json, "resourceType") != "Organization" {
			t.Errorf("Organization: %s", r.body)
		}
		r = c.do(http.MethodGet, "Organization?identifier="+url.QueryEscape(directory.SystemIdNatStruct+"|2264403106"), nil).must(t, http.StatusOK)
		if got := ids(r.json); len(got) != 1 || got[0] != "Organization/org-example" {
			t.Errorf("search by IdNatStruct: %v", got)
		}
		var altered map[string]any
		json.Unmarshal([]byte(jsonOf(t, org)), &altered)
		at(altered, "identifier.1").(map[string]any)["value"] = "264403107"
		r = c.do(http.MethodPut, "Organization/org-example", altered).must(t, http.StatusBadRequest)
		if findIssue(r.json, "error", "Organization.identifier[1]") == nil {
			t.Errorf("altered SIREN: %s", r.body)
		}
	})
}

// directoryData is a small generated extract, read into resources.
type directoryData struct {
	resources []extract.Resource
	decoded   map[string]map[string]any // by Type/id
}

func loadExtract(t *testing.T, rows int) directoryData {
	t.Helper()
	var buf bytes.Buffer
	if _, err := extract.Generate(&buf, rows, 3, extract.GenerateOptions{Structures: 12}); err != nil {
		t.Fatal(err)
	}
	rd, err := extract.NewReader(&buf, directory.Validator{})
	if err != nil {
		t.Fatal(err)
	}
	d := directoryData{decoded: map[string]map[string]any{}}
	for {
		g, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(append(g.Organizations, g.Practitioner), g.Roles...) {
			key := r.Type + "/" + r.ID
			if _, dup := d.decoded[key]; dup {
				continue
			}
			var m map[string]any
			json.Unmarshal(r.JSON, &m)
			d.decoded[key] = m
			d.resources = append(d.resources, r)
		}
	}
	return d
}

// count returns how many resources of typ satisfy fn.
func (d directoryData) count(typ string, fn func(m map[string]any) bool) int {
	n := 0
	for k, m := range d.decoded {
		if strings.HasPrefix(k, typ+"/") && fn(m) {
			n++
		}
	}
	return n
}

// TestDirectorySearch loads a generated extract and runs the searches a
// professional's software makes: by name, identifier, profession,
// specialty, postal code and commune (INSEE name), Organization by
// FINESS or name.
func TestDirectorySearch(t *testing.T) {
	d := loadExtract(t, 80)
	var list []any
	for _, r := range d.resources {
		list = append(list, map[string]any{"resource": json.RawMessage(r.JSON),
			"request": map[string]any{"method": "PUT", "url": r.Type + "/" + r.ID}})
	}
	bundle := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": list}

	// Expectations, computed from the resources themselves.
	var rpps, family, finess, orgName string
	for k, m := range d.decoded {
		switch {
		case strings.HasPrefix(k, "Practitioner/") && str(m, "identifier.1.system") == directory.SystemRPPS && rpps == "":
			rpps, family = str(m, "identifier.1.value"), str(m, "name.0.family")
		case strings.HasPrefix(k, "Organization/") && str(m, "identifier.1.system") == directory.SystemFINESS && finess == "":
			finess, orgName = str(m, "identifier.1.value"), str(m, "name")
		}
	}
	if rpps == "" || finess == "" {
		t.Fatal("the generated extract has no RPPS or no FINESS")
	}
	profession := func(code string) func(m map[string]any) bool {
		return func(m map[string]any) bool {
			return str(m, "code.0.coding.0.system") == identity.SystemProfession && str(m, "code.0.coding.0.code") == code
		}
	}
	// The structures of the postal code and commune of the one holding
	// that FINESS.
	var postal, city string
	for k, m := range d.decoded {
		if k == "Organization/"+str(m, "id") && str(m, "identifier.1.value") == finess {
			postal, city = str(m, "address.0.postalCode"), str(m, "address.0.city")
		}
	}
	inPlace := map[string]bool{}
	for k, m := range d.decoded {
		if strings.HasPrefix(k, "Organization/") && str(m, "address.0.postalCode") == postal {
			inPlace[k] = true
		}
	}
	tok := func(system, code string) string { return url.QueryEscape(system + "|" + code) }
	searches := []struct {
		query string
		want  int
	}{
		{"Practitioner?identifier=" + tok(directory.SystemRPPS, rpps), 1},
		{"Practitioner?identifier=" + tok(directory.SystemIdNatPS, "8"+rpps), 1},
		{"Practitioner?family=" + url.QueryEscape(family), d.count("Practitioner", func(m map[string]any) bool { return str(m, "name.0.family") == family })},
		{"PractitionerRole?role=" + tok(identity.SystemProfession, "60"), d.count("PractitionerRole", profession("60"))},
		{"PractitionerRole?role=21", d.count("PractitionerRole", profession("21"))},
		{"PractitionerRole?specialty=SM54", d.count("PractitionerRole", func(m map[string]any) bool { return str(m, "specialty.0.coding.0.code") == "SM54" })},
		{"Practitioner?_has:PractitionerRole:practitioner:role=50", d.count("Practitioner", func(p map[string]any) bool {
			return d.count("PractitionerRole", func(m map[string]any) bool {
				return profession("50")(m) && str(m, "practitioner.reference") == "Practitioner/"+str(p, "id")
			}) > 0
		})},
		{"Organization?address-postalcode=" + postal, len(inPlace)},
		{"Organization?address-city=" + url.QueryEscape(strings.ToLower(city)), d.count("Organization", func(m map[string]any) bool { return str(m, "address.0.city") == city })},
		{"PractitionerRole?organization.address-postalcode=" + postal, d.count("PractitionerRole", func(m map[string]any) bool { return inPlace[str(m, "organization.reference")] })},
		{"Organization?identifier=" + tok(directory.SystemFINESS, finess), 1},
		{"Organization?name=" + url.QueryEscape(orgName), d.count("Organization", func(m map[string]any) bool { return strings.HasPrefix(str(m, "name"), orgName) })},
	}
	opt := defaults
	opt.Terminology = catalog(t)
	forEachEngine(t, opt, func(t *testing.T, c *client) {
		r := c.do(http.MethodPost, "", bundle).must(t, http.StatusOK)
		for i, e := range entries(r.json) {
			if status := str(e, "response.status"); status != "201 Created" || e["response"].(map[string]any)["outcome"] != nil {
				t.Fatalf("entry %d: %s %v", i, status, e["response"])
			}
		}
		for _, s := range searches {
			r := c.do(http.MethodGet, s.query+"&_count=1000", nil).must(t, http.StatusOK)
			if got := len(ids(r.json)); got != s.want || s.want == 0 {
				t.Errorf("%s: %d matches, want %d (and more than none)", s.query, got, s.want)
			}
		}
	})
}
