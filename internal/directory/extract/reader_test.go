package extract_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/directory/extract"
	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

// generated returns a generated extract and its report.
func generated(t testing.TB, rows int, seed int64, opts extract.GenerateOptions) ([]byte, extract.GenerateReport) {
	t.Helper()
	var b bytes.Buffer
	rep, err := extract.Generate(&b, rows, seed, opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return b.Bytes(), rep
}

// transform rewrites every line of an extract (header included, without
// its terminator) with fn.
func transform(data []byte, fn func(i int, line string) string) []byte {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines {
		lines[i] = fn(i, l)
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// summary is a comparable rendering of a result: every resource and every
// rejection, in order.
func summary(r result) []string {
	var out []string
	for _, g := range r.groups {
		out = append(out, fmt.Sprintf("group at line %d", g.Line))
		for _, res := range slices.Concat(g.Organizations, []extract.Resource{g.Practitioner}, g.Roles) {
			out = append(out, res.Type+"/"+res.ID+" "+string(res.JSON))
		}
	}
	for _, e := range r.rejected {
		// The field counts depend on the layout, the rest must not.
		out = append(out, fieldCounts.ReplaceAllString(e.Error(), "has … fields, want …"))
	}
	return out
}

var fieldCounts = regexp.MustCompile(`has \d+ fields, want \d+`)

func diff(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("item %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// The header is matched by name: columns moved, unknown columns added,
// names in another case, with extra spaces or a typographic apostrophe
// give the same resources.
func TestHeaderMatchedByName(t *testing.T) {
	data, _ := generated(t, 2000, 7, extract.GenerateOptions{InvalidFraction: 0.05})
	want := summary(readAll(t, bytes.NewReader(data), directory.Validator{}))

	width := strings.Count(strings.SplitN(string(data), "\n", 2)[0], "|") // fields, trailing one excluded
	perm := rand.New(rand.NewPCG(1, 2)).Perm(width)
	renames := map[string]string{
		"Nom d'exercice":                 "  NOM D'EXERCICE ",
		"Type d'identifiant PP":          "Type d’identifiant  PP",
		"Code postal (coord. structure)": "code postal (Coord. Structure)",
	}
	tests := []struct {
		name string
		fn   func(i int, line string) string
	}{
		{"columns shuffled, extra columns", func(i int, line string) string {
			fields := strings.Split(strings.TrimSuffix(line, "|"), "|")
			if len(fields) != width { // a truncated line stays truncated
				return line
			}
			out := []string{"x" + fmt.Sprint(i)} // a new first column
			for _, p := range perm {
				out = append(out, fields[p])
			}
			extra := "Code fonction inconnue"
			if i > 0 {
				extra = "?"
			}
			return strings.Join(append(out, extra), "|") + "|"
		}},
		{"header names in another form", func(i int, line string) string {
			if i > 0 {
				return line
			}
			for from, to := range renames {
				line = strings.Replace(line, from, to, 1)
			}
			return line
		}},
		{"no trailing pipe", func(_ int, line string) string { return strings.TrimSuffix(line, "|") }},
		{"CRLF line ends", func(_ int, line string) string { return line + "\r" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			diff(t, summary(readAll(t, bytes.NewReader(transform(data, tc.fn)), directory.Validator{})), want)
		})
	}
}

func TestHeaderErrors(t *testing.T) {
	without := func(names ...string) string {
		h := slices.DeleteFunc(slices.Clone(shortHeader), func(s string) bool { return slices.Contains(names, s) })
		return extractText(h, doctor())
	}
	tests := []struct {
		name  string
		file  string
		wants []string
	}{
		{"empty file", "", []string{"empty"}},
		{"two required columns missing", without("Nom d'exercice", "Code profession"),
			[]string{`"Nom d'exercice"`, `"Code profession"`, "PS_LibreAcces_Personne_activite"}},
		{"structure identifier missing", without("Numéro FINESS site"), []string{`"Numéro FINESS site"`}},
		{"semicolon separated", "Type d'identifiant PP;Identifiant PP;Nom d'exercice\n8;" + rppsA + ";X\n",
			[]string{"single column", `";"`, `"|"`}},
		{"required column twice", extractText(append(slices.Clone(shortHeader), "Identifiant PP")),
			[]string{`"Identifiant PP" appears twice`, "columns 2 and"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := extract.NewReader(strings.NewReader(tc.file), directory.Validator{})
			if err == nil {
				t.Fatal("NewReader succeeded, want an error")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// An unknown column of the same name twice is no reason to refuse.
	file := extractText(append(slices.Clone(shortHeader), "Commentaire", "Commentaire"), doctor())
	if got := readAll(t, strings.NewReader(file), directory.Validator{}); len(got.groups) != 1 {
		t.Errorf("duplicated unknown column: got %d groups, want 1", len(got.groups))
	}
}

// latin1 encodes s, all of whose characters are in ISO-8859-1.
func latin1(s string) []byte {
	var b []byte
	for _, c := range s {
		b = append(b, byte(c))
	}
	return b
}

// windows1252 encodes s like latin1, with "{’}" and "{Œ}" written as the
// Windows-1252 bytes 0x92 and 0x8C.
func windows1252(s string) []byte {
	b := latin1(strings.NewReplacer("{’}", "\x01", "{Œ}", "\x02").Replace(s))
	b = bytes.ReplaceAll(b, []byte{0x01}, []byte{0x92})
	return bytes.ReplaceAll(b, []byte{0x02}, []byte{0x8C})
}

func TestEncodingDetection(t *testing.T) {
	utf8File := extractText(shortHeader, doctor())
	// A header without accents: the first accent is on a row.
	asciiFile := strings.NewReplacer("é", "e", "É", "E").Replace(strings.Join(shortHeader, "|")) + "|\n" +
		strings.SplitN(utf8File, "\n", 2)[1]
	tests := []struct {
		name          string
		data          []byte
		wantEnc       extract.Encoding
		family, given string
	}{
		{"UTF-8", []byte(utf8File), extract.EncodingUTF8, "Lefèvre", "Hélène"},
		{"UTF-8 with BOM", append([]byte("\xEF\xBB\xBF"), utf8File...), extract.EncodingUTF8, "Lefèvre", "Hélène"},
		{"Latin-1", latin1(utf8File), extract.EncodingLatin1, "Lefèvre", "Hélène"},
		{"Latin-1, first accent on a row", latin1(asciiFile), extract.EncodingLatin1, "Lefèvre", "Hélène"},
		{"Windows-1252 quote and ligature", windows1252(extractText(shortHeader,
			doctor().with("Nom d'exercice", "D{’}{Œ}UVRE", "Prénom d'exercice", "Anne-Marie{’}"))),
			extract.EncodingLatin1, "D’ŒUVRE", "Anne-Marie’"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, bytes.NewReader(tc.data), directory.Validator{})
			if got.enc != tc.wantEnc {
				t.Errorf("encoding %v, want %v", got.enc, tc.wantEnc)
			}
			if len(got.groups) != 1 || len(got.rejected) != 0 {
				t.Fatalf("got %d groups and rejections %v, want 1 group", len(got.groups), got.rejected)
			}
			var p struct {
				Name []struct {
					Family string
					Given  []string
				}
			}
			if err := json.Unmarshal(got.groups[0].Practitioner.JSON, &p); err != nil {
				t.Fatal(err)
			}
			if n := p.Name[0]; n.Family != tc.family || len(n.Given) != 1 || n.Given[0] != tc.given {
				t.Errorf("name %q %q, want %q %q", n.Family, n.Given, tc.family, tc.given)
			}
		})
	}

	// A UTF-8 file with a Latin-1 line: that line is rejected, the rest read.
	second := doctor().with("Identifiant PP", rppsB, "Identification nationale PP", "8"+rppsB)
	data := append([]byte(utf8File), latin1(strings.SplitN(extractText(shortHeader, second), "\n", 2)[1])...)
	got := readAll(t, bytes.NewReader(data), directory.Validator{})
	if len(got.groups) != 1 || len(got.rejected) != 1 || got.rejected[0].Line != 3 || !strings.Contains(got.rejected[0].Reason, "UTF-8") {
		t.Errorf("UTF-8 file with a Latin-1 line: got %d groups, rejections %v; want 1 group, line 3 rejected as not UTF-8", len(got.groups), got.rejected)
	}
}

// Lines: blank lines are skipped but counted, the last line may lack its
// newline, and a line over 64 KiB is rejected without stopping the read.
func TestLineHandling(t *testing.T) {
	second := doctor().with("Identifiant PP", rppsB, "Identification nationale PP", "8"+rppsB)
	base := extractText(shortHeader, doctor(), second)
	lines := strings.SplitAfter(base, "\n")
	tests := []struct {
		name         string
		file         string
		groupLines   []int
		rejectedLine []int
	}{
		{"as published", base, []int{2, 3}, nil},
		{"no final newline", strings.TrimSuffix(base, "\n"), []int{2, 3}, nil},
		{"blank lines", lines[0] + "\n" + lines[1] + "  \r\n\n" + lines[2], []int{3, 6}, nil},
		{"over-long line", lines[0] + lines[1] + strings.Repeat("x|", 40<<10) + "\n" + lines[2], []int{2, 4}, []int{3}},
		{"over-long last line", lines[0] + lines[1] + strings.Repeat("x", 70<<10), []int{2}, []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, strings.NewReader(tc.file), directory.Validator{})
			var gl, rl []int
			for _, g := range got.groups {
				gl = append(gl, g.Line)
			}
			for _, e := range got.rejected {
				rl = append(rl, e.Line)
			}
			if !slices.Equal(gl, tc.groupLines) || !slices.Equal(rl, tc.rejectedLine) {
				t.Errorf("groups at lines %v, rejected lines %v; want %v and %v", gl, rl, tc.groupLines, tc.rejectedLine)
			}
		})
	}
}

func TestRejectedRows(t *testing.T) {
	ok := doctor()
	tests := []struct {
		name   string
		row    row
		reason string
		isErr  error // errors.Is target, if any
	}{
		{"bad RPPS key", ok.with("Identifiant PP", "10001234566", "Identification nationale PP", "810001234566"), `RPPS "10001234566" Luhn check failed`, directory.ErrCheckDigit},
		{"RPPS of 10 digits", ok.with("Identifiant PP", "1000123456", "Identification nationale PP", "81000123456"), "has 10 characters", directory.ErrFormat},
		{"bad ADELI key", ok.with("Type d'identifiant PP", "0", "Identifiant PP", "750000011", "Identification nationale PP", "0750000011"), `ADELI "750000011" Luhn check failed`, directory.ErrCheckDigit},
		{"missing identifier", ok.with("Identifiant PP", "", "Identification nationale PP", ""), "Identifiant PP is empty", nil},
		{"missing identifier type", ok.with("Type d'identifiant PP", ""), "Type d'identifiant PP is empty", nil},
		{"unknown identifier type", ok.with("Type d'identifiant PP", "3"), `Type d'identifiant PP "3" is unknown`, nil},
		{"inconsistent IdNatPS", ok.with("Identification nationale PP", "0"+rppsA), "is not Type d'identifiant PP + Identifiant PP", nil},
		{"missing name", ok.with("Nom d'exercice", " "), "Nom d'exercice is empty", nil},
		{"missing profession", ok.with("Code profession", ""), "Code profession", nil},
		{"bad FINESS key", ok.with("Numéro FINESS site", "351234563"), `Numéro FINESS site: FINESS "351234563" Luhn check failed`, directory.ErrCheckDigit},
		{"bad legal FINESS", ok.with("Numéro FINESS établissement juridique", "35000001"), "Numéro FINESS établissement juridique", directory.ErrFormat},
		{"bad SIRET key", ok.with("Numéro SIRET site", "12345678200011"), "Numéro SIRET site", directory.ErrCheckDigit},
		{"bad technical id", ok.with("Numéro FINESS site", "", "Numéro SIRET site", "", "Identifiant technique de la structure", "R-1"), "Identifiant technique de la structure", directory.ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The bad row sits between two good rows of the same
			// professional: both are read, into one group.
			second := ok.with("Numéro FINESS site", finessB, "Numéro SIRET site", "")
			file := extractText(shortHeader, ok, tc.row, second)
			got := readAll(t, strings.NewReader(file), directory.Validator{})
			if len(got.rejected) != 1 {
				t.Fatalf("rejections %v, want one", got.rejected)
			}
			e := got.rejected[0]
			if e.Line != 3 || !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("rejected line %d: %q; want line 3: …%s…", e.Line, e.Reason, tc.reason)
			}
			if tc.isErr != nil && !errors.Is(e, tc.isErr) {
				t.Errorf("errors.Is(%v, %v) is false", e, tc.isErr)
			}
			if len(got.groups) != 1 || len(got.groups[0].Roles) != 2 || len(got.groups[0].Organizations) != 2 {
				t.Errorf("got %d groups, want 1 with 2 roles and 2 organizations", len(got.groups))
			}
		})
	}

	t.Run("fields missing", func(t *testing.T) {
		file := extractText(shortHeader, ok)
		file += "8|" + rppsA + "|8" + rppsA + "|DR|MME|Lefèvre|\n"
		got := readAll(t, strings.NewReader(file), directory.Validator{})
		if len(got.rejected) != 1 || got.rejected[0].Line != 3 || !strings.Contains(got.rejected[0].Reason, fmt.Sprintf("has 6 fields, want %d", len(shortHeader))) {
			t.Errorf("rejections %v, want line 3 with 6 fields", got.rejected)
		}
	})

	t.Run("check digits switched off", func(t *testing.T) {
		file := extractText(shortHeader, tests[0].row, tests[9].row)
		got := readAll(t, strings.NewReader(file), directory.Validator{SkipRPPSKey: true, SkipFINESSKey: true})
		if len(got.rejected) != 0 || len(got.groups) != 2 {
			t.Errorf("lenient validator: %d groups, rejections %v; want 2 groups", len(got.groups), got.rejected)
		}
	})
}

// The mapping choices beyond the example: ADELI professionals, rows
// without a structure, savoir-faire types, the "bureau cedex" address and
// a technical identifier too long for a readable role id.
func TestMapping(t *testing.T) {
	long := "C" + strings.Repeat("1234567890", 5)
	tests := []struct {
		name  string
		row   row
		check map[string]string // resource type → substrings of its JSON, "|"-separated; "!" prefix: must not contain
	}{
		{"ADELI professional", doctor().with("Type d'identifiant PP", "0", "Identifiant PP", adeliA, "Identification nationale PP", "0"+adeliA),
			map[string]string{"Practitioner": `"id":"0750000010"|"value":"0750000010"|!rpps.esante.gouv.fr`}},
		{"IdNatPS column empty: derived", doctor().with("Identification nationale PP", ""),
			map[string]string{"Practitioner": `"id":"810001234565"`}},
		{"no structure", doctor().with("Numéro FINESS site", "", "Numéro SIRET site", "", "Identifiant technique de la structure", "", "Numéro FINESS établissement juridique", ""),
			map[string]string{"PractitionerRole": `"id":"810001234565--10-S-S-SM54"|!organization`, "Organization": "!"}},
		{"SIRET site", doctor().with("Numéro FINESS site", "", "Numéro SIREN site", sirenA),
			map[string]string{"Organization": `"id":"312345678200010"|"code":"SIREN"}]},"system":"https://sirene.fr","value":"123456782"`}},
		{"technical identifier", doctor().with("Numéro FINESS site", "", "Numéro SIRET site", "", "Identifiant technique de la structure", "C75000001000"),
			map[string]string{"Organization": `"id":"4C75000001000"|"value":"4C75000001000"`}},
		{"competence exclusive", doctor().with("Code type savoir-faire", "CEX", "Code savoir-faire", "CEX01", "Libellé savoir-faire", "Angiologie"),
			map[string]string{"PractitionerRole": `TRE_R40-CompetenceExclusive/FHIR/TRE-R40-CompetenceExclusive","code":"CEX01","display":"Angiologie"`}},
		{"savoir-faire type without known system", doctor().with("Code type savoir-faire", "FQ", "Code savoir-faire", "FQ01", "Libellé savoir-faire", "Médecine du sport"),
			map[string]string{"PractitionerRole": `"specialty":[{"text":"Médecine du sport"}]`}},
		{"no savoir-faire", doctor().with("Code type savoir-faire", "", "Code savoir-faire", "", "Libellé savoir-faire", ""),
			map[string]string{"PractitionerRole": `"id":"810001234565-1351234562-10-S--"|!specialty`}},
		{"no civilité", doctor().with("Code civilité d'exercice", "", "Code civilité", ""),
			map[string]string{"Practitioner": `"name":[{"family":"Lefèvre","given":["Hélène"]}]`}},
		{"city from bureau cedex", doctor().with("Libellé commune (coord. structure)", "", "Code postal (coord. structure)", "", "Bureau cedex (coord. structure)", "35033 RENNES CEDEX 9"),
			map[string]string{"Organization": `"city":"RENNES CEDEX 9","postalCode":"35033"`}},
		{"name from the brand", doctor().with("Raison sociale site", "", "Enseigne commerciale site", "CH EXEMPLE"),
			map[string]string{"Organization": `"name":"CH EXEMPLE"|!alias`}},
		{"Corsican INSEE code", doctor().with("Code commune (coord. structure)", "2A004"),
			map[string]string{"Organization": `"code":"2A004"`}},
		{"malformed INSEE code left out", doctor().with("Code commune (coord. structure)", "3523"),
			map[string]string{"Organization": `!insee-code`}},
		{"long technical identifier", doctor().with("Numéro FINESS site", "", "Numéro SIRET site", "", "Identifiant technique de la structure", long),
			map[string]string{"Organization": `"id":"4` + long + `"`, "PractitionerRole": `"id":"810001234565.|"reference":"Organization/4` + long + `"`}},
	}
	fhirID := regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, strings.NewReader(extractText(shortHeader, tc.row)), directory.Validator{})
			if len(got.rejected) != 0 || len(got.groups) != 1 {
				t.Fatalf("got %d groups, rejections %v; want one group", len(got.groups), got.rejected)
			}
			byType := map[string]string{}
			for _, res := range got.resources() {
				byType[res.Type] = string(res.JSON)
				if !fhirID.MatchString(res.ID) {
					t.Errorf("%s id %q is not a FHIR id", res.Type, res.ID)
				}
				checkValid(t, res)
			}
			for typ, wants := range tc.check {
				for _, w := range strings.Split(wants, "|") {
					if not, ok := strings.CutPrefix(w, "!"); ok {
						if _, present := byType[typ]; not == "" && present {
							t.Errorf("a %s was written, want none", typ)
						}
						if not != "" && strings.Contains(byType[typ], not) {
							t.Errorf("%s contains %s:\n%s", typ, not, byType[typ])
						}
					} else if !strings.Contains(byType[typ], w) {
						t.Errorf("%s lacks %s:\n%s", typ, w, byType[typ])
					}
				}
			}
		})
	}
}

