package extract

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/carnet-sante/carnet/internal/directory"
)

// GenerateOptions shapes a generated extract.
type GenerateOptions struct {
	// InvalidFraction is the share of rows written invalid, from 0 to 1:
	// a bad RPPS or ADELI check digit, an empty name, a truncated line, an
	// unknown identifier type or an empty identifier, drawn at random.
	InvalidFraction float64
	// Structures is the number of structures the activities take place
	// in (at least 5); 0 means 300.
	Structures int
	// Latin1 writes the file in ISO-8859-1, as older extracts were;
	// otherwise it is UTF-8.
	Latin1 bool
}

// GenerateReport counts what a generated extract holds, as a Reader with
// the zero directory.Validator finds it.
type GenerateReport struct {
	Valid, Invalid int // data rows; Valid + Invalid is the rows asked for
	Practitioners  int // professionals with at least one valid row
	Roles          int // distinct activities on valid rows
	Organizations  int // distinct structures on valid rows
}

// Generate writes a synthetic extract of rows data rows after the header,
// in the current layout (52 columns, "|"-terminated lines): professionals
// of professions 10, 21, 40, 50 and 60 (about 8 % with an ADELI number,
// the others RPPS), one to four activities each, written consecutively,
// in hospitals (FINESS), health centres, pharmacies and cabinets (SIRET or
// technical identifier), with French accented names and addresses; 2 % of
// the professionals have no structure. The same seed writes the same
// file. Numbers carry valid check digits but are synthetic: they can
// collide with real ones and must never be shown as real people or
// places.
//
// The generator keeps only its structures in memory, so it can feed a
// Reader through an io.Pipe for any number of rows.
func Generate(w io.Writer, rows int, seed int64, opts GenerateOptions) (GenerateReport, error) {
	g := &generator{
		r:     rand.New(rand.NewPCG(uint64(seed), 0x63_61_72_6e_65_74)), // "carnet"
		opts:  opts,
		w:     bufio.NewWriterSize(w, 64<<10),
		field: make([]string, len(generatedHeader)),
	}
	g.structures()
	if err := g.writeLine(strings.Join(generatedHeader, "|") + "|"); err != nil {
		return GenerateReport{}, err
	}
	for written := 0; written < rows; {
		p := g.professional()
		n := min(p.activities, rows-written)
		valid := 0
		for _, s := range g.pickStructures(p, n) {
			if g.r.Float64() < opts.InvalidFraction {
				if err := g.writeInvalid(p, s); err != nil {
					return g.report, err
				}
				g.report.Invalid++
			} else {
				if err := g.writeLine(g.row(p, s)); err != nil {
					return g.report, err
				}
				g.report.Valid++
				g.report.Roles++
				valid++
				if s >= 0 && !g.used[s] {
					g.used[s] = true
					g.report.Organizations++
				}
			}
			written++
		}
		if valid > 0 {
			g.report.Practitioners++
		}
	}
	return g.report, g.w.Flush()
}

// generatedHeader is the 52-column layout the extract has long been
// published in. Newer extracts add columns (function, activity genre)
// and may move the savoir-faire to a separate file; a Reader finds its
// columns by name in either.
var generatedHeader = []string{
	"Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
	"Code civilité d'exercice", "Libellé civilité d'exercice", "Code civilité", "Libellé civilité",
	"Nom d'exercice", "Prénom d'exercice", "Code profession", "Libellé profession",
	"Code catégorie professionnelle", "Libellé catégorie professionnelle",
	"Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
	"Code mode exercice", "Libellé mode exercice",
	"Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site", "Numéro FINESS établissement juridique",
	"Identifiant technique de la structure", "Raison sociale site", "Enseigne commerciale site",
	"Complément destinataire (coord. structure)", "Complément point géographique (coord. structure)",
	"Numéro Voie (coord. structure)", "Indice répétition voie (coord. structure)",
	"Code type de voie (coord. structure)", "Libellé type de voie (coord. structure)",
	"Libellé Voie (coord. structure)", "Mention distribution (coord. structure)",
	"Bureau cedex (coord. structure)", "Code postal (coord. structure)",
	"Code commune (coord. structure)", "Libellé commune (coord. structure)",
	"Code pays (coord. structure)", "Libellé pays (coord. structure)",
	"Téléphone (coord. structure)", "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
	"Adresse e-mail (coord. structure)", "Code Département (structure)", "Libellé Département (structure)",
	"Ancien identifiant de la structure", "Autorité d'enregistrement",
	"Code secteur d'activité", "Libellé secteur d'activité",
	"Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
}

