package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/terminology"
)

// Code systems of the profession and the ordinal specialty of a
// PractitionerRole, as FR Core and the ANS directory write them.
const (
	SystemProfession = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
	SystemSpecialty  = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
)

// directoryRule checks the writes of Practitioner, PractitionerRole and
// Organization: every identifier under a national system (IdNatPS, RPPS,
// ADELI, IdNatStruct, FINESS, SIREN/SIRET, RPPS and ADELI rang), on the
// resource and in the logical references it holds, is validated (400
// naming it otherwise); identifiers under other systems are left alone.
// The profession and specialty codes of a PractitionerRole not found in
// the national tables are accepted with a warning: the tables available
// are incomplete (docs/IDENTITY.md).
type directoryRule struct {
	v     directory.Validator
	codes *professionCodes // nil: codes not checked
}

func (d *directoryRule) BeforeWrite(_ context.Context, _ store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
	res := w.Resource
	if err := d.identifiers(res, w.Type); err != nil {
		return nil, err
	}
	var refs []string
	switch w.Type {
	case "Organization":
		refs = []string{"partOf"}
	case "PractitionerRole":
		refs = []string{"practitioner", "organization"}
	}
	for _, k := range refs {
		if ref, ok := res[k].(map[string]any); ok {
			if ident, ok := ref["identifier"].(map[string]any); ok {
				if err := d.identifier(ident, w.Type+"."+k+".identifier"); err != nil {
					return nil, err
				}
			}
		}
	}
	if w.Type == "PractitionerRole" && d.codes != nil {
		return d.codes.check(res), nil
	}
	return nil, nil
}

func (d *directoryRule) identifiers(res map[string]any, typ string) error {
	for _, ident := range objects(res, "identifier") {
		if err := d.identifier(ident.m, fmt.Sprintf("%s.identifier[%d]", typ, ident.i)); err != nil {
			return err
		}
	}
	return nil
}

func (d *directoryRule) identifier(ident map[string]any, path string) error {
	err := d.v.Identifier(str(ident, "system"), str(ident, "value"))
	if err == nil || errors.Is(err, directory.ErrSystem) {
		return nil
	}
	return invalid(path, "%s", strings.TrimPrefix(err.Error(), "directory: "))
}

// professionCodes are the professions of the national table TRE_G15 and
// their ordinal specialties (TRE_R38), as the value set J01
// (XdsAuthorSpecialty) lists them: "G15_10" is profession 10 (médecin),
// "G15_10/SM54" its specialty SM54 (médecine générale).
type professionCodes struct {
	professions map[string]bool // "10"
	specialties map[string]bool // "10/SM54"
}

// j01System is the OID of the code system of J01's G15_ codes.
const j01System = "1.2.250.1.213.1.1.4.5"

// newProfessionCodes reads the professions and specialties of J01 in c;
// nil when c is nil or lacks J01.
func newProfessionCodes(c *terminology.Catalog) *professionCodes {
	if c == nil {
		return nil
	}
	vs, ok := c.ValueSet("J01")
	if !ok {
		return nil
	}
	pc := &professionCodes{professions: map[string]bool{}, specialties: map[string]bool{}}
	for _, concept := range vs.Concepts {
		code, ok := strings.CutPrefix(concept.Code, "G15_")
		if concept.CodeSystem != j01System || !ok {
			continue
		}
		if prof, _, specialty := strings.Cut(code, "/"); specialty {
			pc.specialties[code] = true
			pc.professions[prof] = true
		} else {
			pc.professions[code] = true
		}
	}
	return pc
}

// check returns a warning for each profession (PractitionerRole.code) and
// ordinal specialty (PractitionerRole.specialty) code of the tables it
// does not know; a specialty is looked up under the role's professions
// (any profession when the role names none).
func (pc *professionCodes) check(res map[string]any) []rest.Issue {
	var issues []rest.Issue
	var profs []string
	for _, cc := range objects(res, "code") {
		for _, c := range codings(cc.m) {
			if str(c.m, "system") != SystemProfession {
				continue
			}
			code := str(c.m, "code")
			if !pc.professions[code] {
				issues = append(issues, warning("code-invalid", fmt.Sprintf("PractitionerRole.code[%d].coding[%d]", cc.i, c.i),
					"profession code %q is not in the national table of health professions (TRE_G15, as value set J01 lists it)", code))
				continue
			}
			profs = append(profs, code)
		}
	}
	for _, cc := range objects(res, "specialty") {
		for _, c := range codings(cc.m) {
			if str(c.m, "system") != SystemSpecialty {
				continue
			}
			code := str(c.m, "code")
			if !pc.knownSpecialty(profs, code) {
				issues = append(issues, warning("code-invalid", fmt.Sprintf("PractitionerRole.specialty[%d].coding[%d]", cc.i, c.i),
					"specialty code %q is not an ordinal specialty of the role's profession (TRE_R38, as value set J01 lists it)", code))
			}
		}
	}
	return issues
}

func (pc *professionCodes) knownSpecialty(profs []string, code string) bool {
	if len(profs) == 0 {
		for k := range pc.specialties {
			if strings.HasSuffix(k, "/"+code) {
				return true
			}
		}
		return false
	}
	for _, p := range profs {
		if pc.specialties[p+"/"+code] {
			return true
		}
	}
	return false
}
