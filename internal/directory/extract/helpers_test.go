package extract_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/directory/extract"
)

// Identifiers used by the hand-written rows: synthetic numbers with valid
// Luhn check digits.
const (
	rppsA   = "10001234565"
	rppsB   = "10098765430"
	adeliA  = "750000010"
	finessA = "351234562"
	finessJ = "350000014"
	siretA  = "12345678200010"
	sirenA  = "123456782"
	finessB = "690000021"
)

// shortHeader is a reduced extract layout: every required column and the
// optional ones the hand-written rows use.
var shortHeader = []string{
	"Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
	"Code civilité d'exercice", "Code civilité", "Nom d'exercice", "Prénom d'exercice",
	"Code profession", "Libellé profession", "Code catégorie professionnelle", "Libellé catégorie professionnelle",
	"Code type savoir-faire", "Code savoir-faire", "Libellé savoir-faire", "Code mode exercice", "Libellé mode exercice",
	"Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site", "Numéro FINESS établissement juridique",
	"Identifiant technique de la structure", "Raison sociale site", "Enseigne commerciale site",
	"Numéro Voie (coord. structure)", "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
	"Bureau cedex (coord. structure)", "Code postal (coord. structure)", "Code commune (coord. structure)",
	"Libellé commune (coord. structure)", "Téléphone (coord. structure)", "Adresse e-mail (coord. structure)",
	"Code Département (structure)", "Code secteur d'activité", "Libellé secteur d'activité",
}

// row is one hand-written row: values by header name, "" elsewhere.
type row map[string]string

// doctor returns a valid row: Dr Hélène Lefèvre, general practitioner,
// salaried in a hospital.
func doctor() row {
	return row{}.with(
		"Type d'identifiant PP", "8",
		"Identifiant PP", rppsA,
		"Identification nationale PP", "8"+rppsA,
		"Code civilité d'exercice", "DR",
		"Code civilité", "MME",
		"Nom d'exercice", "Lefèvre",
		"Prénom d'exercice", "Hélène",
		"Code profession", "10",
		"Libellé profession", "Médecin",
		"Code catégorie professionnelle", "C",
		"Libellé catégorie professionnelle", "Civil",
		"Code type savoir-faire", "S",
		"Code savoir-faire", "SM54",
		"Libellé savoir-faire", "Médecine Générale",
		"Code mode exercice", "S",
		"Libellé mode exercice", "Salarié",
		"Numéro SIRET site", siretA,
		"Numéro FINESS site", finessA,
		"Numéro FINESS établissement juridique", finessJ,
		"Identifiant technique de la structure", "R10001234565001",
		"Raison sociale site", "CENTRE HOSPITALIER D'EXEMPLE",
		"Enseigne commerciale site", "CH EXEMPLE",
		"Numéro Voie (coord. structure)", "2",
		"Libellé type de voie (coord. structure)", "Rue",
		"Libellé Voie (coord. structure)", "DE L'HÔTEL-DIEU",
		"Code postal (coord. structure)", "35000",
		"Code commune (coord. structure)", "35238",
		"Libellé commune (coord. structure)", "RENNES",
		"Téléphone (coord. structure)", "0299000000",
		"Code Département (structure)", "35",
		"Code secteur d'activité", "SA01",
		"Libellé secteur d'activité", "Etablissement public de santé",
	)
}

// with returns a copy of r with some values replaced.
func (r row) with(kv ...string) row {
	out := make(row, len(r))
	for k, v := range r {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// extractText writes an extract: the header, then the rows, each line
// ending with "|" and a newline, as the published files do.
func extractText(header []string, rows ...row) string {
	var b strings.Builder
	b.WriteString(strings.Join(header, "|") + "|\n")
	for _, r := range rows {
		vals := make([]string, len(header))
		for i, h := range header {
			vals[i] = r[h]
		}
		b.WriteString(strings.Join(vals, "|") + "|\n")
	}
	return b.String()
}

// result is everything a Reader returned for a file.
type result struct {
	groups   []extract.Group
	rejected []*extract.RowError
	enc      extract.Encoding
}

// resources returns every resource of the groups, in order.
func (r result) resources() []extract.Resource {
	var out []extract.Resource
	for _, g := range r.groups {
		out = append(out, g.Organizations...)
		out = append(out, g.Practitioner)
		out = append(out, g.Roles...)
	}
	return out
}

// readAll reads a whole extract, failing the test on a header or read
// error.
func readAll(t testing.TB, in io.Reader, v directory.Validator) result {
	t.Helper()
	r, err := extract.NewReader(in, v)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var res result
	for {
		g, err := r.Next()
		var rowErr *extract.RowError
		switch {
		case errors.Is(err, io.EOF):
			res.enc = r.Encoding()
			return res
		case errors.As(err, &rowErr):
			res.rejected = append(res.rejected, rowErr)
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			res.groups = append(res.groups, g)
		}
	}
}
