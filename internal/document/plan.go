package document

import (
	"context"

	"github.com/carnet-sante/carnet/internal/blob"
)

// plan is what the Preparer decided for one request, for the rules to
// carry out in the store transaction. It travels in the request's context
// (rest.Preparer); the rules only read it, so that a transaction run again
// after a version conflict does the same thing.
type plan struct {
	// docs are the DocumentReferences to create, by the id they get.
	docs map[string]*deposit
	// lists are the SubmissionSets and Folders written, by id: the id of
	// their patient.
	lists map[string]string
	// binaries are the ids of the pointer Binaries the request writes.
	binaries map[string]bool
	// patients are the Patients to create on a first deposit, by id.
	patients map[string]*newPatient
	// patched are the DocumentReferences a PATCH entry of the request
	// changes (the replaced documents of an ITI-65 replacement).
	patched map[string]bool
}

func newPlan() *plan {
	return &plan{
		docs: map[string]*deposit{}, lists: map[string]string{}, binaries: map[string]bool{},
		patients: map[string]*newPatient{}, patched: map[string]bool{},
	}
}

// deposit is one document to create.
type deposit struct {
	patient     string
	binary      string   // id of its Binary
	ref         blob.Ref // where its bytes are
	contentType string
	// createBinary is set when no Binary entry of the request holds the
	// bytes (ITI-105, or inline data): the rule creates the Binary.
	createBinary bool
	// submissionSet is set for a Simplified Publish: the rule creates the
	// SubmissionSet List with this id.
	submissionSet string
}

// newPatient is a Patient to create on a first deposit (opt-out: everyone
// has a record unless they objected), named by its INS.
type newPatient struct {
	resource      map[string]any
	system, value string
}

type planKey struct{}

func withPlan(ctx context.Context, p *plan) context.Context {
	return context.WithValue(ctx, planKey{}, p)
}

// planOf returns the plan of the request, nil when the Preparer had
// nothing to plan.
func planOf(ctx context.Context) *plan {
	p, _ := ctx.Value(planKey{}).(*plan)
	return p
}
