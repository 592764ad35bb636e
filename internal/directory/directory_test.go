package directory_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/directory"
)

// Numbers used below. Real public numbers: SIREN 732829320 (the INSEE
// example), SIRET 73282932000074, FINESS 010003820 and 350005179 (CHU
// Rennes), La Poste SIRETs 35600000000048 (Luhn-valid) and 35600000049837
// (digit sum 45, fails Luhn). 10003461033 is the RPPS of the ANS directory test data,
// which fails Luhn.
func TestValidators(t *testing.T) {
	strict := directory.Validator{}
	lenient := directory.Validator{SkipRPPSKey: true, SkipADELIKey: true, SkipFINESSKey: true}
	type check func(directory.Validator, string) error
	var (
		rpps   check = directory.Validator.RPPS
		adeli  check = directory.Validator.ADELI
		finess check = directory.Validator.FINESS
		siren  check = directory.Validator.SIREN
		siret  check = directory.Validator.SIRET
	)
	tests := []struct {
		name    string
		check   check
		v       directory.Validator
		in      string
		err     error  // nil for valid
		message string // substring of the error
	}{
		{"RPPS valid", rpps, strict, "10000001916", nil, ""},
		{"RPPS bad key", rpps, strict, "10003461033", directory.ErrCheckDigit, `RPPS "10003461033": Luhn check failed (last digit 3, want 4)`},
		{"RPPS bad key, check off", rpps, lenient, "10003461033", nil, ""},
		{"RPPS too short", rpps, lenient, "1000346103", directory.ErrFormat, "has 10 characters, want 11 digits"},
		{"RPPS letter", rpps, strict, "1000346103X", directory.ErrFormat, "character 11 is 'X'"},
		{"ADELI valid", adeli, strict, "751000001", nil, ""},
		{"ADELI bad key", adeli, strict, "751000009", directory.ErrCheckDigit, "want 1"},
		{"ADELI bad key, check off", adeli, lenient, "751000009", nil, ""},
		{"ADELI length", adeli, strict, "75100000", directory.ErrFormat, "want 9 digits"},
		{"FINESS valid", finess, strict, "010003820", nil, ""},
		{"FINESS valid, CHU Rennes", finess, strict, "350005179", nil, ""},
		{"FINESS bad key", finess, strict, "350005178", directory.ErrCheckDigit, "want 9"},
		{"FINESS bad key, check off", finess, lenient, "350005178", nil, ""},
		{"FINESS Corsica 2A, no key check", finess, strict, "2A0000012", nil, ""},
		{"FINESS Corsica 2B", finess, strict, "2B0000013", nil, ""},
		{"FINESS lower-case Corsica", finess, strict, "2a0000012", directory.ErrFormat, "character 2 is 'a'"},
		{"FINESS letter elsewhere", finess, strict, "35000517X", directory.ErrFormat, "character 9"},
		{"FINESS length", finess, strict, "35000517", directory.ErrFormat, "has 8 characters, want 9"},
		{"SIREN valid", siren, strict, "732829320", nil, ""},
		{"SIREN bad key", siren, lenient, "732829321", directory.ErrCheckDigit, "want 0"},
		{"SIRET valid", siret, strict, "73282932000074", nil, ""},
		{"SIRET bad key", siret, lenient, "73282932000075", directory.ErrCheckDigit, "want 4"},
		{"SIRET La Poste, Luhn-valid", siret, strict, "35600000000048", nil, ""},
		{"SIRET La Poste, digit sum 45", siret, strict, "35600000049837", nil, ""},
		{"SIRET La Poste, neither", siret, strict, "35600000049838", directory.ErrCheckDigit, "La Poste SIRET digits add up to 46"},
		{"SIRET length", siret, strict, "7328293200007", directory.ErrFormat, "want 14 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.v, tt.in)
			if tt.err == nil {
				if err != nil {
					t.Errorf("error = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %v, want %v containing %q", err, tt.err, tt.message)
			}
		})
	}
}

