// Package directory validates the national identifiers of health
// professionals and structures: RPPS, ADELI, IdNatPS, FINESS, SIREN, SIRET
// and IdNatStruct, as FHIR and CDA carry them. It is pure: no I/O.
//
// Check digits. SIREN and SIRET carry a Luhn check digit (INSEE). For RPPS,
// ADELI and FINESS no official text defining a key was found; a Luhn check
// digit is observed on real numbers, but official test data break it (the
// ANS directory examples use RPPS 10003461033, which fails Luhn), so each of
// those three checks can be switched off in Validator. FINESS numbers of
// Corsica (2A/2B) are never key-checked: no rule for the letters is
// published.
package directory

import (
	"errors"
	"fmt"
	"strings"
)

// Identifier systems, as FR Core writes them.
const (
	OIDIdNatPS     = "1.2.250.1.71.4.2.1"
	OIDIdNatStruct = "1.2.250.1.71.4.2.2"

	SystemIdNatPS     = "urn:oid:" + OIDIdNatPS
	SystemIdNatStruct = "urn:oid:" + OIDIdNatStruct
	// SystemRPPS carries the bare 11-digit RPPS (FR Core Practitioner).
	SystemRPPS = "https://rpps.esante.gouv.fr"
	// SystemFINESS carries the bare 9-character FINESS (FR Core
	// Organization, 2.x).
	SystemFINESS = "https://finess.esante.gouv.fr"
	// SystemFINESSLegacy is the FINESS system of older FR profiles and
	// many existing systems; accepted on input, never written.
	SystemFINESSLegacy = "http://finess.sante.gouv.fr"
	// SystemSIRENE carries both SIREN (9 digits) and SIRET (14 digits).
	SystemSIRENE = "https://sirene.fr"
	// SystemRPPSRang and SystemADELIRang carry a cabinet number: the
	// professional's number followed by a 2-digit rank.
	SystemRPPSRang  = "https://rppsrang.esante.gouv.fr"
	SystemADELIRang = "https://adelirang.esante.gouv.fr"
)

// Sentinel errors wrapped by *Error, for errors.Is.
var (
	ErrFormat     = errors.New("malformed")
	ErrCheckDigit = errors.New("bad check digit")
	ErrPrefix     = errors.New("unknown prefix")
	ErrSystem     = errors.New("unknown identifier system")
)

// Error says which identifier is invalid and why. The identifiers of this
// package are public directory data, so the value is quoted.
type Error struct {
	Identifier string // "RPPS", "FINESS", "IdNatPS"…
	Value      string
	Reason     string
	Err        error // ErrFormat, ErrCheckDigit, ErrPrefix or ErrSystem
}

func (e *Error) Error() string {
	return fmt.Sprintf("directory: %s %q: %s", e.Identifier, e.Value, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

func formatErr(ident, value, format string, args ...any) error {
	return &Error{Identifier: ident, Value: value, Reason: fmt.Sprintf(format, args...), Err: ErrFormat}
}

// Validator validates identifiers. The zero Validator checks every check
// digit; set a Skip field to accept numbers whose key fails (see the
// package documentation for why those keys are switchable).
type Validator struct {
	SkipRPPSKey   bool
	SkipADELIKey  bool
	SkipFINESSKey bool
}

// RPPS checks an RPPS number: 11 digits, Luhn check digit.
func (v Validator) RPPS(s string) error { return checkDigits("RPPS", s, 11, !v.SkipRPPSKey) }

// ADELI checks an ADELI number: 9 digits, Luhn check digit.
func (v Validator) ADELI(s string) error { return checkDigits("ADELI", s, 9, !v.SkipADELIKey) }

// SIREN checks a SIREN (company) number: 9 digits, Luhn check digit.
func (v Validator) SIREN(s string) error { return checkDigits("SIREN", s, 9, true) }

// laPosteSIREN is the SIREN of La Poste, whose thousands of establishments
// outgrew the Luhn scheme: their SIRETs are valid when the sum of the 14
// digits is a multiple of 5 (INSEE rule, as applied by French public
// services, e.g. pass Culture's SIRET validation).
const laPosteSIREN = "356000000"

// SIRET checks a SIRET (establishment) number: 14 digits, SIREN + NIC, Luhn
// check digit over the 14 digits, except for La Poste (SIREN 356000000),
// where the sum of the digits must be a multiple of 5.
func (v Validator) SIRET(s string) error {
	if err := checkDigits("SIRET", s, 14, false); err != nil {
		return err
	}
	if luhnValid(s) {
		return nil
	}
	if strings.HasPrefix(s, laPosteSIREN) {
		sum := 0
		for _, c := range []byte(s) {
			sum += int(c - '0')
		}
		if sum%5 == 0 {
			return nil
		}
		return &Error{Identifier: "SIRET", Value: s, Err: ErrCheckDigit,
			Reason: fmt.Sprintf("La Poste SIRET digits add up to %d, not a multiple of 5", sum)}
	}
	return &Error{Identifier: "SIRET", Value: s, Err: ErrCheckDigit,
		Reason: fmt.Sprintf("Luhn check failed (last digit %c, want %c)", s[13], luhnDigit(s[:13]))}
}

// FINESS checks a FINESS number: 9 characters, digits except the
// département letters of Corsica (2A, 2B) in first position; Luhn check
// digit over the 9 digits, except in Corsica.
func (v Validator) FINESS(s string) error {
	if len(s) != 9 {
		return formatErr("FINESS", s, "has %d characters, want 9", len(s))
	}
	corsica := s[0] == '2' && (s[1] == 'A' || s[1] == 'B')
	for i, c := range []byte(s) {
		if (c < '0' || c > '9') && !(i == 1 && corsica) {
			return formatErr("FINESS", s, "character %d is %q: want a digit (or 2A/2B for Corsica at positions 1–2)", i+1, c)
		}
	}
	if corsica || v.SkipFINESSKey || luhnValid(s) {
		return nil
	}
	return &Error{Identifier: "FINESS", Value: s, Err: ErrCheckDigit,
		Reason: fmt.Sprintf("Luhn check failed (last digit %c, want %c)", s[8], luhnDigit(s[:8]))}
}

// checkDigits checks that s is n ASCII digits and, if key, that its last
// digit is its Luhn check digit.
func checkDigits(ident, s string, n int, key bool) error {
	if len(s) != n {
		return formatErr(ident, s, "has %d characters, want %d digits", len(s), n)
	}
	for i, c := range []byte(s) {
		if c < '0' || c > '9' {
			return formatErr(ident, s, "character %d is %q: want a digit", i+1, c)
		}
	}
	if key && !luhnValid(s) {
		return &Error{Identifier: ident, Value: s, Err: ErrCheckDigit,
			Reason: fmt.Sprintf("Luhn check failed (last digit %c, want %c)", s[n-1], luhnDigit(s[:n-1]))}
	}
	return nil
}

// luhnValid reports whether a string of ASCII digits passes the Luhn check.
func luhnValid(s string) bool { return luhnSum(s, false)%10 == 0 }

// luhnDigit returns the Luhn check digit to append to a string of digits.
func luhnDigit(s string) byte { return byte('0' + (10-luhnSum(s, true)%10)%10) }

// luhnSum is the Luhn sum of s; the rightmost digit is doubled when
// doubleLast (s lacks its check digit), else the second from the right.
func luhnSum(s string, doubleLast bool) int {
	sum := 0
	double := doubleLast
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum
}
