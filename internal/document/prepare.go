package document

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// MHD list types (List.code, system MHDlistTypes).
const (
	mhdListTypes  = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
	submissionSet = "submissionset"
	folder        = "folder"
)

// simplifiedProfiles are the profiles of a Simplified Publish
// DocumentReference: PDSm's (under both its ids) and MHD's.
var simplifiedProfiles = []string{
	"https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-simplified-publish",
	"https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/PDSm-SimplifiedPublish",
	"https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.SimplifiedPublish.DocumentReference",
}

// pending is a document being prepared.
type pending struct {
	entry *rest.PrepareEntry
	rep   *report
	att   map[string]any
	data  []byte
	sub   *subject
	// binary is the Binary entry holding the bytes, nil when they are
	// inline (attachment.data).
	binary *rest.PrepareEntry
	// existing is the id of the DocumentReference this document was
	// deposited as already, "" for a new one.
	existing string
}

// Prepare implements rest.Preparer. For a request that deposits documents
// (ITI-65, ITI-105) or writes SubmissionSets and Folders, it checks every
// document and list and resolves their patient, then stores the bytes of
// the new documents in the vault, and rewrites the entries so that the
// store transaction stores pointers: the Binary entries become pointer
// Binaries, the DocumentReferences point to them (attachment.url) and to
// their patient by id, and each gets an id derived from what identifies
// it. A document deposited already (same masterIdentifier, same patient,
// same bytes) becomes a conditional create that finds it: nothing is
// written, and the response points to it.
//
// Every problem found is reported at once; nothing is stored when there
// is one.
func (s *Service) Prepare(ctx context.Context, r *rest.PrepareRequest) (context.Context, error) {
	p := newPlan()
	var docs, lists []*rest.PrepareEntry
	for _, e := range r.Entries {
		switch {
		case e.Method == http.MethodDelete && (e.Type == "DocumentReference" || e.Type == "Binary"):
			rep := &report{prefix: prefixOf(r, e)}
			rep.fail(http.StatusMethodNotAllowed, "business-rule", e.Type,
				"a deposited document is not deleted: withdraw it by a metadata update of its DocumentReference (status entered-in-error), which keeps what was shared and when")
			return ctx, rep.err()
		case e.Type == "DocumentReference" && e.Method == http.MethodPost:
			docs = append(docs, e)
		case e.Type == "DocumentReference" && e.Method == http.MethodPut && e.ID != "":
			// A PUT that creates deposits, with the client's id.
			exists, err := s.exists(ctx, "DocumentReference", e.ID)
			if err != nil {
				return ctx, err
			}
			if !exists {
				docs = append(docs, e)
			}
		case e.Type == "DocumentReference" && e.Method == http.MethodPatch && e.ID != "":
			p.patched[e.ID] = true
		case e.Type == "List" && e.Resource != nil && listKind(e.Resource) != "":
			lists = append(lists, e)
		}
	}
	if len(docs) == 0 && len(lists) == 0 {
		return withPlan(ctx, p), nil
	}

	var reports []*report
	var pendings []*pending
	for _, e := range docs {
		d, err := s.prepareDocument(ctx, r, e, p)
		if err != nil {
			return ctx, err
		}
		pendings = append(pendings, d)
		reports = append(reports, d.rep)
	}
	listSubjects := map[*rest.PrepareEntry]*subject{}
	listReports := make([]*report, len(lists))
	for i, e := range lists {
		listReports[i] = &report{prefix: prefixOf(r, e)}
		sub, err := s.prepareList(ctx, listReports[i], r, e, p)
		if err != nil {
			return ctx, err
		}
		listSubjects[e] = sub
	}
	reports = append(reports, listReports...)
	bundle := &report{}
	reports = append(reports, bundle)
	if r.Bundle && len(docs) > 0 {
		n := 0
		for _, e := range lists {
			if listKind(e.Resource) == submissionSet && e.Method == http.MethodPost {
				n++
			}
		}
		if n != 1 {
			bundle.fail(422, "business-rule", "Bundle", "a transaction that deposits documents is a Provide Document Bundle (ITI-65): it creates one SubmissionSet List (List.code %s|%s), not %d", mhdListTypes, submissionSet, n)
		}
	}
	checkOnePatient(bundle, pendings, listSubjects)
	if err := combine(reports); err != nil {
		return ctx, err
	}

	refs, err := s.putAll(ctx, pendings)
	if err != nil {
		return ctx, err
	}
	for i, d := range pendings {
		s.store1(r, d, refs[i], p)
		d.entry.Issues = append(d.entry.Issues, d.rep.warnings...)
	}
	for i, e := range lists {
		if sub := listSubjects[e]; sub != nil {
			setSubject(e.Resource, sub.id)
		}
		e.Issues = append(e.Issues, listReports[i].warnings...)
	}
	return withPlan(ctx, p), nil
}

