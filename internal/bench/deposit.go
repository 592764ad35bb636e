package bench

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/document"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/ins"
	"github.com/carnet-sante/carnet/internal/store"
)

// Deposit is one ITI-65 Provide Document Bundle, shaped as PDSm describes
// it (domain/france.md §4): a SubmissionSet List, then for each document
// its DocumentReference and its Binary. References between entries are
// the entries' fullUrls (urn:uuid:), as a producer sends them.
type Deposit struct {
	Patient *Patient
	Entries []Entry
	// Contents are the documents' bytes, in the order of their entries.
	Contents [][]byte
	// Bytes is the size of the documents, before base64.
	Bytes int
}

// Entry is one resource of a Deposit. ID is the uuid of its fullUrl, which
// the store-level deposit (the ceiling) also uses as the logical id.
type Entry struct {
	Type, ID string
	Resource map[string]any
	// IfNoneExist, when set, makes the entry a conditional create: a rerun
	// against the same server finds what the first run stored.
	IfNoneExist string
}

// FullURL is the entry's fullUrl.
func (e *Entry) FullURL() string { return "urn:uuid:" + e.ID }

// NewDeposit builds a deposit of n documents of kind k for patient p,
// written by author a at `at`. The patient must have been stored (p.ID).
func NewDeposit(r *rand.Rand, k Kind, n int, p *Patient, a *Professional, at time.Time) *Deposit {
	d := &Deposit{Patient: p}
	list := Entry{Type: "List", ID: newUUID(r)}
	d.Entries = append(d.Entries, list)
	var items []any
	for range n {
		ref, bin := Entry{Type: "DocumentReference", ID: newUUID(r)}, Entry{Type: "Binary", ID: newUUID(r)}
		uniqueID := "urn:uuid:" + newUUID(r)
		doc := Document(r, k, p, a, uniqueID, at)
		d.Bytes += len(doc)
		d.Contents = append(d.Contents, doc)
		sum := sha1.Sum(doc)
		bin.Resource = map[string]any{
			"resourceType": "Binary",
			"contentType":  k.ContentType,
			"data":         base64.StdEncoding.EncodeToString(doc),
		}
		ref.Resource = documentReference(k, p, a, at, uniqueID, bin.FullURL(), len(doc), sum[:])
		items = append(items, map[string]any{"item": map[string]any{"reference": ref.FullURL()}})
		d.Entries = append(d.Entries, ref, bin)
	}
	d.Entries[0].Resource = submissionSet(p, a, at, items, "urn:uuid:"+newUUID(r))
	return d
}

// Bundle encodes the deposit as the transaction Bundle a producer POSTs.
func (d *Deposit) Bundle() ([]byte, error) {
	entries := make([]any, len(d.Entries))
	for i := range d.Entries {
		e := &d.Entries[i]
		req := map[string]any{"method": "POST", "url": e.Type}
		if e.IfNoneExist != "" {
			req["ifNoneExist"] = e.IfNoneExist
		}
		entries[i] = map[string]any{"fullUrl": e.FullURL(), "resource": e.Resource, "request": req}
	}
	return json.Marshal(map[string]any{
		"resourceType": "Bundle",
		"meta":         map[string]any{"profile": []any{"https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-comprehensive-provide-document-bundle"}},
		"type":         "transaction",
		"entry":        entries,
	})
}

