package identity_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/ins"
)

// marie is a qualified identity whose NIR, 279035121518989, is the valid
// example of domain/france.md; her traits agree with it.
var marie = person{id: "marie", birthName: "DURAND", given: "Marie Claire", birthDate: "1979-03-12", sex: ins.SexFemale,
	birthplace: "51215", status: ins.StatusQualified, insSystem: ins.SystemNIR, nir: "279035121518989"}

// with returns a copy of p changed by fn.
func (p person) with(fn func(*person)) person {
	fn(&p)
	return p
}

// TestINSIdentifiers: each INS is checked under its OID's policy, and
// only a qualified identity carries one. The INS is the second
// identifier of every Patient here: errors name Patient.identifier[1].
func TestINSIdentifiers(t *testing.T) {
	const insPath = "Patient.identifier[1]"
	tests := []struct {
		name   string
		p      person
		status int
		// severity and path of the issue expected, "" for a clean write.
		severity, path, message string
	}{
		{"production NIR, qualified", marie, http.StatusCreated, "", "", ""},
		{"production NIR, bad key", marie.with(func(p *person) { p.nir = "279035121518988" }), http.StatusBadRequest, "error", insPath, "key is 88, want 89"},
		{"production NIR, wrong length", marie.with(func(p *person) { p.nir = "27903512151898" }), http.StatusBadRequest, "error", insPath, "has 14 characters"},
		{"production NIR, letter", marie.with(func(p *person) { p.nir = "27903512151X989" }), http.StatusBadRequest, "error", insPath, "want a digit"},
		{"NIA, bad key", marie.with(func(p *person) { p.insSystem, p.nir = ins.SystemNIA, "279035121518988" }), http.StatusBadRequest, "error", insPath, "NIA"},
		{"test NIR, bad key tolerated", marie.with(func(p *person) { p.insSystem, p.nir = ins.SystemNIRTest, "279035121518988" }), http.StatusCreated, "warning", insPath, "tolerated under the INS-NIR-TEST system"},
		{"demo NIR, bad key tolerated", marie.with(func(p *person) { p.insSystem, p.nir = ins.SystemNIRDemo, "279035121518988" }), http.StatusCreated, "warning", insPath, "INS-NIR-DEMO"},
		{"demo NIR, malformed", marie.with(func(p *person) { p.insSystem, p.nir = ins.SystemNIRDemo, "2790351215189" }), http.StatusBadRequest, "error", insPath, "has 13 characters"},
		{"INS without identity status", marie.with(func(p *person) { p.status = "" }), http.StatusCreated, "warning", insPath, "only be used and shared for a qualified identity"},
		{"INS on a validated identity", marie.with(func(p *person) { p.status = ins.StatusValidated }), http.StatusUnprocessableEntity, "error", insPath, "only a qualified identity (QUAL) may carry the INS; this identity is VALI"},
		{"old INS on a provisional identity", marie.with(func(p *person) { p.status, p.use = ins.StatusProvisional, "old" }), http.StatusCreated, "", "", ""},
		{"qualified without birthplace", marie.with(func(p *person) { p.birthplace = "" }), http.StatusUnprocessableEntity, "error", "Patient", "birthplace is missing"},
		{"fictitious yet qualified", marie.with(func(p *person) { p.nir, p.attrs = "", []ins.Attribute{ins.AttrFictitious} }), http.StatusUnprocessableEntity, "error",
			"Patient.extension('" + ins.ExtIdentityReliability + "')", "fictitious (FICT) identity is provisional"},
		{"fictitious and doubtful", marie.with(func(p *person) {
			p.nir, p.status, p.attrs = "", ins.StatusProvisional, []ins.Attribute{ins.AttrFictitious, ins.AttrDoubtful}
		}), http.StatusUnprocessableEntity, "error",
			"Patient.extension('" + ins.ExtIdentityReliability + "')", "cannot be combined"},
	}
	forEachEngine(t, defaults, func(t *testing.T, c *client) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := tt.p.patient()
				delete(p, "id")
				r := c.do(http.MethodPost, "Patient", p).must(t, tt.status)
				if loc := r.header.Get("Location"); loc != "" {
					// Free the INS and traits for the next case.
					path := strings.TrimPrefix(loc, c.url+"/")
					c.do(http.MethodDelete, path[:strings.Index(path, "/_history")], nil).must(t, http.StatusNoContent)
				}
				if tt.severity == "" {
					if str(r.json, "resourceType") != "Patient" {
						t.Errorf("a clean write answers the Patient; got %s", r.body)
					}
					return
				}
				is := findIssue(r.json, tt.severity, tt.path)
				if is == nil || !strings.Contains(str(is, "diagnostics"), tt.message) {
					t.Errorf("want a %s on %s mentioning %q; got %s", tt.severity, tt.path, tt.message, r.body)
				}
				if tt.p.nir != "" && strings.Contains(string(r.body), tt.p.nir) && r.status >= 400 {
					t.Errorf("the refusal quotes the matricule: %s", r.body)
				}
			})
		}
	})
}

