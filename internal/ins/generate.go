package ins

import (
	"fmt"
	"math/rand/v2"
)

// GenerateNIR returns a valid synthetic NIR for demo data, tests and
// benchmarks: the given sex, year (only its last two digits are kept),
// month code (1–12, or a pseudo-month ParseNIR accepts) and birthplace
// (5-character INSEE code, "2A004", "99217"…), a serial drawn from r, and
// the right key. The same r state gives the same NIR.
//
// Synthetic NIRs can collide with real ones: publish them only under the
// test or demonstration OIDs (OIDNIRTest, OIDNIRDemo).
func GenerateNIR(r *rand.Rand, sex Sex, year, month int, birthplace string) (NIR, error) {
	var digit int
	switch sex {
	case SexMale:
		digit = 1
	case SexFemale:
		digit = 2
	default:
		return NIR{}, fmt.Errorf("ins: generate NIR: sex must be male or female")
	}
	if year < 0 {
		return NIR{}, fmt.Errorf("ins: generate NIR: year %d is negative", year)
	}
	if month < 0 || month > 99 {
		return NIR{}, fmt.Errorf("ins: generate NIR: month %d is not a 2-digit month code", month)
	}
	if len(birthplace) != 5 {
		return NIR{}, fmt.Errorf("ins: generate NIR: birthplace must be a 5-character INSEE code, got %d characters", len(birthplace))
	}
	body := fmt.Sprintf("%d%02d%02d%s%03d", digit, year%100, month, birthplace, 1+r.IntN(999))
	// ParseNIR checks the birthplace and the month with the same rules,
	// and messages, as for any other NIR.
	return ParseNIR(fmt.Sprintf("%s%02d", body, nirKey(body)))
}
