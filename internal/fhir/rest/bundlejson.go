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
	Entry        []entry      `json:"entry,omitempty"`
}

type bundleMeta struct {
	LastUpdated string `json:"lastUpdated"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type entry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *entrySearch    `json:"search,omitempty"`
	Request  *entryRequest   `json:"request,omitempty"`
	Response *entryResponse  `json:"response,omitempty"`
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
