package document_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The official PDSm examples (../shared/fixtures/pdsm), each handled as
// the specification intends. Three of them describe their document with a
// size or a SHA-1 that are not those of the bytes they carry (the
// replacement bundle gives the SHA-1 of "hello" for "Hello"; the
// simplified publication and the comprehensive DocumentReference give the
// SHA-1 of nothing, with sizes of 250000 and 345678 bytes): integrity is a
// rule the platform never bends, so each is refused as it is, naming the
// element, and accepted once only its size and hash are made those of its
// bytes. Their other departures from the PDSm profiles are accepted with
// warnings (docs/PDSM.md).

// loadFixtureParties stores the example Patient and Organization the
// other examples refer to.
func loadFixtureParties(t *testing.T, e *env) {
	for _, name := range []string{"Patient-fr-patient-123.json", "Organization-org-example.json"} {
		res := fixture(t, name)
		e.do(http.MethodPut, str(res, "resourceType")+"/"+str(res, "id"), res).must(t, http.StatusCreated)
	}
}

// TestFixtureReplacementBundle: the ITI-65 bundle replacing doc-old.
func TestFixtureReplacementBundle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		loadFixtureParties(t, e)
		// doc-old, as the example's narrative describes it, deposited
		// with its id.
		old := doc{master: "urn:uuid:44444444-4444-4444-8444-444444444444", typeCode: "34133-9", date: "2025-01-01T10:00:00+01:00", title: "Compte rendu de consultation - version initiale"}
		b := provideBundle("Patient/fr-patient-123", old)
		b["entry"].([]any)[1].(map[string]any)["request"] = map[string]any{"method": "PUT", "url": "DocumentReference/doc-old"}
		resourceOf(b, 1)["id"] = "doc-old"
		e.do(http.MethodPost, "", b).must(t, http.StatusOK)

		replace := fixture(t, "Bundle-bundle-exemple-comprehensiveprovidedocument-replace.json")
		e.do(http.MethodPost, "", replace).outcome(t, http.StatusUnprocessableEntity,
			"Bundle.entry[1]: DocumentReference.content[0].attachment.hash: qvTGHdzF6KLavt4PO0gs2a6pQ00= is not the SHA-1 of the document", "9/+ei3uy4Jtwk1pdeF4MxdnQq/A=")
		if st := str(e.do(http.MethodGet, "DocumentReference/doc-old", nil).json, "status"); st != "current" {
			t.Fatalf("the refused replacement changed doc-old: %s", st)
		}

		attachment(resourceOf(replace, 1))["hash"] = sha1b64([]byte("Hello"))
		r := e.do(http.MethodPost, "", replace).must(t, http.StatusOK)
		if str(r.json, "type") != "transaction-response" {
			t.Fatalf("response: %s", r.body)
		}
		es := entries(r.json)
		for i, want := range []string{"201 Created List/", "201 Created DocumentReference/", "200 OK DocumentReference/doc-old/", "201 Created Binary/"} {
			got := str(es[i], "response.status") + " " + str(es[i], "response.location")
			if i == 2 {
				got = str(es[i], "response.status") + " " + strings.TrimPrefix(str(es[i], "fullUrl"), e.base+"/") + "/"
			}
			if !strings.HasPrefix(got, want) {
				t.Errorf("entry %d: %q, want %q…", i, got, want)
			}
		}
		warnings := diagnostics(at(es[1], "response.outcome"))
		for _, w := range []string{"DocumentReference.custodian", "securityLabel[0].coding[0]: N belongs to the code system urn:oid:2.16.840.1.113883.5.25"} {
			if !strings.Contains(warnings, w) {
				t.Errorf("no warning about %q:\n%s", w, warnings)
			}
		}
		newID := str(es[1], "resource.id")
		if st := str(e.do(http.MethodGet, "DocumentReference/doc-old", nil).json, "status"); st != "superseded" {
			t.Errorf("doc-old is %s, want superseded", st)
		}
		if got, _ := e.bytesOf(t, newID); string(got) != "Hello" {
			t.Errorf("the new document's bytes: %q", got)
		}
		if ref := str(es[1], "resource.relatesTo.0.target.reference"); ref != "DocumentReference/doc-old" {
			t.Errorf("relatesTo: %s", ref)
		}
	})
}

// TestFixtureSimplifiedPublish: the ITI-105 example.
func TestFixtureSimplifiedPublish(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		loadFixtureParties(t, e)
		dr := fixture(t, "DocumentReference-PDSmSimplifiedExample.json")
		e.do(http.MethodPost, "DocumentReference", dr).outcome(t, http.StatusUnprocessableEntity,
			"DocumentReference.content[0].attachment.size: 250000 bytes, but the document has 11 bytes",
			"DocumentReference.content[0].attachment.hash: 2jmj7l5rSw0yVb/vlWAYkK/YBwk= is not the SHA-1")

		attachment(dr)["size"] = 11
		attachment(dr)["hash"] = sha1b64([]byte("Hello World"))
		r := e.do(http.MethodPost, "DocumentReference", dr).must(t, http.StatusCreated)
		warnings := diagnostics(r.json)
		for _, w := range []string{"masterIdentifier.value", "is not a well-formed urn:uuid", "no confidentiality level: N (normal) was added"} {
			if !strings.Contains(warnings, w) {
				t.Errorf("no warning about %q:\n%s", w, warnings)
			}
		}
		id := strings.Split(strings.TrimPrefix(r.header.Get("Location"), e.base+"/DocumentReference/"), "/")[0]
		if got, _ := e.bytesOf(t, id); string(got) != "Hello World" {
			t.Errorf("bytes %q", got)
		}
		stored := e.do(http.MethodGet, "DocumentReference/"+id, nil).must(t, http.StatusOK)
		if at(stored.json, "content.0.attachment.data") != nil || str(stored.json, "subject.reference") != "Patient/fr-patient-123" {
			t.Errorf("stored: %s", stored.body)
		}
	})
}

// TestFixtureComprehensive deposits the comprehensive DocumentReference
// with the SubmissionSet and Folder examples, in one Provide Document
// Bundle where each example keeps its own references (DocumentReference/
// exemple-pdsm-documentreference, Binary/6789), which name the entries
// whose fullUrl they are; then finds the lists by every ITI-66 parameter.
func TestFixtureComprehensive(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		loadFixtureParties(t, e)
		pdf := bytes.Repeat([]byte("%PDF-1.4 CR Hospitalisation "), 10)
		bundle := func() map[string]any {
			return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
				entry("", "POST", "List", fixture(t, "List-ExampleSubmissionSet.json")),
				entry(e.base+"/DocumentReference/exemple-pdsm-documentreference", "POST", "DocumentReference", fixture(t, "DocumentReference-exemple-pdsm-documentreference.json")),
				entry(e.base+"/Binary/6789", "POST", "Binary", map[string]any{"resourceType": "Binary", "contentType": "application/pdf", "data": b64(pdf)}),
				entry("", "POST", "List", fixture(t, "List-ExampleFolder.json")),
			}}
		}
		b := bundle()
		e.do(http.MethodPost, "", b).outcome(t, http.StatusUnprocessableEntity, "Bundle.entry[1]: DocumentReference.content[0].attachment.size: 345678 bytes", "attachment.hash")

		b = bundle()
		attachment(resourceOf(b, 1))["size"] = len(pdf)
		attachment(resourceOf(b, 1))["hash"] = sha1b64(pdf)
		r := e.do(http.MethodPost, "", b).must(t, http.StatusOK)
		es := entries(r.json)
		docID := str(es[1], "resource.id")
		for i, typ := range []string{"List", "DocumentReference", "Binary", "List"} {
			if str(es[i], "response.status") != "201 Created" || !strings.HasPrefix(str(es[i], "response.location"), typ+"/") {
				t.Errorf("entry %d: %v", i, es[i]["response"])
			}
		}
		if warnings := diagnostics(at(es[1], "response.outcome")); !strings.Contains(warnings, "author[0]: PDSm Comprehensive wants the author contained") {
			t.Errorf("warnings: %s", warnings)
		}
		for i := range []int{0, 3} {
			if item := str(es[[]int{0, 3}[i]], "resource.entry.0.item.reference"); item != "DocumentReference/"+docID {
				t.Errorf("list %d: item %q, want DocumentReference/%s", i, item, docID)
			}
		}
		if got, _ := e.bytesOf(t, docID); !bytes.Equal(got, pdf) {
			t.Errorf("bytes differ")
		}

		set, folder := str(es[0], "resource.id"), str(es[3], "resource.id")
		for _, tc := range []struct {
			query url.Values
			want  []string
		}{
			{url.Values{"code": {mhdListTypes + "|submissionset"}}, []string{set}},
			{url.Values{"code": {"folder"}}, []string{folder}},
			{url.Values{"patient": {"Patient/fr-patient-123"}}, []string{set, folder}},
			{url.Values{"date": {"2025-04-30"}}, []string{set}},
			{url.Values{"identifier": {"urn:ietf:rfc:3986|urn:uuid:11111111-aaaa-bbbb-cccc-222222222222"}}, []string{set}},
			{url.Values{"status": {"current"}, "code": {"folder"}}, []string{folder}},
			{url.Values{"designationType": {"https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite|SA05"}}, []string{set}},
			{url.Values{"DesignationType": {"http://snomed.info/sct|80146002"}}, []string{folder}},
			{url.Values{"sourceId": {"urn:oid:1.2.250.1.213.1.1.1|SRC-01"}}, []string{set}},
			{url.Values{"PDSm_isArchived": {"false"}}, []string{set}},
			{url.Values{"title": {"Classeur"}}, []string{folder}},
		} {
			got := e.search(t, "List", tc.query)
			slices.Sort(got)
			slices.Sort(tc.want)
			if !slices.Equal(got, tc.want) {
				t.Errorf("List?%s found %v, want %v", tc.query.Encode(), got, tc.want)
			}
		}
		for _, q := range []url.Values{
			{"PDSm_DocumentReference_period-start": {"2025-04-20"}},
			{"PDSm_DocumentReference_period-end": {"2025-04-25"}},
			{"format": {"urn:ihe:lab:xd-lab:2008"}},
			{"patient": {"Patient/fr-patient-123"}, "type": {"34133-9"}},
			{"author": {"PractitionerRole/practitionerrole-example"}},
		} {
			if got := e.search(t, "DocumentReference", q); !slices.Equal(got, []string{docID}) {
				t.Errorf("DocumentReference?%s found %v", q.Encode(), got)
			}
		}
	})
}