func TestIdNatPS(t *testing.T) {
	tests := []struct {
		in      string
		v       directory.Validator
		want    directory.IdNatPS
		err     error
		message string
	}{
		{"810000001916", directory.Validator{}, directory.IdNatPS{Kind: directory.PSRPPS, Number: "10000001916"}, nil, ""},
		{"0751000001", directory.Validator{}, directory.IdNatPS{Kind: directory.PSADELI, Number: "751000001"}, nil, ""},
		{"3350005179/12345", directory.Validator{}, directory.IdNatPS{Kind: directory.PSFINESS, Number: "350005179", Local: "12345"}, nil, ""},
		{"4732829320/A12", directory.Validator{}, directory.IdNatPS{Kind: directory.PSSIREN, Number: "732829320", Local: "A12"}, nil, ""},
		{"573282932000074/7", directory.Validator{}, directory.IdNatPS{Kind: directory.PSSIRET, Number: "73282932000074", Local: "7"}, nil, ""},
		{"61000000191601/99", directory.Validator{}, directory.IdNatPS{Kind: directory.PSCabinetRPPS, Number: "1000000191601", Local: "99"}, nil, ""},
		{"810003461033", directory.Validator{SkipRPPSKey: true}, directory.IdNatPS{Kind: directory.PSRPPS, Number: "10003461033"}, nil, ""},
		{"810003461033", directory.Validator{}, directory.IdNatPS{}, directory.ErrCheckDigit,
			`IdNatPS "810003461033": RPPS part "10003461033": Luhn check failed`},
		{"81000000191", directory.Validator{}, directory.IdNatPS{}, directory.ErrFormat, "has 10 characters, want 11"},
		{"3350005178/1", directory.Validator{}, directory.IdNatPS{}, directory.ErrCheckDigit, `FINESS part "350005178"`},
		{"3350005179", directory.Validator{}, directory.IdNatPS{}, directory.ErrFormat, "want structure identifier/internal identifier"},
		{"3350005179/", directory.Validator{}, directory.IdNatPS{}, directory.ErrFormat, "internal identifier"},
		{"3350005179/a b", directory.Validator{}, directory.IdNatPS{}, directory.ErrFormat, "letters and digits"},
		{"910000001916", directory.Validator{}, directory.IdNatPS{}, directory.ErrPrefix, "prefix '9'"},
		{"", directory.Validator{}, directory.IdNatPS{}, directory.ErrFormat, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := tt.v.IdNatPS(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.message) {
					t.Errorf("error = %v, want %v containing %q", err, tt.err, tt.message)
				}
				return
			}
			if err != nil {
				t.Fatalf("IdNatPS: %v", err)
			}
			if got != tt.want || got.String() != tt.in {
				t.Errorf("IdNatPS = %+v (%s), want %+v (%s)", got, got, tt.want, tt.in)
			}
		})
	}
}

