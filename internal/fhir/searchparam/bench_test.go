package searchparam

import "testing"

// BenchmarkExtract extracts the values of every resource of the Synthea
// fixtures in turn: ns/op and allocs/op are per resource, averaged over the
// set (half Observations, then Claims, Encounters, EOBs…).
func BenchmarkExtract(b *testing.B) {
	synth, _ := loadFixtures(b)
	b.ReportAllocs()
	values := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := synth[i%len(synth)]
		vs, err := Extract(f.typ, f.res)
		if err != nil {
			b.Fatal(err)
		}
		values += len(vs)
	}
	b.ReportMetric(float64(values)/float64(b.N), "values/op")
}

// BenchmarkPatientRefs computes the patient compartment of every resource
// of the Synthea fixtures in turn.
func BenchmarkPatientRefs(b *testing.B) {
	synth, _ := loadFixtures(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := synth[i%len(synth)]
		PatientRefs(f.typ, f.res)
	}
}

// BenchmarkExtractByType is BenchmarkExtract per resource type: Patient
// includes the one expression evaluated by the FHIRPath library.
func BenchmarkExtractByType(b *testing.B) {
	synth, _ := loadFixtures(b)
	byType := map[string][]fixture{}
	var types []string
	for _, f := range synth {
		if byType[f.typ] == nil {
			types = append(types, f.typ)
		}
		byType[f.typ] = append(byType[f.typ], f)
	}
	for _, typ := range types {
		fs := byType[typ]
		b.Run(typ, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				f := fs[i%len(fs)]
				if _, err := Extract(f.typ, f.res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
