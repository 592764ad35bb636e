package document

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/document/sample"
	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/ins"
)

// demoKinds are the documents the demo deposits: frequent types of the
// shared record (domain/france.md §4), as PDF or as CDA.
var demoKinds = []struct {
	typeCode, typeName, class, setting, sector string
	cda                                        bool
	sections                                   []sample.Section
}{
	{"11488-4", "Compte rendu de consultation", "10", "AMBULATOIRE", "SA07", true, []sample.Section{
		section("Motif de consultation", "Suivi annuel.", "Pas de plainte particulière."),
		section("Examen clinique", "Tension artérielle 12/8, pouls régulier.", "Auscultation cardio-pulmonaire normale."),
		section("Conclusion", "Examen sans particularité. Prochain contrôle dans un an."),
	}},
	{"34133-9", "Synthèse d'épisode de soins", "11", "ETABLISSEMENT", "SA01", true, []sample.Section{
		section("Motif d'hospitalisation", "Bilan programmé."),
		section("Évolution", "Séjour sans complication.", "Retour à domicile."),
	}},
	{"11490-0", "Lettre de liaison à la sortie", "10", "ETABLISSEMENT", "SA01", true, []sample.Section{
		section("Traitement de sortie", "Paracétamol 1 g si douleur, 3 fois par jour au plus."),
		section("Suivi", "Consultation de contrôle chez le médecin traitant sous quinze jours."),
	}},
	{"11502-2", "Compte rendu d'examens biologiques", "10", "AMBULATOIRE", "SA25", false, []sample.Section{
		section("Numération formule sanguine", "Hémoglobine 14,1 g/dL (12 - 16)", "Leucocytes 6,2 G/L (4 - 10)", "Plaquettes 245 G/L (150 - 400)"),
	}},
	{"18748-4", "Compte rendu d'imagerie médicale", "31", "AMBULATOIRE", "SA07", false, []sample.Section{
		section("Radiographie thoracique de face", "Pas d'anomalie pleuro-pulmonaire décelable."),
	}},
	{"57833-6", "Prescription de produits de santé", "42", "AMBULATOIRE", "SA07", false, []sample.Section{
		section("Prescription", "Amoxicilline 1 g, 2 fois par jour pendant 7 jours."),
	}},
	{"60593-1", "Dispensation médicamenteuse", "43", "AMBULATOIRE", "SA33", false, []sample.Section{
		section("Dispensation", "Amoxicilline 1 g, 14 comprimés, délivrés."),
	}},
}

// section is a part of a demo document's narrative.
func section(title string, paragraphs ...string) sample.Section {
	return sample.Section{Title: title, Paragraphs: paragraphs}
}

// demoEpoch anchors the dates of the demo documents: fixed, so that the
// documents, and so their bytes, are the same at every start.
var demoEpoch = time.Date(2025, 6, 2, 10, 0, 0, 0, time.FixedZone("", 2*3600))

// demoAuthor is an author of demo documents.
type demoAuthor struct {
	idNatPS, given, family string
}

// SeedDemo deposits the documents of the demo population through the FHIR
// API at base, as a producer's software would (ITI-65 Provide Document
// Bundles): between four and ten PDF and CDA documents for each patient
// whose INS is under the demonstration OID and whose record is open,
// written by the demo's professionals. It runs after the population is
// seeded. Everything is derived from the patient's id — the documents,
// their dates, their masterIdentifier — so seeding again deposits nothing
// new: every document is recognised as deposited already. It returns the
// number of documents deposited by this call.
func SeedDemo(ctx context.Context, client *http.Client, base string) (int, error) {
	patients, err := searchAll(ctx, client, base, "Patient?"+url.Values{"identifier": {ins.SystemNIRDemo + "|"}, "_sort": {"_id"}}.Encode())
	if err != nil {
		return 0, err
	}
	pros, err := searchAll(ctx, client, base, "Practitioner?_sort=_id")
	if err != nil {
		return 0, err
	}
	authors := demoAuthors(pros)
	deposited := 0
	for _, p := range patients {
		if !identity.AcceptsDeposits(p) {
			continue
		}
		b, err := demoBundle(p, authors)
		if err != nil {
			return deposited, err
		}
		n, err := post(ctx, client, base, b)
		deposited += n
		if err != nil {
			return deposited, fmt.Errorf("demo documents of Patient/%s: %w", str(p, "id"), err)
		}
	}
	return deposited, nil
}

