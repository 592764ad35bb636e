// Package ins handles the patient's national health identity (Identité
// Nationale de Santé): the matricule (NIR or NIA) and its key, the INS
// identifier systems and the policy applied to each, the identity status of
// the identitovigilance framework (RNIV), the INS traits and their mapping to
// an FR Core Patient.
//
// The package is pure: no I/O, no clock, no mutable global state. Identity
// data is personal data: error messages name the element and the rule
// broken, never a matricule or a trait's value.
package ins

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Sex is the sex carried by the INS traits and by the first digit of a NIR.
type Sex uint8

const (
	SexUnknown Sex = iota
	SexMale
	SexFemale
)

// String returns the FHIR administrative-gender code: "male", "female" or
// "unknown".
func (s Sex) String() string {
	switch s {
	case SexMale:
		return "male"
	case SexFemale:
		return "female"
	}
	return "unknown"
}

// Sentinel errors wrapped by *NIRError, for errors.Is.
var (
	ErrLength    = errors.New("wrong length")
	ErrCharacter = errors.New("invalid character")
	ErrSex       = errors.New("invalid sex digit")
	ErrMonth     = errors.New("invalid month")
	ErrKey       = errors.New("bad key")
)

// NIRError says why a string is not a valid matricule. It never quotes the
// value (personal data that would end up in logs): it names the position
// and the rule instead.
type NIRError struct {
	// Label is "NIR" or "NIA", the kind of matricule being checked.
	Label string
	// Err is one of ErrLength, ErrCharacter, ErrSex, ErrMonth, ErrKey.
	Err error
	// Pos is the 1-based position of the offending character, 0 when the
	// error is not about one character.
	Pos int
	// Got and Want are the key found and the key expected (ErrKey), or the
	// length found and 15 (ErrLength).
	Got, Want int
	msg       string
}

func (e *NIRError) Error() string { return "ins: " + e.Label + " " + e.msg }

// Unwrap returns the sentinel error, so errors.Is(err, ErrKey) works.
func (e *NIRError) Unwrap() error { return e.Err }

// NIR is a parsed matricule: a NIR (numéro d'inscription au répertoire) or a
// NIA (numéro identifiant d'attente), which share the same 15-character
// layout and key. The zero value is not a valid matricule.
type NIR struct {
	value string

	// Sex comes from the first digit: odd is male, even is female.
	Sex Sex
	// BirthYear is the two-digit year of birth (0–99); the century is not
	// in the number.
	BirthYear int
	// MonthCode is the month field as written: 1–12, or a pseudo-month
	// (20–42, 50–99) when the civil-status record gave no month.
	MonthCode int
	// BirthMonth is MonthCode when it is a real month (1–12), 0 otherwise.
	BirthMonth int
	// Birthplace is the 5-character INSEE code of the place of birth: the
	// commune (département + commune, "2A004" in Corsica, "97105" overseas)
	// or, for a person born abroad, "99" followed by the country code.
	Birthplace string
	// Department is the département of birth ("51", "2A", "971"), empty
	// for a person born abroad.
	Department string
	// Country is the 3-digit INSEE country code for a person born abroad,
	// empty otherwise.
	Country string
	// BornAbroad reports a birthplace of the form 99xxx.
	BornAbroad bool
	// Corsica reports a Corsican département written 2A or 2B.
	Corsica bool
	// Serial is the 3-digit order number of the birth registration.
	Serial string
	// Key is the 2-digit key as written (equal to the computed key unless
	// ParseNIR returned an ErrKey error).
	Key int
}

// String returns the matricule in its canonical 15-character form, exactly
// as it was parsed.
func (n NIR) String() string { return n.value }

