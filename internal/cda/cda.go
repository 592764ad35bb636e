// Package cda reads HL7 CDA R2 clinical documents as the French shared
// health record receives them (CI-SIS "structuration minimale" header):
// it parses the header strictly into a Document, cross-checks it against
// the metadata of the DocumentReference that carries it, and renders the
// narrative body to HTML that is safe to put in a page.
//
// Parsing is strict because the input comes from outside: the XML must be
// well formed, DOCTYPE and entity declarations are refused (no XXE, no
// entity expansion), the root must be urn:hl7-org:v3 ClinicalDocument, and
// size, nesting depth and element count are capped. Errors are
// *ParseError values naming the problem, the line and the element path,
// never the value of a personal field.
//
// The package is pure: no I/O besides the reader given to Parse, no clock,
// no mutable global state.
package cda

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/carnet-sante/carnet/internal/ins"
)

// OIDs the header uses.
const (
	// OIDIdNatPS is the identifier system of IdNatPS, the national
	// identifier of a health professional ("8"+RPPS or "0"+ADELI).
	OIDIdNatPS = "1.2.250.1.71.4.2.1"
	// OIDLOINC is the LOINC code system, which holds the type codes.
	OIDLOINC = "2.16.840.1.113883.6.1"
	// OIDConfidentiality is the HL7 Confidentiality code system (N, R, V).
	OIDConfidentiality = "2.16.840.1.113883.5.25"
)

// II is an HL7 instance identifier: an OID (or UUID) root and an optional
// extension. NullFlavor is set, and the rest empty, for an unknown id.
type II struct {
	Root, Extension, NullFlavor string
}

// Code is an HL7 coded value (CD/CE/CV/CS). CodeSystem is an OID.
type Code struct {
	Code, CodeSystem, CodeSystemName, DisplayName, NullFlavor string
}

// Period is an interval of time (IVL_TS). An interval written as one value
// (effectiveTime/@value) has Low and High equal to it.
type Period struct {
	Low, High TS
}

// NamePart is one part of a person name: a family name, a given name, a
// prefix or a suffix, with its HL7 qualifiers (space-separated codes).
type NamePart struct {
	Value     string
	Qualifier string
}

// Is reports whether the part carries the qualifier q ("BR", "CL", "SP"…).
func (p NamePart) Is(q string) bool {
	for _, f := range strings.Fields(p.Qualifier) {
		if f == q {
			return true
		}
	}
	return false
}

// Name is a person name (PN), its parts in document order.
type Name struct {
	Use    string
	Family []NamePart
	Given  []NamePart
	Prefix []NamePart
	Suffix []NamePart
	// Text is the name written as plain text, without parts, if any.
	Text string
}

// Patient is recordTarget/patientRole, with its patient.
type Patient struct {
	// IDs are all patientRole/id, in order.
	IDs []II
	// INS are the ids under one of the four INS OIDs, validated with
	// ins.ValidateINS (a bad key under the test or demonstration OID is a
	// warning in INS.Warnings; elsewhere an invalid INS fails Parse).
	INS   []ins.INS
	Names []Name
	// Sex is administrativeGenderCode: M, F, or anything else as unknown.
	Sex       ins.Sex
	BirthTime TS
	// Birthplace is the INSEE code of the place of birth, from
	// patient/birthplace/place/addr/county ("" when absent).
	Birthplace string
}

// Organization is a represented organization (author, custodian,
// performer).
type Organization struct {
	IDs  []II
	Name string
	// IndustryClass is standardIndustryClassCode: the sector of activity
	// of an author's organization, the practice setting of a performer's.
	IndustryClass Code
}

// Author is an author/assignedAuthor: a person or a device.
type Author struct {
	Time TS
	IDs  []II
	// Code is the profession or specialty (JDV_J01-XdsAuthorSpecialty).
	Code Code
	// Names are assignedPerson/name, empty for a device.
	Names []Name
	// Device is assignedAuthoringDevice/softwareName (or, without one,
	// manufacturerModelName), empty for a person.
	Device       string
	Organization Organization
}

// IdNatPS returns the author's IdNatPS (extension of the id under
// OIDIdNatPS), "" when it has none.
func (a Author) IdNatPS() string {
	for _, id := range a.IDs {
		if id.Root == OIDIdNatPS && id.Extension != "" {
			return id.Extension
		}
	}
	return ""
}

// ServiceEvent is documentationOf/serviceEvent: the act documented.
type ServiceEvent struct {
	Code   Code
	Period Period
	// PracticeSetting is performer/assignedEntity/representedOrganization/
	// standardIndustryClassCode, which the French header uses for the XDS
	// practiceSettingCode (JDV_J04, code system TRE_A01-CadreExercice).
	PracticeSetting Code
}