// Positions of the generated fields in generatedHeader.
var (
	gIDType        = headerIndex("Type d'identifiant PP")
	gID            = headerIndex("Identifiant PP")
	gIdNatPS       = headerIndex("Identification nationale PP")
	gTitle         = headerIndex("Code civilité d'exercice")
	gTitleLabel    = headerIndex("Libellé civilité d'exercice")
	gCivility      = headerIndex("Code civilité")
	gCivilityLabel = headerIndex("Libellé civilité")
	gFamily        = headerIndex("Nom d'exercice")
	gGiven         = headerIndex("Prénom d'exercice")
	gProfession    = headerIndex("Code profession")
	gProfLabel     = headerIndex("Libellé profession")
	gCategory      = headerIndex("Code catégorie professionnelle")
	gCategoryLabel = headerIndex("Libellé catégorie professionnelle")
	gSkillType     = headerIndex("Code type savoir-faire")
	gSkillTypeLbl  = headerIndex("Libellé type savoir-faire")
	gSkill         = headerIndex("Code savoir-faire")
	gSkillLabel    = headerIndex("Libellé savoir-faire")
	gMode          = headerIndex("Code mode exercice")
	gModeLabel     = headerIndex("Libellé mode exercice")
	gSIRET         = headerIndex("Numéro SIRET site")
	gSIREN         = headerIndex("Numéro SIREN site")
	gFINESS        = headerIndex("Numéro FINESS site")
	gFINESSLegal   = headerIndex("Numéro FINESS établissement juridique")
	gTechID        = headerIndex("Identifiant technique de la structure")
	gName          = headerIndex("Raison sociale site")
	gBrand         = headerIndex("Enseigne commerciale site")
	gNumber        = headerIndex("Numéro Voie (coord. structure)")
	gIndex         = headerIndex("Indice répétition voie (coord. structure)")
	gStreetType    = headerIndex("Code type de voie (coord. structure)")
	gStreetTypeLbl = headerIndex("Libellé type de voie (coord. structure)")
	gStreet        = headerIndex("Libellé Voie (coord. structure)")
	gCedex         = headerIndex("Bureau cedex (coord. structure)")
	gPostalCode    = headerIndex("Code postal (coord. structure)")
	gCommuneCode   = headerIndex("Code commune (coord. structure)")
	gCommune       = headerIndex("Libellé commune (coord. structure)")
	gPhone         = headerIndex("Téléphone (coord. structure)")
	gFax           = headerIndex("Télécopie (coord. structure)")
	gEmail         = headerIndex("Adresse e-mail (coord. structure)")
	gDept          = headerIndex("Code Département (structure)")
	gDeptLabel     = headerIndex("Libellé Département (structure)")
	gSector        = headerIndex("Code secteur d'activité")
	gSectorLabel   = headerIndex("Libellé secteur d'activité")
)

func headerIndex(name string) int {
	for i, h := range generatedHeader {
		if h == name {
			return i
		}
	}
	panic("extract: generatedHeader has no column " + name)
}

