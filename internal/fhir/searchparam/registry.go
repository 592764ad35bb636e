package searchparam

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Type is the type of a search parameter, as in SearchParameter.type. Its
// values are the R4 codes, so it converts to and from other string types
// holding the same codes.
type Type string

// The R4 search parameter types.
const (
	String    Type = "string"
	Token     Type = "token"
	Date      Type = "date"
	Reference Type = "reference"
	Number    Type = "number"
	Quantity  Type = "quantity"
	URI       Type = "uri"
	Composite Type = "composite"
	Special   Type = "special"
)

// Param is one search parameter as it applies to one resource type.
type Param struct {
	// Code is the name used in URLs, e.g. "birthdate" or "_id".
	Code string
	// URL is the canonical URL of the SearchParameter definition.
	URL  string
	Type Type
	// Expression is the FHIRPath expression narrowed to this resource type:
	// only the branches of the definition's union that start with this
	// type (or with Resource / DomainResource). Empty when the definition
	// has none (_text, _content, _query): such parameters have no values.
	Expression string
	// Targets are the resource types a reference parameter may point to.
	Targets []string
	// Components are the parts of a composite parameter.
	Components []Component
	// Description is the definition's description (markdown).
	Description string

	// eval computes the parameter's values; nil when it has none
	// (composite, special, or no expression).
	eval evaluator
}

// Component is one part of a composite search parameter: the code of the
// parameter it reuses and the expression, relative to the composite's own
// expression, that selects its value.
type Component struct {
	Code       string
	Expression string
}

// Native reports whether the parameter's values are computed by the native
// evaluator rather than by the FHIRPath library. Parameters that have no
// values (composite, special, no expression) are not native.
func (p *Param) Native() bool {
	_, ok := p.eval.(*program)
	return ok
}

// Lookup returns the search parameter code of resourceType, including the
// parameters common to all resources (_id, _lastUpdated, …).
func Lookup(resourceType, code string) (*Param, bool) {
	p, ok := registry().byType[resourceType][code]
	return p, ok
}

// ForType returns the search parameters of resourceType, including the
// parameters common to all resources, sorted by code. It returns nil for an
// unknown resource type. The slice is shared: do not modify it.
func ForType(resourceType string) []*Param {
	return registry().sorted[resourceType]
}

// ResourceTypes returns the R4 resource types, sorted. The slice is shared:
// do not modify it.
func ResourceTypes() []string {
	return registry().types
}

// IsResourceType reports whether name is an R4 resource type.
func IsResourceType(name string) bool {
	_, ok := registry().byType[name]
	return ok
}

var (
	//go:embed data/search-parameters.json.gz
	searchParametersGz []byte
	//go:embed data/compartmentdefinition-patient.json.gz
	compartmentGz []byte

	regOnce sync.Once
	reg     *registryData
)

// registryData is everything built from the embedded definitions.
type registryData struct {
	types       []string
	byType      map[string]map[string]*Param
	sorted      map[string][]*Param
	compartment map[string][]*Param
}

// registry returns the registry, building it on first use. The embedded
// data is part of the binary, so a failure to read it is a programming
// error and panics.
func registry() *registryData {
	regOnce.Do(func() {
		r, err := load(searchParametersGz, compartmentGz)
		if err != nil {
			panic("searchparam: embedded definitions: " + err.Error())
		}
		reg = r
	})
	return reg
}

// hl7SearchParameter is the URL prefix of the standard definitions.
const hl7SearchParameter = "http://hl7.org/fhir/SearchParameter/"

// searchParameterJSON is the part of a SearchParameter resource we read.
type searchParameterJSON struct {
	URL         string   `json:"url"`
	Code        string   `json:"code"`
	Base        []string `json:"base"`
	Type        Type     `json:"type"`
	Expression  string   `json:"expression"`
	Target      []string `json:"target"`
	Description string   `json:"description"`
	Component   []struct {
		Definition string `json:"definition"`
		Expression string `json:"expression"`
	} `json:"component"`
}

// compartmentJSON is the part of the patient CompartmentDefinition we read.
type compartmentJSON struct {
	Resource []struct {
		Code  string   `json:"code"`
		Param []string `json:"param"`
	} `json:"resource"`
}

