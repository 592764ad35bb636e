// Package demo builds the synthetic population `carnet serve --demo`
// seeds: about fifty patients in families (parents, children, some of
// them minors represented by their parents) and single people, with
// qualified identities whose NIRs are valid but published only under the
// demonstration OID (1.2.250.1.213.1.4.11); and about thirty
// professionals of several professions, with valid RPPS numbers, working
// in a few structures.
//
// Everything is derived from fixed seeds and given fixed ids, so the
// population is the same at every start and seeding it again through PUTs
// changes nothing. Everyone in it is fictitious.
package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/directory/extract"
	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/ins"
)

// Person is someone of the population, as the start banner shows them.
type Person struct {
	Reference string // "Patient/demo-patient-01", "Practitioner/8…"
	Name      string // "Camille DURAND"
	// Identifier is the INS (patients) or the RPPS (professionals).
	Identifier string
	// Role is the profession of a professional, or what a patient is
	// ("mère de Léo DURAND, mineur").
	Role string
}

// Population is what the demo seeds.
type Population struct {
	// Bundle is a transaction Bundle that PUTs every resource at its id.
	Bundle map[string]any
	// Patients, Representatives, Professionals and Structures count the
	// Patients, the RelatedPersons of the minors' parents, the
	// Practitioners and the Organizations.
	Patients, Representatives, Professionals, Structures int
	// Patient and Professional are people to try the platform as: a
	// parent who is the legal representative of a minor, and a doctor.
	Patient, Professional Person
}

// statusDate is when the demo records that are objected to or closed
// changed state: fixed, so that seeding again writes the same content.
var statusDate = time.Date(2025, 1, 15, 9, 0, 0, 0, time.UTC)

// Build returns the population.
func Build() (*Population, error) {
	p := &Population{}
	var entries []any
	put := func(typ, id string, res map[string]any) {
		res["resourceType"], res["id"] = typ, id
		entries = append(entries, map[string]any{"resource": res, "request": map[string]any{"method": "PUT", "url": typ + "/" + id}})
	}
	pats, err := patients()
	if err != nil {
		return nil, err
	}
	for _, pt := range pats {
		put("Patient", pt.id, pt.resource)
		p.Patients++
		for _, rep := range pt.representatives {
			put("RelatedPerson", rep.id, rep.resource)
			p.Representatives++
		}
	}
	for _, pt := range pats {
		if len(pt.representatives) > 0 {
			p.Patient = pt.representatives[0].person
			break
		}
	}
	pros, err := professionals()
	if err != nil {
		return nil, err
	}
	for _, r := range pros.resources {
		entries = append(entries, map[string]any{"resource": json.RawMessage(r.JSON), "request": map[string]any{"method": "PUT", "url": r.Type + "/" + r.ID}})
	}
	p.Professionals, p.Structures, p.Professional = pros.practitioners, pros.organizations, pros.example
	p.Bundle = map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
	return p, nil
}

// patient is a generated Patient with the RelatedPersons of its legal
// representatives.
type patient struct {
	id              string
	sex             ins.Sex
	resource        map[string]any
	person          Person
	representatives []representative
}

type representative struct {
	id       string
	resource map[string]any
	person   Person
}

// Reference data: French names and INSEE birthplaces (communes, and
// countries as 99 + country code).
var (
	familyNames = []string{"DURAND", "MARTIN", "LEFÈVRE", "MOREAU", "GIRARD", "ROUSSEL", "FONTAINE", "CHEVALIER",
		"LE GALL", "N'DIAYE", "GARNIER", "FAURE", "BONNET", "MERCIER", "BLANCHARD", "ROCHE", "PERRIN", "MASSON",
		"HUMBERT", "ARNAUD", "COLIN", "VIDAL", "CARON", "BRUN"}
	femaleNames = []string{"Camille", "Léa", "Chloé", "Inès", "Manon", "Zoé", "Hélène", "Françoise", "Élodie",
		"Agnès", "Maëlys", "Noémie", "Sophie", "Anaïs", "Louise", "Jeanne"}
	maleNames = []string{"Lucas", "Hugo", "Théo", "Raphaël", "Noé", "Jérôme", "François", "Benoît", "Loïc",
		"Gaël", "Étienne", "Mathis", "Paul", "Jules", "Antoine", "Hervé"}
	birthplaces = []struct{ code, city string }{
		{"75115", "Paris"}, {"13205", "Marseille"}, {"69383", "Lyon"}, {"31555", "Toulouse"},
		{"44109", "Nantes"}, {"35238", "Rennes"}, {"2A004", "Ajaccio"}, {"97411", "Saint-Denis"},
		{"29019", "Brest"}, {"67482", "Strasbourg"}, {"99350", "Maroc"}, {"99134", "Espagne"}, {"99109", "Allemagne"},
	}
	homes = []struct{ postal, city string }{
		{"75011", "PARIS"}, {"69003", "LYON"}, {"33000", "BORDEAUX"}, {"59000", "LILLE"}, {"35000", "RENNES"}, {"06000", "NICE"},
	}
	streets = []string{"rue de la République", "avenue Victor Hugo", "rue Jean Jaurès", "boulevard Pasteur", "place du Marché", "allée des Lilas"}
)