// TestOneINSOnePatient: a second Patient with an INS already in use is
// refused; a conditional create on the INS returns the existing one.
func TestOneINSOnePatient(t *testing.T) {
	forEachEngine(t, defaults, func(t *testing.T, c *client) {
		c.do(http.MethodPut, "Patient/marie", marie.patient()).must(t, http.StatusCreated)
		// Updating the same Patient is no conflict.
		p := marie.patient()
		p["telecom"] = []any{map[string]any{"system": "phone", "value": "0102030405"}}
		c.do(http.MethodPut, "Patient/marie", p).must(t, http.StatusOK)

		other := marie.with(func(p *person) { p.id = "" }).patient()
		r := c.do(http.MethodPost, "Patient", other)
		is := findIssue(r.json, "error", "Patient.identifier[1]")
		if r.status != http.StatusConflict || is == nil || !strings.Contains(str(is, "diagnostics"), "another Patient already carries this INS") {
			t.Errorf("second Patient with the same INS: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), "marie") {
			t.Errorf("the refusal names the other Patient: %s", r.body)
		}
		cond := "identifier=" + url.QueryEscape(ins.SystemNIR+"|"+marie.nir)
		r = c.do(http.MethodPost, "Patient", other, "If-None-Exist", cond).must(t, http.StatusOK)
		if str(r.json, "id") != "marie" {
			t.Errorf("conditional create: got %s, want Patient/marie", r.body)
		}
		// Two new Patients with one INS in a transaction: refused as a whole.
		nir := nir(7, ins.SexMale, 1985, 5, "99217")
		twin := person{birthName: "ROUX", given: "Paul", birthDate: "1985-05-01", sex: ins.SexMale, birthplace: "99217",
			status: ins.StatusQualified, insSystem: ins.SystemNIR, nir: nir}
		b := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"resource": twin.patient(), "request": map[string]any{"method": "POST", "url": "Patient"}},
			map[string]any{"resource": twin.with(func(p *person) { p.given = "Pierre" }).patient(), "request": map[string]any{"method": "POST", "url": "Patient"}},
		}}
		r = c.do(http.MethodPost, "", b).must(t, http.StatusConflict)
		if !strings.Contains(string(r.body), "Bundle.entry[1]") {
			t.Errorf("transaction: %s", r.body)
		}
		r = c.do(http.MethodGet, "Patient?identifier="+url.QueryEscape(ins.SystemNIR+"|"+nir), nil).must(t, http.StatusOK)
		if len(ids(r.json)) != 0 {
			t.Errorf("the refused transaction stored %v", ids(r.json))
		}
	})
}