// Stored returns what the server stores of the deposit, given where the
// vault put each document (refs, in the order of Contents): each entry's
// logical id is its fullUrl's uuid, references between entries become
// Type/id, meta gets version 1 and the time, every resource carries its
// search values and patient key, each Binary holds a pointer to its bytes
// instead of them, and each document has its outbox event. Only
// validation, the PDSm checks and HTTP are left out: this is what the
// ceiling stores.
func (d *Deposit) Stored(at time.Time, refs []blob.Ref) ([]store.Write, []store.Event, error) {
	if len(refs) != len(d.Contents) {
		return nil, nil, fmt.Errorf("bench: %d blob refs for %d documents", len(refs), len(d.Contents))
	}
	ids := make(map[string]string, len(d.Entries))
	for i := range d.Entries {
		e := &d.Entries[i]
		ids[e.FullURL()] = e.Type + "/" + e.ID
	}
	var events []store.Event
	writes := make([]store.Write, len(d.Entries))
	for i := range d.Entries {
		e := &d.Entries[i]
		var res map[string]any
		switch e.Type {
		case "Binary":
			res = pointerBinary(e.Resource["contentType"].(string), d.Patient.ID, refs[(i-1)/2])
		case "DocumentReference":
			events = append(events, store.Event{ID: document.EventDeposited + "/" + e.ID, Type: document.EventDeposited,
				PatientKey: d.Patient.ID, Subject: "DocumentReference/" + e.ID, Time: at})
			fallthrough
		default:
			res = resolve(e.Resource, ids).(map[string]any)
		}
		res["id"] = e.ID
		res["meta"] = map[string]any{"versionId": "1", "lastUpdated": at.Format("2006-01-02T15:04:05.000Z07:00")}
		index, err := searchparam.Extract(e.Type, res)
		if err != nil {
			return nil, nil, fmt.Errorf("bench: index %s: %w", e.Type, err)
		}
		var key string
		if refs := searchparam.PatientRefs(e.Type, res); len(refs) > 0 {
			key = refs[0]
		}
		content, err := json.Marshal(res)
		if err != nil {
			return nil, nil, err
		}
		writes[i] = store.Write{
			Resource: store.Resource{Type: e.Type, ID: e.ID, PatientKey: key, Version: 1, LastUpdated: at, Content: content},
			Index:    index,
		}
	}
	return writes, events, nil
}

// pointerBinary is the Binary the server stores for a document whose
// bytes are in the vault: its media type, its patient, and where the bytes
// are (the document-blob extension of package document).
func pointerBinary(contentType, patientID string, ref blob.Ref) map[string]any {
	return map[string]any{
		"resourceType":    "Binary",
		"contentType":     contentType,
		"securityContext": map[string]any{"reference": "Patient/" + patientID},
		"_data": map[string]any{"extension": []any{map[string]any{
			"url": document.ExtBlob,
			"extension": []any{
				map[string]any{"url": "key", "valueString": ref.Key},
				map[string]any{"url": "size", "valueUnsignedInt": json.Number(strconv.FormatInt(ref.Size, 10))},
				map[string]any{"url": "sha1", "valueBase64Binary": base64.StdEncoding.EncodeToString(ref.SHA1[:])},
				map[string]any{"url": "sha256", "valueBase64Binary": base64.StdEncoding.EncodeToString(ref.SHA256[:])},
			},
		}}},
	}
}

// resolve copies a decoded JSON value, replacing the strings of
// "reference" and "url" elements that ids maps (fullUrls) by their
// Type/id, as the server does in a transaction.
func resolve(v any, ids map[string]string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "reference" || k == "url") {
				if id, ok := ids[s]; ok {
					out[k] = id
					continue
				}
			}
			out[k] = resolve(x, ids)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = resolve(x, ids)
		}
		return out
	}
	return v
}

// StoredDocument locates a deposited document: its DocumentReference and
// the attachment.url to retrieve its bytes from.
type StoredDocument struct {
	PatientID, ReferenceID, BinaryURL string
}

// ParseReply reads the transaction-response of a deposit (one entry per
// request entry, in order, each a success with a location) and returns
// where the server stored the documents.
func (d *Deposit) ParseReply(body []byte) ([]StoredDocument, error) {
	locs, err := locations(body, len(d.Entries))
	if err != nil {
		return nil, err
	}
	var out []StoredDocument
	for i := 1; i+1 < len(locs); i += 2 {
		out = append(out, StoredDocument{
			PatientID:   d.Patient.ID,
			ReferenceID: idOf(locs[i], "DocumentReference"),
			BinaryURL:   typeAndID(locs[i+1]),
		})
	}
	return out, nil
}

// typeAndID cuts "Type/id/_history/n" (possibly absolute) to "Type/id".
func typeAndID(location string) string {
	parts := strings.Split(location, "/")
	if i := len(parts) - 4; i >= 0 && parts[len(parts)-2] == "_history" {
		return parts[i] + "/" + parts[i+1]
	}
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return location
}

func idOf(location, typ string) string {
	return strings.TrimPrefix(typeAndID(location), typ+"/")
}

const (
	systemClass      = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
	systemFormat     = "https://mos.esante.gouv.fr/NOS/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode"
	systemFacility   = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
	systemSetting    = "https://mos.esante.gouv.fr/NOS/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice"
	systemConfidence = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	systemSpecialty  = "urn:oid:1.2.250.1.213.1.1.4.5" // author specialty, J01
)