// Encounter is componentOf/encompassingEncounter: the care episode the
// document belongs to.
type Encounter struct {
	IDs    []II
	Code   Code
	Period Period
	// FacilityType is location/healthCareFacility/code, the XDS
	// healthcareFacilityTypeCode (JDV_J02).
	FacilityType Code
}

// BodyKind says how the body is carried.
type BodyKind uint8

const (
	// BodyStructured is component/structuredBody: sections with a narrative.
	BodyStructured BodyKind = iota + 1
	// BodyNonXML is component/nonXMLBody: an embedded file (CDA level 1,
	// most often a PDF in France).
	BodyNonXML
)

// Section is a section of a structured body.
type Section struct {
	Code  Code
	Title string
	// Sections are the nested sections (section/component/section).
	Sections []Section
	// text is the narrative block (section/text), nil when absent.
	text *node
}

// Body is the document body.
type Body struct {
	Kind     BodyKind
	Sections []Section
	// MediaType is the nonXMLBody's text/@mediaType ("application/pdf"),
	// "text/plain" when left out as HL7 defaults it.
	MediaType string
	// Data is the nonXMLBody content, decoded from base64 when the
	// representation is B64. Its size is bounded by Parse's limit.
	Data []byte
}

// Document is a parsed CDA R2 header, with its body.
type Document struct {
	ID              II
	Code            Code
	Title           string
	EffectiveTime   TS
	Confidentiality Code
	Language        string
	SetID           II
	// Version is versionNumber/@value, 0 when absent.
	Version       int
	Patient       Patient
	Authors       []Author
	Custodian     Organization
	ServiceEvents []ServiceEvent
	// Encounter is nil when the header has no componentOf.
	Encounter *Encounter
	Body      Body
}

// Parse reads a CDA R2 document of at most limit bytes (DefaultLimit when
// limit ≤ 0) and returns its header and body. It fails with a *ParseError
// wrapping ErrNotXML, ErrForbidden, ErrNotCDA, ErrTooLarge, ErrTooDeep or
// ErrHeader, or with the error of r wrapped if reading fails.
//
// The header must have an id, a code, an effectiveTime, a
// confidentialityCode, exactly one recordTarget/patientRole with its
// patient, at least one author/assignedAuthor, a custodian and a body
// (structuredBody or nonXMLBody). Times must be valid HL7 TS values and
// identifiers under the INS OIDs valid INS (see Patient.INS).
func Parse(r io.Reader, limit int64) (*Document, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	tree, err := read(r, limit)
	if err != nil {
		return nil, err
	}
	h := &header{}
	d := h.document(tree)
	if h.err != nil {
		return nil, h.err
	}
	return d, nil
}

// header extracts the Document from the tree, keeping the first error.
type header struct {
	err error
}

