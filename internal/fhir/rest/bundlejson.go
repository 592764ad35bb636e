package rest

import (
	"encoding/json"
	"time"

	"github.com/carnet-sante/carnet/internal/store"
)

// bundle is the JSON of the Bundles this package writes (searchset,
// history, batch-response, transaction-response). Resources are embedded
// as stored, without being decoded.
type bundle struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Meta         *bundleMeta  `json:"meta,omitempty"`
	Type         string       `json:"type"`
	Total        *int         `json:"total,omitempty"`
	Link         []bundleLink `json:"link,omitempty"`
	Entry        []entry      `json:"-"` // written by encode
}

// encode writes b as JSON. The entries are written by hand, their
// resources copied as they are: encoding/json checks and compacts every
// byte of a json.RawMessage, a third of a search's CPU for resources that
// were compact JSON when stored.
func (b *bundle) encode() []byte {
	head := mustJSON(b)
	if len(b.Entry) == 0 {
		return head
	}
	size := len(head) + 16
	for _, e := range b.Entry {
		size += len(e.FullURL) + len(e.Resource) + 64
	}
	out := append(make([]byte, 0, size), head[:len(head)-1]...) // reopen the object
	out = append(out, `,"entry":[`...)
	for i, e := range b.Entry {
		if i > 0 {
			out = append(out, ',')
		}
		out = e.appendJSON(out)
	}
	return append(out, "]}"...)
}

type bundleMeta struct {
	LastUpdated string `json:"lastUpdated"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// entry is a Bundle entry; its fields are optional.
type entry struct {
	FullURL  string
	Resource json.RawMessage // JSON as stored or encoded here, copied as is
	Search   *entrySearch
	Request  *entryRequest
	Response *entryResponse
}

// appendJSON appends the JSON of e to out.
func (e *entry) appendJSON(out []byte) []byte {
	out = append(out, '{')
	field := func(name string, value []byte) {
		if out[len(out)-1] != '{' {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, name...)
		out = append(out, '"', ':')
		out = append(out, value...)
	}
	if e.FullURL != "" {
		field("fullUrl", mustJSON(e.FullURL))
	}
	if len(e.Resource) > 0 {
		field("resource", e.Resource)
	}
	if e.Search != nil {
		field("search", mustJSON(e.Search))
	}
	if e.Request != nil {
		field("request", mustJSON(e.Request))
	}
	if e.Response != nil {
		field("response", mustJSON(e.Response))
	}
	return append(out, '}')
}

type entrySearch struct {
	Mode string `json:"mode"` // match, include, outcome
}

type entryRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type entryResponse struct {
	Status       string          `json:"status"`
	Location     string          `json:"location,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	LastModified string          `json:"lastModified,omitempty"`
	Outcome      json.RawMessage `json:"outcome,omitempty"`
}

func newBundle(typ string) *bundle {
	return &bundle{ResourceType: "Bundle", ID: newID(), Meta: &bundleMeta{LastUpdated: time.Now().UTC().Format(instant)}, Type: typ}
}

// fullURL is the absolute URL of a resource.
func fullURL(base string, r *store.Resource) string {
	return base + "/" + r.Type + "/" + r.ID
}
