package bench

import (
	"fmt"
	"math/rand/v2"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/ins"
)

// Patient is a synthetic patient: a qualified identity whose INS is a
// valid NIR under the demonstration OID, so that nobody can take it for a
// real person's.
type Patient struct {
	// ID is the logical id of the Patient resource, once stored.
	ID     string
	NIR    ins.NIR
	Traits ins.Traits
}

// Professional is a synthetic health professional with a valid RPPS
// number.
type Professional struct {
	ID          string
	RPPS        string
	Family      string
	Given       string
	Specialty   string // author specialty (J01), e.g. "G15_10/SM54"
	Structure   string // IdNatStruct of the structure they work in
	Institution string // its name
}

// IdNatPS is the professional's national identifier: "8" + RPPS.
func (p *Professional) IdNatPS() string { return "8" + p.RPPS }

// Population is what the benchmark deposits documents for.
type Population struct {
	Patients      []Patient
	Professionals []Professional
}

var (
	families = []string{"MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS",
		"MOREAU", "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
		"FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER"}
	givenFemale = []string{"MARIE", "JEANNE", "CAMILLE", "LEA", "MANON", "CHLOE", "INES", "SARAH", "JULIE", "ANNE"}
	givenMale   = []string{"JEAN", "PIERRE", "LUCAS", "HUGO", "LOUIS", "NATHAN", "PAUL", "ARTHUR", "JULES", "MARC"}
	// birthplaces are INSEE codes: communes of several départements
	// (Corsica included) and, with the 99 prefix, countries of birth.
	birthplaces = []string{"75116", "69123", "13055", "31555", "33063", "59350", "67482", "51454",
		"2A004", "2B033", "97411", "99134", "99350"}
	specialties = []string{"G15_10/SM54", "G15_10/SM26", "G15_10/SM04", "G15_10/SM44", "G15_10/SM15"}
)

// NewPopulation generates patients and professionals from seed: the same
// seed gives the same population. Every NIR is distinct, as the one
// INS ↔ one patient rule requires.
func NewPopulation(seed uint64, patients, professionals int) (*Population, error) {
	r := rand.New(rand.NewPCG(seed, 0x636172))
	pop := &Population{
		Patients:      make([]Patient, 0, patients),
		Professionals: make([]Professional, 0, professionals),
	}
	seen := make(map[string]bool, patients)
	for len(pop.Patients) < patients {
		p, err := newPatient(r)
		if err != nil {
			return nil, err
		}
		if seen[p.NIR.String()] {
			continue
		}
		seen[p.NIR.String()] = true
		pop.Patients = append(pop.Patients, p)
	}
	seenRPPS := make(map[string]bool, professionals)
	for len(pop.Professionals) < professionals {
		rpps := directory.GenerateRPPS(r)
		if seenRPPS[rpps] {
			continue
		}
		seenRPPS[rpps] = true
		pop.Professionals = append(pop.Professionals, Professional{
			RPPS:        rpps,
			Family:      families[r.IntN(len(families))],
			Given:       pickGiven(r, r.IntN(2) == 0),
			Specialty:   specialties[r.IntN(len(specialties))],
			Structure:   "3" + directory.GenerateSIRET(r),
			Institution: fmt.Sprintf("Cabinet médical %s", families[r.IntN(len(families))]),
		})
	}
	return pop, nil
}

func newPatient(r *rand.Rand) (Patient, error) {
	female := r.IntN(2) == 0
	sex := ins.SexMale
	if female {
		sex = ins.SexFemale
	}
	year := 1930 + r.IntN(94)
	month := 1 + r.IntN(12)
	day := 1 + r.IntN(28)
	place := birthplaces[r.IntN(len(birthplaces))]
	nir, err := ins.GenerateNIR(r, sex, year, month, place)
	if err != nil {
		return Patient{}, fmt.Errorf("bench: generate a patient: %w", err)
	}
	first := pickGiven(r, female)
	return Patient{
		NIR: nir,
		Traits: ins.Traits{
			BirthName:       families[r.IntN(len(families))],
			BirthGivenNames: first + " " + pickGiven(r, female),
			FirstGivenName:  first,
			BirthDate:       fmt.Sprintf("%04d-%02d-%02d", year, month, day),
			Sex:             sex,
			Birthplace:      place,
		},
	}, nil
}

func pickGiven(r *rand.Rand, female bool) string {
	if female {
		return givenFemale[r.IntN(len(givenFemale))]
	}
	return givenMale[r.IntN(len(givenMale))]
}

// Resource returns the FR Core Patient of p, carrying its INS under the
// demonstration OID.
func (p *Patient) Resource() (map[string]any, error) {
	id := ins.Identity{
		Traits: p.Traits,
		INS:    []ins.PatientINS{{INS: ins.INS{Kind: ins.KindNIRDemo, NIR: p.NIR}}},
		Status: ins.StatusQualified,
	}
	res, err := id.PatientFields()
	if err != nil {
		return nil, fmt.Errorf("bench: patient resource: %w", err)
	}
	if p.ID != "" {
		res["id"] = p.ID
	}
	return res, nil
}

// Resource returns the Practitioner of p, identified by RPPS and IdNatPS.
func (p *Professional) Resource() map[string]any {
	res := map[string]any{
		"resourceType": "Practitioner",
		"identifier": []any{
			map[string]any{"system": directory.SystemRPPS, "value": p.RPPS},
			map[string]any{
				"type":   map[string]any{"coding": []any{map[string]any{"system": ins.CodeSystemIdentifierType, "code": "IDNPS"}}},
				"system": directory.SystemIdNatPS, "value": p.IdNatPS(),
			},
		},
		"name": []any{map[string]any{"use": "usual", "family": p.Family, "given": []any{p.Given}, "prefix": []any{"DR"}}},
	}
	if p.ID != "" {
		res["id"] = p.ID
	}
	return res
}