func (h *header) fail(n *node, path, format string, args ...any) {
	if h.err == nil {
		line := 0
		if n != nil {
			line = n.line
		}
		h.err = &ParseError{Err: ErrHeader, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
	}
}

// required returns the child local of n, recording an error if missing.
func (h *header) required(n *node, path, local string) *node {
	c := n.child(local)
	if c == nil {
		h.fail(n, path, "missing %s", local)
	}
	return c
}

// rootPath starts the element paths of error messages.
const rootPath = "ClinicalDocument"

func (h *header) document(n *node) *Document {
	d := &Document{
		ID:              ii(h.required(n, rootPath, "id")),
		Code:            code(h.required(n, rootPath, "code")),
		Title:           n.child("title").textContent(),
		EffectiveTime:   h.ts(h.required(n, rootPath, "effectiveTime"), rootPath+"/effectiveTime"),
		Confidentiality: code(h.required(n, rootPath, "confidentialityCode")),
		Language:        n.child("languageCode").get("code"),
		SetID:           ii(n.child("setId")),
	}
	if d.ID.Root == "" && n.child("id") != nil {
		h.fail(n.child("id"), rootPath+"/id", "the document id needs a root")
	}
	if d.EffectiveTime.IsZero() {
		h.fail(n.child("effectiveTime"), rootPath+"/effectiveTime", "the document date is required")
	}
	if d.Code.Code == "" {
		h.fail(n.child("code"), rootPath+"/code", "the document type code is required")
	}
	if d.Confidentiality.Code == "" {
		h.fail(n.child("confidentialityCode"), rootPath+"/confidentialityCode", "a confidentiality code is required")
	}
	if v := n.child("versionNumber"); v != nil && v.get("value") != "" {
		var err error
		if d.Version, err = strconv.Atoi(v.get("value")); err != nil || d.Version < 0 {
			h.fail(v, rootPath+"/versionNumber", "value must be a non-negative integer")
		}
	}
	d.Patient = h.patient(n)
	authors := n.children("author")
	if len(authors) == 0 {
		h.fail(n, rootPath, "missing author")
	}
	for _, a := range authors {
		d.Authors = append(d.Authors, h.author(a))
	}
	cust := h.required(n, rootPath, "custodian").at("assignedCustodian", "representedCustodianOrganization")
	if cust == nil && h.err == nil {
		h.fail(n.child("custodian"), rootPath+"/custodian", "missing assignedCustodian/representedCustodianOrganization")
	}
	d.Custodian = organization(cust)
	for _, doc := range n.children("documentationOf") {
		if se := doc.child("serviceEvent"); se != nil {
			d.ServiceEvents = append(d.ServiceEvents, h.serviceEvent(se))
		}
	}
	if enc := n.at("componentOf", "encompassingEncounter"); enc != nil {
		d.Encounter = &Encounter{
			IDs:          iis(enc.children("id")),
			Code:         code(enc.child("code")),
			Period:       h.period(enc.child("effectiveTime"), rootPath+"/componentOf/encompassingEncounter/effectiveTime"),
			FacilityType: code(enc.at("location", "healthCareFacility", "code")),
		}
	}
	d.Body = h.body(n)
	return d
}

func (h *header) patient(n *node) Patient {
	const path = rootPath + "/recordTarget/patientRole"
	targets := n.children("recordTarget")
	switch {
	case len(targets) == 0:
		h.fail(n, rootPath, "missing recordTarget/patientRole")
		return Patient{}
	case len(targets) > 1:
		h.fail(targets[1], rootPath+"/recordTarget", "more than one recordTarget: a shared-record document concerns one patient")
		return Patient{}
	}
	role := targets[0].child("patientRole")
	if role == nil {
		h.fail(targets[0], rootPath+"/recordTarget", "missing patientRole")
		return Patient{}
	}
	p := Patient{IDs: iis(role.children("id"))}
	for i, id := range role.children("id") {
		oid := id.get("root")
		if _, isINS := ins.KindOf(oid); !isINS || id.get("nullFlavor") != "" {
			continue
		}
		v, err := ins.ValidateINS(oid, id.get("extension"))
		if err != nil {
			h.fail(id, fmt.Sprintf("%s/id[%d]", path, i+1), "invalid INS: %v", err)
			continue
		}
		p.INS = append(p.INS, v)
	}
	pat := role.child("patient")
	if pat == nil {
		h.fail(role, path, "missing patient")
		return p
	}
	for _, nm := range pat.children("name") {
		p.Names = append(p.Names, name(nm))
	}
	switch pat.child("administrativeGenderCode").get("code") {
	case "M":
		p.Sex = ins.SexMale
	case "F":
		p.Sex = ins.SexFemale
	}
	p.BirthTime = h.ts(pat.child("birthTime"), path+"/patient/birthTime")
	p.Birthplace = pat.at("birthplace", "place", "addr", "county").textContent()
	return p
}

func (h *header) author(n *node) Author {
	const path = rootPath + "/author"
	aa := n.child("assignedAuthor")
	if aa == nil {
		h.fail(n, path, "missing assignedAuthor")
		return Author{}
	}
	a := Author{
		Time:         h.ts(n.child("time"), path+"/time"),
		IDs:          iis(aa.children("id")),
		Code:         code(aa.child("code")),
		Organization: organization(aa.child("representedOrganization")),
	}
	for _, nm := range aa.child("assignedPerson").children("name") {
		a.Names = append(a.Names, name(nm))
	}
	if dev := aa.child("assignedAuthoringDevice"); dev != nil {
		a.Device = dev.child("softwareName").textContent()
		if a.Device == "" {
			a.Device = dev.child("manufacturerModelName").textContent()
		}
	}
	return a
}

func (h *header) serviceEvent(n *node) ServiceEvent {
	se := ServiceEvent{
		Code:   code(n.child("code")),
		Period: h.period(n.child("effectiveTime"), rootPath+"/documentationOf/serviceEvent/effectiveTime"),
	}
	for _, perf := range n.children("performer") {
		c := perf.at("assignedEntity", "representedOrganization", "standardIndustryClassCode")
		if c != nil {
			se.PracticeSetting = code(c)
			break
		}
	}
	return se
}

func (h *header) body(n *node) Body {
	const path = rootPath + "/component"
	comp := n.child("component")
	if comp == nil {
		h.fail(n, rootPath, "missing component (the document body)")
		return Body{}
	}
	if sb := comp.child("structuredBody"); sb != nil {
		return Body{Kind: BodyStructured, Sections: sections(sb)}
	}
	nx := comp.child("nonXMLBody")
	if nx == nil {
		h.fail(comp, path, "missing structuredBody or nonXMLBody")
		return Body{}
	}
	text := nx.child("text")
	if text == nil {
		h.fail(nx, path+"/nonXMLBody", "missing text")
		return Body{}
	}
	b := Body{Kind: BodyNonXML, MediaType: text.get("mediaType")}
	if b.MediaType == "" {
		b.MediaType = "text/plain"
	}
	if text.child("reference") != nil {
		h.fail(text, path+"/nonXMLBody/text", "the content refers to an external file; it must be embedded")
		return b
	}
	if c := text.get("compression"); c != "" {
		h.fail(text, path+"/nonXMLBody/text", "compressed content (compression %q) is not supported", truncate(c, 10))
		return b
	}
	var content strings.Builder
	for _, k := range text.kids {
		if k.name.Local != "" {
			h.fail(k, path+"/nonXMLBody/text", "unexpected element %s in the content", qname(k.name))
			return b
		}
		content.WriteString(k.text)
	}
	switch rep := text.get("representation"); rep {
	case "B64":
		data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(content.String()), ""))
		if err != nil {
			var ce base64.CorruptInputError
			if errors.As(err, &ce) {
				h.fail(text, path+"/nonXMLBody/text", "invalid base64 at byte %d of the content", int64(ce))
			} else {
				h.fail(text, path+"/nonXMLBody/text", "invalid base64")
			}
			return b
		}
		b.Data = data
	case "", "TXT":
		b.Data = []byte(content.String())
	default:
		h.fail(text, path+"/nonXMLBody/text", "representation %q is not B64 or TXT", truncate(rep, 10))
	}
	return b
}

