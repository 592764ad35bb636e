package validate_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

// primitiveSeeds are valid values of each primitive checked by a regex;
// TestPrimitivesMatchRegex mutates them to explore the boundaries.
var primitiveSeeds = map[string][]string{
	"base64Binary": {"SGVsbG8=", "SGVs bG8g\nV29y", "++//"},
	"canonical":    {"http://hl7.org/fhir/ValueSet/x|4.0.1"},
	"code":         {"male", "a b", "x\ty"},
	"date":         {"2021", "2021-02", "2020-02-29", "1900-02-28", "0001-12-31"},
	"dateTime":     {"2021", "2021-12", "2021-02-28T23:59:60.123+14:00", "2000-02-29T00:00:00Z", "2021-06-30T12:30:00-03:30"},
	"decimal":      {"0", "-0.5e+10", "1.50", "12E-3"},
	"id":           {"abc-DEF.12", "a"},
	"instant":      {"2021-02-28T23:59:59.5-13:59", "2021-12-31T00:00:00Z"},
	"integer":      {"0", "-0", "2147483647", "-2147483648", "12"},
	"markdown":     {"*x*", " a\n"},
	"oid":          {"urn:oid:1.2.250.1.213.1.4.8", "urn:oid:2.0"},
	"positiveInt":  {"1", "2147483647", "10"},
	"string":       {"x", " a b ", "é"},
	"time":         {"23:59:60", "00:00:00.000", "12:30:00"},
	"unsignedInt":  {"0", "2147483647", "10"},
	"uri":          {"http://x.y/z?q=1", "urn:oid:1.2", "#a"},
	"url":          {"https://exemple.fr/a"},
	"uuid":         {"urn:uuid:0c3e8b4e-8f9a-4c5b-9e1d-2f3a4b5c6d7e"},
}

// mutationAlphabet holds the characters the mutations insert. It has no
// form feed: the definitions' regexes are in the XML Schema dialect, where
// \s is space, tab, CR and LF, while Go's \s also matches \f.
const mutationAlphabet = "0123456789-.:TZ+/= \t\n\rabcdefxzABEF_ué"

// TestPrimitivesMatchRegex holds the hand-written primitive checks to the
// regexes of the R4 definitions, on seeds and thousands of mutations of
// them, plus the rules a regex cannot state: no empty strings, dates that
// exist, 32-bit integers.
func TestPrimitivesMatchRegex(t *testing.T) {
	data, err := os.ReadFile("testdata/primitive-regex.json")
	if err != nil {
		t.Fatal(err)
	}
	var regexes map[string]string
	if err := json.Unmarshal(data, &regexes); err != nil {
		t.Fatal(err)
	}
	delete(regexes, "boolean") // a JSON boolean, not a string
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune(mutationAlphabet)
	for typ, expr := range regexes {
		seeds := primitiveSeeds[typ]
		if len(seeds) == 0 {
			t.Errorf("no seeds for %s", typ)
			continue
		}
		re := regexp.MustCompile(`^(?:` + expr + `)$`)
		values := map[string]bool{"": true}
		for _, s := range seeds {
			values[s] = true
			for range 2000 {
				values[mutate(rng, alphabet, s)] = true
			}
		}
		valid := 0
		for s := range values {
			want := s != "" && re.MatchString(s) && exists(typ, s)
			got := validate.Resource(withValue(typ, s)) == nil
			if got != want {
				t.Errorf("%s %q: valid = %v, the regex %s says %v", typ, s, got, expr, want)
			}
			if want {
				valid++
			}
		}
		t.Logf("%-12s %5d values, %4d valid", typ, len(values), valid)
	}
}

// mutate applies one to three random edits to s.
func mutate(rng *rand.Rand, alphabet []rune, s string) string {
	r := []rune(s)
	for range 1 + rng.IntN(3) {
		i := rng.IntN(len(r) + 1)
		c := alphabet[rng.IntN(len(alphabet))]
		switch rng.IntN(3) {
		case 0: // insert
			r = append(r[:i], append([]rune{c}, r[i:]...)...)
		case 1: // replace
			if i < len(r) {
				r[i] = c
			}
		case 2: // delete
			if i < len(r) {
				r = append(r[:i], r[i+1:]...)
			}
		}
	}
	return string(r)
}

// exists states what the regexes cannot: a full date must exist in the
// calendar, an integer must fit in 32 bits.
func exists(typ, s string) bool {
	switch typ {
	case "date", "dateTime", "instant":
		if len(s) < 10 || s[4] != '-' || s[7] != '-' {
			return true
		}
		y, _ := strconv.Atoi(s[:4])
		m, _ := strconv.Atoi(s[5:7])
		d, _ := strconv.Atoi(s[8:10])
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() == d
	case "integer", "positiveInt", "unsignedInt":
		_, err := strconv.ParseInt(s, 10, 32)
		return err == nil
	}
	return true
}

// withValue wraps a primitive value in an extension of a Basic resource,
// as a JSON number for the numeric types.
func withValue(typ, s string) map[string]any {
	var v any = s
	switch typ {
	case "decimal", "integer", "positiveInt", "unsignedInt":
		v = json.Number(s)
	}
	return map[string]any{
		"resourceType": "Basic",
		"code":         map[string]any{"text": "x"},
		"extension": []any{map[string]any{
			"url": "http://example.org/x",
			"value" + strings.ToUpper(typ[:1]) + typ[1:]: v,
		}},
	}
}