// exists reports whether typ/id exists, not deleted.
func (s *Service) exists(ctx context.Context, typ, id string) (bool, error) {
	r, err := s.store.Read(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && !r.Deleted, err
}

// prefixOf says which Bundle entry a message is about.
func prefixOf(r *rest.PrepareRequest, e *rest.PrepareEntry) string {
	if !r.Bundle {
		return ""
	}
	return fmt.Sprintf("Bundle.entry[%d]: ", e.Index)
}

// prepareDocument checks one DocumentReference to create, finds its bytes
// and its patient, and whether it was deposited already.
func (s *Service) prepareDocument(ctx context.Context, r *rest.PrepareRequest, e *rest.PrepareEntry, p *plan) (*pending, error) {
	res := e.Resource
	d := &pending{entry: e, rep: &report{prefix: prefixOf(r, e)}}
	prof := comprehensive
	if !r.Bundle || hasProfile(res, simplifiedProfiles) {
		prof = simplified
	}
	s.checkDocumentReference(d.rep, res, prof)
	const expr = "DocumentReference.content[0].attachment"
	if contents := objects(res, "content"); len(contents) == 1 {
		d.att = object(contents[0].m, "attachment")
		d.data, d.binary = s.contentOf(d.rep, r, d.att, expr)
		if d.data != nil {
			checkIntegrity(d.rep, expr, d.att, d.data)
		}
	}
	if subj := object(res, "subject"); subj != nil {
		var err error
		if d.sub, err = s.resolveSubject(ctx, d.rep, "DocumentReference.subject", subj, r, res, p); err != nil {
			return nil, err
		}
	}
	if d.data != nil && d.sub != nil && isXML(str(d.att, "contentType")) {
		format := object(objects(res, "content")[0].m, "format")
		if format == nil || isCDAFormat(format) {
			s.checkCDA(d.rep, expr, d.data, res, d.sub.insSystem, d.sub.insValue, confidentialityLevel(res))
		}
	}
	if d.rep.failed() {
		return d, nil
	}
	identifyAuthors(res)
	var err error
	d.existing, err = s.existing(ctx, d)
	return d, err
}

// identifyAuthors copies the national identifier of each contained author
// (IdNatPS, else RPPS, else its first) onto its reference, so that a
// search finds the documents of a professional with
// author:identifier=<system>|<value> although the author is contained.
func identifyAuthors(res map[string]any) {
	for _, a := range objects(res, "author") {
		ref := str(a.m, "reference")
		if a.m["identifier"] != nil || !strings.HasPrefix(ref, "#") {
			continue
		}
		ids := objects(contained(res, ref[1:]), "identifier")
		if len(ids) == 0 {
			continue
		}
		best := ids[0].m
		for _, id := range ids {
			if system := str(id.m, "system"); system == "urn:oid:1.2.250.1.71.4.2.1" || system == "https://rpps.esante.gouv.fr" && str(best, "system") != "urn:oid:1.2.250.1.71.4.2.1" {
				best = id.m
			}
		}
		a.m["identifier"] = map[string]any{"system": str(best, "system"), "value": str(best, "value")}
	}
}

// contentOf returns the bytes of a document: inline in attachment.data, or
// in the Binary entry of the Bundle that attachment.url names (returned).
func (s *Service) contentOf(rep *report, r *rest.PrepareRequest, att map[string]any, expr string) ([]byte, *rest.PrepareEntry) {
	data, u := str(att, "data"), str(att, "url")
	switch {
	case data != "":
		if u != "" {
			rep.warn("business-rule", expr+".url", "ignored: the document is in attachment.data, and the url is set to where the server stores it")
		}
		b, _ := s.decodeContent(rep, expr+".data", data)
		return b, nil
	case !r.Bundle:
		rep.fail(422, "required", expr+".data", "POST DocumentReference is a Simplified Publish (ITI-105): give the document in attachment.data (base64); to send it in a Binary, use a Provide Document Bundle (ITI-65)")
		return nil, nil
	case u == "":
		rep.fail(422, "required", expr+".url", "the document is missing: give the url of its Binary entry in the Bundle")
		return nil, nil
	}
	rel := strings.TrimPrefix(u, r.Base+"/")
	for _, b := range r.Entries {
		if b.Type != "Binary" || b.Resource == nil {
			continue
		}
		if b.FullURL != "" && (b.FullURL == u || b.FullURL == r.Base+"/"+rel) || b.Method == http.MethodPut && rel == "Binary/"+b.ID {
			if ct, bct := str(att, "contentType"), str(b.Resource, "contentType"); ct != bct {
				rep.fail(422, "business-rule", expr+".contentType", "%q, but the Binary it points to is %q", ct, bct)
			}
			if str(b.Resource, "data") == "" {
				rep.fail(422, "required", expr+".url", "the Binary entry %d has no data", b.Index)
				return nil, nil
			}
			data, _ := s.decodeContent(rep, fmt.Sprintf("Bundle.entry[%d].resource.data", b.Index), str(b.Resource, "data"))
			return data, b
		}
	}
	rep.fail(422, "not-found", expr+".url", "%q is not a Binary entry of the Bundle: the Provide Document Bundle carries the documents it deposits", u)
	return nil, nil
}

// existing looks for the document already deposited under the same
// masterIdentifier: it must be the same patient's, with the same bytes
// (else the deposit is refused, as an XDS registry refuses a uniqueId
// reused for another document); "" when there is none.
func (s *Service) existing(ctx context.Context, d *pending) (string, error) {
	const expr = "DocumentReference.masterIdentifier"
	mi := object(d.entry.Resource, "masterIdentifier")
	old, found, err := s.byMasterIdentifier(ctx, str(mi, "system"), str(mi, "value"))
	if err != nil || !found {
		return "", err
	}
	id := old.ID
	if old.Deleted {
		d.rep.fail(http.StatusConflict, "duplicate", expr, "this unique id was the document's of a DocumentReference since deleted: a new document needs a new unique id")
		return "", nil
	}
	if old.PatientKey != d.sub.id {
		d.rep.fail(http.StatusConflict, "duplicate", expr, "this unique id is another patient's document's: a new document needs a new unique id")
		return "", nil
	}
	res, err := decode(old.Content)
	if err != nil {
		return "", fmt.Errorf("decoding DocumentReference/%s: %w", id, err)
	}
	var oldAtt map[string]any
	if contents := objects(res, "content"); len(contents) > 0 {
		oldAtt = object(contents[0].m, "attachment")
	}
	if str(oldAtt, "hash") != str(d.att, "hash") || fmt.Sprint(oldAtt["size"]) != fmt.Sprint(d.att["size"]) {
		d.rep.fail(http.StatusConflict, "duplicate", expr, "a document with this unique id and other bytes is deposited already, as DocumentReference/%s (XDSNonIdenticalHash): a new document needs a new unique id", id)
		return "", nil
	}
	if d.entry.Method == http.MethodPut {
		d.rep.fail(http.StatusConflict, "duplicate", expr, "this document was deposited already, as DocumentReference/%s", id)
		return "", nil
	}
	d.rep.warn("duplicate", expr, "this document was deposited already, as DocumentReference/%s (status %s): nothing new is stored", id, str(res, "status"))
	if _, bid, ok := refID(str(oldAtt, "url")); ok && d.binary != nil {
		d.binary.ID, d.binary.IfNoneExist = bid, "_id="+bid
	}
	return id, nil
}

// byMasterIdentifier finds the DocumentReference of a masterIdentifier:
// under the id derived from it, which deposits give, or else (a document
// PUT with its own id) by a search.
func (s *Service) byMasterIdentifier(ctx context.Context, system, value string) (store.Resource, bool, error) {
	old, err := s.store.Read(ctx, "DocumentReference", documentID(system, value))
	if err == nil {
		return old, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return old, false, err
	}
	req, err := search.Parse("DocumentReference", url.Values{"identifier": {system + "|" + value}}, search.Options{})
	if err != nil {
		return old, false, err
	}
	q := req.Query
	q.Count = 10
	page, err := s.store.Search(ctx, &q)
	if err != nil {
		return old, false, err
	}
	for _, r := range page.Resources {
		res, err := decode(r.Content)
		if err != nil {
			return old, false, err
		}
		if str(res, "masterIdentifier", "system") == system && str(res, "masterIdentifier", "value") == value {
			return r, true, nil
		}
	}
	return old, false, nil
}

// maxPuts bounds the documents of one request whose bytes are put in the
// vault at once.
const maxPuts = 8

// putAll stores the bytes of the new documents in the vault, several at
// once, and returns the ref of each (the zero Ref for a document deposited
// already). On failure it returns the first error, once the puts under
// way have ended; the puts not started yet are not made.
func (s *Service) putAll(ctx context.Context, ds []*pending) ([]blob.Ref, error) {
	refs := make([]blob.Ref, len(ds))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		stopped  bool
	)
	sem := make(chan struct{}, maxPuts)
	for i, d := range ds {
		if d.existing != "" {
			continue
		}
		sem <- struct{}{}
		if ctx.Err() != nil { // a put failed, or the request ended
			stopped = true
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			ref, err := s.vault.Put(ctx, d.sub.id, bytes.NewReader(d.data))
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("storing the document's bytes: %w", err)
					cancel()
				}
				mu.Unlock()
				return
			}
			refs[i] = ref
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if stopped { // ctx ended before every put started
		return nil, fmt.Errorf("storing the document's bytes: %w", ctx.Err())
	}
	return refs, nil
}

