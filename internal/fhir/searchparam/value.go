package searchparam

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Value is one indexed value of a search parameter in a resource. Which
// fields are set depends on Param.Type; the others are zero. Values are
// comparable with ==.
type Value struct {
	// Param is the parameter the value belongs to (Code, Type…).
	Param *Param

	// Text is, for string, the text as written (for :exact); for uri, the
	// URI; for token, the text :text searches (Coding.display,
	// CodeableConcept.text or Identifier.type.text).
	Text string
	// Norm is NormalizeString(Text) for string and token values, to match
	// case- and accent-insensitively.
	Norm string

	// System and Code are, for token, the code system and code
	// (Identifier.system and .value, ContactPoint.system and .value; a bare
	// code or boolean has no system); for quantity, the unit's system and
	// code; for reference, Reference.identifier's system and value (for the
	// :identifier modifier).
	System string
	Code   string

	// Low and High bound a date value: [Low, High), in UTC. An open end of a
	// Period is MinDate or MaxDate.
	Low, High time.Time

	// Number and Decimal are the value of a number or quantity, as a float
	// and as written in the resource (whose precision matters for eq).
	Number  float64
	Decimal string
	// Unit is the human-readable unit of a quantity.
	Unit string

	// URL is the reference as written: "Patient/123", an absolute URL, a
	// urn:uuid:/urn:oid: URI, "#id" for a contained resource; for a
	// canonical reference, the URL without its "|version".
	URL string
	// RefType and RefID are the target's type and logical id when the
	// reference names them (relative or absolute RESTful URL, canonical
	// URL ending in Type/id). RefType alone comes from Reference.type or
	// from the contained resource for references that name no id.
	RefType string
	RefID   string
	// Version is the _history version of a versioned reference, or the
	// version of a canonical reference.
	Version string
}