// Reference data of the generator. Labels are those of the national
// tables (TRE_G15 professions, TRE_R38 spécialités ordinales…), codes
// INSEE and postal codes are real communes.
var (
	genProfessions = []struct {
		code, label string
		weight      int
		title       bool // DR in front of the name
		skills      []genSkill
		places      []genPlace
	}{
		{"10", "Médecin", 35, true,
			[]genSkill{{"SM54", "Médecine Générale", 50}, {"SM53", "Spécialiste en Médecine Générale", 15},
				{"SM04", "Cardiologie et maladies vasculaires", 8}, {"SM02", "Anesthésie-réanimation", 8},
				{"SM40", "Pédiatrie", 7}, {"SM42", "Psychiatrie", 7}, {"SM38", "Ophtalmologie", 5}},
			[]genPlace{{cabinet, "L", 55}, {hospital, "S", 35}, {centre, "S", 10}}},
		{"21", "Pharmacien", 12, true, nil,
			[]genPlace{{pharmacy, "L", 35}, {pharmacy, "S", 50}, {hospital, "S", 15}}},
		{"40", "Chirurgien-Dentiste", 10, true,
			[]genSkill{{"", "", 85}, {"SCD01", "Orthopédie dento-faciale", 10}, {"SCD02", "Chirurgie orale", 5}},
			[]genPlace{{cabinet, "L", 85}, {centre, "S", 15}}},
		{"50", "Sage-Femme", 8, false, nil,
			[]genPlace{{hospital, "S", 65}, {cabinet, "L", 35}}},
		{"60", "Infirmier", 35, false, nil,
			[]genPlace{{cabinet, "L", 50}, {hospital, "S", 45}, {centre, "S", 5}}},
	}
	genModes         = map[string]string{"L": "Libéral", "S": "Salarié"}
	genFamilyNames   = []string{"MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "PETIT", "DURAND", "LEFÈVRE", "MOREAU", "GARCIA", "FAURE", "ROUSSEAU", "BLANC", "GUÉRIN", "MÜLLER", "BOUCHER", "FRANÇOIS", "MERCIER", "GRÉGOIRE", "NOËL", "CHEVALIER", "BÉRANGER", "LEMAÎTRE", "DUPRÉ", "HÉBERT", "CLÉMENT", "GAUTIER", "PERRIN", "MOREL", "N'DIAYE"}
	genFemaleNames   = []string{"Hélène", "Cécile", "Agnès", "Zoé", "Gaëlle", "Mélanie", "Chloé", "Léa", "Brigitte", "Françoise", "Anaïs", "Noémie", "Sophie", "Claire", "Inès"}
	genMaleNames     = []string{"François", "Jérôme", "Loïc", "Gaël", "Noël", "Hervé", "Benoît", "Raphaël", "Thierry", "Stéphane", "Rémi", "Joël", "Pierre", "Luc", "Jean-Marc"}
	genStreets       = []string{"DE LA RÉPUBLIQUE", "VICTOR HUGO", "JEAN JAURÈS", "DU GÉNÉRAL LECLERC", "PASTEUR", "DES LILAS", "DE L'ÉGLISE", "GAMBETTA", "DU MARCHÉ", "SAINT-EXUPÉRY", "DES ÉCOLES", "FOCH"}
	genStreetTypes   = [][2]string{{"R", "Rue"}, {"AV", "Avenue"}, {"BD", "Boulevard"}, {"PL", "Place"}, {"CHE", "Chemin"}, {"ALL", "Allée"}, {"RTE", "Route"}}
	genPharmacyNames = []string{"PHARMACIE DU MARCHÉ", "PHARMACIE DE LA GARE", "PHARMACIE CENTRALE", "PHARMACIE DES ÉCOLES", "GRANDE PHARMACIE", "PHARMACIE DU PORT"}
	genCommunes      = []struct{ postal, insee, city, dept, deptLabel string }{
		{"75015", "75115", "PARIS", "75", "Paris"},
		{"13005", "13205", "MARSEILLE", "13", "Bouches-du-Rhône"},
		{"69003", "69383", "LYON", "69", "Rhône"},
		{"31000", "31555", "TOULOUSE", "31", "Haute-Garonne"},
		{"06000", "06088", "NICE", "06", "Alpes-Maritimes"},
		{"44000", "44109", "NANTES", "44", "Loire-Atlantique"},
		{"67000", "67482", "STRASBOURG", "67", "Bas-Rhin"},
		{"34000", "34172", "MONTPELLIER", "34", "Hérault"},
		{"33000", "33063", "BORDEAUX", "33", "Gironde"},
		{"59000", "59350", "LILLE", "59", "Nord"},
		{"35000", "35238", "RENNES", "35", "Ille-et-Vilaine"},
		{"25000", "25056", "BESANÇON", "25", "Doubs"},
		{"20000", "2A004", "AJACCIO", "2A", "Corse-du-Sud"},
		{"97400", "97411", "SAINT-DENIS", "974", "La Réunion"},
		{"29200", "29019", "BREST", "29", "Finistère"},
		{"63000", "63113", "CLERMONT-FERRAND", "63", "Puy-de-Dôme"},
	}
)

type genSkill struct {
	code, label string
	weight      int
}

// genKind is the kind of a generated structure.
type genKind int

const (
	hospital genKind = iota // FINESS site and legal entity, SIRET
	centre                  // health centre: SIRET
	pharmacy                // SIRET
	cabinet                 // SIRET (group) or technical identifier only (individual)
	numKinds
)

type genPlace struct {
	kind   genKind
	mode   string
	weight int
}

// genProfessional is one generated professional.
type genProfessional struct {
	idType, id      string
	title           bool
	female          bool
	family, given   string
	prof            int // index in genProfessions
	category, catLb string
	skill           genSkill
	activities      int
	noStructure     bool
}

// genStructure holds the fields of one generated structure, by position
// in generatedHeader.
type genStructure struct {
	kind   genKind
	fields map[int]string
}

type generator struct {
	r      *rand.Rand
	opts   GenerateOptions
	w      *bufio.Writer
	field  []string
	enc    []byte
	report GenerateReport

	pool   []genStructure
	byKind [numKinds][]int
	used   []bool // structure written on a valid row
	nextPS int    // sequence of professional numbers
}

// structures builds the pool of structures, every identifier distinct.
func (g *generator) structures() {
	n := g.opts.Structures
	if n == 0 {
		n = 300
	}
	n = max(n, 5)
	taken := make(map[string]bool)
	unique := func(gen func(*rand.Rand) string) string {
		for {
			if v := gen(g.r); !taken[v] {
				taken[v] = true
				return v
			}
		}
	}
	kinds := []genKind{hospital, centre, pharmacy, cabinet, cabinet}
	for i := range n {
		kind := kinds[i%len(kinds)]
		if i >= len(kinds) {
			kind = []genKind{hospital, centre, pharmacy, cabinet}[weighted(g.r, 10, 10, 15, 65)]
		}
		c := genCommunes[g.r.IntN(len(genCommunes))]
		st := genStreetTypes[g.r.IntN(len(genStreetTypes))]
		street := genStreets[g.r.IntN(len(genStreets))]
		f := map[int]string{
			gNumber: fmt.Sprint(1 + g.r.IntN(180)), gStreetType: st[0], gStreetTypeLbl: st[1], gStreet: street,
			gPostalCode: c.postal, gCommuneCode: c.insee, gCommune: c.city, gDept: c.dept, gDeptLabel: c.deptLabel,
			gPhone: fmt.Sprintf("0%d%08d", 1+g.r.IntN(5), g.r.IntN(1e8)),
		}
		if g.r.IntN(20) == 0 {
			f[gIndex] = "B"
		}
		switch kind {
		case hospital:
			f[gFINESS] = unique(directory.GenerateFINESS)
			f[gFINESSLegal] = unique(directory.GenerateFINESS)
			f[gSIRET] = unique(directory.GenerateSIRET)
			f[gTechID] = fmt.Sprintf("R1010%010d", i)
			f[gName] = "CENTRE HOSPITALIER DE " + c.city
			f[gSector], f[gSectorLabel] = "SA01", "Etablissement public de santé"
			f[gFax] = fmt.Sprintf("0%d%08d", 1+g.r.IntN(5), g.r.IntN(1e8))
		case centre:
			f[gSIRET] = unique(directory.GenerateSIRET)
			f[gTechID] = "C" + f[gSIRET]
			f[gName] = "CENTRE DE SANTÉ " + street
			f[gSector], f[gSectorLabel] = "SA05", "Centre de santé"
		case pharmacy:
			f[gSIRET] = unique(directory.GenerateSIRET)
			f[gSIREN] = f[gSIRET][:9]
			f[gTechID] = "C" + f[gSIRET]
			f[gName] = "SELARL " + genFamilyNames[g.r.IntN(len(genFamilyNames))]
			f[gBrand] = genPharmacyNames[g.r.IntN(len(genPharmacyNames))]
			f[gEmail] = fmt.Sprintf("contact@pharmacie-%d.fr", i)
		case cabinet:
			if g.r.IntN(2) == 0 {
				f[gSIRET] = unique(directory.GenerateSIRET)
				f[gTechID] = "C" + f[gSIRET]
				f[gName] = "CABINET MÉDICAL " + street
				f[gSector], f[gSectorLabel] = "SA08", "Cabinet de groupe"
			} else {
				f[gTechID] = "C" + unique(directory.GenerateADELI) + "00"
				f[gName] = "CABINET " + genFamilyNames[g.r.IntN(len(genFamilyNames))]
				f[gSector], f[gSectorLabel] = "SA07", "Cabinet individuel"
			}
		}
		g.byKind[kind] = append(g.byKind[kind], len(g.pool))
		g.pool = append(g.pool, genStructure{kind: kind, fields: f})
	}
	g.used = make([]bool, len(g.pool))
}

// professional draws the next professional. Numbers come from a sequence
// so that no two professionals share one.
func (g *generator) professional() *genProfessional {
	weights := make([]int, len(genProfessions))
	for i, p := range genProfessions {
		weights[i] = p.weight
	}
	p := &genProfessional{
		prof:       weighted(g.r, weights...),
		female:     g.r.IntN(2) == 0,
		family:     genFamilyNames[g.r.IntN(len(genFamilyNames))],
		category:   "C",
		catLb:      "Civil",
		activities: 1 + weighted(g.r, 70, 20, 7, 3),
	}
	g.nextPS++
	if g.r.IntN(100) < 8 {
		p.idType, p.id = string(directory.PSADELI), withLuhn(fmt.Sprintf("%02d%06d", 1+g.nextPS/1e6%95, g.nextPS%1e6))
	} else {
		p.idType, p.id = string(directory.PSRPPS), withLuhn(fmt.Sprintf("10%08d", g.nextPS))
	}
	if p.female {
		p.given = genFemaleNames[g.r.IntN(len(genFemaleNames))]
	} else {
		p.given = genMaleNames[g.r.IntN(len(genMaleNames))]
	}
	prof := genProfessions[p.prof]
	p.title = prof.title && (prof.code != "21" || g.r.IntN(2) == 0)
	if g.r.IntN(50) == 0 {
		p.category, p.catLb = "M", "Militaire"
	}
	if len(prof.skills) > 0 {
		w := make([]int, len(prof.skills))
		for i, s := range prof.skills {
			w[i] = s.weight
		}
		p.skill = prof.skills[weighted(g.r, w...)]
	}
	if g.r.IntN(50) == 0 {
		p.activities, p.noStructure = 1, true
	}
	return p
}

// pickStructures returns n distinct structures for p's activities, or
// -1 for a professional without structure.
func (g *generator) pickStructures(p *genProfessional, n int) []int {
	if p.noStructure {
		return []int{-1}
	}
	prof := genProfessions[p.prof]
	w := make([]int, len(prof.places))
	for i, pl := range prof.places {
		w[i] = pl.weight
	}
	out := make([]int, 0, n)
	for len(out) < n {
		place := prof.places[weighted(g.r, w...)]
		candidates := g.byKind[place.kind]
		s := candidates[g.r.IntN(len(candidates))]
		if g.r.IntN(8) == 0 { // now and then anywhere, so small pools still fill
			s = g.r.IntN(len(g.pool))
		}
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// row returns the valid line of p's activity in structure s (-1: none).
func (g *generator) row(p *genProfessional, s int) string {
	clear(g.field)
	f := g.field
	prof := genProfessions[p.prof]
	f[gIDType], f[gID], f[gIdNatPS] = p.idType, p.id, p.idType+p.id
	if p.title {
		f[gTitle], f[gTitleLabel] = "DR", "Docteur"
	}
	if p.female {
		f[gCivility], f[gCivilityLabel] = "MME", "Madame"
	} else {
		f[gCivility], f[gCivilityLabel] = "M", "Monsieur"
	}
	f[gFamily], f[gGiven] = p.family, p.given
	f[gProfession], f[gProfLabel] = prof.code, prof.label
	f[gCategory], f[gCategoryLabel] = p.category, p.catLb
	if p.skill.code != "" {
		f[gSkillType], f[gSkillTypeLbl] = "S", "Spécialité ordinale"
		f[gSkill], f[gSkillLabel] = p.skill.code, p.skill.label
	}
	mode := "L"
	if s >= 0 {
		st := g.pool[s]
		for i, v := range st.fields {
			f[i] = v
		}
		for _, pl := range prof.places {
			if pl.kind == st.kind {
				mode = pl.mode
				break
			}
		}
	}
	f[gMode], f[gModeLabel] = mode, genModes[mode]
	return strings.Join(f, "|") + "|"
}

// writeInvalid writes a line that a Reader rejects, of one of five kinds.
func (g *generator) writeInvalid(p *genProfessional, s int) error {
	kind := g.r.IntN(5)
	line := g.row(p, s)
	f := g.field
	switch kind {
	case 0: // bad check digit
		id := []byte(p.id)
		id[len(id)-1] = '0' + (id[len(id)-1]-'0'+1)%10
		f[gID], f[gIdNatPS] = string(id), p.idType+string(id)
	case 1:
		f[gFamily] = ""
	case 2: // truncated: cut in the first half, where "|" abound after
		cut := len(line)/4 + g.r.IntN(len(line)/4)
		for !utf8.RuneStart(line[cut]) {
			cut--
		}
		return g.writeLine(line[:cut])
	case 3:
		f[gIDType] = "3"
	case 4:
		f[gID], f[gIdNatPS] = "", ""
	}
	return g.writeLine(strings.Join(f, "|") + "|")
}

// writeLine writes one line in the chosen encoding.
func (g *generator) writeLine(s string) error {
	if !g.opts.Latin1 {
		g.w.WriteString(s)
		return g.w.WriteByte('\n')
	}
	g.enc = g.enc[:0]
	for _, c := range s {
		if c > 0xFF {
			return fmt.Errorf("extract: generated text %q has %q, which ISO-8859-1 cannot encode", s, c)
		}
		g.enc = append(g.enc, byte(c))
	}
	g.enc = append(g.enc, '\n')
	_, err := g.w.Write(g.enc)
	return err
}

// weighted draws an index with a probability proportional to its weight.
func weighted(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// withLuhn appends the Luhn check digit to a string of digits.
func withLuhn(s string) string {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 { // rightmost digit of s is doubled
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return s + string(rune('0'+(10-sum%10)%10))
}
