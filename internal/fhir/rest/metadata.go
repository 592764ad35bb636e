package rest

import (
	"net/http"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// capabilityStatement is the JSON of the server's CapabilityStatement.
type capabilityStatement struct {
	ResourceType   string            `json:"resourceType"`
	Status         string            `json:"status"`
	Date           string            `json:"date"`
	Kind           string            `json:"kind"`
	Software       map[string]string `json:"software"`
	Implementation map[string]string `json:"implementation"`
	FHIRVersion    string            `json:"fhirVersion"`
	Format         []string          `json:"format"`
	PatchFormat    []string          `json:"patchFormat"`
	Rest           []capRest         `json:"rest"`
}

type capRest struct {
	Mode        string        `json:"mode"`
	Resource    []capResource `json:"resource"`
	Interaction []capCode     `json:"interaction"`
}

type capResource struct {
	Type              string         `json:"type"`
	Interaction       []capCode      `json:"interaction"`
	Versioning        string         `json:"versioning"`
	ReadHistory       bool           `json:"readHistory"`
	UpdateCreate      bool           `json:"updateCreate"`
	ConditionalCreate bool           `json:"conditionalCreate"`
	ConditionalRead   string         `json:"conditionalRead"`
	ConditionalUpdate bool           `json:"conditionalUpdate"`
	ConditionalDelete string         `json:"conditionalDelete"`
	ReferencePolicy   []string       `json:"referencePolicy"`
	SearchInclude     []string       `json:"searchInclude,omitempty"`
	SearchParam       []capParam     `json:"searchParam,omitempty"`
	Operation         []capOperation `json:"operation,omitempty"`
}

type capCode struct {
	Code string `json:"code"`
}

type capParam struct {
	Name       string `json:"name"`
	Definition string `json:"definition,omitempty"`
	Type       string `json:"type"`
}

type capOperation struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

// started dates the CapabilityStatement: it describes this running server.
var started = time.Now().UTC().Format(instant)

// metadata returns the CapabilityStatement, built once per base URL.
func (h *Handler) metadata(c *call) (*result, error) {
	h.capMu.Lock()
	defer h.capMu.Unlock()
	body, ok := h.caps[c.base]
	if !ok {
		body = mustJSON(h.capabilities(c.base))
		h.caps[c.base] = body
	}
	return &result{status: http.StatusOK, body: body}, nil
}

// capabilities lists what the server does: every interaction of this
// package on every R4 resource type, and the search parameters it
// applies (those search.Parse does not ignore).
func (h *Handler) capabilities(base string) *capabilityStatement {
	interactions := []capCode{{"read"}, {"vread"}, {"update"}, {"patch"}, {"delete"}, {"history-instance"}, {"history-type"}, {"create"}, {"search-type"}}
	rest := capRest{Mode: "server", Interaction: []capCode{{"transaction"}, {"batch"}}}
	for _, typ := range searchparam.ResourceTypes() {
		if typ == "Parameters" {
			continue // not a resource one stores
		}
		r := capResource{
			Type: typ, Interaction: interactions, Versioning: "versioned-update", ReadHistory: true,
			UpdateCreate: true, ConditionalCreate: true, ConditionalRead: "not-supported", ConditionalUpdate: true, ConditionalDelete: "single",
			ReferencePolicy: []string{"literal", "logical"},
		}
		for _, p := range searchparam.ForType(typ) {
			if p.Expression == "" || p.Type == searchparam.Composite || p.Type == searchparam.Special {
				continue
			}
			r.SearchParam = append(r.SearchParam, capParam{Name: p.Code, Definition: p.URL, Type: string(p.Type)})
			if p.Type == searchparam.Reference {
				r.SearchInclude = append(r.SearchInclude, typ+":"+p.Code)
			}
		}
		if len(r.SearchInclude) > 0 {
			r.SearchInclude = append([]string{"*"}, r.SearchInclude...)
		}
		if typ == "Patient" {
			r.Operation = []capOperation{{Name: "everything", Definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything"}}
		}
		rest.Resource = append(rest.Resource, r)
	}
	version := h.opt.Version
	if version == "" {
		version = "dev"
	}
	return &capabilityStatement{
		ResourceType:   "CapabilityStatement",
		Status:         "active",
		Date:           started,
		Kind:           "instance",
		Software:       map[string]string{"name": "carnet", "version": version},
		Implementation: map[string]string{"description": "carnet shared health record, FHIR R4 API", "url": base},
		FHIRVersion:    "4.0.1",
		Format:         []string{"application/fhir+json", "json"},
		PatchFormat:    []string{"application/json-patch+json"},
		Rest:           []capRest{rest},
	}
}
