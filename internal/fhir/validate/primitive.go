package validate

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// prim is one of the 20 FHIR R4 primitive types.
type prim uint8

const (
	primBoolean prim = iota + 1
	primInteger
	primPositiveInt
	primUnsignedInt
	primDecimal
	primString
	primMarkdown
	primCode
	primID
	primURI
	primURL
	primCanonical
	primOID
	primUUID
	primBase64Binary
	primDate
	primDateTime
	primInstant
	primTime
	primXHTML
)

var primitiveByName = map[string]prim{
	"boolean": primBoolean, "integer": primInteger, "positiveInt": primPositiveInt,
	"unsignedInt": primUnsignedInt, "decimal": primDecimal, "string": primString,
	"markdown": primMarkdown, "code": primCode, "id": primID, "uri": primURI,
	"url": primURL, "canonical": primCanonical, "oid": primOID, "uuid": primUUID,
	"base64Binary": primBase64Binary, "date": primDate, "dateTime": primDateTime,
	"instant": primInstant, "time": primTime, "xhtml": primXHTML,
}

// jsonKind is the JSON type that represents a primitive (R4 json.html):
// booleans and numbers are native, everything else is a string.
func (p prim) jsonKind() string {
	switch p {
	case primBoolean:
		return "boolean"
	case primInteger, primPositiveInt, primUnsignedInt, primDecimal:
		return "number"
	}
	return "string"
}

// The checks below are hand-written equivalents of the regexes the R4
// definitions give for each primitive (testdata/primitive-regex.json, which
// the tests use as an oracle), plus what a regex cannot say: that a date
// exists, that an integer fits in 32 bits. They return "" when the value is
// valid, else the reason. Whitespace is XML Schema's (space, tab, CR, LF),
// the regex dialect of the definitions.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// checkString checks a primitive represented as a JSON string.
func checkString(p prim, s string) string {
	if s == "" {
		return "empty string is not allowed (omit the property instead)"
	}
	switch p {
	case primCode:
		if isSpace(s[0]) || isSpace(s[len(s)-1]) {
			return "leading or trailing whitespace is not allowed in a code"
		}
		for i := 1; i < len(s); i++ {
			if isSpace(s[i]) && isSpace(s[i-1]) {
				return "consecutive whitespace is not allowed in a code"
			}
		}
	case primID:
		if len(s) > 64 {
			return "an id has at most 64 characters"
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '.') {
				return "an id has only letters, digits, '-' and '.'"
			}
		}
	case primURI, primURL, primCanonical:
		for i := 0; i < len(s); i++ {
			if isSpace(s[i]) {
				return "whitespace is not allowed in a URI"
			}
		}
	case primOID:
		return checkOID(s)
	case primUUID:
		return checkUUID(s)
	case primBase64Binary:
		return checkBase64(s)
	case primDate:
		n, _, reason := datePrefix(s)
		if reason == "" && n != len(s) {
			reason = "a date is YYYY, YYYY-MM or YYYY-MM-DD, without time"
		}
		return reason
	case primDateTime:
		return checkDateTime(s, false)
	case primInstant:
		return checkDateTime(s, true)
	case primTime:
		if n := timePrefix(s); n != len(s) {
			return "a time is hh:mm:ss with optional fractional seconds"
		}
	case primXHTML:
		if t := strings.TrimLeft(s, " \t\r\n"); !strings.HasPrefix(t, "<div") || len(t) > 4 && !(isSpace(t[4]) || t[4] == '>' || t[4] == '/') {
			return "narrative XHTML must be a <div> element"
		}
	}
	return ""
}

func checkOID(s string) string {
	const bad = "an OID is urn:oid: followed by dotted numbers, e.g. urn:oid:1.2.250.1.213"
	rest, ok := strings.CutPrefix(s, "urn:oid:")
	if !ok || len(rest) < 3 || rest[0] < '0' || rest[0] > '2' || rest[1] != '.' {
		return bad
	}
	for _, arc := range strings.Split(rest[2:], ".") {
		if arc == "" || len(arc) > 1 && arc[0] == '0' || strings.TrimLeft(arc, "0123456789") != "" {
			return bad
		}
	}
	return ""
}

func checkUUID(s string) string {
	rest, ok := strings.CutPrefix(s, "urn:uuid:")
	if !ok || len(rest) != 36 {
		return "a uuid is urn:uuid: followed by a lower-case UUID"
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return "a uuid is urn:uuid: followed by a lower-case UUID"
			}
		} else if !isDigit(c) && !('a' <= c && c <= 'f') {
			return "a uuid is urn:uuid: followed by a lower-case UUID"
		}
	}
	return ""
}

// checkBase64 accepts groups of four base64 characters, with whitespace
// allowed between groups only, as the R4 regex does. Attachments can be
// megabytes long, hence the table.
func checkBase64(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		switch base64Class[s[i]] {
		case b64Char:
			n++
		case b64Space:
			if n%4 != 0 {
				return "invalid base64: whitespace inside a group of four characters"
			}
		default:
			return "invalid base64: character " + strconv.QuoteRune(rune(s[i])) + " is not allowed"
		}
	}
	if n == 0 || n%4 != 0 {
		return "invalid base64: length is not a multiple of 4"
	}
	return ""
}

// Byte classes for checkBase64; zero is any other byte.
const (
	b64Char = iota + 1
	b64Space
)

