package searchparam

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNativeMatchesLibrary holds the native evaluator to the FHIRPath
// library: for every resource of the fixtures and every parameter of its
// type, both must give the same values. Parameters evaluated by the library
// in production are compared with themselves, which still checks that the
// library evaluates them without error.
func TestNativeMatchesLibrary(t *testing.T) {
	synth, pds := loadFixtures(t)
	all := append(append([]fixture(nil), synth...), pds...)

	lib := libraryEvaluators(t, all)

	var mu sync.Mutex
	compared, values := 0, 0
	failures := 0
	work := make(chan fixture)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				n, v, errs := compareOne(f, lib)
				mu.Lock()
				compared += n
				values += v
				for _, e := range errs {
					if failures++; failures <= 20 {
						t.Error(e)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range all {
		work <- f
	}
	close(work)
	wg.Wait()

	native, fallback := 0, 0
	for _, rt := range ResourceTypes() {
		for _, p := range ForType(rt) {
			switch {
			case p.Native():
				native++
			case p.eval != nil:
				fallback++
			}
		}
	}
	t.Logf("%d resources (%d Synthea, %d PDSm), %d evaluations compared, %d values", len(all), len(synth), len(pds), compared, values)
	t.Logf("expressions over all R4 types: %d native, %d fallback", native, fallback)
	if failures > 20 {
		t.Errorf("… and %d more differences", failures-20)
	}
}

// libraryEvaluators compiles with the FHIRPath library the expression of
// every parameter of the types present in the fixtures.
func libraryEvaluators(t *testing.T, all []fixture) map[*Param]*fallback {
	lib := map[*Param]*fallback{}
	for _, f := range all {
		for _, p := range ForType(f.typ) {
			if _, ok := lib[p]; ok || p.eval == nil {
				continue
			}
			fb, err := compileFallback(p.Expression)
			if err != nil {
				t.Fatalf("%s %s: library: %v", f.typ, p.Code, err)
			}
			lib[p] = fb
		}
	}
	return lib
}

// compareOne compares native and library values of every parameter of one
// resource.
func compareOne(f fixture, lib map[*Param]*fallback) (compared, values int, errs []error) {
	r := &resource{res: f.res}
	for _, p := range ForType(f.typ) {
		if p.eval == nil {
			continue
		}
		got, err := r.appendParam(nil, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s %s: native: %v", f.name, f.typ, p.Code, err))
			continue
		}
		want, err := (&Param{Code: p.Code, Type: p.Type, eval: lib[p]}).values(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s %s: library: %v", f.name, f.typ, p.Code, err))
			continue
		}
		for i := range want {
			want[i].Param = p
		}
		compared++
		values += len(got)
		if g, w := sortedValues(got), sortedValues(want); g != w {
			errs = append(errs, fmt.Errorf("%s %s %s (%s):\n native: %s\nlibrary: %s", f.name, f.typ, p.Code, p.Expression, g, w))
		}
	}
	return compared, values, errs
}

// values evaluates p alone on r.
func (p *Param) values(r *resource) ([]Value, error) {
	return r.appendParam(nil, p)
}

// sortedValues prints values in a canonical order, without their Param and
// with only the fields that are set.
func sortedValues(vs []Value) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = formatValue(v)
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func formatValue(v Value) string {
	var b strings.Builder
	b.WriteByte('{')
	field := func(name, val string) {
		if val != "" {
			fmt.Fprintf(&b, "%s=%q ", name, val)
		}
	}
	field("Text", v.Text)
	field("Norm", v.Norm)
	field("System", v.System)
	field("Code", v.Code)
	if !v.Low.IsZero() {
		field("Low", v.Low.Format(time.RFC3339Nano))
		field("High", v.High.Format(time.RFC3339Nano))
	}
	field("Decimal", v.Decimal)
	if v.Number != 0 {
		field("Number", fmt.Sprint(v.Number))
	}
	field("Unit", v.Unit)
	field("URL", v.URL)
	field("RefType", v.RefType)
	field("RefID", v.RefID)
	field("Version", v.Version)
	return strings.TrimSpace(b.String()) + "}"
}
