package sqlstore

import (
	"errors"
	"math"
	"testing"

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
