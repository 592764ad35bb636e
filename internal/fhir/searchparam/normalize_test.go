package searchparam_test

import (
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

func TestNormalizeString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"dupont", "dupont"},
		{"DUPONT", "dupont"},
		{"Élodie", "elodie"},
		{"Hélène-Françoise", "helene-francoise"},
		{"ÇA GÈLE À NOËL", "ca gele a noel"},
		{"Cœur", "coeur"},
		{"ŒUVRE", "oeuvre"},
		{"Lætitia", "laetitia"},
		{"Straße", "strasse"},
		{"Bernardo Ordóñez", "bernardo ordonez"},
		{"e\u0301cole", "ecole"}, // already decomposed
		{"Łódź", "łodz"},         // ł has no decomposition: only lower-cased
		{"Ωμέγα", "ωμεγα"},
		{"O'Brien 3", "o'brien 3"},
	} {
		if got := searchparam.NormalizeString(tt.in); got != tt.want {
			t.Errorf("NormalizeString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkNormalizeString(b *testing.B) {
	for _, s := range []string{"already lower-case ascii", "Mixed Case ASCII", "Hélène-Françoise Cœur"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				searchparam.NormalizeString(s)
			}
		})
	}
}
