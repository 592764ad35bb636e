package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

// Error is a refused request: an HTTP status and the OperationOutcome
// issues that say why. Every error the API returns is one; a Guard can
// return one to choose the status of a refusal.
type Error struct {
	Status int
	Issues []Issue
}

// Issue is one OperationOutcome.issue.
type Issue struct {
	Severity    string   `json:"severity"` // fatal, error, warning, information
	Code        string   `json:"code"`     // FHIR IssueType: invalid, structure, not-found, conflict…
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"` // FHIRPath of the element at fault
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		msgs[i] = is.Diagnostics
	}
	return strings.Join(msgs, "; ")
}

// NewError returns an Error with one issue of severity error.
func NewError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Issues: []Issue{{Severity: "error", Code: code, Diagnostics: fmt.Sprintf(format, args...)}}}
}

// outcome is the OperationOutcome resource.
type outcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

func newOutcome(issues []Issue) *outcome {
	return &outcome{ResourceType: "OperationOutcome", Issue: issues}
}

// invalid turns the issues of validate.Resource into a 400 error, each
// naming the element at fault.
func invalid(issues []validate.Issue) *Error {
	e := &Error{Status: http.StatusBadRequest}
	for _, is := range issues {
		e.Issues = append(e.Issues, Issue{Severity: is.Severity, Code: is.Code, Diagnostics: is.Path + ": " + is.Message, Expression: []string{is.Path}})
	}
	return e
}

// asError returns err as an *Error, or nil when it is an unexpected
// (internal) error.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// prefixed returns a copy of e with every diagnostic prefixed, to say
// which Bundle entry it comes from.
func prefixed(e *Error, prefix string) *Error {
	out := &Error{Status: e.Status, Issues: make([]Issue, len(e.Issues))}
	for i, is := range e.Issues {
		is.Diagnostics = prefix + is.Diagnostics
		out.Issues[i] = is
	}
	return out
}

// statusLine is the status as a Bundle entry response writes it: "201 Created".
func statusLine(code int) string {
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}
