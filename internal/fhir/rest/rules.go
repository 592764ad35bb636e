package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/store"
)

// Rule is a business rule on the writes of one resource type (the
// identity rules on Patient, the directory rules on Practitioner…). The
// API calls the rules of a type for every create, update and patch of a
// resource of that type — alone, in a batch or in a transaction,
// conditional or not — once the resource is valid and its references
// rewritten, just before it is stored, inside the write transaction.
//
// A rule may:
//   - change w.Resource (what it leaves there is stored, without being
//     validated again: rules are trusted code);
//   - return issues of severity warning or information, which reach the
//     client (see Options.Rules);
//   - refuse the write by returning an *Error, whose status and
//     OperationOutcome the client gets (name the element at fault in
//     Issue.Expression, e.g. "Patient.identifier[1]"); any other error is
//     an internal error (500);
//   - read and search tx (reads see the transaction's earlier writes; they
//     are not filtered by the Guard, so a rule sees every resource), and
//     write other resources with w.Put.
//
// A transaction that meets a version conflict runs again from the start,
// rules included: a rule must not depend on what an earlier run did.
type Rule interface {
	BeforeWrite(ctx context.Context, tx store.ResourceTx, w *WriteRequest) ([]Issue, error)
}

// RuleFunc adapts a function to the Rule interface.
type RuleFunc func(ctx context.Context, tx store.ResourceTx, w *WriteRequest) ([]Issue, error)

// BeforeWrite calls f.
func (f RuleFunc) BeforeWrite(ctx context.Context, tx store.ResourceTx, w *WriteRequest) ([]Issue, error) {
	return f(ctx, tx, w)
}

// Interaction is the kind of write a rule is called for.
type Interaction string

const (
	InteractionCreate Interaction = "create"
	InteractionUpdate Interaction = "update"
	InteractionPatch  Interaction = "patch"
)

// WriteRequest is a write about to be stored, as rules see it.
type WriteRequest struct {
	Interaction Interaction
	Type, ID    string
	// Resource is the resource to store, decoded (numbers as
	// json.Number), with its id and meta (versionId, lastUpdated) set.
	Resource map[string]any
	// Previous is the current version, nil when there is none or it is a
	// deletion (a create, an update that creates).
	Previous *store.Resource
	// At is the time stamped on the version.
	At time.Time

	tx store.ResourceTx
	rw *rewriter
}

// Put stores res as the next version of typ/id in the write's
// transaction (creating it if needed), stamped at the same time; its
// references are rewritten, its search values extracted, but it is not
// validated and rules are not run on it. Storing a content equal to the
// current version's writes nothing. Typical use: flag the other patient
// of a possible duplicate.
func (w *WriteRequest) Put(ctx context.Context, typ, id string, res map[string]any) error {
	cur, err := w.tx.Read(ctx, typ, id)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	version, expect := int64(1), int64(0)
	if exists {
		version, expect = cur.Version+1, cur.Version
	}
	if err := stamp(typ, id, res, version, w.At, w.rw); err != nil {
		return err
	}
	if exists && !cur.Deleted {
		same, err := unchanged(&cur, res)
		if err != nil || same {
			return err
		}
	}
	sw, err := finish(typ, id, res, version, expect, w.At)
	if err != nil {
		return err
	}
	return w.tx.Write(ctx, sw)
}

// applyRules runs the rules of w.Type on w and returns the issues they
// reported.
func (h *Handler) applyRules(ctx context.Context, tx store.ResourceTx, w *WriteRequest) ([]Issue, error) {
	rules := h.opt.Rules[w.Type]
	if len(rules) == 0 {
		return nil, nil
	}
	w.tx = tx
	var issues []Issue
	for _, r := range rules {
		is, err := r.BeforeWrite(ctx, tx, w)
		if err != nil {
			return nil, err
		}
		issues = append(issues, is...)
	}
	return issues, nil
}

// stamp sets the id and meta of version `version` of typ/id and
// rewrites its references.
func stamp(typ, id string, res map[string]any, version int64, at time.Time, rw *rewriter) error {
	res["id"] = id
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["versionId"] = strconv.FormatInt(version, 10)
	meta["lastUpdated"] = at.Format(instant)
	return rw.rewrite(typ, res)
}

// finish extracts the search values and patient key of a stamped
// resource and encodes it.
func finish(typ, id string, res map[string]any, version, expect int64, at time.Time) (store.Write, error) {
	index, err := searchparam.Extract(typ, res)
	if err != nil {
		return store.Write{}, NewError(http.StatusBadRequest, "value", "cannot index the %s: %v", typ, err)
	}
	var key string
	if refs := searchparam.PatientRefs(typ, res); len(refs) > 0 {
		key = refs[0]
	}
	content, err := marshalResource(res)
	if err != nil {
		return store.Write{}, fmt.Errorf("encoding %s/%s: %w", typ, id, err)
	}
	return store.Write{
		Resource:      store.Resource{Type: typ, ID: id, PatientKey: key, Version: version, LastUpdated: at, Content: content},
		ExpectVersion: expect,
		Index:         index,
	}, nil
}

// unchanged reports whether the stamped resource res holds the same
// content as the stored version cur, meta.versionId and meta.lastUpdated
// aside: then an update would only add an identical version, and the API
// writes nothing (a rerun of an import creates no version). Both sides
// are compared in the canonical encoding of marshalResource, so numbers
// count as written ("1.0" differs from "1").
func unchanged(cur *store.Resource, res map[string]any) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(cur.Content))
	dec.UseNumber()
	var old map[string]any
	if err := dec.Decode(&old); err != nil {
		return false, fmt.Errorf("decoding %s/%s: %w", cur.Type, cur.ID, err)
	}
	a, err := marshalWithoutVersion(old)
	if err != nil {
		return false, err
	}
	b, err := marshalWithoutVersion(res)
	if err != nil {
		return false, err
	}
	return bytes.Equal(a, b), nil
}

// marshalWithoutVersion encodes res as marshalResource does, without
// meta.versionId and meta.lastUpdated (and without meta when nothing else
// is in it). res is left as it was.
func marshalWithoutVersion(res map[string]any) ([]byte, error) {
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		return marshalResource(res)
	}
	rest := make(map[string]any, len(meta))
	for k, v := range meta {
		if k != "versionId" && k != "lastUpdated" {
			rest[k] = v
		}
	}
	defer func() { res["meta"] = meta }()
	if len(rest) == 0 {
		delete(res, "meta")
	} else {
		res["meta"] = rest
	}
	return marshalResource(res)
}

// writeOutcome is the OperationOutcome of a write: what it did, then the
// rules' warnings.
func writeOutcome(res *result) []byte {
	var issues []Issue
	if res.message != "" {
		issues = append(issues, Issue{Severity: "information", Code: "informational", Diagnostics: res.message})
	}
	return mustJSON(newOutcome(append(issues, res.issues...)))
}
