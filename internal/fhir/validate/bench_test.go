package validate_test

import (
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

// syntheaCache keeps the decoded Synthea resources across the runs of a
// benchmark, which calls its function again for each b.N.
var syntheaCache []map[string]any

// syntheaResources returns the entry resources of the Synthea bundles,
// with the model already compiled.
func syntheaResources(b *testing.B) []map[string]any {
	if syntheaCache == nil {
		for _, bundle := range loadFixtures(b, "synthea/*.json") {
			for _, e := range bundle["entry"].([]any) {
				syntheaCache = append(syntheaCache, e.(map[string]any)["resource"].(map[string]any))
			}
		}
		validate.Resource(syntheaCache[0])
	}
	return syntheaCache
}

// BenchmarkSynthea validates the Synthea resources one after the other, as
// the ingest does: one op is one resource (the set's average). Run with
// go test -run X -bench . -benchmem ./internal/fhir/validate
func BenchmarkSynthea(b *testing.B) {
	resources := syntheaResources(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if validate.Resource(resources[i]) != nil {
			b.Fatal("invalid resource")
		}
		if i++; i == len(resources) {
			i = 0
		}
	}
}

// BenchmarkSyntheaParallel is BenchmarkSynthea on every core.
func BenchmarkSyntheaParallel(b *testing.B) {
	resources := syntheaResources(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			validate.Resource(resources[i])
			if i++; i == len(resources) {
				i = 0
			}
		}
	})
}

// BenchmarkInvalid measures a resource with one fault: a fast walk that
// stops at it, then a full walk collecting the issue.
func BenchmarkInvalid(b *testing.B) {
	res := decode(b, []byte(`{"resourceType":"Patient","id":"p1","active":true,"name":[{"family":"Martin","given":["Claire","Anne"]}],"gender":"F","birthDate":"1980-01-15","address":[{"line":["1 rue de la Paix"],"city":"Paris","postalCode":"75002","country":"FR"}]}`))
	b.ReportAllocs()
	for b.Loop() {
		if len(validate.Resource(res)) != 1 {
			b.Fatal("want one issue")
		}
	}
}
