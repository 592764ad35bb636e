package identity

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/ins"
	"github.com/carnet-sante/carnet/internal/store"
)

// patientRule applies the identity rules to the writes of Patient.
type patientRule struct{ secret []byte }

// insIdentifier is an INS identifier found on a resource.
type insIdentifier struct {
	path, system, value, use string
}

// BeforeWrite checks, in order, the record status, the INS identifiers,
// the identity status, that each INS in use is the patient's alone, then
// maintains the duplicate key and flags.
func (p *patientRule) BeforeWrite(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
	res := w.Resource
	var prev map[string]any
	if w.Previous != nil {
		var err error
		if prev, err = decode(w.Previous.Content); err != nil {
			return nil, err
		}
	}
	if err := checkRecord(w, prev); err != nil {
		return nil, err
	}
	found, issues, err := checkINS(res, "Patient")
	if err != nil {
		return nil, err
	}
	id, err := ins.FromPatient(res)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "value", "Patient", "%s", strings.TrimPrefix(err.Error(), "ins: "))
	}
	more, err := checkStatus(id, found)
	if err != nil {
		return nil, err
	}
	issues = append(issues, more...)
	for _, f := range found {
		if err := uniqueINS(ctx, tx, w.ID, f); err != nil {
			return nil, err
		}
	}
	more, err = p.duplicates(ctx, tx, w, id)
	return append(issues, more...), err
}

// checkINS validates the INS identifiers of res (a Patient or a
// RelatedPerson), under each OID's policy (ins.ValidateINS): a matricule
// that fails is refused (400) naming the identifier; a bad key under the
// test or demonstration OID is a warning.
func checkINS(res map[string]any, typ string) ([]insIdentifier, []rest.Issue, error) {
	var found []insIdentifier
	var issues []rest.Issue
	for _, ident := range objects(res, "identifier") {
		system := str(ident.m, "system")
		if _, ok := ins.KindOf(system); !ok {
			continue
		}
		path := fmt.Sprintf("%s.identifier[%d]", typ, ident.i)
		v, err := ins.ValidateINS(system, str(ident.m, "value"))
		if err != nil {
			return nil, nil, invalid(path, "%s", strings.TrimPrefix(err.Error(), "ins: "))
		}
		for _, msg := range v.Warnings {
			issues = append(issues, warning("value", path, "%s", msg))
		}
		found = append(found, insIdentifier{path, system, str(ident.m, "value"), str(ident.m, "use")})
	}
	return found, issues, nil
}

// checkStatus applies the identitovigilance rules (RNIV) to an identity
// and the INS it carries:
//   - the attributes: FICT cannot go with DOUT or HOMA, and a doubtful or
//     fictitious identity is provisional (PROV) — 422 otherwise;
//   - only a qualified identity (QUAL) carries the INS: another status
//     with an INS in use is refused (422); no status at all is accepted
//     with a warning, for the many systems that do not send FR Core's
//     identity-reliability extension;
//   - a qualified identity has every INS trait (422 otherwise).
func checkStatus(id ins.Identity, found []insIdentifier) ([]rest.Issue, error) {
	const statusPath = "Patient.extension('" + ins.ExtIdentityReliability + "')"
	if id.Status != "" && !id.Status.Valid() {
		return nil, invalid(statusPath, "identity status %q is none of PROV, RECUP, VALI, QUAL", id.Status)
	}
	forced, err := ins.DeriveStatus(true, true, id.Attributes...)
	if err != nil {
		return nil, businessRule(statusPath, "%s", strings.TrimPrefix(err.Error(), "ins: "))
	}
	if forced == ins.StatusProvisional && id.Status != "" && id.Status != ins.StatusProvisional {
		return nil, businessRule(statusPath, "a doubtful (DOUT) or fictitious (FICT) identity is provisional (PROV), not %s", id.Status)
	}
	inUse := slices.IndexFunc(found, func(f insIdentifier) bool { return f.use != "old" })
	if id.Status == ins.StatusQualified {
		if err := id.Traits.Validate(); err != nil {
			msg := strings.ReplaceAll(strings.ReplaceAll(err.Error(), "ins: ", ""), "\n", "; ")
			return nil, businessRule("Patient", "a qualified identity (QUAL) has every INS trait: %s", msg)
		}
	}
	if inUse < 0 {
		return nil, nil
	}
	switch id.Status {
	case ins.StatusQualified:
		return nil, nil
	case "":
		return []rest.Issue{warning("business-rule", found[inUse].path,
			"the identity has no status (FR Core identity-reliability): the INS may only be used and shared for a qualified identity (QUAL)")}, nil
	}
	return nil, businessRule(found[inUse].path, "only a qualified identity (QUAL) may carry the INS; this identity is %s (mark the INS use \"old\", or qualify the identity)", id.Status)
}

// uniqueINS refuses (409) an INS in use that another Patient carries: one
// INS identifies one patient. The message does not name the other
// Patient, whom the client may not be allowed to see.
func uniqueINS(ctx context.Context, tx store.ResourceTx, self string, f insIdentifier) error {
	if f.use == "old" {
		return nil
	}
	matches, err := searchTx(ctx, tx, "Patient", url.Values{"identifier": {f.system + "|" + f.value}}, 2)
	if err != nil {
		return err
	}
	for _, m := range matches {
		if m.ID != self {
			return refuse(http.StatusConflict, "duplicate", f.path,
				"another Patient already carries this INS: one INS identifies one patient (to find it rather than create one, use If-None-Exist: identifier=%s|…)", f.system)
		}
	}
	return nil
}

