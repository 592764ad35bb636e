package rest_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
)

// BenchmarkSyntheaTransaction posts the largest Synthea patient (294
// entries) as one transaction, on each engine; resources/s is what an
// import through the API achieves.
func BenchmarkSyntheaTransaction(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(syntheaDir, "Deidre_Daniel_2e9d6b72-9515-4f64-891c-211131bbc2ad.json"))
	if err != nil {
		b.Skip("no Synthea fixtures: ", err)
	}
	for _, e := range engines {
		b.Run(e.Name, func(b *testing.B) {
			c := newClient(b, e.Open(b), rest.Options{})
			for b.Loop() {
				r := c.do(http.MethodPost, "", body, "Prefer", "return=minimal")
				if r.status != http.StatusOK {
					b.Fatalf("status %d: %s", r.status, r.body)
				}
			}
			b.ReportMetric(float64(294*b.N)/b.Elapsed().Seconds(), "resources/s")
		})
	}
}