// sections reads the sections under n (structuredBody or section), each
// in a component.
func sections(n *node) []Section {
	var out []Section
	for _, comp := range n.children("component") {
		s := comp.child("section")
		if s == nil {
			continue
		}
		out = append(out, Section{
			Code:     code(s.child("code")),
			Title:    s.child("title").textContent(),
			Sections: sections(s),
			text:     s.child("text"),
		})
	}
	return out
}

// ts parses the value of a TS element; absent, nullFlavor'd or empty gives
// the zero TS.
func (h *header) ts(n *node, path string) TS {
	v := n.get("value")
	if v == "" {
		return TS{}
	}
	t, err := ParseTS(v)
	if err != nil {
		h.fail(n, path, "%v", err)
	}
	return t
}

// period reads an IVL_TS: low and high, or a single @value.
func (h *header) period(n *node, path string) Period {
	if n == nil {
		return Period{}
	}
	if n.get("value") != "" {
		t := h.ts(n, path)
		return Period{Low: t, High: t}
	}
	return Period{Low: h.ts(n.child("low"), path+"/low"), High: h.ts(n.child("high"), path+"/high")}
}

func ii(n *node) II {
	return II{Root: n.get("root"), Extension: n.get("extension"), NullFlavor: n.get("nullFlavor")}
}

func iis(ns []*node) []II {
	var out []II
	for _, n := range ns {
		out = append(out, ii(n))
	}
	return out
}

func code(n *node) Code {
	return Code{
		Code:           n.get("code"),
		CodeSystem:     n.get("codeSystem"),
		CodeSystemName: n.get("codeSystemName"),
		DisplayName:    n.get("displayName"),
		NullFlavor:     n.get("nullFlavor"),
	}
}

func organization(n *node) Organization {
	return Organization{
		IDs:           iis(n.children("id")),
		Name:          n.child("name").textContent(),
		IndustryClass: code(n.child("standardIndustryClassCode")),
	}
}

func name(n *node) Name {
	nm := Name{Use: n.get("use")}
	var text []string
	for _, k := range n.kids {
		if k.name.Local == "" {
			if t := strings.TrimSpace(k.text); t != "" {
				text = append(text, t)
			}
			continue
		}
		part := NamePart{Value: k.textContent(), Qualifier: k.get("qualifier")}
		switch {
		case k.isElem("family"):
			nm.Family = append(nm.Family, part)
		case k.isElem("given"):
			nm.Given = append(nm.Given, part)
		case k.isElem("prefix"):
			nm.Prefix = append(nm.Prefix, part)
		case k.isElem("suffix"):
			nm.Suffix = append(nm.Suffix, part)
		}
	}
	nm.Text = strings.Join(text, " ")
	return nm
}