// store1 rewrites the entries of a new document whose bytes are stored
// under ref; a document deposited already becomes a conditional create
// that finds it.
func (s *Service) store1(r *rest.PrepareRequest, d *pending, ref blob.Ref, p *plan) {
	e := d.entry
	if d.existing != "" {
		e.ID, e.IfNoneExist = d.existing, "_id="+d.existing
		return
	}
	if e.Method == http.MethodPost {
		mi := object(e.Resource, "masterIdentifier")
		e.ID = documentID(str(mi, "system"), str(mi, "value"))
	}
	dep := &deposit{patient: d.sub.id, ref: ref, contentType: str(d.att, "contentType"), binary: binaryID(d.sub.id, sha256.Sum256(d.data))}
	switch {
	case d.binary == nil:
		dep.createBinary = true
	case d.binary.Method == http.MethodPost:
		d.binary.ID, d.binary.IfNoneExist = dep.binary, "_id="+dep.binary
	default: // PUT Binary/[id]: the id is the client's
		dep.binary = d.binary.ID
	}
	if d.binary != nil {
		d.binary.Resource = pointerBinary(str(d.binary.Resource, "contentType"), d.sub.id, ref)
	}
	if !r.Bundle {
		dep.submissionSet = hashID("l", "SubmissionSet", e.ID)
	}
	p.binaries[dep.binary] = true
	p.docs[e.ID] = dep
	delete(d.att, "data")
	d.att["url"] = "Binary/" + dep.binary
	setSubject(e.Resource, d.sub.id)
}

