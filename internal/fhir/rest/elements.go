package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/carnet-sante/carnet/internal/fhir/search"
)

// shape is how much of each resource to return: _summary and _elements.
type shape struct {
	summary  string   // "", text, data or false
	elements []string // top-level elements to keep
}

// full reports whether resources are returned whole.
func (s shape) full() bool {
	return (s.summary == "" || s.summary == "false") && len(s.elements) == 0
}

// parseShape reads _summary and _elements for a read.
func parseShape(typ string, query url.Values) (shape, error) {
	params := url.Values{}
	for _, k := range []string{"_summary", "_elements"} {
		if v, ok := query[k]; ok {
			params[k] = v
		}
	}
	if len(params) == 0 {
		return shape{}, nil
	}
	req, err := search.Parse(typ, params, search.Options{})
	if err != nil {
		return shape{}, searchError(err, "")
	}
	if req.Query.SummaryCount {
		return shape{}, NewError(http.StatusBadRequest, "invalid", "_summary=count applies to searches, not to a read")
	}
	return shape{summary: req.Summary, elements: req.Elements}, nil
}

// subsetted is the meta.tag that marks a resource returned in part.
var subsetted = map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}

// apply returns the stored content reduced to the shape: resourceType, id
// and meta always; text alone for _summary=text; all but text for
// _summary=data; the listed elements for _elements. A reduced resource is
// tagged SUBSETTED, as the specification asks.
func (s shape) apply(content []byte) ([]byte, error) {
	if s.full() {
		return content, nil
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	var res map[string]any
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("decoding a stored resource: %w", err)
	}
	keep := func(k string) bool {
		switch {
		case k == "resourceType" || k == "id" || k == "meta":
			return true
		case s.summary == "text":
			return k == "text"
		case s.summary == "data":
			return k != "text"
		}
		return slices.Contains(s.elements, k)
	}
	for k := range res {
		if !keep(k) {
			delete(res, k)
		}
	}
	if s.summary != "data" {
		meta, _ := res["meta"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			res["meta"] = meta
		}
		tags, _ := meta["tag"].([]any)
		meta["tag"] = append(tags, subsetted)
	}
	return marshalResource(res)
}