func TestIdNatStruct(t *testing.T) {
	tests := []struct {
		in      string
		want    directory.IdNatStruct
		err     error
		message string
	}{
		{"1350005179", directory.IdNatStruct{Kind: directory.StructFINESS, Number: "350005179"}, nil, ""},
		{"12A0000012", directory.IdNatStruct{Kind: directory.StructFINESS, Number: "2A0000012"}, nil, ""},
		{"2732829320", directory.IdNatStruct{Kind: directory.StructSIREN, Number: "732829320"}, nil, ""},
		{"373282932000074", directory.IdNatStruct{Kind: directory.StructSIRET, Number: "73282932000074"}, nil, ""},
		{"41000000191601", directory.IdNatStruct{Kind: directory.StructRPPSRang, Number: "1000000191601"}, nil, ""},
		{"4F060016219", directory.IdNatStruct{Kind: directory.StructRPPSRang, Number: "F060016219"}, nil, ""},
		{"075100000101", directory.IdNatStruct{Kind: directory.StructADELIRang, Number: "75100000101"}, nil, ""},
		{"1350005178", directory.IdNatStruct{}, directory.ErrCheckDigit, `IdNatStruct "1350005178": FINESS part "350005178"`},
		{"41000346103301", directory.IdNatStruct{}, directory.ErrCheckDigit, `RPPS rang part "1000346103301": RPPS part "10003461033"`},
		{"075100000901", directory.IdNatStruct{}, directory.ErrCheckDigit, `ADELI rang part "75100000901": ADELI part "751000009"`},
		{"07510000090", directory.IdNatStruct{}, directory.ErrFormat, "want 11 digits (number + 2-digit rank)"},
		{"4F06-0016", directory.IdNatStruct{}, directory.ErrFormat, "technical identifier"},
		{"2732829321", directory.IdNatStruct{}, directory.ErrCheckDigit, "SIREN part"},
		{"5732829320", directory.IdNatStruct{}, directory.ErrPrefix, "prefix '5'"},
		{"", directory.IdNatStruct{}, directory.ErrFormat, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := directory.Validator{}.IdNatStruct(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.message) {
					t.Errorf("error = %v, want %v containing %q", err, tt.err, tt.message)
				}
				return
			}
			if err != nil {
				t.Fatalf("IdNatStruct: %v", err)
			}
			if got != tt.want || got.String() != tt.in {
				t.Errorf("IdNatStruct = %+v (%s), want %+v", got, got, tt.want)
			}
		})
	}
}

func TestIdentifier(t *testing.T) {
	tests := []struct {
		system, value string
		err           error
	}{
		{directory.SystemIdNatPS, "810000001916", nil},
		{directory.OIDIdNatPS, "810000001916", nil},
		{directory.SystemIdNatPS, "810000001917", directory.ErrCheckDigit},
		{directory.SystemIdNatStruct, "1350005179", nil},
		{directory.OIDIdNatStruct, "2732829320", nil},
		{directory.SystemRPPS, "10000001916", nil},
		{directory.SystemRPPS, "810000001916", directory.ErrFormat},
		{directory.SystemFINESS, "350005179", nil},
		{directory.SystemFINESSLegacy, "350005179", nil},
		{directory.SystemFINESS, "1350005179", directory.ErrFormat},
		{directory.SystemSIRENE, "732829320", nil},
		{directory.SystemSIRENE, "73282932000074", nil},
		{directory.SystemSIRENE, "7328293200", directory.ErrFormat},
		{directory.SystemRPPSRang, "1000000191601", nil},
		{directory.SystemRPPSRang, "10000001916", directory.ErrFormat},
		{directory.SystemADELIRang, "75100000101", nil},
		{"urn:oid:1.2.250.1.213.1.4.8", "279035121518989", directory.ErrSystem},
	}
	for _, tt := range tests {
		err := directory.Validator{}.Identifier(tt.system, tt.value)
		if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("Identifier(%q, %q) = %v, want %v", tt.system, tt.value, err, tt.err)
		}
	}
}

func TestGenerators(t *testing.T) {
	v := directory.Validator{}
	tests := []struct {
		name     string
		generate func(*rand.Rand) string
		check    func(string) error
	}{
		{"RPPS", directory.GenerateRPPS, v.RPPS},
		{"ADELI", directory.GenerateADELI, v.ADELI},
		{"FINESS", directory.GenerateFINESS, v.FINESS},
		{"SIREN", directory.GenerateSIREN, v.SIREN},
		{"SIRET", directory.GenerateSIRET, v.SIRET},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, r2 := rand.New(rand.NewPCG(7, 7)), rand.New(rand.NewPCG(7, 7))
			seen := map[string]bool{}
			for range 1000 {
				s := tt.generate(r1)
				if err := tt.check(s); err != nil {
					t.Fatalf("generated %s: %v", s, err)
				}
				if again := tt.generate(r2); again != s {
					t.Fatalf("same seed gave %s then %s", s, again)
				}
				seen[s] = true
			}
			if len(seen) < 990 {
				t.Errorf("only %d distinct numbers out of 1000", len(seen))
			}
		})
	}
}
