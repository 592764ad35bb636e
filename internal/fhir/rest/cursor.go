package rest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/carnet-sante/carnet/internal/fhir/search"
)

// cursorParam carries the position of a page in next links.
const cursorParam = "_cursor"

// cursorToken is the JSON of a _cursor: the store's keyset position and a
// checksum binding it to the search it continues. The checksum detects a
// cursor altered or pasted onto another search; it is not a secret (no
// key), and needs not be: what a caller may see is decided by the Guard on
// every page, whatever the cursor says.
type cursorToken struct {
	SortValues []string `json:"s,omitempty"`
	Type       string   `json:"t"`
	ID         string   `json:"i"`
	Sum        string   `json:"q"`
}

// encodeCursor returns the _cursor of position c in the search identified
// by key (its path and applied parameters).
func encodeCursor(c *search.Cursor, key string) string {
	t := cursorToken{SortValues: c.SortValues, Type: c.Type, ID: c.ID, Sum: cursorSum(c, key)}
	return base64.RawURLEncoding.EncodeToString(mustJSON(t))
}

// decodeCursor reads a _cursor of the search identified by key.
func decodeCursor(token, key string) (*search.Cursor, error) {
	bad := NewError(http.StatusBadRequest, "invalid", "the %s parameter does not belong to this search, or was altered: follow the next link as given, or start again from the first page", cursorParam)
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	var t cursorToken
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, bad
	}
	c := &search.Cursor{SortValues: t.SortValues, Type: t.Type, ID: t.ID}
	if t.Sum != cursorSum(c, key) || !clean(append(t.SortValues, t.Type, t.ID)) {
		return nil, bad
	}
	return c, nil
}

func cursorSum(c *search.Cursor, key string) string {
	values := append([]string{}, c.SortValues...) // nil and empty alike
	sum := sha256.Sum256(mustJSON([]any{key, values, c.Type, c.ID}))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// clean reports whether every string is valid UTF-8 without NUL: what the
// databases take as text.
func clean(ss []string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
	return true
}
