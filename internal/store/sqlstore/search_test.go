package sqlstore

import (
	"errors"
	"math"
	"net/url"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

func TestNumberRange(t *testing.T) {
	for _, tc := range []struct {
		in        string
		n, lo, hi float64
	}{
		{"100", 100, 99.5, 100.5},
		{"100.00", 100, 99.995, 100.005},
		{"1e2", 100, 50, 150},
		{"1.5e-3", 0.0015, 0.00145, 0.00155},
		{"-0.25", -0.25, -0.255, -0.245},
		{"+7", 7, 6.5, 7.5},
		{"2E+1", 20, 15, 25},
	} {
		n, lo, hi, err := numberRange(tc.in)
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
		if err != nil || !near(n, tc.n) || !near(lo, tc.lo) || !near(hi, tc.hi) {
			t.Errorf("numberRange(%q) = %v, [%v, %v), %v; want %v, [%v, %v)", tc.in, n, lo, hi, err, tc.n, tc.lo, tc.hi)
		}
	}
	for _, bad := range []string{"", "abc", "1e", "1ex"} {
		if _, _, _, err := numberRange(bad); !errors.Is(err, store.ErrInvalidQuery) {
			t.Errorf("numberRange(%q): %v; want ErrInvalidQuery", bad, err)
		}
	}
}

// TestAnchor checks which clause drives a search that names a patient
// without pinning the patient key (see anchor).
func TestAnchor(t *testing.T) {
	for _, tc := range []struct {
		typ, query string
		want       int // index in Query.Where, whose clauses search.Parse sorts by parameter
	}{
		{"DocumentReference", "subject=Patient/p1&status=current", 1},
		{"DocumentReference", "status=current&subject:Patient=p1", 1},
		{"DocumentReference", "author=Patient/p1", 0},
		{"DocumentReference", "patient=p1", 0},
		{"Observation", "code=x&performer=Patient/p1", 1},
		{"Coverage", "patient=p1", 0},           // beneficiary: a compartment parameter, not the patient key's
		{"Patient", "link=Patient/p1", 0},       // Patient.link.other
		{"DocumentReference", "subject=p1", -1}, // any type: Group/p1 too
		{"DocumentReference", "subject=Group/g1", -1},
		{"DocumentReference", "subject=Patient/p1,Patient/p2", -1},
		{"DocumentReference", "subject:identifier=urn:oid:1.2|X", -1},
		{"DocumentReference", "subject:missing=false", -1},
		{"DocumentReference", "related=Patient/p1", -1}, // not a compartment parameter
		{"DocumentReference", "custodian=Organization/o1", -1},
		{"DocumentReference", "subject:Patient.name=x", -1},
		{"Patient", "_has:Observation:patient:code=x", -1},
		{"DocumentReference", "status=current", -1},
	} {
		values, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		req, err := search.Parse(tc.typ, values, search.Options{})
		if err != nil {
			t.Fatalf("%s?%s: %v", tc.typ, tc.query, err)
		}
		if got := anchor(&req.Query); got != tc.want {
			t.Errorf("%s?%s: anchor %d; want %d", tc.typ, tc.query, got, tc.want)
		}
	}
}
