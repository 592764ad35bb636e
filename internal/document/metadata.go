package document

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/store"
)

// statusChanges are the changes of DocumentReference.status a metadata
// update may make: a document is superseded by its replacement, or
// withdrawn (entered-in-error, PDSm's logical deletion); neither comes
// back.
var statusChanges = map[string][]string{
	"current":    {"superseded", "entered-in-error"},
	"superseded": {"entered-in-error"},
}

// mutable are the elements a metadata update may change besides status,
// security labels and extensions, checked apart: the version data and the
// generated narrative.
var mutable = []string{"meta", "text", "status", "securityLabel", "extension"}

// metadataUpdate is the rule on an update or patch of a deposited
// DocumentReference (PDSm metadata update). A document's clinical
// metadata do not change once deposited — a replacement is deposited for
// that — except its status (see statusChanges), its visibility (the
// visibility statuses of securityLabel: MASQUE_PS, INVISIBLE_PATIENT,
// INVISIBLE_REPRESENTANTS_LEGAUX; the confidentiality level stays) and its
// archiving (extension pdsm-ext-is-archived). Any other change is refused
// naming the element.
func (s *Service) metadataUpdate(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
	if w.Previous == nil {
		return nil, refuse(422, "business-rule", "DocumentReference",
			"documents are created by a deposit (ITI-65 Provide Document Bundle, ITI-105 Simplified Publish), not by PUT")
	}
	old, err := decode(w.Previous.Content)
	if err != nil {
		return nil, fmt.Errorf("decoding DocumentReference/%s: %w", w.ID, err)
	}
	res := w.Resource
	const only = "a deposited document's metadata change only in status, visibility (securityLabel %s) and archiving (extension pdsm-ext-is-archived): deposit a replacement to change anything else"
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range res {
		keys[k] = true
	}
	var changed []string
	for k := range keys {
		if !slices.Contains(mutable, k) && !sameJSON(old[k], res[k]) {
			changed = append(changed, k)
		}
	}
	if len(changed) > 0 {
		sort.Strings(changed)
		return nil, refuse(422, "business-rule", "DocumentReference."+changed[0], "cannot change: "+only, strings.Join(VisibilityCodes, ", "))
	}
	if !sameJSON(otherExtensions(old), otherExtensions(res)) {
		return nil, refuse(422, "business-rule", "DocumentReference.extension", "only the archiving extension may change: "+only, strings.Join(VisibilityCodes, ", "))
	}
	if err := checkArchived(res); err != nil {
		return nil, err
	}
	from, to := str(old, "status"), str(res, "status")
	if from != to && !slices.Contains(statusChanges[from], to) {
		return nil, refuse(422, "business-rule", "DocumentReference.status",
			"the status of the document cannot go from %s to %s (a current document may become superseded or entered-in-error, a superseded one entered-in-error)", from, to)
	}
	rep := &report{}
	levels := func(res map[string]any) []string {
		var out []string
		for _, c := range s.checkSecurityLabels(rep, res) {
			if !c.visibility {
				out = append(out, c.code)
			}
		}
		return out
	}
	before, after := levels(rest.CloneJSON(old).(map[string]any)), levels(res)
	rep.warnings = nil // the deposit's warnings were given then
	if err := rep.err(); err != nil {
		return nil, err
	}
	if !slices.Equal(before, after) {
		return nil, refuse(422, "business-rule", "DocumentReference.securityLabel",
			"the confidentiality level (%s) cannot change, only the visibility statuses (%s)", strings.Join(before, ", "), strings.Join(VisibilityCodes, ", "))
	}
	if sameJSON(withoutVersion(old), withoutVersion(res)) {
		return nil, nil // nothing changes: no version is written, no event
	}
	return nil, emit(ctx, tx, EventUpdated, w.Previous.PatientKey, w.ID, w.At, str(res, "meta", "versionId"))
}

// withoutVersion is a copy of a resource without meta.versionId and
// meta.lastUpdated, which every version has its own of.
func withoutVersion(res map[string]any) map[string]any {
	c := rest.CloneJSON(res).(map[string]any)
	if meta := object(c, "meta"); meta != nil {
		delete(meta, "versionId")
		delete(meta, "lastUpdated")
		if len(meta) == 0 {
			delete(c, "meta")
		}
	}
	return c
}

// otherExtensions are the extensions of a resource but the archiving one.
func otherExtensions(res map[string]any) []any {
	var out []any
	for _, e := range objects(res, "extension") {
		if str(e.m, "url") != searchparam.ExtIsArchived {
			out = append(out, e.m)
		}
	}
	return out
}

// checkArchived requires the archiving extension, when present, to be
// one boolean.
func checkArchived(res map[string]any) error {
	n := 0
	for _, e := range objects(res, "extension") {
		if str(e.m, "url") != searchparam.ExtIsArchived {
			continue
		}
		n++
		if _, ok := e.m["valueBoolean"].(bool); !ok || n > 1 {
			return refuse(422, "invalid", fmt.Sprintf("DocumentReference.extension[%d]", e.i), "the archiving extension (pdsm-ext-is-archived) is one valueBoolean")
		}
	}
	return nil
}

// sameJSON compares decoded JSON values (numbers as written).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
