package validate

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/carnet-sante/carnet/internal/fhir/validate/internal/model"
)

// model.json.gz is compiled from the FHIR R4 StructureDefinitions by
// ./internal/gen; see NOTICE.md for its source and licence.
//
//go:generate go run ./internal/gen
//go:embed model.json.gz
var modelGz []byte

// kind is how an element's value is checked.
type kind uint8

const (
	kindPrimitive kind = iota // a JSON string, number or boolean
	kindComplex               // a JSON object of a data type or nested type
	kindResource              // a JSON object with its own resourceType
)

// maxChoices bounds the choice elements ([x]) of one type, so that an
// object's chosen variants fit in an array on the stack. R4 has at most 5.
const maxChoices = 8

// typeDef is a structure ready for validation: its properties keyed by
// their JSON names, choice variants expanded.
type typeDef struct {
	name     string
	resource bool
	open     bool
	props    map[string]*elemDef
	// required lists the elements with min ≥ 1; reqMask has their bits.
	required []required
	reqMask  uint64
	// extValue is the choice group of value[x] in the Extension type,
	// which must be present exactly when nested extensions are absent
	// (ext-1); -1 for every other type.
	extValue int8
}

type required struct {
	label string
	bit   uint64
}

// elemDef is one JSON property of a typeDef. A choice element has one
// elemDef per variant (valueString, valueQuantity…) sharing a choice group.
type elemDef struct {
	prop      string // JSON name: "birthDate", "valueQuantity"
	companion string // JSON name of the primitive's extension companion: "_birthDate"
	label     string // element name in messages: "birthDate", "value[x]"
	typeName  string // FHIR type: "date", "HumanName", "Patient.contact", "Resource"
	kind      kind
	prim      prim     // for kindPrimitive
	typ       *typeDef // structure for kindComplex; expected resource for kindResource (nil: any)
	array     bool
	contained bool   // DomainResource.contained: dom-2 applies to the resources inside
	reqBit    uint64 // non-zero for a required element
	choice    int8   // choice group within the owner type, -1 if not a choice
	// codes is the expansion of a required value set bound to a code.
	valueSet string
	codes    map[string]struct{}
}

// schema is the whole compiled model.
type schema struct {
	resources map[string]*typeDef // concrete resource types by name
	element   *typeDef            // Element: the type of primitive companions
	// valueSets keeps each bound value set's sorted codes, for messages.
	valueSets map[string][]string
}

// loadSchema decodes the embedded model once, on first use, so that
// importing the package costs nothing until something is validated.
var loadSchema = sync.OnceValue(func() *schema {
	zr, err := gzip.NewReader(bytes.NewReader(modelGz))
	if err != nil {
		panic("validate: embedded model: " + err.Error())
	}
	var m model.Model
	if err := json.NewDecoder(zr).Decode(&m); err != nil {
		panic("validate: embedded model: " + err.Error())
	}
	s, err := compile(&m)
	if err != nil {
		panic("validate: embedded model: " + err.Error())
	}
	return s
})

// compile turns the model into lookup tables.
func compile(m *model.Model) (*schema, error) {
	s := &schema{resources: map[string]*typeDef{}, valueSets: m.ValueSets}
	types := make(map[string]*typeDef, len(m.Types))
	for _, t := range m.Types {
		types[t.Name] = &typeDef{name: t.Name, resource: t.Resource, open: t.Open, props: map[string]*elemDef{}, extValue: -1}
		if t.Resource {
			s.resources[t.Name] = types[t.Name]
		}
	}
	codeSets := map[string]map[string]struct{}{}
	for url, codes := range m.ValueSets {
		set := make(map[string]struct{}, len(codes))
		for _, c := range codes {
			set[c] = struct{}{}
		}
		codeSets[url] = set
	}
	for _, mt := range m.Types {
		t := types[mt.Name]
		var groups int8
		for _, me := range mt.Elements {
			group, label := int8(-1), me.Name
			if me.Choice {
				if groups == maxChoices {
					return nil, fmt.Errorf("%s: more than %d choice elements", t.name, maxChoices)
				}
				group, label = groups, me.Name+"[x]"
				groups++
				if t.name == "Extension" && me.Name == "value" {
					t.extValue = group
				}
			}
			var bit uint64
			if me.Min > 0 {
				if len(t.required) == 64 {
					return nil, fmt.Errorf("%s: more than 64 required elements", t.name)
				}
				bit = 1 << len(t.required)
				t.required = append(t.required, required{label: label, bit: bit})
				t.reqMask |= bit
			}
			for _, tn := range me.Types {
				prop := me.Name
				if me.Choice {
					prop += strings.ToUpper(tn[:1]) + tn[1:]
				}
				e := &elemDef{
					prop: prop, companion: "_" + prop, label: label, typeName: tn,
					array: me.Array, reqBit: bit, choice: group,
				}
				if p, ok := primitiveByName[tn]; ok {
					e.kind, e.prim = kindPrimitive, p
				} else if tn == "Resource" {
					e.kind = kindResource
					e.contained = t.resource && prop == "contained"
				} else if rt := types[tn]; rt == nil {
					return nil, fmt.Errorf("%s.%s: unknown type %s", t.name, prop, tn)
				} else if rt.resource {
					e.kind, e.typ = kindResource, rt
				} else {
					e.kind, e.typ = kindComplex, rt
				}
				if me.ValueSet != "" {
					if e.codes = codeSets[me.ValueSet]; e.codes == nil {
						return nil, fmt.Errorf("%s.%s: value set %s not in the model", t.name, prop, me.ValueSet)
					}
					e.valueSet = me.ValueSet
				}
				if t.props[prop] != nil {
					return nil, fmt.Errorf("%s: two elements named %s", t.name, prop)
				}
				t.props[prop] = e
			}
		}
	}
	if s.element = types["Element"]; s.element == nil {
		return nil, fmt.Errorf("no Element type")
	}
	return s, nil
}
