package document

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/ins"
	"github.com/carnet-sante/carnet/internal/store"
)

// subject is the patient a deposit is for.
type subject struct {
	id string
	// insSystem and insValue are the patient's INS when known, for the
	// cross-check with a CDA header.
	insSystem, insValue string
}

// resolveSubject finds the patient that ref (DocumentReference.subject or
// List.subject, at expr) names, before the store transaction:
//   - a literal reference (Patient/123, or this server's URL of it), to
//     a Patient that must exist and whose record must take deposits;
//   - the fullUrl of a Patient entry of the same Bundle;
//   - a conditional reference Patient?identifier=<system>|<value>, or a
//     reference by identifier only, as the DMP examples use with the INS:
//     the one Patient with that identifier, or, when there is none and the
//     identifier is a valid INS, a Patient created on this first deposit
//     (opt-out), planned in p and created by the rules.
//
// Problems with the request go to rep, and the subject is nil then; the
// error is an internal one.
func (s *Service) resolveSubject(ctx context.Context, rep *report, expr string, ref map[string]any, r *rest.PrepareRequest, doc map[string]any, p *plan) (*subject, error) {
	raw := str(ref, "reference")
	if raw == "" {
		id := object(ref, "identifier")
		if str(id, "system") == "" || str(id, "value") == "" {
			rep.fail(422, "required", expr, "give a reference to the Patient, or its identifier (system and value)")
			return nil, nil
		}
		return s.byIdentifier(ctx, rep, expr+".identifier", str(id, "system"), str(id, "value"), doc, p)
	}
	rel := strings.TrimPrefix(raw, r.Base+"/")
	for _, e := range r.Entries {
		if e.Type != "Patient" || e.Resource == nil {
			continue
		}
		if e.FullURL != "" && (e.FullURL == raw || e.FullURL == r.Base+"/"+rel) || e.Method == http.MethodPut && rel == "Patient/"+e.ID {
			sub := &subject{id: e.ID}
			sub.insSystem, sub.insValue = insOf(e.Resource)
			return sub, nil
		}
	}
	typ, query, conditional := strings.Cut(rel, "?")
	if conditional {
		params, err := url.ParseQuery(query)
		system, value, _ := strings.Cut(params.Get("identifier"), "|")
		if err != nil || typ != "Patient" || len(params) != 1 || len(params["identifier"]) != 1 || system == "" || value == "" {
			rep.fail(422, "not-supported", expr+".reference", "%q: a conditional reference to the patient has one criterion, identifier=<system>|<value>", raw)
			return nil, nil
		}
		return s.byIdentifier(ctx, rep, expr+".reference", system, value, doc, p)
	}
	typ, id, ok := refID(rel)
	if !ok || typ != "Patient" {
		rep.fail(422, "invalid", expr+".reference", "%q does not name a Patient of this server (Patient/[id], or Patient?identifier=<INS system>|<INS>)", raw)
		return nil, nil
	}
	return s.byID(ctx, rep, expr+".reference", id)
}

// byID resolves a literal reference to a stored Patient.
func (s *Service) byID(ctx context.Context, rep *report, expr, id string) (*subject, error) {
	r, err := s.store.Read(ctx, "Patient", id)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && r.Deleted:
		rep.fail(422, "not-found", expr, "Patient/%s is not known: deposit for a registered patient, or name the patient by INS (Patient?identifier=<INS system>|<INS>)", id)
		return nil, nil
	case err != nil:
		return nil, err
	}
	res, err := decode(r.Content)
	if err != nil {
		return nil, fmt.Errorf("decoding Patient/%s: %w", id, err)
	}
	if !s.checkRecord(rep, expr, id, res) {
		return nil, nil
	}
	sub := &subject{id: id}
	sub.insSystem, sub.insValue = insOf(res)
	return sub, nil
}