// prepareList checks a SubmissionSet or Folder List and resolves its
// patient. A list deposited already (same uniqueId, the identifier of use
// usual) becomes a conditional create that finds it.
func (s *Service) prepareList(ctx context.Context, rep *report, r *rest.PrepareRequest, e *rest.PrepareEntry, p *plan) (*subject, error) {
	res := e.Resource
	subj := object(res, "subject")
	if subj == nil {
		rep.fail(422, "required", "List.subject", "a %s is about one patient: the subject is required", listKind(res))
		return nil, nil
	}
	if listKind(res) == submissionSet && e.Method == http.MethodPost {
		if str(res, "date") == "" {
			rep.warn("required", "List.date", "the date of the submission (submissionTime) should be given")
		}
		if res["source"] == nil {
			rep.warn("required", "List.source", "the author of the submission should be given")
		}
	}
	sub, err := s.resolveSubject(ctx, rep, "List.subject", subj, r, nil, p)
	if err != nil || sub == nil {
		return nil, err
	}
	id := e.ID
	if e.Method == http.MethodPost {
		for _, ident := range objects(res, "identifier") {
			if str(ident.m, "use") != "usual" || str(ident.m, "value") == "" {
				continue
			}
			id = listID(str(ident.m, "system"), str(ident.m, "value"))
			old, err := s.store.Read(ctx, "List", id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				e.ID = id
			case err != nil:
				return nil, err
			case old.Deleted || old.PatientKey != sub.id:
				rep.fail(http.StatusConflict, "duplicate", fmt.Sprintf("List.identifier[%d]", ident.i), "this unique id is another list's: a new list needs a new unique id")
			default:
				e.ID, e.IfNoneExist = id, "_id="+id
				rep.warn("duplicate", fmt.Sprintf("List.identifier[%d]", ident.i), "this list was created already, as List/%s: nothing new is stored", id)
			}
			break
		}
	}
	if id != "" {
		p.lists[id] = sub.id
	}
	return sub, nil
}