// generator draws people with distinct NIRs and distinct traits (so that
// no two demo patients are flagged as possible duplicates).
type generator struct {
	r      *rand.Rand
	nirs   map[string]bool
	traits map[string]bool
	next   int
}

// person draws a qualified identity born between the two years.
func (g *generator) person(sex ins.Sex, family string, from, to int) (ins.Identity, error) {
	for {
		year := from + g.r.IntN(to-from+1)
		month := 1 + g.r.IntN(12)
		day := 1 + g.r.IntN(28)
		place := birthplaces[g.r.IntN(len(birthplaces))]
		names := femaleNames
		if sex == ins.SexMale {
			names = maleNames
		}
		first := names[g.r.IntN(len(names))]
		second := names[g.r.IntN(len(names))]
		nir, err := ins.GenerateNIR(g.r, sex, year, month, place.code)
		if err != nil {
			return ins.Identity{}, err
		}
		t := ins.Traits{BirthName: family, BirthGivenNames: first + " " + second, FirstGivenName: first,
			BirthDate: fmt.Sprintf("%04d-%02d-%02d", year, month, day), Sex: sex, Birthplace: place.code}
		key := ins.DuplicateKey(t)
		if g.nirs[nir.String()] || g.traits[key] || first == second {
			continue
		}
		g.nirs[nir.String()], g.traits[key] = true, true
		v, err := ins.ValidateINS(ins.SystemNIRDemo, nir.String())
		if err != nil {
			return ins.Identity{}, err
		}
		return ins.Identity{Traits: t, INS: []ins.PatientINS{{INS: v}}, Status: ins.StatusQualified}, nil
	}
}

// patientResource builds the FR Core Patient of an identity, with a home
// address, and its banner entry.
func (g *generator) patientResource(id ins.Identity, usedName string) (patient, error) {
	g.next++
	pid := fmt.Sprintf("demo-patient-%02d", g.next)
	res, err := id.PatientFields()
	if err != nil {
		return patient{}, err
	}
	t := id.Traits
	if usedName != "" && usedName != t.BirthName {
		names := res["name"].([]any)
		res["name"] = append(names, map[string]any{"use": "usual", "family": usedName, "given": []any{t.FirstGivenName}})
	}
	home := homes[g.r.IntN(len(homes))]
	res["address"] = []any{map[string]any{"use": "home",
		"line":       []any{fmt.Sprintf("%d %s", 1+g.r.IntN(120), streets[g.r.IntN(len(streets))])},
		"postalCode": home.postal, "city": home.city, "country": "FRA"}}
	return patient{id: pid, sex: t.Sex, resource: res, person: Person{
		Reference:  "Patient/" + pid,
		Name:       t.FirstGivenName + " " + t.BirthName,
		Identifier: ins.SystemNIRDemo + "|" + id.INS[0].NIR.String(),
	}}, nil
}