// checkValid checks a resource against the FHIR R4 structure definitions.
func checkValid(t testing.TB, res extract.Resource) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(res.JSON))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s/%s: %v", res.Type, res.ID, err)
	}
	if m["resourceType"] != res.Type || m["id"] != res.ID {
		t.Errorf("%s/%s: JSON says %v/%v", res.Type, res.ID, m["resourceType"], m["id"])
	}
	for _, is := range validate.Resource(m) {
		t.Errorf("%s/%s: %s: %s", res.Type, res.ID, is.Path, is.Message)
	}
}

// Every resource of a generated extract is valid FHIR R4; references point
// to resources returned before or in the same group; each structure is
// returned once.
func TestGeneratedResourcesValid(t *testing.T) {
	data, rep := generated(t, 3000, 3, extract.GenerateOptions{InvalidFraction: 0.03, Structures: 120})
	got := readAll(t, bytes.NewReader(data), directory.Validator{})
	seen := map[string]bool{}
	for _, g := range got.groups {
		for _, res := range g.Organizations {
			if seen[res.Type+"/"+res.ID] {
				t.Errorf("%s/%s returned twice", res.Type, res.ID)
			}
			seen[res.Type+"/"+res.ID] = true
		}
		seen["Practitioner/"+g.Practitioner.ID] = true
		for _, res := range slices.Concat(g.Organizations, []extract.Resource{g.Practitioner}, g.Roles) {
			checkValid(t, res)
		}
		for _, res := range g.Roles {
			var pr struct{ Practitioner, Organization struct{ Reference string } }
			json.Unmarshal(res.JSON, &pr)
			for _, ref := range []string{pr.Practitioner.Reference, pr.Organization.Reference} {
				if ref != "" && !seen[ref] {
					t.Errorf("%s/%s refers to %s, not returned yet", res.Type, res.ID, ref)
				}
			}
		}
	}
	if n := len(got.rejected); n != rep.Invalid {
		t.Errorf("%d rows rejected, the generator wrote %d invalid", n, rep.Invalid)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// ids depends on the data only: reading twice, reading the Latin-1 copy,
// or reading the rows shuffled (professionals no longer consecutive)
// gives the same resources by id, so upserts by id converge.
func TestIdempotentIDs(t *testing.T) {
	opts := extract.GenerateOptions{InvalidFraction: 0.02, Structures: 80}
	data, rep := generated(t, 5000, 11, opts)
	first := readAll(t, bytes.NewReader(data), directory.Validator{})
	diff(t, summary(readAll(t, bytes.NewReader(data), directory.Validator{})), summary(first))

	opts.Latin1 = true
	latin, _ := generated(t, 5000, 11, opts)
	if bytes.Equal(latin, data) {
		t.Fatal("the Latin-1 extract is byte for byte the UTF-8 one")
	}
	diff(t, summary(readAll(t, bytes.NewReader(latin), directory.Validator{})), summary(first))

	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	body := lines[1:]
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(body), func(i, j int) { body[i], body[j] = body[j], body[i] })
	shuffled := readAll(t, strings.NewReader(strings.Join(lines, "\n")+"\n"), directory.Validator{})
	if len(shuffled.groups) <= len(first.groups) {
		t.Errorf("shuffled: %d groups, want more than %d (professionals split)", len(shuffled.groups), len(first.groups))
	}

	// Upsert every resource by id, as an importer would.
	upsert := func(r result) map[string]string {
		store := map[string]string{}
		for _, res := range r.resources() {
			store[res.Type+"/"+res.ID] = string(res.JSON)
		}
		return store
	}
	a, b := upsert(first), upsert(shuffled)
	if len(a) != len(b) {
		t.Errorf("%d resources from the ordered file, %d from the shuffled one", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s differs:\n ordered %s\nshuffled %s", k, v, b[k])
			break
		}
	}
	count := map[string]int{}
	for k := range a {
		count[strings.Split(k, "/")[0]]++
	}
	if count["Practitioner"] != rep.Practitioners || count["PractitionerRole"] != rep.Roles || count["Organization"] != rep.Organizations {
		t.Errorf("distinct resources %v; generator report %+v", count, rep)
	}
}

// A professional with more activities than a group holds continues in the
// next group, which carries the Practitioner again.
func TestLongRunSplit(t *testing.T) {
	rows := make([]row, 300)
	for i := range rows {
		rows[i] = doctor().with("Numéro FINESS site", "", "Numéro SIRET site", "", "Identifiant technique de la structure", fmt.Sprintf("C%011d", i))
	}
	got := readAll(t, strings.NewReader(extractText(shortHeader, rows...)), directory.Validator{})
	if len(got.groups) != 2 || len(got.groups[0].Roles) != 256 || len(got.groups[1].Roles) != 44 ||
		got.groups[0].Practitioner.ID != got.groups[1].Practitioner.ID || got.groups[1].Line != 258 {
		t.Errorf("got %d groups, want 256 then 44 roles of the same practitioner, the second from line 258", len(got.groups))
	}
}

// A read error ends the reading: the rows before it are returned, then the
// error, again on every call.
func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	file := extractText(shortHeader, doctor())
	r, err := extract.NewReader(io.MultiReader(strings.NewReader(file), &failing{boom}), directory.Validator{})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := r.Next(); err != nil || g.Practitioner.ID != "8"+rppsA {
		t.Fatalf("first Next: %v, %v; want the group read before the error", g.Practitioner.ID, err)
	}
	for range 2 {
		if _, err := r.Next(); !errors.Is(err, boom) {
			t.Fatalf("Next: %v, want %v", err, boom)
		}
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }
