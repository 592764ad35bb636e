package sqlstore

import (
	"math"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/store"
)

// indexTable is a search index table: one row per indexed value, keyed by
// the resource, the parameter code and ord (the value's position in
// Write.Index, which only makes the key unique), then the value columns of
// one parameter type.
type indexTable struct {
	name string
	cols []Column // key columns, then value columns
	// sortAsc and sortDesc are the columns _sort orders by, going up and
	// going down: the same but for dates, which sort by their start going
	// up and by their end going down.
	sortAsc, sortDesc string
}

// keyColumns start every index table.
var keyColumns = []Column{
	{"patient_key", Text}, {"type", Text}, {"id", Text}, {"param", Text}, {"ord", Int},
}

func newIndexTable(name, sortCol string, values ...Column) *indexTable {
	return &indexTable{name: name, cols: append(append([]Column{}, keyColumns...), values...), sortAsc: sortCol, sortDesc: sortCol}
}

var (
	// norm is searchparam.NormalizeString(text): the default (starts-with)
	// and :contains searches compare it; :exact compares text.
	stringTable = newIndexTable("search_string", "norm", Column{"norm", Text}, Column{"text", Text})
	// norm is the normalized display text that :text searches.
	tokenTable = newIndexTable("search_token", "code", Column{"system", Text}, Column{"code", Text}, Column{"norm", Text})
	// [low, high) in microseconds; see lowMicros and highMicros.
	dateTable = &indexTable{
		name:    "search_date",
		cols:    append(append([]Column{}, keyColumns...), Column{"low", Int}, Column{"high", Int}),
		sortAsc: "low", sortDesc: "high",
	}
	// ref_type and ref_id are the target when the reference names one;
	// url is the reference as written; id_system and id_code are
	// Reference.identifier, for :identifier.
	referenceTable = newIndexTable("search_reference", "url",
		Column{"ref_type", Text}, Column{"ref_id", Text}, Column{"url", Text}, Column{"id_system", Text}, Column{"id_code", Text})
	numberTable   = newIndexTable("search_number", "value", Column{"value", Float})
	quantityTable = newIndexTable("search_quantity", "value",
		Column{"value", Float}, Column{"system", Text}, Column{"code", Text}, Column{"unit", Text})
	uriTable = newIndexTable("search_uri", "uri", Column{"uri", Text})

	// indexTables lists them all, in the order writes touch them.
	indexTables = []*indexTable{stringTable, tokenTable, dateTable, referenceTable, numberTable, quantityTable, uriTable}
)

// tableOf returns the index table of a parameter type ("string",
// "token"…, as searchparam.Type and search.ParamType spell them), or nil
// for a type without one (composite, special).
func tableOf(paramType string) *indexTable {
	switch searchparam.Type(paramType) {
	case searchparam.String:
		return stringTable
	case searchparam.Token:
		return tokenTable
	case searchparam.Date:
		return dateTable
	case searchparam.Reference:
		return referenceTable
	case searchparam.Number:
		return numberTable
	case searchparam.Quantity:
		return quantityTable
	case searchparam.URI:
		return uriTable
	}
	return nil
}

// appendIndexRows appends to rows (one flat slice per table) the index
// rows of a resource version. _id and _lastUpdated are skipped: they are
// searched on the resources table.
func appendIndexRows(rows map[*indexTable][]any, r *store.Resource, index []searchparam.Value) {
	for i, v := range index {
		code := v.Param.Code
		if code == "_id" || code == "_lastUpdated" {
			continue
		}
		t := tableOf(string(v.Param.Type))
		if t == nil {
			continue
		}
		row := append(rows[t], r.PatientKey, r.Type, r.ID, code, int64(i))
		switch t {
		case stringTable:
			row = append(row, v.Norm, v.Text)
		case tokenTable:
			row = append(row, v.System, v.Code, v.Norm)
		case dateTable:
			row = append(row, lowMicros(v.Low), highMicros(v.High))
		case referenceTable:
			row = append(row, v.RefType, v.RefID, v.URL, v.System, v.Code)
		case numberTable:
			row = append(row, v.Number)
		case quantityTable:
			row = append(row, v.Number, v.System, v.Code, v.Unit)
		case uriTable:
			row = append(row, v.Text)
		}
		rows[t] = row
	}
}

// lowMicros is how the store keeps the start of a date range: microseconds
// since 1970 UTC, and the smallest int64 for an open start
// (searchparam.MinDate), so that comparisons need no special case.
func lowMicros(t time.Time) int64 {
	if !t.After(searchparam.MinDate) {
		return math.MinInt64
	}
	return t.UnixMicro()
}

// highMicros is how the store keeps the (exclusive) end of a date range:
// microseconds since 1970 UTC rounded up, and the largest int64 for an
// open end (searchparam.MaxDate).
func highMicros(t time.Time) int64 {
	if !t.Before(searchparam.MaxDate) {
		return math.MaxInt64
	}
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}
