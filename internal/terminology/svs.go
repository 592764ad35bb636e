// Package terminology reads the national value sets (jeux de valeurs) the
// ANS publishes in IHE SVS XML (RetrieveValueSetResponse), and answers
// "is this code in that value set, and what is its display name?".
//
// The files are data shipped beside the binary, not code: the package parses
// them strictly with encoding/xml, refuses DTDs (so no entity can be
// declared, let alone fetched) and never touches the network.
package terminology

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// svsNamespace is the XML namespace of IHE SVS (ITI-48).
const svsNamespace = "urn:ihe:iti:svs:2008"

// Concept is one code of a value set.
type Concept struct {
	Code string
	// CodeSystem is the OID of the code system, as the file writes it
	// (a few legacy entries use a name, e.g. "ASTM").
	CodeSystem  string
	DisplayName string
	// ValidFrom and ValidUntil are the concept's dateValid and dateFin,
	// zero when the file leaves them out or empty.
	ValidFrom, ValidUntil time.Time
}

// ActiveAt reports whether the concept is in force at t: after its
// ValidFrom (if any) and before its ValidUntil (if any).
func (c Concept) ActiveAt(t time.Time) bool {
	return (c.ValidFrom.IsZero() || !t.Before(c.ValidFrom)) && (c.ValidUntil.IsZero() || t.Before(c.ValidUntil))
}

// ValueSet is a parsed value set.
type ValueSet struct {
	// OID is the value set's identifier (ValueSet/@id).
	OID string
	// Name is ValueSet/@displayName without its ".tabs" suffix, e.g.
	// "JDV_J07_XdsTypeCode_CISIS".
	Name string
	// ShortName is the short reference used in the specifications: "J07"
	// for JDV_J07_…, "Profession" for JDV_Profession_CISIS.
	ShortName   string
	Description string
	Version     string
	// ValidFrom, ValidUntil and Updated are dateValid, dateFin and dateMaj,
	// zero when absent or empty.
	ValidFrom, ValidUntil, Updated time.Time
	Concepts                       []Concept

	index map[conceptKey]int
}

type conceptKey struct{ system, code string }

// Lookup returns the concept with this code in this code system. The system
// may be an OID or a FHIR "urn:oid:" URI.
func (vs *ValueSet) Lookup(system, code string) (Concept, bool) {
	i, ok := vs.index[conceptKey{strings.TrimPrefix(system, "urn:oid:"), code}]
	if !ok {
		return Concept{}, false
	}
	return vs.Concepts[i], true
}

// ParseError reports a malformed value set file: where, and what.
type ParseError struct {
	File string // set by Load; empty for ParseSVS on a bare reader
	Line int    // 1-based; 0 when not known
	Msg  string
}

func (e *ParseError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("terminology: %s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return fmt.Sprintf("terminology: %s: %s", e.File, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("terminology: line %d: %s", e.Line, e.Msg)
	}
	return "terminology: " + e.Msg
}

// ParseSVS parses one SVS RetrieveValueSetResponse holding one ValueSet.
// Elements other than ValueSet, ConceptList and Concept are skipped; a
// Concept needs a code and a codeSystem, and a (codeSystem, code) pair may
// appear only once. Several ConceptLists (one per language) are merged.
func ParseSVS(r io.Reader) (*ValueSet, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	p := &svsParser{d: d}
	vs, err := p.parse()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			// Syntax errors from encoding/xml carry their own line.
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &ParseError{Line: se.Line, Msg: se.Msg}
			}
			line, _ := d.InputPos()
			return nil, &ParseError{Line: line, Msg: err.Error()}
		}
		return nil, pe
	}
	return vs, nil
}

type svsParser struct {
	d *xml.Decoder
}

func (p *svsParser) errorf(format string, args ...any) error {
	line, _ := p.d.InputPos()
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next token that matters: elements and their ends.
// Character data between elements must be blank; comments and processing
// instructions are skipped; a DTD is refused.
func (p *svsParser) next() (xml.Token, error) {
	for {
		tok, err := p.d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		case xml.Directive:
			return nil, p.errorf("DTD and other <!…> directives are not allowed")
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return nil, p.errorf("unexpected text %q", truncate(strings.TrimSpace(string(t)), 40))
			}
		}
	}
}

func (p *svsParser) parse() (*ValueSet, error) {
	if err := p.expectRoot("RetrieveValueSetResponse"); err != nil {
		return nil, err
	}
	var vs *ValueSet
	for {
		tok, err := p.next()
		if err != nil {
			return nil, p.eof(err, "RetrieveValueSetResponse")
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if vs == nil {
				return nil, p.errorf("no ValueSet in RetrieveValueSetResponse")
			}
			return vs, p.end()
		case xml.StartElement:
			if t.Name.Space != svsNamespace || t.Name.Local != "ValueSet" {
				if err := p.d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			if vs != nil {
				return nil, p.errorf("more than one ValueSet")
			}
			if vs, err = p.valueSet(t); err != nil {
				return nil, err
			}
		}
	}
}

// end checks that nothing but blanks, comments and processing instructions
// follows the root element (encoding/xml would read a second root).
func (p *svsParser) end() error {
	tok, err := p.next()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return err
	}
	return p.errorf("element %s after the root element", name(tok))
}