// patients builds ten families (two parents and one or two children
// born 2004–2022, those born from 2010 on minors with their parents as
// legal representatives) and fifteen single people born
// 1935–1990; one single person objected to the record, another closed it.
func patients() ([]patient, error) {
	g := &generator{r: rand.New(rand.NewPCG(2025, 0x64656d6f)), nirs: map[string]bool{}, traits: map[string]bool{}} // "demo"
	var out []patient
	for _, family := range familyNames[:10] {
		mother, err := g.person(ins.SexFemale, familyNames[10+g.r.IntN(len(familyNames)-10)], 1972, 1990)
		if err != nil {
			return nil, err
		}
		father, err := g.person(ins.SexMale, family, 1970, 1988)
		if err != nil {
			return nil, err
		}
		m, err := g.patientResource(mother, family)
		if err != nil {
			return nil, err
		}
		f, err := g.patientResource(father, "")
		if err != nil {
			return nil, err
		}
		m.person.Role, f.person.Role = "mère", "père"
		out = append(out, m, f)
		for range 1 + g.r.IntN(2) {
			sex := ins.SexFemale
			if g.r.IntN(2) == 0 {
				sex = ins.SexMale
			}
			child, err := g.person(sex, family, 2004, 2022)
			if err != nil {
				return nil, err
			}
			c, err := g.patientResource(child, "")
			if err != nil {
				return nil, err
			}
			if child.Traits.BirthDate >= "2010" { // minors (in 2026, and for a few years)
				for _, parent := range []patient{m, f} {
					c.representatives = append(c.representatives, legalRepresentative(c, parent))
				}
			}
			out = append(out, c)
		}
	}
	for i := range 15 {
		sex := ins.SexFemale
		if i%2 == 1 {
			sex = ins.SexMale
		}
		id, err := g.person(sex, familyNames[g.r.IntN(len(familyNames))], 1935, 1990)
		if err != nil {
			return nil, err
		}
		p, err := g.patientResource(id, "")
		if err != nil {
			return nil, err
		}
		switch i {
		case 3:
			err = identity.SetRecordStatus(p.resource, identity.RecordObjected, "", statusDate)
		case 4:
			err = identity.SetRecordStatus(p.resource, identity.RecordClosed, "demande du titulaire", statusDate)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// legalRepresentative is the RelatedPerson making parent the legal
// representative (CUR) of the minor child, carrying the parent's INS so
// that their own Patient is found by it.
func legalRepresentative(child, parent patient) representative {
	kin := "MTH"
	if parent.person.Role == "père" {
		kin = "FTH"
	}
	name, _ := parent.resource["name"].([]any)
	system, value, _ := strings.Cut(parent.person.Identifier, "|")
	id := fmt.Sprintf("demo-rp-%s-%s", strings.TrimPrefix(child.id, "demo-patient-"), strings.TrimPrefix(parent.id, "demo-patient-"))
	return representative{
		id: id,
		resource: map[string]any{
			"active":  true,
			"patient": map[string]any{"reference": "Patient/" + child.id},
			"relationship": []any{
				map[string]any{"coding": []any{map[string]any{"system": identity.SystemContactRelationship, "code": "CUR", "display": "Représentant légal"}}},
				map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": kin}}},
			},
			"identifier": []any{map[string]any{"system": system, "value": value}},
			"name":       name[:1],
		},
		person: Person{Reference: parent.person.Reference, Name: parent.person.Name, Identifier: parent.person.Identifier,
			Role: parent.person.Role + " et " + feminine(parent.sex, "représentant légal", "représentante légale") + " de " +
				child.person.Name + ", " + feminine(child.sex, "mineur", "mineure")},
	}
}

// pros are the professionals of the demo, read from a generated extract.
type pros struct {
	resources                    []extract.Resource
	practitioners, organizations int
	example                      Person
}

// professionals generates a small directory extract (professions 10, 21,
// 40, 50 and 60, in five structures) and reads it as the import does.
func professionals() (*pros, error) {
	var buf bytes.Buffer
	if _, err := extract.Generate(&buf, 40, 2025, extract.GenerateOptions{Structures: 5}); err != nil {
		return nil, err
	}
	rd, err := extract.NewReader(&buf, directory.Validator{})
	if err != nil {
		return nil, err
	}
	out := &pros{}
	for {
		g, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out.organizations += len(g.Organizations)
		out.practitioners++
		out.resources = append(append(append(out.resources, g.Organizations...), g.Practitioner), g.Roles...)
		if out.example.Reference == "" && strings.HasPrefix(g.Practitioner.ID, "8") && bytes.Contains(g.Roles[0].JSON, []byte(`"code":"10"`)) {
			out.example = Person{
				Reference:  "Practitioner/" + g.Practitioner.ID,
				Name:       practitionerName(g.Practitioner.JSON),
				Identifier: directory.SystemRPPS + "|" + strings.TrimPrefix(g.Practitioner.ID, "8"),
				Role:       "médecin",
			}
		}
	}
}

// practitionerName is "Dr Hélène MARTIN" for a Practitioner of the
// extract (suffix DR: Docteur).
func practitionerName(content []byte) string {
	var p struct {
		Name []struct {
			Family string
			Given  []string
			Suffix []string
		}
	}
	if json.Unmarshal(content, &p) != nil || len(p.Name) == 0 {
		return ""
	}
	n := p.Name[0]
	parts := append([]string{}, n.Given...)
	if len(n.Suffix) > 0 && n.Suffix[0] == "DR" {
		parts = append([]string{"Dr"}, parts...)
	}
	return strings.Join(append(parts, n.Family), " ")
}

// feminine returns the masculine or the feminine form of a word.
func feminine(sex ins.Sex, masculine, feminine string) string {
	if sex == ins.SexFemale {
		return feminine
	}
	return masculine
}
