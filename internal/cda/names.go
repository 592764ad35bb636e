package cda

import (
	"strings"

	"github.com/carnet-sante/carnet/internal/ins"
)

// The French header (CI-SIS) marks the parts of the patient's name with
// HL7 qualifiers: the birth name is family qualifier="BR", the first birth
// first name given qualifier="BR", the names in use (nom et prénom
// utilisés) qualifier="CL". The helpers below look across all the
// patient's names, in document order.

// GivenNames returns every given name of the patient that is not a used
// first name (qualifier CL), in document order.
func (p *Patient) GivenNames() []string {
	var out []string
	for _, n := range p.Names {
		for _, g := range n.Given {
			if !g.Is("CL") && g.Value != "" {
				out = append(out, g.Value)
			}
		}
	}
	return out
}

// UsedName returns the family name and first name in use (qualifier CL),
// "" for a part the header does not give.
func (p *Patient) UsedName() (family, given string) {
	return p.part(func(n Name) []NamePart { return n.Family }, "CL"),
		p.part(func(n Name) []NamePart { return n.Given }, "CL")
}

// Traits returns the INS traits the header gives:
//   - BirthName: the first family part qualified BR;
//   - FirstGivenName: the first given part qualified BR;
//   - BirthGivenNames: the list of birth first names. Producers write it in
//     one of two ways: an unqualified given holding the whole list after
//     the BR one ("RUTH" then "RUTH ISABELLE"), or the BR first name
//     followed by the other first names ("RUTH" then "ISABELLE"). An
//     unqualified list that starts with the BR first name is taken as the
//     whole list; otherwise the BR and unqualified parts are joined in order;
//   - BirthDate: birthTime as YYYY-MM-DD when given to the day;
//   - Sex and Birthplace as parsed.
//
// Empty fields are traits the header does not give; ins.Traits.Validate
// says whether the set is complete.
func (p *Patient) Traits() ins.Traits {
	t := ins.Traits{
		BirthName:      p.part(func(n Name) []NamePart { return n.Family }, "BR"),
		FirstGivenName: p.part(func(n Name) []NamePart { return n.Given }, "BR"),
		Sex:            p.Sex,
		Birthplace:     p.Birthplace,
	}
	if p.BirthTime.Precision >= PrecisionDay {
		t.BirthDate = p.BirthTime.Time.Format("2006-01-02")
	}
	var birth, plain []string
	for _, n := range p.Names {
		for _, g := range n.Given {
			switch {
			case g.Value == "" || g.Is("CL"):
			case g.Is("BR"):
				birth = append(birth, g.Value)
			case g.Qualifier == "":
				birth = append(birth, g.Value)
				plain = append(plain, g.Value)
			}
		}
	}
	if len(plain) > 0 && t.FirstGivenName != "" && firstWordIs(plain[0], t.FirstGivenName) {
		t.BirthGivenNames = strings.Join(plain, " ")
	} else {
		t.BirthGivenNames = strings.Join(birth, " ")
	}
	return t
}

// part returns the first non-empty part qualified q among the parts
// parts picks from each name.
func (p *Patient) part(parts func(Name) []NamePart, q string) string {
	for _, n := range p.Names {
		for _, np := range parts(n) {
			if np.Is(q) && np.Value != "" {
				return np.Value
			}
		}
	}
	return ""
}

// firstWordIs reports whether the first word of list is w.
func firstWordIs(list, w string) bool {
	f := strings.Fields(list)
	return len(f) > 0 && f[0] == w
}