func (p *svsParser) expectRoot(local string) error {
	tok, err := p.next()
	if err != nil {
		return p.eof(err, "")
	}
	se, ok := tok.(xml.StartElement)
	if !ok || se.Name.Local != local || se.Name.Space != svsNamespace {
		return p.errorf("root element is %s, want %s in namespace %s", name(tok), local, svsNamespace)
	}
	return nil
}

// eof turns an unexpected end of input into a message naming the element
// left open.
func (p *svsParser) eof(err error, open string) error {
	if err == io.EOF {
		if open == "" {
			return p.errorf("empty document")
		}
		return p.errorf("unexpected end of file inside %s", open)
	}
	return err
}

func (p *svsParser) valueSet(start xml.StartElement) (*ValueSet, error) {
	vs := &ValueSet{index: make(map[conceptKey]int)}
	attrs := attrMap(start)
	vs.OID = attrs["id"]
	if vs.OID == "" {
		return nil, p.errorf("ValueSet has no id (the value set OID)")
	}
	vs.Name = strings.TrimSuffix(attrs["displayName"], ".tabs")
	vs.ShortName = shortName(vs.Name)
	vs.Description = attrs["description"]
	vs.Version = attrs["version"]
	var err error
	if vs.ValidFrom, err = p.date(attrs, "dateValid"); err != nil {
		return nil, err
	}
	if vs.ValidUntil, err = p.date(attrs, "dateFin"); err != nil {
		return nil, err
	}
	if vs.Updated, err = p.date(attrs, "dateMaj"); err != nil {
		return nil, err
	}
	lists := 0
	for {
		tok, err := p.next()
		if err != nil {
			return nil, p.eof(err, "ValueSet")
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if lists == 0 {
				return nil, p.errorf("ValueSet %s has no ConceptList", vs.OID)
			}
			return vs, nil
		case xml.StartElement:
			if t.Name.Space != svsNamespace || t.Name.Local != "ConceptList" {
				if err := p.d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			lists++
			if err := p.conceptList(vs); err != nil {
				return nil, err
			}
		}
	}
}

func (p *svsParser) conceptList(vs *ValueSet) error {
	for {
		tok, err := p.next()
		if err != nil {
			return p.eof(err, "ConceptList")
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name.Space != svsNamespace || t.Name.Local != "Concept" {
				return p.errorf("unexpected element %s in ConceptList, want Concept", t.Name.Local)
			}
			if err := p.concept(vs, t); err != nil {
				return err
			}
		}
	}
}

func (p *svsParser) concept(vs *ValueSet, start xml.StartElement) error {
	attrs := attrMap(start)
	c := Concept{Code: attrs["code"], CodeSystem: attrs["codeSystem"], DisplayName: attrs["displayName"]}
	if c.Code == "" || c.CodeSystem == "" {
		return p.errorf("Concept without code or codeSystem (code=%q codeSystem=%q)", c.Code, c.CodeSystem)
	}
	var err error
	if c.ValidFrom, err = p.date(attrs, "dateValid"); err != nil {
		return err
	}
	if c.ValidUntil, err = p.date(attrs, "dateFin"); err != nil {
		return err
	}
	k := conceptKey{c.CodeSystem, c.Code}
	if _, dup := vs.index[k]; dup {
		return p.errorf("concept %s|%s appears twice", c.CodeSystem, c.Code)
	}
	vs.index[k] = len(vs.Concepts)
	vs.Concepts = append(vs.Concepts, c)
	// A Concept has no children; Skip also checks it is closed.
	return p.d.Skip()
}

// date parses an SVS date attribute: the ANS form YYYYMMDDhhmmss (local
// time of Paris, read as UTC: only the day matters), or RFC 3339. An empty
// or absent attribute is the zero time.
func (p *svsParser) date(attrs map[string]string, key string) (time.Time, error) {
	v := attrs[key]
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"20060102150405", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, p.errorf("attribute %s=%q is not a date (want YYYYMMDDhhmmss)", key, v)
}

func attrMap(se xml.StartElement) map[string]string {
	m := make(map[string]string, len(se.Attr))
	for _, a := range se.Attr {
		if a.Name.Space == "" {
			m[a.Name.Local] = a.Value
		}
	}
	return m
}

// shortName derives the short reference of a value set from its name:
// "JDV_J07_XdsTypeCode_CISIS" → "J07", "JDV_Profession_CISIS" →
// "Profession". A name of another form is its own short name.
func shortName(name string) string {
	rest, ok := strings.CutPrefix(name, "JDV_")
	if !ok {
		return name
	}
	short, _, _ := strings.Cut(rest, "_")
	return short
}

func name(tok xml.Token) string {
	switch t := tok.(type) {
	case xml.StartElement:
		return t.Name.Local
	case xml.EndElement:
		return "/" + t.Name.Local
	}
	return fmt.Sprintf("%T", tok)
}

// truncate shortens s to n runes for an error message.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