// TestFixtureTransactionResponse holds the responses to the example of a
// Provide Document Bundle response: a transaction-response with one
// entry per request entry, in order, each 201 with its location. The
// example itself is a response, which the server does not take as a
// request.
func TestFixtureTransactionResponse(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		example := fixture(t, "Bundle-a9c10f8a-882d-4000-a280-7150e0aeb478.json")
		e.do(http.MethodPost, "", example).outcome(t, http.StatusBadRequest, "transaction-response")

		r := e.do(http.MethodPost, "", provideBundle(testSubject, doc{master: masterFor("response")})).must(t, http.StatusOK)
		ours := entries(r.json)
		if str(r.json, "type") != str(example, "type") || len(ours) != len(entries(example)) {
			t.Fatalf("response: %s", r.body)
		}
		for i, want := range entries(example) {
			got := ours[i]["response"].(map[string]any)
			typ := strings.Split(str(want, "response.location"), "/")[0]
			if !strings.HasPrefix(str(got, "status"), str(want, "response.status")) || !strings.HasPrefix(str(got, "location"), typ+"/") || str(got, "etag") == "" {
				t.Errorf("entry %d: %v; the example has %v", i, got, want["response"])
			}
		}
	})
}

// TestFixtureOpenAPI serves every interaction the repository's OpenAPI
// description (PDSm Gestionnaire de partage de documents) publishes, and
// every search parameter it lists but the three chained ones through the
// author's or source's own resources (PDSm_authorOrg,
// PDSm_List_PatientAsSource, PDSm_List_PractitionerRoleAsSource), which
// docs/PDSM.md says how to replace.
func TestFixtureOpenAPI(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(pdsmFixtures, "PDSm-GestionnaireDePartageDeDocuments.openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	api := fixtureJSON(t, data)
	unsupported := []string{"PDSm_authorOrg", "PDSm_List_PatientAsSource", "PDSm_List_PractitionerRoleAsSource"}
	// Two names of the description are not parameter names but labels
	// with a space; they stand for patient and author.
	names := map[string]string{"DocumentReference Patient": "patient", "DocumentRefence Author": "author"}
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, path := range []string{"List", "DocumentReference"} {
			params := at(api, "paths./"+path+".get.parameters").([]any)
			for _, p := range params {
				name := str(p, "name")
				if name == "" || slices.Contains(unsupported, name) {
					continue
				}
				if n, ok := names[name]; ok {
					name = n
				}
				value := "x"
				if strings.Contains(str(p, "schema.pattern"), "[0-9]") {
					value = "2025-01-01"
				}
				if name == "patient" || name == "author" || name == "source" || name == "relatesto" {
					value = "Patient/x"
				}
				e.do(http.MethodGet, path+"?"+url.Values{name: {value}}.Encode(), nil, "Prefer", "handling=strict").must(t, http.StatusOK)
			}
		}
		e.do(http.MethodGet, "metadata", nil).must(t, http.StatusOK)
		e.do(http.MethodGet, "List/none", nil).outcome(t, http.StatusNotFound)
		e.do(http.MethodGet, "Binary/none", nil).outcome(t, http.StatusNotFound)
		id := e.deposited(t, testSubject, doc{master: masterFor("openapi")})[0]
		e.do(http.MethodGet, "DocumentReference/"+id, nil).must(t, http.StatusOK)
		// PATCH, in both the media types the description gives.
		e.jsonPatch(id, `[{"op": "replace", "path": "/status", "value": "entered-in-error"}]`).must(t, http.StatusOK)
		e.do(http.MethodPatch, "DocumentReference/"+id, map[string]any{"resourceType": "Parameters", "parameter": []any{
			map[string]any{"name": "operation", "part": []any{
				map[string]any{"name": "type", "valueCode": "add"},
				map[string]any{"name": "path", "valueString": "DocumentReference"},
				map[string]any{"name": "name", "valueString": "extension"},
				map[string]any{"name": "value", "part": []any{
					map[string]any{"name": "url", "valueUri": "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived"},
					map[string]any{"name": "value", "valueBoolean": true},
				}},
			}},
		}}).must(t, http.StatusOK)
		if got := e.search(t, "DocumentReference", url.Values{"PDSm_isArchived": {"true"}}); !slices.Equal(got, []string{id}) {
			t.Errorf("archived by FHIRPath Patch: found %v", got)
		}
	})
}
