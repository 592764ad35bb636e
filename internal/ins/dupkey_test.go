package ins_test

import (
	"testing"

	"github.com/carnet-sante/carnet/internal/ins"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Durand", "DURAND"},
		{"Le Gall", "LEGALL"},
		{"LE-GALL", "LEGALL"},
		{"d'Arc", "DARC"},
		{"D’ARC", "DARC"}, // typographic apostrophe
		{"Hélène-Françoise", "HELENEFRANCOISE"},
		{"He\u0301le\u0300ne", "HELENE"}, // decomposed accents
		{"Œuvrard", "OEUVRARD"},
		{"cœur", "COEUR"},
		{"Lætitia", "LAETITIA"},
		{"Straße", "STRASSE"},
		{"Łukasz Żółć", "LUKASZZOLC"},
		{"  St. Pierre ", "STPIERRE"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ins.NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDuplicateKey(t *testing.T) {
	base := ins.Traits{BirthName: "Le Gall", FirstGivenName: "Anne", BirthDate: "1979-03-12", Sex: ins.SexFemale, Birthplace: "29019"}
	tests := []struct {
		name   string
		change func(*ins.Traits)
		same   bool
	}{
		{"identical", func(*ins.Traits) {}, true},
		{"spelling variant of the name", func(t *ins.Traits) { t.BirthName = "LE-GALL" }, true},
		{"accents and case", func(t *ins.Traits) { t.BirthName = "le gall" }, true},
		{"other first name", func(t *ins.Traits) { t.FirstGivenName = "Anne-Marie"; t.BirthGivenNames = "Anne-Marie" }, true},
		{"other birth date", func(t *ins.Traits) { t.BirthDate = "1979-03-13" }, false},
		{"other sex", func(t *ins.Traits) { t.Sex = ins.SexMale }, false},
		{"other birthplace", func(t *ins.Traits) { t.Birthplace = "29232" }, false},
		{"other name", func(t *ins.Traits) { t.BirthName = "Le Goff" }, false},
	}
	want := ins.DuplicateKey(base)
	if want != "LEGALL|1979-03-12|F|29019" {
		t.Fatalf("DuplicateKey(base) = %q", want)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := base
			tt.change(&tr)
			if got := ins.DuplicateKey(tr); (got == want) != tt.same {
				t.Errorf("DuplicateKey = %q, base %q, want same = %v", got, want, tt.same)
			}
		})
	}
	corsica := ins.Traits{BirthName: "Colonna", BirthDate: "1963-09-02", Sex: ins.SexMale, Birthplace: "2a004"}
	if got := ins.DuplicateKey(corsica); got != "COLONNA|1963-09-02|M|2A004" {
		t.Errorf("DuplicateKey(%+v) = %q: the birthplace should be upper-cased", corsica, got)
	}
}