// TestPossibleDuplicates: Patients sharing birth name (as spelled
// variants), birth date, sex and birthplace are flagged DOUB, found by a
// _tag search, and the tag does not carry the traits.
func TestPossibleDuplicates(t *testing.T) {
	base := person{birthName: "LE GALL", given: "Anne", birthDate: "1990-07-14", sex: ins.SexFemale, birthplace: "29019"}
	dupTag := url.QueryEscape(identity.TagDuplicate.System + "|" + identity.TagDuplicate.Code)
	forEachEngine(t, defaults, func(t *testing.T, c *client) {
		r := c.do(http.MethodPut, "Patient/a", base.with(func(p *person) { p.id = "a" }).patient()).must(t, http.StatusCreated)
		if str(r.json, "resourceType") != "Patient" {
			t.Fatalf("first Patient: a warning without any duplicate: %s", r.body)
		}
		key := tagCode(r.json, identity.SystemDuplicateKey)
		if len(key) != 32 || strings.Contains(strings.ToUpper(key), "GALL") {
			t.Errorf("duplicate key tag %q: want 32 hex digits, no trait", key)
		}
		// A spelling variant, another first name, a different INS: flagged.
		b := base.with(func(p *person) {
			p.id, p.birthName, p.given, p.status = "b", "Legall", "Anne-Marie", ins.StatusQualified
			p.insSystem, p.nir = ins.SystemNIRDemo, nir(1, ins.SexFemale, 1990, 7, "29019")
		})
		r = c.do(http.MethodPut, "Patient/b", b.patient()).must(t, http.StatusCreated)
		if is := findIssue(r.json, "warning", "Patient"); is == nil || !strings.Contains(str(is, "diagnostics"), "possible duplicate of 1 other patient") {
			t.Errorf("second Patient: %s", r.body)
		}
		// Another birth date: not a candidate. A confirmed homonym: not flagged.
		c.do(http.MethodPut, "Patient/c", base.with(func(p *person) { p.id, p.birthDate = "c", "1990-07-15" }).patient()).must(t, http.StatusCreated)
		c.do(http.MethodPut, "Patient/d", base.with(func(p *person) { p.id, p.attrs = "d", []ins.Attribute{ins.AttrHomonym} }).patient()).must(t, http.StatusCreated)

		for _, id := range []string{"a", "b"} {
			got := c.do(http.MethodGet, "Patient/"+id, nil).must(t, http.StatusOK)
			ident, err := ins.FromPatient(got.json)
			if err != nil || !hasAttr(ident.Attributes, ins.AttrDuplicate) {
				t.Errorf("Patient/%s: attributes %v (%v), want DOUB", id, ident.Attributes, err)
			}
		}
		r = c.do(http.MethodGet, "Patient?_tag="+dupTag+"&_sort=_id", nil).must(t, http.StatusOK)
		if got := strings.Join(ids(r.json), " "); got != "Patient/a Patient/b" {
			t.Errorf("flagged Patients: %s, want Patient/a Patient/b", got)
		}
		r = c.do(http.MethodGet, "Patient?_tag="+url.QueryEscape(identity.SystemDuplicateKey+"|"+key)+"&_sort=_id", nil).must(t, http.StatusOK)
		if got := strings.Join(ids(r.json), " "); got != "Patient/a Patient/b Patient/d" {
			t.Errorf("Patients sharing the key: %s, want Patient/a Patient/b Patient/d", got)
		}

		// Corrected birth date: b is no longer a candidate and loses DOUB
		// (a keeps it until identity review clears it).
		b.birthDate = "1991-07-14"
		b.nir = nir(1, ins.SexFemale, 1991, 7, "29019")
		r = c.do(http.MethodPut, "Patient/b", b.patient(), "Prefer", "return=representation").must(t, http.StatusOK)
		if id, _ := ins.FromPatient(r.json); hasAttr(id.Attributes, ins.AttrDuplicate) || tagCode(r.json, identity.TagDuplicate.System) != "" {
			t.Errorf("corrected Patient still flagged: %s", r.body)
		}
		// Two new duplicates in one transaction: both flagged.
		twin := person{birthName: "ROUX", given: "Jade", birthDate: "2001-02-03", sex: ins.SexFemale, birthplace: "35238"}
		b1 := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"resource": twin.with(func(p *person) { p.id = "t1" }).patient(), "request": map[string]any{"method": "PUT", "url": "Patient/t1"}},
			map[string]any{"resource": twin.with(func(p *person) { p.id = "t2" }).patient(), "request": map[string]any{"method": "PUT", "url": "Patient/t2"}},
		}}
		c.do(http.MethodPost, "", b1).must(t, http.StatusOK)
		for _, id := range []string{"t1", "t2"} {
			got := c.do(http.MethodGet, "Patient/"+id, nil).must(t, http.StatusOK)
			if tagCode(got.json, identity.TagDuplicate.System) != "DOUB" {
				t.Errorf("Patient/%s of the transaction not flagged: %s", id, got.body)
			}
		}

		// A rerun of the same write changes nothing.
		p := base.with(func(p *person) { p.id = "a" }).patient()
		setAttr(p, ins.AttrDuplicate)
		r = c.do(http.MethodPut, "Patient/a", p).must(t, http.StatusOK)
		if r.header.Get("ETag") != `W/"2"` {
			t.Errorf("Patient/a rewritten as it is: ETag %s, want W/\"2\" (created, then flagged)", r.header.Get("ETag"))
		}
	})
}

func hasAttr(attrs []ins.Attribute, a ins.Attribute) bool {
	for _, x := range attrs {
		if x == a {
			return true
		}
	}
	return false
}

// setAttr adds an attribute to a Patient built by person.patient, as the
// platform writes it: in the reliability extension, and as a tag.
func setAttr(p map[string]any, a ins.Attribute) {
	exts, _ := p["extension"].([]any)
	exts = append(exts, map[string]any{"url": ins.ExtIdentityReliability, "extension": []any{
		map[string]any{"url": "comment", "valueCodeableConcept": map[string]any{"coding": []any{
			map[string]any{"system": ins.CodeSystemIdentityStatusComment, "code": string(a)}}}}}})
	p["extension"] = exts
}

// tagCode returns the code of the first meta.tag of the system.
func tagCode(res map[string]any, system string) string {
	tags, _ := at(res, "meta.tag").([]any)
	for _, tg := range tags {
		if str(tg, "system") == system {
			return str(tg, "code")
		}
	}
	return ""
}