func gunzipJSON(gz []byte, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// load builds the registry from the gzipped SearchParameter bundle and
// patient CompartmentDefinition.
func load(paramsGz, compartmentGz []byte) (*registryData, error) {
	var bundle struct {
		Entry []struct {
			Resource searchParameterJSON `json:"resource"`
		} `json:"entry"`
	}
	if err := gunzipJSON(paramsGz, &bundle); err != nil {
		return nil, fmt.Errorf("search parameters: %w", err)
	}
	var comp compartmentJSON
	if err := gunzipJSON(compartmentGz, &comp); err != nil {
		return nil, fmt.Errorf("patient compartment: %w", err)
	}
	addDocumentSharingCompartment(&comp)

	// The compartment definition lists the R4 resource types, including
	// those with no search parameter of their own (Binary…).
	r := &registryData{
		byType:      map[string]map[string]*Param{},
		sorted:      map[string][]*Param{},
		compartment: map[string][]*Param{},
	}
	for _, c := range comp.Resource {
		r.types = append(r.types, c.Code)
		r.byType[c.Code] = map[string]*Param{}
	}
	// Parameters is the one R4 resource type it leaves out.
	r.types = append(r.types, "Parameters")
	r.byType["Parameters"] = map[string]*Param{}
	sort.Strings(r.types)

	codeByURL := map[string]string{}
	var defs []searchParameterJSON
	var common []commonParam
	for _, e := range bundle.Entry {
		sp := e.Resource
		if !strings.HasPrefix(sp.URL, hl7SearchParameter) {
			continue
		}
		codeByURL[sp.URL] = sp.Code
		defs = append(defs, sp)
	}
	defs = append(defs, documentSharingDefinitions...)
	for _, sp := range defs {
		for _, base := range sp.Base {
			if base == "Resource" || base == "DomainResource" {
				common = append(common, commonParam{sp, base == "DomainResource"})
				continue
			}
			if _, ok := r.byType[base]; !ok {
				continue // not an R4 resource type
			}
			p, err := newParam(base, sp, codeByURL)
			if err != nil {
				return nil, err
			}
			r.byType[base][sp.Code] = p
		}
	}
	for _, t := range r.types {
		for _, c := range common {
			if _, ok := r.byType[t][c.sp.Code]; ok || c.domain && !isDomainResource(t) {
				continue // a type's own definition wins over the common one
			}
			p, err := newParam(t, c.sp, codeByURL)
			if err != nil {
				return nil, err
			}
			r.byType[t][c.sp.Code] = p
		}
		ps := make([]*Param, 0, len(r.byType[t]))
		for _, p := range r.byType[t] {
			ps = append(ps, p)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].Code < ps[j].Code })
		r.sorted[t] = ps
	}

	for _, c := range comp.Resource {
		for _, code := range c.Param {
			p, ok := r.byType[c.Code][code]
			if !ok {
				return nil, fmt.Errorf("patient compartment: %s has no parameter %q", c.Code, code)
			}
			r.compartment[c.Code] = append(r.compartment[c.Code], p)
		}
	}
	return r, nil
}

// commonParam is a definition whose base is Resource or DomainResource.
type commonParam struct {
	sp     searchParameterJSON
	domain bool
}

// isDomainResource reports whether an R4 resource type derives from
// DomainResource: all do but three.
func isDomainResource(resourceType string) bool {
	return resourceType != "Bundle" && resourceType != "Binary" && resourceType != "Parameters"
}

// newParam builds the Param of definition sp for resourceType, narrowing
// and compiling its expression.
func newParam(resourceType string, sp searchParameterJSON, codeByURL map[string]string) (*Param, error) {
	p := &Param{
		Code:        sp.Code,
		URL:         sp.URL,
		Type:        sp.Type,
		Expression:  narrow(sp.Expression, resourceType),
		Targets:     sp.Target,
		Description: sp.Description,
	}
	for _, c := range sp.Component {
		p.Components = append(p.Components, Component{Code: codeByURL[c.Definition], Expression: c.Expression})
	}
	if p.Expression == "" || p.Type == Composite || p.Type == Special {
		return p, nil
	}
	ev, err := compileEvaluator(p.Expression, resourceType)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", resourceType, sp.Code, err)
	}
	p.eval = ev
	return p, nil
}
