package ins

import (
	"strings"
	"unicode"
)

// DuplicateKey returns the blocking key of the potential-duplicates check
// (attribute DOUB): two identities with the same key are candidates for the
// same person and go to a human for review. The key is built from the birth
// name, the birth date, the sex and the birthplace:
//
//	NORMALISEDNAME|YYYY-MM-DD|M|2A004
//
// The name is normalised so that spelling variants collide: upper case,
// accents removed (É → E, Ç → C, also when written with combining marks),
// ligatures expanded (Œ → OE, Æ → AE, ß → SS), and everything that is not a
// letter or a digit (hyphens, apostrophes, spaces, dots) dropped, so that
// "Le Gall", "LE-GALL" and "Legall" share a key. The first names are left
// out on purpose: they are the trait most often entered differently.
func DuplicateKey(t Traits) string {
	sex := "U"
	switch t.Sex {
	case SexMale:
		sex = "M"
	case SexFemale:
		sex = "F"
	}
	return NormalizeName(t.BirthName) + "|" + strings.TrimSpace(t.BirthDate) + "|" + sex + "|" +
		strings.ToUpper(strings.TrimSpace(t.Birthplace))
}

// NormalizeName folds a name for comparison as DuplicateKey does: upper
// case, no accents, ligatures expanded, only letters and digits kept.
func NormalizeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if unicode.Is(unicode.Mn, r) { // combining accent of a decomposed letter
			continue
		}
		r = unicode.ToUpper(r)
		if s, ok := foldLatin[r]; ok {
			b.WriteString(s)
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldLatin maps the accented capitals and ligatures of Latin-1 and
// Latin Extended-A (the letters French civil status uses, and those of
// most European names) to their unaccented ASCII spelling.
var foldLatin = func() map[rune]string {
	groups := map[string]string{
		"A":  "ÀÁÂÃÄÅĀĂĄ",
		"AE": "Æ",
		"C":  "ÇĆĈĊČ",
		"D":  "ĎĐÐ",
		"E":  "ÈÉÊËĒĔĖĘĚ",
		"G":  "ĜĞĠĢ",
		"H":  "ĤĦ",
		"I":  "ÌÍÎÏĨĪĬĮİ",
		"J":  "Ĵ",
		"K":  "Ķ",
		"L":  "ĹĻĽĿŁ",
		"N":  "ÑŃŅŇ",
		"O":  "ÒÓÔÕÖØŌŎŐ",
		"OE": "Œ",
		"R":  "ŔŖŘ",
		"S":  "ŚŜŞŠ",
		"SS": "ßẞ",
		"T":  "ŢŤŦ",
		"TH": "Þ",
		"U":  "ÙÚÛÜŨŪŬŮŰŲ",
		"W":  "Ŵ",
		"Y":  "ÝŶŸ",
		"Z":  "ŹŻŽ",
	}
	m := make(map[rune]string)
	for ascii, letters := range groups {
		for _, r := range letters {
			m[r] = ascii
		}
	}
	return m
}()
