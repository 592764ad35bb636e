package directory

import (
	"fmt"
	"math/rand/v2"
)

// The generators below return valid synthetic identifiers for demo data,
// tests and benchmarks; the same r state gives the same numbers. Synthetic
// numbers can collide with real ones: never present them as real
// professionals or structures.

// GenerateRPPS returns an 11-digit RPPS number with a Luhn check digit,
// starting with 10 like the RPPS numbers issued so far.
func GenerateRPPS(r *rand.Rand) string {
	return withLuhn(fmt.Sprintf("10%08d", r.IntN(1e8)))
}

// GenerateADELI returns a 9-digit ADELI number with a Luhn check digit,
// starting with a metropolitan département code.
func GenerateADELI(r *rand.Rand) string {
	return withLuhn(fmt.Sprintf("%02d%06d", department(r), r.IntN(1e6)))
}

// GenerateFINESS returns a 9-digit FINESS number with a Luhn check digit,
// starting with a metropolitan département code (never Corsica, whose
// FINESS numbers carry no checkable key).
func GenerateFINESS(r *rand.Rand) string {
	return withLuhn(fmt.Sprintf("%02d%06d", department(r), r.IntN(1e6)))
}

// GenerateSIREN returns a 9-digit SIREN with a Luhn check digit.
func GenerateSIREN(r *rand.Rand) string {
	return withLuhn(fmt.Sprintf("%08d", 1e7+r.IntN(9e7)))
}

// GenerateSIRET returns a 14-digit SIRET: a generated SIREN, a 4-digit
// establishment number and a Luhn check digit over the 14 digits.
func GenerateSIRET(r *rand.Rand) string {
	return withLuhn(fmt.Sprintf("%s%04d", GenerateSIREN(r), 1+r.IntN(9999)))
}

// department draws a metropolitan département number, 01–95 but 20 (the
// former Corsica code).
func department(r *rand.Rand) int {
	d := 1 + r.IntN(94)
	if d >= 20 {
		d++
	}
	return d
}

func withLuhn(s string) string { return s + string(luhnDigit(s)) }
