package identity

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/store"
)

// SystemContactRelationship is FR Core's code system of the relationships
// between a patient and a related person.
const SystemContactRelationship = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-contact-relationship"

// representativeCodes are the codes of SystemContactRelationship that make
// a RelatedPerson a legal representative, who acts on the patient's
// behalf: représentant légal (a minor's parent), tuteur, and dépositaire
// de la tutelle (an adult under guardianship). Curatelle and sauvegarde
// assist the patient without representing them.
var representativeCodes = map[string]bool{"CUR": true, "GRD": true, "WRD": true}

// adultAge is the age of legal majority in France.
const adultAge = 18

// relatedPersonRule applies the rules of legal representation to the
// writes of RelatedPerson: the representative's INS, when given as an
// identifier (the link to their own Patient), is checked like a
// patient's; a legal representative represents a Patient of the platform
// (422 otherwise); and a représentant légal (CUR) of an adult is accepted
// with a warning, since an adult's representative is a guardian.
func relatedPersonRule(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
	res := w.Resource
	_, issues, err := checkINS(res, "RelatedPerson")
	if err != nil {
		return nil, err
	}
	codes := relationshipCodes(res)
	representative := false
	for _, c := range codes {
		representative = representative || representativeCodes[c]
	}
	if !representative {
		return issues, nil
	}
	const path = "RelatedPerson.patient"
	ref, _ := res["patient"].(map[string]any)
	id, ok := strings.CutPrefix(str(ref, "reference"), "Patient/")
	if !ok || strings.Contains(id, "/") {
		return nil, businessRule(path, "a legal representative represents a Patient of this server: reference it as Patient/[id]")
	}
	cur, err := tx.Read(ctx, "Patient", id)
	if errors.Is(err, store.ErrNotFound) || err == nil && cur.Deleted {
		return nil, businessRule(path, "Patient/%s is not known: a legal representative represents a Patient of this server", id)
	}
	if err != nil {
		return nil, err
	}
	patient, err := decode(cur.Content)
	if err != nil {
		return nil, err
	}
	if minor, known := minorAt(str(patient, "birthDate"), w.At); known && !minor && len(codes) > 0 && onlyParental(codes) {
		issues = append(issues, warning("business-rule", "RelatedPerson.relationship",
			"Patient/%s is an adult: the legal representative of an adult is a guardian (code GRD or WRD), not a représentant légal (CUR)", id))
	}
	return issues, nil
}

// relationshipCodes returns the codes of SystemContactRelationship in
// RelatedPerson.relationship.
func relationshipCodes(res map[string]any) []string {
	var out []string
	for _, rel := range objects(res, "relationship") {
		for _, c := range codings(rel.m) {
			if str(c.m, "system") == SystemContactRelationship {
				out = append(out, str(c.m, "code"))
			}
		}
	}
	return out
}

// onlyParental reports whether the representation codes among codes are
// CUR only (no guardianship code).
func onlyParental(codes []string) bool {
	for _, c := range codes {
		if c == "GRD" || c == "WRD" {
			return false
		}
	}
	return true
}

// minorAt reports whether someone born on birthDate (a FHIR date: YYYY,
// YYYY-MM or YYYY-MM-DD) is under adultAge at t; known is false when the
// date cannot tell (missing, malformed, or a partial date around the
// birthday).
func minorAt(birthDate string, t time.Time) (minor, known bool) {
	parts := strings.Split(birthDate, "-")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || i >= 3 {
			return false, false
		}
		nums[i] = n
	}
	if len(nums) == 0 {
		return false, false
	}
	// The earliest and latest birthdays the date allows.
	first := time.Date(nums[0], 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(nums[0], 12, 31, 0, 0, 0, 0, time.UTC)
	if len(nums) >= 2 {
		first = time.Date(nums[0], time.Month(nums[1]), 1, 0, 0, 0, 0, time.UTC)
		last = first.AddDate(0, 1, -1)
	}
	if len(nums) == 3 {
		first = time.Date(nums[0], time.Month(nums[1]), nums[2], 0, 0, 0, 0, time.UTC)
		last = first
	}
	switch {
	case !t.Before(last.AddDate(adultAge, 0, 0)):
		return false, true
	case t.Before(first.AddDate(adultAge, 0, 0)):
		return true, true
	}
	return false, false
}
