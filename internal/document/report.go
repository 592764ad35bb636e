package document

import (
	"fmt"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
)

// report collects what the checks of one resource found: errors, which
// refuse the request, and warnings, which reach the client in the
// response. Paths are FHIRPath expressions rooted at the resource type
// ("DocumentReference.content[0].attachment.hash"); prefix, when set, is
// put before every message to say which Bundle entry it is about.
type report struct {
	prefix   string
	status   int // of the first error
	errors   []rest.Issue
	warnings []rest.Issue
}

// fail records an error with the HTTP status it calls for.
func (r *report) fail(status int, code, expr, format string, args ...any) {
	if r.status == 0 {
		r.status = status
	}
	r.errors = append(r.errors, r.issue("error", code, expr, format, args...))
}

// warn records a warning.
func (r *report) warn(code, expr, format string, args ...any) {
	r.warnings = append(r.warnings, r.issue("warning", code, expr, format, args...))
}

func (r *report) issue(severity, code, expr, format string, args ...any) rest.Issue {
	return rest.Issue{Severity: severity, Code: code, Diagnostics: r.prefix + expr + ": " + fmt.Sprintf(format, args...), Expression: []string{expr}}
}

func (r *report) failed() bool { return len(r.errors) > 0 }

// err is the refusal the errors make, nil without errors.
func (r *report) err() error {
	if !r.failed() {
		return nil
	}
	return &rest.Error{Status: r.status, Issues: r.errors}
}

// refuse returns a one-issue refusal naming the element at expr.
func refuse(status int, code, expr, format string, args ...any) *rest.Error {
	r := &report{}
	r.fail(status, code, expr, format, args...)
	return r.err().(*rest.Error)
}