// demoAuthors are the professionals of the demo with an IdNatPS, or one
// fictitious author when there are none.
func demoAuthors(pros []map[string]any) []demoAuthor {
	var out []demoAuthor
	for _, p := range pros {
		a := demoAuthor{}
		for _, id := range objects(p, "identifier") {
			if str(id.m, "system") == "urn:oid:1.2.250.1.71.4.2.1" {
				a.idNatPS = str(id.m, "value")
			}
		}
		if names := objects(p, "name"); len(names) > 0 {
			a.family = str(names[0].m, "family")
			if given, _ := names[0].m["given"].([]any); len(given) > 0 {
				a.given, _ = given[0].(string)
			}
		}
		if strings.HasPrefix(a.idNatPS, "8") {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = append(out, demoAuthor{idNatPS: "810101201234", given: "Claire", family: "EXEMPLE"})
	}
	return out
}

// demoBundle is the Provide Document Bundle of a demo patient's
// documents.
func demoBundle(patient map[string]any, authors []demoAuthor) (map[string]any, error) {
	id := str(patient, "id")
	identity, err := ins.FromPatient(patient)
	if err != nil || len(identity.INS) == 0 {
		return nil, fmt.Errorf("Patient/%s: no readable INS (%v)", id, err)
	}
	t, nir := identity.Traits, identity.INS[0]
	h := fnv.New64a()
	h.Write([]byte(id))
	r := rand.New(rand.NewPCG(h.Sum64(), 2025))
	subject := "Patient/" + id
	entries := []any{nil} // the SubmissionSet, once the items are known
	var items []any
	n := 4 + r.IntN(7)
	for i := range n {
		k := demoKinds[r.IntN(len(demoKinds))]
		a := authors[r.IntN(len(authors))]
		date := demoEpoch.AddDate(0, 0, -r.IntN(900)).Add(-time.Duration(r.IntN(8*60)) * time.Minute)
		start := date.Add(-time.Duration(30+r.IntN(90)) * time.Minute)
		level := "N"
		if r.IntN(8) == 0 {
			level = "R"
		}
		master := "urn:uuid:" + uuidOf(fmt.Sprintf("demo document %s %d", id, i))
		title := k.typeName + " du " + date.Format("02/01/2006")
		var data []byte
		contentType, format, formatSystem := "application/pdf", "urn:ihe:iti:xds-sd:pdf:2008", nos("TRE_A11-IheFormatCode")
		if k.cda {
			sex := "M"
			if t.Sex == ins.SexFemale {
				sex = "F"
			}
			data = sample.CDA(sample.Header{
				ID: strings.TrimPrefix(master, "urn:uuid:"), TypeCode: k.typeCode, TypeName: k.typeName, Title: title,
				Date: date, Start: start, Confidentiality: level,
				INSSystem: nir.Kind.OID(), INS: nir.NIR.String(),
				BirthName: t.BirthName, GivenName: t.FirstGivenName, Sex: sex, BirthDate: strings.ReplaceAll(t.BirthDate, "-", ""), Birthplace: t.Birthplace,
				AuthorIdNatPS: a.idNatPS, AuthorGiven: a.given, AuthorFamily: a.family, Organization: "Établissement de démonstration",
				Sections: k.sections,
			})
			contentType, format, formatSystem = "text/xml", "urn:asip:ci-sis:2010", nos("TRE_A06-FormatCodeComplementaire")
		} else {
			var lines []string
			for _, s := range k.sections {
				lines = append(append(lines, s.Title), s.Paragraphs...)
			}
			data = sample.PDF(title, append([]string{"Patient : " + t.FirstGivenName + " " + t.BirthName, "Auteur : Dr " + a.given + " " + a.family, ""}, lines...))
		}
		docURL, binURL := "urn:uuid:"+uuidOf(master+" reference"), "urn:uuid:"+uuidOf(master+" binary")
		items = append(items, map[string]any{"item": map[string]any{"reference": docURL}})
		entries = append(entries,
			demoEntry(docURL, "DocumentReference", demoDocumentReference(subject, master, title, k.typeCode, k.class, k.setting, k.sector, level, a, date, start, contentType, format, formatSystem, binURL, data)),
			demoEntry(binURL, "Binary", map[string]any{"resourceType": "Binary", "contentType": contentType, "data": base64.StdEncoding.EncodeToString(data)}),
		)
	}
	entries[0] = demoEntry("urn:uuid:"+uuidOf("demo submission set "+id), "List", map[string]any{
		"resourceType": "List",
		"identifier":   []any{map[string]any{"use": "usual", "system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + uuidOf("demo submission set unique id "+id)}},
		"status":       "current", "mode": "working",
		"code":    map[string]any{"coding": []any{map[string]any{"system": mhdListTypes, "code": submissionSet}}},
		"subject": map[string]any{"reference": subject},
		"date":    demoEpoch.Format(time.RFC3339),
		"source":  map[string]any{"reference": "Practitioner/" + authors[0].idNatPS},
		"entry":   items,
	})
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}, nil
}

// demoDocumentReference is the PDSm comprehensive metadata of a demo
// document.
func demoDocumentReference(subject, master, title, typeCode, class, setting, sector, level string, a demoAuthor, date, start time.Time, contentType, format, formatSystem, binURL string, data []byte) map[string]any {
	sum := sha1Base64(data)
	coded := func(system, code string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
	}
	return map[string]any{
		"resourceType": "DocumentReference",
		"contained": []any{
			map[string]any{"resourceType": "PractitionerRole", "id": "auteur", "identifier": []any{map[string]any{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": a.idNatPS}}},
			map[string]any{"resourceType": "Organization", "id": "responsable", "name": "Établissement de démonstration"},
		},
		"masterIdentifier": map[string]any{"system": "urn:ietf:rfc:3986", "value": master},
		"status":           "current",
		"type":             coded("http://loinc.org", typeCode),
		"category":         []any{coded(nos("TRE_A03-ClasseDocument"), class)},
		"subject":          map[string]any{"reference": subject},
		"date":             date.Format(time.RFC3339),
		"author":           []any{map[string]any{"reference": "#auteur"}},
		"custodian":        map[string]any{"reference": "#responsable"},
		"securityLabel":    []any{coded("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", level)},
		"content": []any{map[string]any{
			"attachment": map[string]any{
				"contentType": contentType, "language": "fr-FR", "url": binURL,
				"size": len(data), "hash": sum, "title": title, "creation": date.Format(time.RFC3339),
			},
			"format": map[string]any{"system": formatSystem, "code": format},
		}},
		"context": map[string]any{
			"period":          map[string]any{"start": start.Format(time.RFC3339), "end": date.Format(time.RFC3339)},
			"facilityType":    coded(nos("TRE_R02-SecteurActivite"), sector),
			"practiceSetting": coded(nos("TRE_A01-CadreExercice"), setting),
		},
	}
}

func demoEntry(fullURL, typ string, res map[string]any) map[string]any {
	return map[string]any{"fullUrl": fullURL, "resource": res, "request": map[string]any{"method": "POST", "url": typ}}
}

// post sends a transaction Bundle and returns how many documents it
// created (201 DocumentReference entries).
func post(ctx context.Context, client *http.Client, base string, bundle map[string]any) (int, error) {
	body, err := json.Marshal(bundle)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, data)
	}
	var out struct {
		Entry []struct {
			Response struct{ Status, Location string }
		}
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return 0, err
	}
	n := 0
	for _, e := range out.Entry {
		if strings.HasPrefix(e.Response.Status, "201") && strings.HasPrefix(e.Response.Location, "DocumentReference/") {
			n++
		}
	}
	return n, nil
}

// searchAll runs a search through the API and follows its next links.
func searchAll(ctx context.Context, client *http.Client, base, query string) ([]map[string]any, error) {
	var out []map[string]any
	next := base + "/" + query + "&_count=200"
	for next != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		var b struct {
			Link  []struct{ Relation, URL string }
			Entry []struct {
				Resource map[string]any
				Search   struct{ Mode string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("search %s: HTTP %d (%v)", query, resp.StatusCode, err)
		}
		next = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				// The server may name itself differently (the in-process
				// API): keep the query, send it where this client does.
				if i := strings.Index(l.URL, "/fhir/"); i >= 0 {
					next = base + l.URL[i+len("/fhir"):]
				}
			}
		}
		for _, e := range b.Entry {
			if e.Search.Mode == "match" {
				out = append(out, e.Resource)
			}
		}
	}
	return out, nil
}
