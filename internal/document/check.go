package document

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/carnet-sante/carnet/internal/ins"
)

// profile is the PDSm profile a deposited DocumentReference is held to.
type profile int

const (
	// comprehensive: PDSm_ComprehensiveDocumentReference, the
	// DocumentReferences of a Provide Document Bundle (ITI-65).
	comprehensive profile = iota
	// simplified: PDSm_SimplifiedPublish, the DocumentReference of a
	// Simplified Publish (ITI-105), with its document inline.
	simplified
)

// uuidURN is the form of a urn:uuid identifier value.
var uuidURN = regexp.MustCompile(`^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkDocumentReference checks the metadata of a DocumentReference to
// deposit against its PDSm profile and the national value sets. The
// content (size, hash, CDA header) and the subject are checked apart,
// against the bytes and the store. Where the PDSm profiles require an
// element or a binding and the official PDSm examples themselves go
// without it, the check warns rather than refuses (docs/PDSM.md lists
// which).
func (s *Service) checkDocumentReference(rep *report, res map[string]any, p profile) {
	if st := str(res, "status"); st != "current" {
		rep.fail(422, "business-rule", "DocumentReference.status", "a deposited document is current, not %q (a replacement marks the document it replaces superseded)", st)
	}
	checkMasterIdentifier(rep, res)
	if object(res, "subject") == nil {
		rep.fail(422, "required", "DocumentReference.subject", "the patient the document is about is required (a reference to the Patient, or Patient?identifier=<INS system>|<INS>)")
	}

	required := func(key, why string) {
		if res[key] == nil {
			rep.fail(422, "required", "DocumentReference."+key, "%s", why)
		}
	}
	if p == comprehensive {
		required("type", "the type of document (typeCode, JDV_J07) is required")
		required("category", "the class of document (classCode, TRE_A03) is required")
		required("date", "the date the DocumentReference was created is required")
		if str(res, "context", "period", "start") == "" {
			rep.fail(422, "required", "DocumentReference.context.period.start", "the start of the act documented (serviceStartTime) is required")
		}
		if res["custodian"] == nil {
			rep.warn("required", "DocumentReference.custodian", "PDSm requires the custodian organization (the official replacement example leaves it out): accepted")
		}
	} else if res["date"] == nil {
		rep.warn("required", "DocumentReference.date", "the date the DocumentReference was created should be given")
	}
	s.checkPreferred(rep, "DocumentReference.type", object(res, "type"), vsType)
	for _, c := range objects(res, "category") {
		s.checkPreferred(rep, fmt.Sprintf("DocumentReference.category[%d]", c.i), c.m, vsClass)
	}
	checkAuthors(rep, res, p)
	checkContent(s, rep, res, p)
	ctx := object(res, "context")
	s.checkPreferred(rep, "DocumentReference.context.facilityType", object(ctx, "facilityType"), vsFacilityType)
	s.checkPreferred(rep, "DocumentReference.context.practiceSetting", object(ctx, "practiceSetting"), vsPracticeSetting)
	s.checkSecurityLabels(rep, res)
	checkSourcePatient(rep, res)
	for _, r := range objects(res, "relatesTo") {
		if code := str(r.m, "code"); code != "replaces" {
			rep.warn("not-supported", fmt.Sprintf("DocumentReference.relatesTo[%d].code", r.i),
				"the association %q is recorded but not processed (Partial%sContentNotProcessed): only replaces changes the target", code, strings.ToUpper(code[:1])+code[1:])
		}
	}
}

// checkMasterIdentifier requires the document's unique id, by which a
// document deposited twice is recognised. PDSm writes it as a URI
// (urn:uuid:…, urn:oid:…); the official simplified example does not, hence
// only a warning.
func checkMasterIdentifier(rep *report, res map[string]any) {
	const expr = "DocumentReference.masterIdentifier"
	mi := object(res, "masterIdentifier")
	value := str(mi, "value")
	if value == "" {
		rep.fail(422, "required", expr, "the document's unique id (uniqueId) is required: it identifies the document wherever it is deposited")
		return
	}
	if str(mi, "system") == "urn:ietf:rfc:3986" && strings.HasPrefix(value, "urn:uuid:") && !uuidURN.MatchString(value) {
		rep.warn("value", expr+".value", "%q is not a well-formed urn:uuid (8-4-4-4-12 hexadecimal digits): accepted as the document's unique id", value)
	}
}

// checkAuthors requires an author. PDSm Comprehensive wants the authors
// contained in the DocumentReference; the official comprehensive example
// refers to a PractitionerRole instead, hence only a warning.
func checkAuthors(rep *report, res map[string]any, p profile) {
	authors := objects(res, "author")
	if len(authors) == 0 {
		rep.fail(422, "required", "DocumentReference.author", "at least one author is required")
		return
	}
	for _, a := range authors {
		expr := fmt.Sprintf("DocumentReference.author[%d]", a.i)
		ref := str(a.m, "reference")
		switch {
		case strings.HasPrefix(ref, "#"):
			if contained(res, ref[1:]) == nil {
				rep.fail(422, "not-found", expr, "%s names no resource in DocumentReference.contained", ref)
			}
		case p == comprehensive:
			rep.warn("business-rule", expr, "PDSm Comprehensive wants the author contained in the DocumentReference (reference \"#id\"), not %q: accepted", ref)
		}
	}
}

// contained returns the contained resource with that id.
func contained(res map[string]any, id string) map[string]any {
	for _, c := range objects(res, "contained") {
		if str(c.m, "id") == id {
			return c.m
		}
	}
	return nil
}

// checkContent checks the single content element: its media type, title
// and format. Size and hash are checked against the bytes (content.go).
func checkContent(s *Service, rep *report, res map[string]any, p profile) {
	contents := objects(res, "content")
	if len(contents) != 1 {
		rep.fail(422, "business-rule", "DocumentReference.content", "a deposited DocumentReference has exactly one content, not %d", len(contents))
		return
	}
	const expr = "DocumentReference.content[0]"
	att := object(contents[0].m, "attachment")
	if str(att, "contentType") == "" {
		rep.fail(422, "required", expr+".attachment.contentType", "the media type of the document (mimeType) is required")
	}
	if str(att, "title") == "" {
		rep.fail(422, "required", expr+".attachment.title", "the title of the document is required")
	}
	format := object(contents[0].m, "format")
	if format == nil {
		if p == comprehensive {
			rep.warn("required", expr+".format", "the format code (formatCode, JDV_J10) should be given")
		}
		return
	}
	s.checkPreferred(rep, expr+".format", map[string]any{"coding": []any{format}}, vsFormat)
}

// checkSourcePatient checks the INS of the patient as the source knows it
// (context.sourcePatientInfo, a contained Patient): a production INS with a
// wrong key is refused, a test INS with a wrong key accepted with a
// warning, as domain/france.md §1 says.
func checkSourcePatient(rep *report, res map[string]any) {
	ref := str(res, "context", "sourcePatientInfo", "reference")
	if !strings.HasPrefix(ref, "#") {
		return
	}
	p := contained(res, ref[1:])
	if p == nil {
		rep.fail(422, "not-found", "DocumentReference.context.sourcePatientInfo", "%s names no resource in DocumentReference.contained", ref)
		return
	}
	for _, id := range objects(p, "identifier") {
		checkINS(rep, fmt.Sprintf("DocumentReference.contained('%s').identifier[%d]", ref[1:], id.i), str(id.m, "system"), str(id.m, "value"))
	}
}

// checkINS validates an identifier when its system is one of the INS:
// refused when invalid, warned about when tolerated (test INS key). It
// reports whether the identifier is a usable INS.
func checkINS(rep *report, expr, system, value string) bool {
	if _, isINS := ins.KindOf(system); !isINS {
		return false
	}
	v, err := ins.ValidateINS(system, value)
	if err != nil {
		rep.fail(422, "value", expr, "invalid INS: %s", strings.TrimPrefix(err.Error(), "ins: "))
		return false
	}
	for _, w := range v.Warnings {
		rep.warn("value", expr, "%s", strings.TrimPrefix(w, "ins: "))
	}
	return true
}

// isXML reports whether a media type is XML, as CDA documents are sent.
func isXML(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	return mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml")
}

// cdaFormatSystems are the code systems of the format codes of CDA R2
// documents: the IHE formats (TRE_A11) and the CI-SIS ones (TRE_A06).
var cdaFormatSystems = []string{"1.3.6.1.4.1.19376.1.2.3", "1.2.250.1.213.1.1.4.2.282"}

// isCDAFormat reports whether a format code is one of a CDA document:
// those of TRE_A11 and TRE_A06 but the radiology ones (urn:ihe:rad:PDF,
// TEXT, DICOM), which are not CDA.
func isCDAFormat(format map[string]any) bool {
	return slices.Contains(cdaFormatSystems, oidOf(str(format, "system"))) && !strings.HasPrefix(str(format, "code"), "urn:ihe:rad:")
}