// MinDate and MaxDate stand for the open ends of a Period (no start, no
// end): stores should map them to their own infinities where they have
// some. They are variables only because Go has no time constants.
var (
	MinDate = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxDate = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// appendValues converts one node selected by p's expression into the
// values of p's type and appends them to out. Nodes of a shape the type
// does not index (a Range for a quantity, a SampledData…) give no value.
func appendValues(out []Value, p *Param, r *resource, n any) ([]Value, error) {
	switch p.Type {
	case String:
		return appendStrings(out, p, n), nil
	case Token:
		return appendTokens(out, p, n), nil
	case Date:
		return appendDates(out, p, n)
	case Reference:
		return appendReference(out, p, r, n), nil
	case Number:
		return appendNumber(out, p, n)
	case Quantity:
		return appendQuantity(out, p, n)
	case URI:
		if s, ok := n.(string); ok && s != "" {
			out = append(out, Value{Param: p, Text: s})
		}
	}
	return out, nil
}

// nameAddressParts are the string elements of HumanName and Address that a
// string parameter on them searches.
var nameAddressParts = []string{
	"text", "family", "given", "prefix", "suffix",
	"line", "city", "district", "state", "postalCode", "country",
}

// appendStrings indexes a string, or each part of a HumanName or Address.
func appendStrings(out []Value, p *Param, n any) []Value {
	switch n := n.(type) {
	case string:
		if n != "" {
			out = append(out, Value{Param: p, Text: n, Norm: NormalizeString(n)})
		}
	case map[string]any:
		for _, k := range nameAddressParts {
			switch v := n[k].(type) {
			case string:
				out = appendStrings(out, p, v)
			case []any:
				for _, s := range v {
					out = appendStrings(out, p, s)
				}
			}
		}
	}
	return out
}

// appendTokens indexes a code, boolean, Coding, CodeableConcept,
// Identifier or ContactPoint.
func appendTokens(out []Value, p *Param, n any) []Value {
	switch n := n.(type) {
	case string:
		if n != "" {
			out = append(out, Value{Param: p, Code: n})
		}
	case bool:
		out = append(out, Value{Param: p, Code: strconv.FormatBool(n)})
	case json.Number:
		out = append(out, Value{Param: p, Code: n.String()})
	case map[string]any:
		if v, ok := n["value"].(string); ok { // Identifier, ContactPoint
			text := ""
			if t, ok := n["type"].(map[string]any); ok {
				text = str(t, "text")
			}
			return append(out, tokenValue(p, str(n, "system"), v, text))
		}
		if codings, ok := n["coding"].([]any); ok || n["text"] != nil { // CodeableConcept
			text := str(n, "text")
			textSeen := text == ""
			for _, c := range codings {
				if c, ok := c.(map[string]any); ok {
					display := str(c, "display")
					textSeen = textSeen || display == text
					if display == "" {
						display = text
					}
					out = appendCoding(out, p, c, display)
				}
			}
			if !textSeen {
				out = append(out, tokenValue(p, "", "", text))
			}
			return out
		}
		out = appendCoding(out, p, n, str(n, "display"))
	}
	return out
}

// appendCoding indexes a Coding, if it has a system or a code.
func appendCoding(out []Value, p *Param, c map[string]any, text string) []Value {
	system, code := str(c, "system"), str(c, "code")
	if system == "" && code == "" {
		return out
	}
	return append(out, tokenValue(p, system, code, text))
}

func tokenValue(p *Param, system, code, text string) Value {
	return Value{Param: p, System: system, Code: code, Text: text, Norm: NormalizeString(text)}
}

// appendDates indexes a date, dateTime or instant at its precision, a
// Period, or the outer limits of a Timing (its events and bounds).
func appendDates(out []Value, p *Param, n any) ([]Value, error) {
	var low, high time.Time
	var err error
	switch n := n.(type) {
	case string:
		low, high, err = ParseDate(n)
	case map[string]any:
		if n["event"] != nil || n["repeat"] != nil {
			low, high, err = timingBounds(n)
		} else {
			low, high, err = periodBounds(n)
		}
	}
	if err != nil {
		return out, fmt.Errorf("%s: %w", p.Code, err)
	}
	if high.IsZero() { // a Period or Timing without bounds
		return out, nil
	}
	return append(out, Value{Param: p, Low: low, High: high}), nil
}

// periodBounds returns the bounds of a Period: from the start of its start
// to the end of its end, open ends being MinDate and MaxDate. A Period with
// neither has zero bounds.
func periodBounds(m map[string]any) (low, high time.Time, err error) {
	start, end := str(m, "start"), str(m, "end")
	if start == "" && end == "" {
		return
	}
	low, high = MinDate, MaxDate
	if start != "" {
		if low, _, err = ParseDate(start); err != nil {
			return
		}
	}
	if end != "" {
		_, high, err = ParseDate(end)
	}
	return
}

// timingBounds returns the outer limits of a Timing: the earliest and
// latest of its events and of its repeat.boundsPeriod. Zero bounds when it
// has neither.
func timingBounds(m map[string]any) (low, high time.Time, err error) {
	widen := func(l, h time.Time) {
		if high.IsZero() || l.Before(low) {
			low = l
		}
		if h.After(high) {
			high = h
		}
	}
	events, _ := m["event"].([]any)
	for _, e := range events {
		if s, ok := e.(string); ok {
			l, h, err := ParseDate(s)
			if err != nil {
				return time.Time{}, time.Time{}, err
			}
			widen(l, h)
		}
	}
	repeat, _ := m["repeat"].(map[string]any)
	if b, ok := repeat["boundsPeriod"].(map[string]any); ok {
		l, h, err := periodBounds(b)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		if !h.IsZero() {
			widen(l, h)
		}
	}
	return low, high, nil
}

// appendReference indexes a Reference (its target, and its identifier for
// :identifier), a canonical or uri reference, or a resource (the first
// entry of a document Bundle).
func appendReference(out []Value, p *Param, r *resource, n any) []Value {
	switch n := n.(type) {
	case string:
		if n == "" {
			return out
		}
		v := Value{Param: p, URL: n}
		for i := len(n) - 1; i >= 0; i-- {
			if n[i] == '|' {
				v.URL, v.Version = n[:i], n[i+1:]
				break
			}
		}
		v.RefType, v.RefID, _ = parseReference(v.URL)
		return append(out, v)
	case map[string]any:
		if rt := str(n, "resourceType"); rt != "" {
			id := str(n, "id")
			v := Value{Param: p, RefType: rt, RefID: id, URL: rt + "/" + id}
			if id == "" {
				v.URL = ""
			}
			return append(out, v)
		}
		v := Value{Param: p, URL: str(n, "reference")}
		if v.URL != "" {
			v.RefType, v.RefID, v.Version = parseReference(v.URL)
			if v.URL[0] == '#' {
				v.RefType = r.containedType(v.URL[1:])
			}
		}
		if v.RefType == "" {
			v.RefType = str(n, "type")
		}
		if id, ok := n["identifier"].(map[string]any); ok {
			v.System, v.Code = str(id, "system"), str(id, "value")
		}
		if v.URL != "" || v.Code != "" {
			out = append(out, v)
		}
	}
	return out
}

// appendNumber indexes a decimal or integer.
func appendNumber(out []Value, p *Param, n any) ([]Value, error) {
	d, ok := n.(json.Number)
	if !ok {
		return out, nil
	}
	f, err := d.Float64()
	if err != nil {
		return out, fmt.Errorf("%s: number %q: %w", p.Code, d, err)
	}
	return append(out, Value{Param: p, Number: f, Decimal: d.String()}), nil
}

// iso4217 is the code system of Money.currency.
const iso4217 = "urn:iso:std:iso:4217"

// appendQuantity indexes a Quantity (or one of its profiles: Age,
// Duration…) or a Money. Quantities without a value are not indexed.
func appendQuantity(out []Value, p *Param, n any) ([]Value, error) {
	m, ok := n.(map[string]any)
	if !ok {
		return out, nil
	}
	d, ok := m["value"].(json.Number)
	if !ok {
		return out, nil
	}
	f, err := d.Float64()
	if err != nil {
		return out, fmt.Errorf("%s: quantity %q: %w", p.Code, d, err)
	}
	v := Value{Param: p, Number: f, Decimal: d.String(), System: str(m, "system"), Code: str(m, "code"), Unit: str(m, "unit")}
	if cur := str(m, "currency"); cur != "" {
		v.System, v.Code = iso4217, cur
	}
	return append(out, v), nil
}

// str returns m[k] if it is a string, "" otherwise.
func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
