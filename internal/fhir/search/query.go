// Package search holds a parsed FHIR search: what the REST layer reads from
// a URL (parse.go) and what the store engines compile to SQL. It knows the
// search semantics of FHIR R4 (http://hl7.org/fhir/R4/search.html) but
// nothing of HTTP or databases.
package search

import "time"

// Query is one search on one resource type.
type Query struct {
	Type string
	// Where is ANDed: every clause must hold.
	Where []Clause
	// Compartment, when set, restricts the search to one patient's
	// compartment (Patient/{id}/$everything, [type]?patient=).
	Compartment string
	Sort        []SortKey
	// Count is the page size (_count); 0 means the server default.
	Count int
	// After is the keyset position of the next page, decoded from an
	// opaque next link; nil for the first page.
	After *Cursor
	// Include and RevInclude name the references to follow (_include,
	// _revinclude) for the resources of the page.
	Include    []Include
	RevInclude []Include
	// Total says whether to count every match (_total, _summary=count).
	Total Total
	// SummaryCount asks for the count only, no resources.
	SummaryCount bool
	// Restrict, when set, is the access decision folded into the search:
	// what it does not admit is neither returned, nor counted, nor
	// included, nor seen through a chain or _has (DESIGN.md §3). The
	// service sets it from the caller's rights, never from the URL.
	Restrict *Restriction
}

// Restriction limits every resource a search touches, whatever the client
// asked: the matches, those counted by Total, those _include and
// _revinclude bring in, and those a chain or _has looks through.
type Restriction struct {
	// Patients, when not nil, admits only the resources filed under these
	// patients (their patient_key); "" admits the resources outside every
	// compartment (Practitioner, Organization…). An empty, non-nil list
	// admits nothing.
	Patients []string
	// Where lists clauses every admitted resource must also match, on its
	// own search index: e.g. _security:not=…|R to hide restricted records.
	// They must not hold a Chain or a Has.
	Where []Clause
}

// Total is how the total number of matches is reported.
type Total int

const (
	TotalNone Total = iota
	TotalAccurate
)

// Clause is one search parameter with its values, ORed (a comma-separated
// list), possibly chained (subject:Patient.name=) or reversed (_has).
type Clause struct {
	Param    string // code, e.g. "birthdate", or "_id", "_lastUpdated"
	Type     ParamType
	Modifier string // "", exact, contains, missing, not, text, identifier, or a type for references
	// Chain, when set, follows the reference parameter Param to resources of
	// Chain.Type and applies Chain.Clause to them; Values is then empty.
	Chain *Chain
	// Has, when set, keeps resources that are referenced by a resource of
	// Has.Type through its parameter Has.Ref, matching Has.Clause.
	Has    *Has
	Values []Value
}

// Chain is the target side of subject:Patient.identifier=…
type Chain struct {
	Type   string
	Clause Clause
}

// Has is _has:Observation:patient:code=…: Type=Observation, Ref=patient.
type Has struct {
	Type   string
	Ref    string
	Clause Clause
}

// ParamType is the FHIR search parameter type.
type ParamType string

const (
	String    ParamType = "string"
	Token     ParamType = "token"
	Date      ParamType = "date"
	Reference ParamType = "reference"
	Number    ParamType = "number"
	Quantity  ParamType = "quantity"
	URI       ParamType = "uri"
)

// Value is one searched value; the fields used depend on the clause type.
type Value struct {
	Prefix Prefix // number, date, quantity: eq ne lt gt le ge sa eb ap

	// String: the text as given (for :exact) — engines compare the
	// normalized form for the default and :contains searches.
	Text string

	// Token (and quantity unit): System is matched only when HasSystem is
	// set ("system|code"; "|code" means no system).
	System    string
	Code      string
	HasSystem bool

	// Date: the range the value denotes at its precision, [Low, High).
	Low, High time.Time

	// Number and quantity value, as written (its precision matters for eq).
	Number string

	// Reference: type and id, or a full URL.
	RefType, RefID, URL string

	// Missing is the boolean of :missing=true|false.
	Missing bool
}

// Prefix is a comparison prefix of number, date and quantity values.
type Prefix string

const (
	Eq Prefix = "eq"
	Ne Prefix = "ne"
	Lt Prefix = "lt"
	Gt Prefix = "gt"
	Le Prefix = "le"
	Ge Prefix = "ge"
	Sa Prefix = "sa"
	Eb Prefix = "eb"
	Ap Prefix = "ap"
)

// SortKey is one _sort key.
type SortKey struct {
	Param      string
	Type       ParamType
	Descending bool
}

// Include is Type:param[:target] of _include / _revinclude.
type Include struct {
	Type   string // the resource type holding the reference
	Param  string // its reference parameter; "*" for every one
	Target string // optional target type
	// Iterate is :iterate (only one level is followed).
	Iterate bool
}

// Cursor is a keyset position: the sort values, type and id of the last
// resource of the previous page. Pages stay correct while others write
// because the next page starts strictly after this position instead of at
// an offset. The store fills it in Page.Next and reads it back; its
// SortValues are the store's encoding ("" for a resource without a value),
// opaque to everyone else.
type Cursor struct {
	SortValues []string
	Type       string
	ID         string
}
