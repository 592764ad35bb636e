package searchparam

import "strings"

// narrow keeps, of a definition's expression, the top-level union branches
// that apply to resourceType: those starting with that type, with Resource
// or DomainResource, or with a lower-case element name (relative to the
// resource, as in "name | alias"). Definitions shared by many types are
// unions over all of them ("Account.subject.where(resolve() is Patient) |
// AdverseEvent.subject… | …"): evaluating only the own branch is both
// faster and what the definition means for that type.
func narrow(expr, resourceType string) string {
	var kept []string
	for _, b := range splitUnion(expr) {
		switch root := rootIdentifier(b); {
		case root == "":
		case root == resourceType, root == "Resource", root == "DomainResource":
			kept = append(kept, b)
		case root[0] >= 'a' && root[0] <= 'z':
			kept = append(kept, b)
		}
	}
	return strings.Join(kept, " | ")
}

// splitUnion splits expr at the '|' operators that are outside parentheses,
// brackets and string literals, and trims the branches.
func splitUnion(expr string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '\'', '`':
			i = skipQuoted(expr, i)
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '|':
			if depth == 0 {
				out = append(out, strings.TrimSpace(expr[start:i]))
				start = i + 1
			}
		}
	}
	if b := strings.TrimSpace(expr[start:]); b != "" || len(out) > 0 {
		out = append(out, b)
	}
	return out
}

// skipQuoted returns the index of the quote closing the literal that opens
// at s[i], or len(s)-1 when it is not closed.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j
		}
	}
	return len(s) - 1
}

// rootIdentifier returns the first identifier of a branch, after any
// opening parentheses: "Observation" for "(Observation.value as string)".
func rootIdentifier(b string) string {
	b = strings.TrimLeft(b, "( \t\n")
	n := 0
	for n < len(b) && isIdentByte(b[n], n > 0) {
		n++
	}
	return b[:n]
}

// isIdentByte reports whether c can be part of a FHIRPath identifier; a
// digit cannot start one.
func isIdentByte(c byte, notFirst bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || notFirst && c >= '0' && c <= '9'
}