// ParseNIR parses and checks a 15-character matricule, NIR or NIA:
//
//	sex(1) year(2) month(2) birthplace(5) serial(3) key(2)
//
// Rules:
//   - only ASCII digits, except "2A"/"2B" (upper case) at positions 6–7 for
//     a Corsican département; no spaces or separators (layout: INSEE, as
//     published on service-public.fr);
//   - the sex digit is 1 or 2; 3, 4, 7 and 8, which public descriptions of
//     the NIR give for people being registered and for temporary numbers,
//     are accepted too; odd is male, even is female;
//   - the month is 01–12, or a pseudo-month 20–42 or 50–99: INSEE gives
//     such codes when the civil-status record has no month, and real NIRs
//     carry them; 00, 13–19 and 43–49 are rejected;
//   - key = 97 − (first 13 characters as a number mod 97), with 2A read as
//     19 and 2B as 18 (domain/france.md §1).
//
// The sex and month sets are those accepted by the State's "les emplois de
// l'inclusion" service (gip-inclusion, itou/utils NIR validation), the most
// precise public implementation found; no INSEE text listing them was found.
//
// When the layout is valid and only the key is wrong, ParseNIR returns the
// parsed NIR together with a *NIRError wrapping ErrKey, so a caller whose
// policy tolerates bad keys (test identities) can still use the value.
func ParseNIR(s string) (NIR, error) { return parse(s, "NIR") }

func parse(s, label string) (NIR, error) {
	fail := func(err error, pos int, format string, args ...any) (NIR, error) {
		return NIR{}, &NIRError{Label: label, Err: err, Pos: pos, msg: fmt.Sprintf(format, args...)}
	}
	if len(s) != 15 {
		n := utf8.RuneCountInString(s)
		if n != 15 {
			e := &NIRError{Label: label, Err: ErrLength, Got: n, Want: 15,
				msg: fmt.Sprintf("has %d characters, want 15", n)}
			return NIR{}, e
		}
		// 15 characters but not 15 bytes: some are not ASCII; the loop
		// below reports the first one.
	}
	pos := 0
	for _, r := range s {
		pos++
		if r >= '0' && r <= '9' {
			continue
		}
		if pos == 7 && (r == 'A' || r == 'B') && s[5] == '2' {
			continue
		}
		want := "a digit"
		switch {
		case pos == 6 || pos == 7:
			want = "a digit, or 2A/2B (upper case) for Corsica at positions 6–7"
		case pos >= 14:
			want = "a digit (the key is numeric)"
		}
		return fail(ErrCharacter, pos, "character %d is %q: want %s", pos, r, want)
	}

	n := NIR{value: s}
	switch s[0] {
	case '1', '3', '7':
		n.Sex = SexMale
	case '2', '4', '8':
		n.Sex = SexFemale
	default:
		return fail(ErrSex, 1, "sex digit is %c: want 1 (male) or 2 (female), or 3, 4, 7, 8 for a temporary number", s[0])
	}
	n.BirthYear = twoDigits(s[1:3])
	n.MonthCode = twoDigits(s[3:5])
	switch m := n.MonthCode; {
	case m >= 1 && m <= 12:
		n.BirthMonth = m
	case m >= 20 && m <= 42, m >= 50:
	default:
		return fail(ErrMonth, 4, "month is %02d: want 01–12, or a pseudo-month 20–42 or 50–99 when the month is unknown", m)
	}
	n.Birthplace = s[5:10]
	switch {
	case s[5:7] == "99":
		n.BornAbroad = true
		n.Country = s[7:10]
	case s[5:7] == "97" || s[5:7] == "98":
		n.Department = s[5:8]
	default:
		n.Department = s[5:7]
		n.Corsica = s[6] == 'A' || s[6] == 'B'
	}
	n.Serial = s[10:13]
	n.Key = twoDigits(s[13:15])
	if want := nirKey(s[:13]); n.Key != want {
		return n, &NIRError{Label: label, Err: ErrKey, Pos: 14, Got: n.Key, Want: want,
			msg: fmt.Sprintf("key is %02d, want %02d", n.Key, want)}
	}
	return n, nil
}

// nirKey computes the key of the first 13 characters of a matricule whose
// characters have been checked: digits, except 2A/2B at positions 6–7.
func nirKey(body string) int {
	var v uint64
	for i := 0; i < len(body); i++ {
		c := body[i]
		if body[6] == 'A' || body[6] == 'B' { // 2A → 19, 2B → 18
			switch i {
			case 5:
				c = '1'
			case 6:
				c = '9' - (body[6] - 'A')
			}
		}
		v = v*10 + uint64(c-'0')
	}
	return 97 - int(v%97)
}

func twoDigits(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }
