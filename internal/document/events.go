package document

import (
	"context"
	"time"

	"github.com/carnet-sante/carnet/internal/store"
)

// The outbox events of document sharing (store.Event.Type), written in
// the transaction of the change, for the notifications to come.
const (
	// EventDeposited: a document was deposited in a patient's record.
	EventDeposited = "document.deposited"
	// EventUpdated: the metadata of a document changed (visibility,
	// status, archiving).
	EventUpdated = "document.updated"
)

// emit writes an outbox event about DocumentReference/id. version tells
// apart the events of successive updates of one document.
func emit(ctx context.Context, tx store.ResourceTx, typ, patient, id string, at time.Time, version string) error {
	eventID := typ + "/" + id
	if version != "" {
		eventID += "/" + version
	}
	return tx.Emit(ctx, store.Event{ID: eventID, Type: typ, PatientKey: patient, Subject: "DocumentReference/" + id, Time: at})
}