// checkOnePatient refuses a request whose documents and lists are not all
// about one patient, as MHD requires of a Provide Document Bundle.
func checkOnePatient(rep *report, docs []*pending, lists map[*rest.PrepareEntry]*subject) {
	var ids []string
	for _, d := range docs {
		if d.sub != nil {
			ids = append(ids, d.sub.id)
		}
	}
	for _, sub := range lists {
		if sub != nil {
			ids = append(ids, sub.id)
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) > 1 {
		rep.fail(422, "business-rule", "Bundle", "the documents and lists of one deposit are about one patient; these name %d patients", len(ids))
	}
}

// combine returns the refusal of every error the reports hold, with the
// status of the first; nil when none has any.
func combine(reports []*report) error {
	out := &rest.Error{}
	for _, r := range reports {
		if !r.failed() {
			continue
		}
		if out.Status == 0 {
			out.Status = r.status
		}
		out.Issues = append(out.Issues, r.errors...)
	}
	if out.Status == 0 {
		return nil
	}
	return out
}

// listKind returns the MHD type of a List: submissionset, folder, or "".
func listKind(res map[string]any) string {
	for _, c := range objects(object(res, "code"), "coding") {
		if str(c.m, "system") == mhdListTypes {
			if code := str(c.m, "code"); code == submissionSet || code == folder {
				return code
			}
		}
	}
	return ""
}

// hasProfile reports whether meta.profile holds one of the profiles.
func hasProfile(res map[string]any, profiles []string) bool {
	list, _ := object(res, "meta")["profile"].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok && slices.Contains(profiles, s) {
			return true
		}
	}
	return false
}

// setSubject points a resource's subject at the Patient by id, keeping
// the identifier it was named by, if any.
func setSubject(res map[string]any, patientID string) {
	subj := object(res, "subject")
	out := map[string]any{"reference": "Patient/" + patientID}
	if id := object(subj, "identifier"); id != nil {
		out["identifier"] = id
	}
	res["subject"] = out
}

// confidentialityLevel returns the confidentiality level (N, R, V) among
// the security labels, whatever their code system.
func confidentialityLevel(res map[string]any) string {
	for _, l := range objects(res, "securityLabel") {
		for _, c := range objects(l.m, "coding") {
			if code := str(c.m, "code"); slices.Contains(confidentialityCodes, code) {
				return code
			}
		}
	}
	return ""
}