func coding(system, code, display string) map[string]any {
	c := map[string]any{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return map[string]any{"coding": []any{c}}
}

// author is the contained PractitionerRole PDSm wants as author, with its
// Practitioner and Organization contained alongside.
func author(a *Professional) []any {
	return []any{
		map[string]any{
			"resourceType": "PractitionerRole", "id": "author",
			"practitioner": map[string]any{"reference": "#practitioner"},
			"organization": map[string]any{"reference": "#organization"},
			"specialty":    []any{coding(systemSpecialty, a.Specialty, "")},
		},
		map[string]any{
			"resourceType": "Practitioner", "id": "practitioner",
			"identifier": []any{map[string]any{"system": directory.SystemIdNatPS, "value": a.IdNatPS()}},
			"name":       []any{map[string]any{"family": a.Family, "given": []any{a.Given}, "prefix": []any{"DR"}}},
		},
		map[string]any{
			"resourceType": "Organization", "id": "organization",
			"identifier": []any{map[string]any{"system": directory.SystemIdNatStruct, "value": a.Structure}},
			"name":       a.Institution,
		},
	}
}

func documentReference(k Kind, p *Patient, a *Professional, at time.Time, uniqueID, binaryURL string, size int, sha []byte) map[string]any {
	when := at.Format(time.RFC3339)
	contained := author(a)
	contained = append(contained, map[string]any{
		"resourceType": "Patient", "id": "source-patient",
		"identifier": []any{map[string]any{"system": ins.SystemNIRDemo, "value": p.NIR.String()}},
		"name":       []any{map[string]any{"use": "official", "family": p.Traits.BirthName, "given": []any{p.Traits.FirstGivenName}}},
		"gender":     p.Traits.Sex.String(),
		"birthDate":  p.Traits.BirthDate,
	})
	return map[string]any{
		"resourceType":     "DocumentReference",
		"meta":             map[string]any{"profile": []any{"https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-comprehensive-document-reference"}},
		"contained":        contained,
		"masterIdentifier": map[string]any{"system": "urn:ietf:rfc:3986", "value": uniqueID},
		"status":           "current",
		"type":             coding("http://loinc.org", k.Type, k.TypeDisplay),
		"category":         []any{coding(systemClass, k.Class, k.ClassDisplay)},
		"subject":          map[string]any{"reference": "Patient/" + p.ID},
		"date":             when,
		"author":           []any{map[string]any{"reference": "#author"}},
		"custodian":        map[string]any{"reference": "#organization"},
		"description":      k.TypeDisplay,
		"securityLabel":    []any{coding(systemConfidence, "N", "normal")},
		"content": []any{map[string]any{
			"attachment": map[string]any{
				"contentType": k.ContentType,
				"language":    "fr-FR",
				"url":         binaryURL,
				"size":        json.Number(strconv.Itoa(size)),
				"hash":        base64.StdEncoding.EncodeToString(sha),
				"title":       k.TypeDisplay,
				"creation":    when,
			},
			"format": map[string]any{"system": systemFormat, "code": k.Format},
		}},
		"context": map[string]any{
			"period":            map[string]any{"start": at.Add(-30 * time.Minute).Format(time.RFC3339), "end": when},
			"facilityType":      coding(systemFacility, "SA07", "Cabinet individuel"),
			"practiceSetting":   coding(systemSetting, "AMBULATOIRE", "Ambulatoire"),
			"sourcePatientInfo": map[string]any{"reference": "#source-patient"},
		},
	}
}

func submissionSet(p *Patient, a *Professional, at time.Time, items []any, uniqueID string) map[string]any {
	return map[string]any{
		"resourceType": "List",
		"meta":         map[string]any{"profile": []any{"https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-submissionset-comprehensive"}},
		"contained":    author(a),
		"extension": []any{
			map[string]any{"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType",
				"valueCodeableConcept": coding(systemFacility, "SA07", "Cabinet individuel")},
			map[string]any{"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
				"valueIdentifier": map[string]any{"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.1"}},
		},
		"identifier": []any{map[string]any{"use": "usual", "system": "urn:ietf:rfc:3986", "value": uniqueID}},
		"status":     "current",
		"mode":       "working",
		"code":       coding("https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes", "submissionset", ""),
		"subject":    map[string]any{"reference": "Patient/" + p.ID},
		"date":       at.Format(time.RFC3339),
		"source":     map[string]any{"reference": "#author"},
		"entry":      items,
	}
}