// byIdentifier resolves a patient named by an identifier.
func (s *Service) byIdentifier(ctx context.Context, rep *report, expr, system, value string, doc map[string]any, p *plan) (*subject, error) {
	before := len(rep.errors)
	isINS := checkINS(rep, expr, system, value)
	if len(rep.errors) > before {
		return nil, nil
	}
	found, err := s.patientsWith(ctx, s.store, system, value)
	if err != nil {
		return nil, fmt.Errorf("searching the patient: %w", err)
	}
	switch {
	case len(found) > 1:
		rep.fail(422, "multiple-matches", expr, "several patients have the identifier %s|%s: name the patient by reference", system, value)
		return nil, nil
	case len(found) == 1:
		return s.byID(ctx, rep, expr, found[0].ID)
	case !isINS:
		rep.fail(422, "not-found", expr, "no patient has the identifier %s|%s; a record is opened on a first deposit only for a patient named by INS", system, value)
		return nil, nil
	}
	id := s.patientID(system, value)
	if p.patients[id] == nil {
		p.patients[id] = &newPatient{resource: newPatientResource(system, value, doc), system: system, value: value}
	}
	return &subject{id: id, insSystem: system, insValue: value}, nil
}

// patientsWith finds up to two Patients with an identifier.
func (s *Service) patientsWith(ctx context.Context, rd interface {
	Search(context.Context, *search.Query) (*store.Page, error)
}, system, value string) ([]store.Resource, error) {
	req, err := search.Parse("Patient", url.Values{"identifier": {system + "|" + value}}, search.Options{})
	if err != nil {
		return nil, err
	}
	q := req.Query
	q.Count = 2
	page, err := rd.Search(ctx, &q)
	if err != nil {
		return nil, err
	}
	return page.Resources, nil
}

// checkRecord refuses a deposit for a patient whose record does not take
// any (objected to, or closed).
func (s *Service) checkRecord(rep *report, expr, id string, patient map[string]any) bool {
	open, state, reason := s.opt.RecordStatus(patient)
	if open {
		return true
	}
	why := ""
	if reason != "" {
		why = " (" + reason + ")"
	}
	rep.fail(422, "business-rule", expr, "the shared record of Patient/%s is %s%s: no document can be deposited in it", id, state, why)
	return false
}

// insOf returns the first INS identifier of a Patient.
func insOf(patient map[string]any) (system, value string) {
	for _, id := range objects(patient, "identifier") {
		if _, isINS := ins.KindOf(str(id.m, "system")); isINS && str(id.m, "use") != "old" {
			return str(id.m, "system"), str(id.m, "value")
		}
	}
	return "", ""
}

// newPatientResource is the Patient created on a first deposit: the INS,
// and the name, sex and birth date the depositor's system gave for the
// patient (DocumentReference.context.sourcePatientInfo) when it carries
// the same INS. It has no identity status: the identity service's rules
// will ask for it to be qualified.
func newPatientResource(system, value string, doc map[string]any) map[string]any {
	k, _ := ins.KindOf(system)
	p := map[string]any{
		"resourceType": "Patient",
		"meta":         map[string]any{"profile": []any{ins.ProfilePatient}},
		"identifier": []any{map[string]any{
			"use":    "official",
			"type":   map[string]any{"coding": []any{map[string]any{"system": ins.CodeSystemIdentifierType, "code": k.String()}}},
			"system": system,
			"value":  value,
		}},
	}
	if ref := str(doc, "context", "sourcePatientInfo", "reference"); strings.HasPrefix(ref, "#") {
		if src := contained(doc, ref[1:]); src != nil {
			if s, v := insOf(src); s == system && v == value {
				for _, key := range []string{"name", "gender", "birthDate"} {
					if src[key] != nil {
						p[key] = rest.CloneJSON(src[key])
					}
				}
			}
		}
	}
	return p
}

// ensurePatient makes sure the patient of a deposit exists, in the store
// transaction, and that their record takes deposits: a Patient planned
// for a first deposit is created now if nobody created it meanwhile.
func (s *Service) ensurePatient(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest, p *plan, id, expr string) error {
	r, err := tx.Read(ctx, "Patient", id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil && !r.Deleted {
		res, err := decode(r.Content)
		if err != nil {
			return fmt.Errorf("decoding Patient/%s: %w", id, err)
		}
		rep := &report{}
		s.checkRecord(rep, expr, id, res)
		return rep.err()
	}
	np := p.patients[id]
	if np == nil {
		return refuse(422, "not-found", expr, "Patient/%s is not known", id)
	}
	found, err := s.patientsWith(ctx, tx, np.system, np.value)
	if err != nil {
		return err
	}
	if len(found) > 0 {
		return refuse(http.StatusConflict, "conflict", expr, "a patient with this INS was registered while the document was being deposited: send the deposit again")
	}
	return w.Put(ctx, "Patient", id, rest.CloneJSON(np.resource).(map[string]any))
}
