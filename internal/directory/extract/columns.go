package extract

import (
	"errors"
	"fmt"
	"strings"
)

// column is a field of the extract this package reads.
type column int

const (
	colIDType column = iota
	colID
	colIdNatPS
	colTitleCode // Code civilité d'exercice (DR, PR…)
	colCivilityCode
	colFamily
	colGiven
	colProfession
	colProfessionLabel
	colCategory
	colCategoryLabel
	colSkillType
	colSkill
	colSkillLabel
	colMode
	colModeLabel
	colFunction
	colFunctionLabel
	colGenre
	colGenreLabel
	colSIRET
	colSIREN
	colFINESS
	colFINESSLegal
	colTechID
	colName
	colBrand
	colGeoComplement
	colStreetNumber
	colStreetIndex
	colStreetTypeCode
	colStreetTypeLabel
	colStreet
	colDistribution
	colCedex
	colPostalCode
	colCommuneCode
	colCommune
	colCountry
	colPhone
	colPhone2
	colFax
	colEmail
	colSector
	colSectorLabel
	numColumns
)

// columns gives, for each column, its header name (compared after
// normalizeHeader, which absorbs the variants seen in case, spacing,
// accents and apostrophes) and whether an extract without it is refused.
// The identifier columns of the structure are required although they may
// be empty on a row: without them the ids of the roles and structures
// would silently change from one file layout to the next.
var columns = [numColumns]struct {
	name     string
	required bool
}{
	colIDType:          {name: "Type d'identifiant PP", required: true},
	colID:              {name: "Identifiant PP", required: true},
	colIdNatPS:         {name: "Identification nationale PP", required: true},
	colTitleCode:       {name: "Code civilité d'exercice"},
	colCivilityCode:    {name: "Code civilité"},
	colFamily:          {name: "Nom d'exercice", required: true},
	colGiven:           {name: "Prénom d'exercice", required: true},
	colProfession:      {name: "Code profession", required: true},
	colProfessionLabel: {name: "Libellé profession"},
	colCategory:        {name: "Code catégorie professionnelle"},
	colCategoryLabel:   {name: "Libellé catégorie professionnelle"},
	colSkillType:       {name: "Code type savoir-faire"},
	colSkill:           {name: "Code savoir-faire"},
	colSkillLabel:      {name: "Libellé savoir-faire"},
	colMode:            {name: "Code mode exercice"},
	colModeLabel:       {name: "Libellé mode exercice"},
	colFunction:        {name: "Code fonction"},
	colFunctionLabel:   {name: "Libellé fonction"},
	colGenre:           {name: "Code genre d'activité"},
	colGenreLabel:      {name: "Libellé genre d'activité"},
	colSIRET:           {name: "Numéro SIRET site", required: true},
	colSIREN:           {name: "Numéro SIREN site"},
	colFINESS:          {name: "Numéro FINESS site", required: true},
	colFINESSLegal:     {name: "Numéro FINESS établissement juridique"},
	colTechID:          {name: "Identifiant technique de la structure", required: true},
	colName:            {name: "Raison sociale site"},
	colBrand:           {name: "Enseigne commerciale site"},
	colGeoComplement:   {name: "Complément point géographique (coord. structure)"},
	colStreetNumber:    {name: "Numéro Voie (coord. structure)"},
	colStreetIndex:     {name: "Indice répétition voie (coord. structure)"},
	colStreetTypeCode:  {name: "Code type de voie (coord. structure)"},
	colStreetTypeLabel: {name: "Libellé type de voie (coord. structure)"},
	colStreet:          {name: "Libellé Voie (coord. structure)"},
	colDistribution:    {name: "Mention distribution (coord. structure)"},
	colCedex:           {name: "Bureau cedex (coord. structure)"},
	colPostalCode:      {name: "Code postal (coord. structure)"},
	colCommuneCode:     {name: "Code commune (coord. structure)"},
	colCommune:         {name: "Libellé commune (coord. structure)"},
	colCountry:         {name: "Libellé pays (coord. structure)"},
	colPhone:           {name: "Téléphone (coord. structure)"},
	colPhone2:          {name: "Téléphone 2 (coord. structure)"},
	colFax:             {name: "Télécopie (coord. structure)"},
	colEmail:           {name: "Adresse e-mail (coord. structure)"},
	colSector:          {name: "Code secteur d'activité"},
	colSectorLabel:     {name: "Libellé secteur d'activité"},
}

// normalizeHeader returns a header name in a form that survives the
// variations seen between extracts and exports: trimmed, lower case,
// inner spaces collapsed, accents removed ("Numero" for "Numéro"),
// typographic apostrophes made straight ("d’exercice").
func normalizeHeader(s string) string {
	return headerFolder.Replace(strings.ToLower(strings.Join(strings.Fields(s), " ")))
}

var headerFolder = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "’", "'",
)

// mapHeader finds each column of columns in the header line, and the
// number of fields every row must have.
func (r *Reader) mapHeader(header string) error {
	r.split(strings.TrimSuffix(header, "|"))
	r.nfields = len(r.fields)
	if r.nfields == 1 {
		for _, sep := range []string{";", "\t", ","} {
			if strings.Contains(header, sep) {
				return fmt.Errorf("directory extract: the header has a single column and contains %q: the extract is separated by \"|\", is this the right file?", sep)
			}
		}
	}
	byName := make(map[string]int, len(r.fields))
	for i, f := range r.fields {
		name := normalizeHeader(f)
		if prev, dup := byName[name]; dup && name != "" {
			for _, c := range columns {
				if normalizeHeader(c.name) == name {
					return fmt.Errorf("directory extract: header column %q appears twice (columns %d and %d): cannot tell which to read", strings.TrimSpace(f), prev+1, i+1)
				}
			}
			continue
		}
		byName[name] = i
	}
	var missing []string
	for c, def := range columns {
		i, ok := byName[normalizeHeader(def.name)]
		if !ok {
			i = -1
			if def.required {
				missing = append(missing, fmt.Sprintf("%q", def.name))
			}
		}
		r.col[c] = i
	}
	if len(missing) > 0 {
		return errors.New("directory extract: the header lacks required columns " + strings.Join(missing, ", ") +
			" (names are matched case-insensitively): is this a PS_LibreAcces_Personne_activite file?")
	}
	return nil
}