// base64Class classifies bytes for checkBase64.
var base64Class = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case isDigit(byte(c)) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '+' || c == '/' || c == '=':
			t[c] = b64Char
		case isSpace(byte(c)):
			t[c] = b64Space
		}
	}
	return t
}()

// datePrefix reads YYYY, YYYY-MM or YYYY-MM-DD at the start of s and returns
// its length, how many of the three parts it has, and a reason if invalid.
func datePrefix(s string) (n, parts int, reason string) {
	const bad = "a date is YYYY, YYYY-MM or YYYY-MM-DD"
	if len(s) < 4 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) || s[:4] == "0000" {
		return 0, 0, bad
	}
	if len(s) == 4 || s[4] != '-' {
		return 4, 1, ""
	}
	m, ok := twoDigits(s, 5)
	if !ok || m < 1 || m > 12 {
		return 0, 0, bad
	}
	if len(s) == 7 || s[7] != '-' {
		return 7, 2, ""
	}
	d, ok := twoDigits(s, 8)
	if !ok || d < 1 || d > 31 {
		return 0, 0, bad
	}
	y, _ := strconv.Atoi(s[:4])
	if d > daysIn(y, m) {
		return 0, 0, "day " + s[8:10] + " does not exist in " + s[:7]
	}
	return 10, 3, ""
}

// twoDigits reads two digits at s[i:i+2].
func twoDigits(s string, i int) (int, bool) {
	if len(s) < i+2 || !isDigit(s[i]) || !isDigit(s[i+1]) {
		return 0, false
	}
	return int(s[i]-'0')*10 + int(s[i+1]-'0'), true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// timePrefix reads hh:mm:ss(.fff) at the start of s and returns its
// length, 0 if there is none. Second 60 is a leap second.
func timePrefix(s string) int {
	h, ok1 := twoDigits(s, 0)
	m, ok2 := twoDigits(s, 3)
	sec, ok3 := twoDigits(s, 6)
	if !ok1 || !ok2 || !ok3 || s[2] != ':' || s[5] != ':' || h > 23 || m > 59 || sec > 60 {
		return 0
	}
	n := 8
	if n < len(s) && s[n] == '.' {
		f := n + 1
		for f < len(s) && isDigit(s[f]) {
			f++
		}
		if f == n+1 {
			return 0
		}
		n = f
	}
	return n
}

// checkDateTime checks a dateTime (partial dates allowed; a time needs a
// zone) or, when instant, a full date, time and zone.
func checkDateTime(s string, instant bool) string {
	n, parts, reason := datePrefix(s)
	if reason != "" {
		return reason
	}
	if n == len(s) && !instant {
		return ""
	}
	const dt = "a dateTime is YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss) followed by Z or ±hh:mm"
	const inst = "an instant is YYYY-MM-DDThh:mm:ss(.sss) followed by Z or ±hh:mm"
	bad := dt
	if instant {
		bad = inst
	}
	if parts != 3 || n == len(s) || s[n] != 'T' {
		return bad
	}
	rest := s[n+1:]
	t := timePrefix(rest)
	if t == 0 {
		return bad
	}
	switch zone := rest[t:]; {
	case zone == "Z":
	case len(zone) == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':':
		h, ok1 := twoDigits(zone, 1)
		m, ok2 := twoDigits(zone, 4)
		if !ok1 || !ok2 || m > 59 || h > 14 || h == 14 && m != 0 {
			return "time zone offset out of range (-14:00 to +14:00)"
		}
	default:
		return "a time needs a time zone: Z or ±hh:mm"
	}
	return ""
}

// checkNumber checks a primitive given as a JSON number literal.
func checkNumber(p prim, s string) string {
	switch p {
	case primDecimal:
		if !isDecimal(s) {
			return "not a decimal number"
		}
		return ""
	case primInteger:
		if body := strings.TrimPrefix(s, "-"); !isUnsigned(body) {
			return "an integer has no fraction or exponent"
		}
	case primPositiveInt:
		if !isUnsigned(s) || s == "0" {
			return "a positiveInt is a whole number ≥ 1"
		}
	case primUnsignedInt:
		if !isUnsigned(s) {
			return "an unsignedInt is a whole number ≥ 0"
		}
	}
	if _, err := strconv.ParseInt(s, 10, 32); err != nil {
		return "out of range for a 32-bit integer"
	}
	return ""
}

// isUnsigned matches 0|[1-9][0-9]*.
func isUnsigned(s string) bool {
	if s == "" || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isDecimal matches -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, the
// R4 decimal and the JSON number grammar alike.
func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if !isUnsigned(s[:i]) {
		return false
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			return false
		}
		i = j
	}
	return i == len(s)
}

// checkFloat checks a number decoded without json.Decoder.UseNumber; the
// literal is lost, so only the value can be checked.
func checkFloat(p prim, f float64) string {
	if p == primDecimal {
		return ""
	}
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return "not a 32-bit whole number"
	}
	if p == primPositiveInt && f < 1 || p == primUnsignedInt && f < 0 {
		return "out of range for " + primitiveNames[p]
	}
	return ""
}

var primitiveNames = func() map[prim]string {
	m := make(map[prim]string, len(primitiveByName))
	for name, p := range primitiveByName {
		m[p] = name
	}
	return m
}()

// numberLiteral returns the JSON text of a decoded number.
func numberLiteral(v any) string {
	switch x := v.(type) {
	case json.Number:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return ""
}
