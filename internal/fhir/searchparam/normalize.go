package searchparam

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeString returns the form of s that string search compares:
// lower-case, without accents or other combining marks ("Élodie" →
// "elodie"), with the ligatures œ, æ and ß spelt out ("Cœur" → "coeur"),
// as French users type either. The query parser applies it to search
// values so that both sides match.
func NormalizeString(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s // already normalized: the common case costs no allocation
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if d := norm.NFD.PropertiesString(s[i : i+size]).Decomposition(); len(d) > 0 {
			for len(d) > 0 {
				dr, n := utf8.DecodeRune(d)
				writeFolded(&b, dr)
				d = d[n:]
			}
		} else {
			writeFolded(&b, r)
		}
		i += size
	}
	return b.String()
}

// ligatures are spelt out by NormalizeString.
var ligatures = map[rune]string{
	'œ': "oe", 'Œ': "oe", 'æ': "ae", 'Æ': "ae", 'ß': "ss",
}

// writeFolded writes r lower-cased, or nothing for a combining mark.
func writeFolded(b *strings.Builder, r rune) {
	switch {
	case unicode.Is(unicode.Mn, r):
	case ligatures[r] != "":
		b.WriteString(ligatures[r])
	default:
		b.WriteRune(unicode.ToLower(r))
	}
}
