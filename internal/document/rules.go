package document

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/store"
)

// documentRule is the rule on the writes of DocumentReference, in the
// store transaction. A create carries out the plan of the Preparer: the
// patient of a first deposit created, the Binary and the SubmissionSet of a
// Simplified Publish created, the replaced documents checked and, when
// the Bundle does not do it itself, marked superseded, and the outbox
// event written. An update or patch is a metadata update (metadata.go).
func (s *Service) documentRule(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
	p := planOf(ctx)
	var dep *deposit
	if p != nil && w.Previous == nil {
		dep = p.docs[w.ID]
	}
	if w.Interaction != rest.InteractionCreate && dep == nil {
		return s.metadataUpdate(ctx, tx, w)
	}
	if dep == nil {
		return nil, refuse(http.StatusUnprocessableEntity, "business-rule", "DocumentReference",
			"documents are deposited by a Provide Document Bundle (ITI-65, a transaction) or a Simplified Publish (ITI-105, POST DocumentReference)")
	}
	if err := s.ensurePatient(ctx, tx, w, p, dep.patient, "DocumentReference.subject"); err != nil {
		return nil, err
	}
	if dep.createBinary {
		if err := putIfAbsent(ctx, tx, w, "Binary", dep.binary, pointerBinary(dep.contentType, dep.patient, dep.ref)); err != nil {
			return nil, err
		}
	}
	if dep.submissionSet != "" {
		if err := putIfAbsent(ctx, tx, w, "List", dep.submissionSet, derivedSubmissionSet(w, dep)); err != nil {
			return nil, err
		}
	}
	issues, err := replace(ctx, tx, w, p, dep.patient)
	if err != nil {
		return nil, err
	}
	return issues, emit(ctx, tx, EventDeposited, dep.patient, w.ID, w.At, "")
}

// putIfAbsent creates typ/id with res unless it exists.
func putIfAbsent(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest, typ, id string, res map[string]any) error {
	r, err := tx.Read(ctx, typ, id)
	switch {
	case err == nil && !r.Deleted:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	return w.Put(ctx, typ, id, res)
}

// replace checks the documents a new one replaces (relatesTo, code
// replaces): current documents of the same patient. The Provide Document
// Bundle marks each superseded with a PATCH entry (MHD's UpdateDocumentRefs);
// when it lacks one, the rule does it, with a warning, so that a replaced
// document never stays current.
func replace(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest, p *plan, patient string) ([]rest.Issue, error) {
	var issues []rest.Issue
	for _, rel := range objects(w.Resource, "relatesTo") {
		if str(rel.m, "code") != "replaces" {
			continue
		}
		expr := fmt.Sprintf("DocumentReference.relatesTo[%d].target", rel.i)
		typ, id, ok := refID(str(rel.m, "target", "reference"))
		if !ok || typ != "DocumentReference" {
			return nil, refuse(422, "invalid", expr, "the replaced document is named DocumentReference/[id], not %q", str(rel.m, "target", "reference"))
		}
		old, err := tx.Read(ctx, "DocumentReference", id)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && old.Deleted:
			return nil, refuse(422, "not-found", expr, "DocumentReference/%s, the document to replace, is not known", id)
		case err != nil:
			return nil, err
		case old.PatientKey != patient:
			return nil, refuse(422, "business-rule", expr, "DocumentReference/%s is another patient's document: a document replaces one of its own patient", id)
		}
		res, err := decode(old.Content)
		if err != nil {
			return nil, fmt.Errorf("decoding DocumentReference/%s: %w", id, err)
		}
		if st := str(res, "status"); st != "current" {
			return nil, refuse(422, "business-rule", expr, "DocumentReference/%s is %s: only a current document can be replaced", id, st)
		}
		if p.patched[id] {
			continue
		}
		res["status"] = "superseded"
		if err := w.Put(ctx, "DocumentReference", id, res); err != nil {
			return nil, err
		}
		issues = append(issues, rest.Issue{Severity: "warning", Code: "informational", Expression: []string{expr},
			Diagnostics: fmt.Sprintf("%s: no PATCH entry marks DocumentReference/%s superseded (MHD UpdateDocumentRefs): it was marked superseded", expr, id)})
	}
	return issues, nil
}

// derivedSubmissionSet is the SubmissionSet a Simplified Publish creates
// for its document (ITI-105): the same patient and author, now.
func derivedSubmissionSet(w *rest.WriteRequest, dep *deposit) map[string]any {
	list := map[string]any{
		"resourceType": "List",
		"identifier": []any{map[string]any{
			"use": "usual", "system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + uuidOf(dep.submissionSet),
		}},
		"status":  "current",
		"mode":    "working",
		"code":    map[string]any{"coding": []any{map[string]any{"system": mhdListTypes, "code": submissionSet}}},
		"subject": map[string]any{"reference": "Patient/" + dep.patient},
		"date":    w.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"entry":   []any{map[string]any{"item": map[string]any{"reference": "DocumentReference/" + w.ID}}},
	}
	if authors := objects(w.Resource, "author"); len(authors) > 0 {
		source := rest.CloneJSON(authors[0].m).(map[string]any)
		if ref := str(source, "reference"); len(ref) > 1 && ref[0] == '#' {
			if c := contained(w.Resource, ref[1:]); c != nil {
				list["contained"] = []any{rest.CloneJSON(c)}
			}
		}
		list["source"] = source
	}
	return list
}

// listRule makes sure the patient of a SubmissionSet or Folder the
// Preparer planned exists and takes deposits.
func (s *Service) listRule(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
	p := planOf(ctx)
	if p == nil {
		return nil, nil
	}
	patient, ok := p.lists[w.ID]
	if !ok {
		return nil, nil
	}
	return nil, s.ensurePatient(ctx, tx, w, p, patient, "List.subject")
}

// binaryRule lets a Binary be written only as the pointer the Preparer
// made of a deposited document's bytes: Binary data never reaches the
// database, and a document's bytes never change once deposited.
func binaryRule(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
	refused := refuse(http.StatusUnprocessableEntity, "business-rule", "Binary",
		"a Binary holds the bytes of a document: it is written by depositing the document (ITI-65 Provide Document Bundle, ITI-105 Simplified Publish), and never changed afterwards")
	p := planOf(ctx)
	if w.Interaction == rest.InteractionPatch || p == nil || !p.binaries[w.ID] {
		return nil, refused
	}
	if w.Previous != nil {
		prev, err := decode(w.Previous.Content)
		if err != nil {
			return nil, err
		}
		a, _, _ := readPointer(prev)
		b, _, _ := readPointer(w.Resource)
		if a.key != b.key {
			return nil, refused
		}
	}
	return nil, nil
}
