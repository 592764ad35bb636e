package identity

import (
	"fmt"
	"net/http"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
)

// RecordState is the state of a patient's shared record. Everyone has a
// record unless they object (opt-out); objection, closure and reopening
// are the patient's rights (domain/france.md §5).
type RecordState string

const (
	// RecordOpen: the record is in use. A Patient without the
	// record-status extension has an open record.
	RecordOpen RecordState = "open"
	// RecordObjected: the patient objected to having a record; nothing
	// is deposited.
	RecordObjected RecordState = "objected"
	// RecordClosed: the patient closed the record (date and reason
	// given); its data are kept for the legal period, nothing new is
	// deposited, and it can be reopened.
	RecordClosed RecordState = "closed"
)

// transitions lists the changes of state the platform accepts: an open
// record can be objected to or closed; a closed record can be reopened;
// an objection can be withdrawn, which opens the record. An objection
// applies to an open record only, and a record objected to has nothing
// to close.
var transitions = map[RecordState][]RecordState{
	RecordOpen:     {RecordObjected, RecordClosed},
	RecordObjected: {RecordOpen},
	RecordClosed:   {RecordOpen},
}

func (s RecordState) valid() bool { return s == RecordOpen || s == RecordObjected || s == RecordClosed }

// canBecome reports whether a record in state s may go to state to.
func (s RecordState) canBecome(to RecordState) bool {
	for _, t := range transitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// RecordStatus returns the state of the record of a Patient (decoded
// JSON) and the reason given for it: RecordOpen without the
// record-status extension, the status code as written otherwise (the API
// only stores the three states).
func RecordStatus(patient map[string]any) (status RecordState, reason string) {
	for _, e := range objects(patient, "extension") {
		if str(e.m, "url") != ExtRecordStatus {
			continue
		}
		r := readRecord(e.m)
		return r.status, r.reason
	}
	return RecordOpen, ""
}

// AcceptsDeposits reports whether documents may be deposited in the
// record of this Patient: only when it is open.
func AcceptsDeposits(patient map[string]any) bool {
	s, _ := RecordStatus(patient)
	return s == RecordOpen
}

// SetRecordStatus moves the record of a Patient (decoded JSON, changed in
// place) to state to, at the given time, with a reason (required to
// close). A transition the platform does not accept is an error, as the
// API would answer it. Setting the current state again changes nothing.
func SetRecordStatus(patient map[string]any, to RecordState, reason string, at time.Time) error {
	from, _ := RecordStatus(patient)
	if from == to {
		return nil
	}
	if !from.valid() || !to.valid() || !from.canBecome(to) {
		return fmt.Errorf("identity: a record %s cannot become %s", from, to)
	}
	if to == RecordClosed && reason == "" {
		return fmt.Errorf("identity: closing a record needs a reason")
	}
	subs := []any{
		map[string]any{"url": "status", "valueCode": string(to)},
		map[string]any{"url": "date", "valueDateTime": at.UTC().Format(time.RFC3339)},
	}
	if reason != "" {
		subs = append(subs, map[string]any{"url": "reason", "valueString": reason})
	}
	ext := map[string]any{"url": ExtRecordStatus, "extension": subs}
	exts, _ := patient["extension"].([]any)
	for i, e := range exts {
		if m, ok := e.(map[string]any); ok && str(m, "url") == ExtRecordStatus {
			exts[i] = ext
			return nil
		}
	}
	patient["extension"] = append(exts, ext)
	return nil
}

// record is a parsed record-status extension; the *At fields are the
// index of each sub-extension, -1 when absent.
type record struct {
	status             RecordState
	date, reason       string
	statusAt, reasonAt int
	dateAt, unknownAt  int
	statusOK, reasonOK bool
	dateOK             bool
}

func readRecord(ext map[string]any) record {
	r := record{statusAt: -1, reasonAt: -1, dateAt: -1, unknownAt: -1, dateOK: true, reasonOK: true}
	for _, sub := range objects(ext, "extension") {
		switch str(sub.m, "url") {
		case "status":
			r.statusAt = sub.i
			code, ok := sub.m["valueCode"].(string)
			r.status, r.statusOK = RecordState(code), ok
		case "date":
			r.dateAt = sub.i
			r.date, r.dateOK = sub.m["valueDateTime"].(string)
		case "reason":
			r.reasonAt = sub.i
			r.reason, r.reasonOK = sub.m["valueString"].(string)
		default:
			if r.unknownAt < 0 {
				r.unknownAt = sub.i
			}
		}
	}
	return r
}

// checkRecord applies the lifecycle rules to the record-status extension
// of a Patient write: at most one, well formed; a change of state must be
// a transition the platform accepts (422 otherwise), closing needs a
// reason, and a transition without a date is dated with the write's time.
// An update without the extension keeps the previous version's: a client
// unaware of it (updating an address) cannot reopen a closed record.
func checkRecord(w *rest.WriteRequest, prev map[string]any) error {
	var found []indexed
	for _, e := range objects(w.Resource, "extension") {
		if str(e.m, "url") == ExtRecordStatus {
			found = append(found, e)
		}
	}
	from := RecordOpen
	var prevExt any
	if prev != nil {
		from, _ = RecordStatus(prev)
		for _, e := range objects(prev, "extension") {
			if str(e.m, "url") == ExtRecordStatus {
				prevExt = e.m
			}
		}
	}
	switch {
	case len(found) == 0:
		if prevExt != nil {
			exts, _ := w.Resource["extension"].([]any)
			w.Resource["extension"] = append(exts, prevExt)
		}
		return nil
	case len(found) > 1:
		return invalid(fmt.Sprintf("Patient.extension[%d]", found[1].i), "a Patient carries at most one record-status extension")
	}
	path := fmt.Sprintf("Patient.extension[%d]", found[0].i)
	r := readRecord(found[0].m)
	sub := func(i int) string { return fmt.Sprintf("%s.extension[%d]", path, i) }
	switch {
	case r.unknownAt >= 0:
		return invalid(sub(r.unknownAt), "unknown sub-extension of record-status: want status, date or reason")
	case r.statusAt < 0:
		return refuse(http.StatusBadRequest, "required", path, "record-status needs a status sub-extension (valueCode open, objected or closed)")
	case !r.statusOK || !r.status.valid():
		return invalid(sub(r.statusAt), "the record status is a valueCode: open, objected or closed")
	case !r.dateOK:
		return invalid(sub(r.dateAt), "the date of the record status is a valueDateTime")
	case !r.reasonOK:
		return invalid(sub(r.reasonAt), "the reason of the record status is a valueString")
	}
	if r.status == from {
		return nil
	}
	if !from.canBecome(r.status) {
		return businessRule(sub(r.statusAt), "the record is %s: it cannot become %s (%s)", from, r.status, transitionHint(from))
	}
	if r.status == RecordClosed && r.reason == "" {
		return refuse(http.StatusBadRequest, "required", path, "closing a record needs a reason (sub-extension reason, valueString)")
	}
	if r.dateAt < 0 {
		subs, _ := found[0].m["extension"].([]any)
		found[0].m["extension"] = append(subs, map[string]any{"url": "date", "valueDateTime": w.At.UTC().Format(time.RFC3339)})
	}
	return nil
}

// transitionHint says what a record in state s can become.
func transitionHint(s RecordState) string {
	switch s {
	case RecordObjected:
		return "an objection can only be withdrawn, status open"
	case RecordClosed:
		return "a closed record can only be reopened, status open"
	}
	return "an open record can be objected to or closed"
}