// duplicates maintains the duplicate blocking key of the Patient (a keyed
// hash of birth name, birth date, sex and birthplace, as a meta.tag) and
// flags possible duplicates: when other Patients share the key, the
// Patient gets the DOUB attribute (and tag), and so does each of them,
// unless it is a confirmed homonym (HOMA). When none does any longer, the
// Patient's DOUB goes away. The others' flags are only ever added here:
// clearing them is a decision of identity review.
func (p *patientRule) duplicates(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest, id ins.Identity) ([]rest.Issue, error) {
	res := w.Resource
	t := id.Traits
	code := ""
	if t.BirthName != "" && t.BirthDate != "" && t.Sex != ins.SexUnknown && t.Birthplace != "" {
		code = duplicateCode(p.secret, ins.DuplicateKey(t))
	}
	setTag(res, SystemDuplicateKey, code)
	if code == "" {
		setAttribute(res, ins.AttrDuplicate, false)
		return nil, nil
	}
	matches, err := searchTx(ctx, tx, "Patient", url.Values{"_tag": {SystemDuplicateKey + "|" + code}}, 50)
	if err != nil {
		return nil, err
	}
	others := slices.DeleteFunc(matches, func(r store.Resource) bool { return r.ID == w.ID })
	if len(others) == 0 {
		setAttribute(res, ins.AttrDuplicate, false)
		return nil, nil
	}
	if !slices.Contains(id.Attributes, ins.AttrHomonym) {
		setAttribute(res, ins.AttrDuplicate, true)
	}
	for _, o := range others {
		other, err := decode(o.Content)
		if err != nil {
			return nil, err
		}
		attrs := attributes(other)
		if slices.Contains(attrs, ins.AttrDuplicate) || slices.Contains(attrs, ins.AttrHomonym) {
			continue
		}
		setAttribute(other, ins.AttrDuplicate, true)
		if err := w.Put(ctx, "Patient", o.ID, other); err != nil {
			return nil, err
		}
	}
	return []rest.Issue{warning("duplicate", "Patient",
		"possible duplicate of %d other patient(s) with the same birth name, birth date, sex and birthplace: flagged DOUB for identity review (carnet identity duplicates)", len(others))}, nil
}

// searchTx runs a search inside the write transaction, unfiltered by any
// access decision, and returns at most count matches.
func searchTx(ctx context.Context, tx store.ResourceTx, typ string, params url.Values, count int) ([]store.Resource, error) {
	req, err := search.Parse(typ, params, search.Options{})
	if err != nil {
		return nil, fmt.Errorf("identity: search %s?%s: %w", typ, params.Encode(), err)
	}
	q := req.Query
	q.Count = count
	page, err := tx.Search(ctx, &q)
	if err != nil {
		return nil, err
	}
	return page.Resources, nil
}

// attributes returns the identity attributes (identity-reliability
// comments) of a Patient.
func attributes(patient map[string]any) []ins.Attribute {
	ext, _ := reliability(patient, false)
	var out []ins.Attribute
	for _, sub := range objects(ext, "extension") {
		if str(sub.m, "url") != "comment" {
			continue
		}
		cc, _ := sub.m["valueCodeableConcept"].(map[string]any)
		for _, c := range codings(cc) {
			out = append(out, ins.Attribute(str(c.m, "code")))
		}
	}
	return out
}

// setAttribute adds (on) or removes an identity attribute of a Patient,
// in the first FR Core identity-reliability extension (created if
// needed, removed when left empty), and the meta.tag mirroring DOUB.
func setAttribute(patient map[string]any, attr ins.Attribute, on bool) {
	if attr == ins.AttrDuplicate {
		markTag(patient, TagDuplicate.System, TagDuplicate.Code, on)
	}
	ext, at := reliability(patient, on)
	if ext == nil {
		return
	}
	subs, _ := ext["extension"].([]any)
	has := false
	subs = slices.DeleteFunc(subs, func(s any) bool {
		m, _ := s.(map[string]any)
		cc, _ := m["valueCodeableConcept"].(map[string]any)
		if str(m, "url") == "comment" && hasCoding(cc, ins.CodeSystemIdentityStatusComment, string(attr)) {
			has = true
			return !on
		}
		return false
	})
	if on && !has {
		subs = append(subs, map[string]any{"url": "comment", "valueCodeableConcept": map[string]any{
			"coding": []any{map[string]any{"system": ins.CodeSystemIdentityStatusComment, "code": string(attr)}},
		}})
	}
	if len(subs) > 0 {
		ext["extension"] = subs
		return
	}
	// An extension holds a value or sub-extensions: without any, it goes.
	exts := slices.Delete(patient["extension"].([]any), at, at+1)
	if len(exts) == 0 {
		delete(patient, "extension")
		return
	}
	patient["extension"] = exts
}

// reliability returns the first identity-reliability extension of a
// Patient and its index in Patient.extension; when there is none, a new
// one appended to the Patient if create, nil otherwise.
func reliability(patient map[string]any, create bool) (map[string]any, int) {
	for _, e := range objects(patient, "extension") {
		if str(e.m, "url") == ins.ExtIdentityReliability {
			return e.m, e.i
		}
	}
	if !create {
		return nil, -1
	}
	ext := map[string]any{"url": ins.ExtIdentityReliability}
	exts, _ := patient["extension"].([]any)
	patient["extension"] = append(exts, ext)
	return ext, len(exts)
}
