package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/carnet-sante/carnet/internal/demo"
	"github.com/carnet-sante/carnet/internal/ins"
)

// seedDemo PUTs the demo population through the API h serves, in one
// transaction: the first start creates it, the next ones change nothing.
func seedDemo(ctx context.Context, h http.Handler) (*demo.Population, error) {
	pop, err := demo.Build()
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(pop.Bundle)
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://in-process/fhir", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Prefer", "return=minimal")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("seeding the demo population: HTTP %d: %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return pop, nil
}

// demoBanner says where to go and as whom: there is no login yet, so it
// names people to look at (later, the development identity provider will
// let one log in as them).
func demoBanner(w io.Writer, p *demo.Population, url string) {
	insOf := func(identifier string) string {
		system, value, _ := strings.Cut(identifier, "|")
		kind, _ := ins.KindOf(system)
		return kind.String() + " " + value
	}
	fmt.Fprintf(w, "demo: %d patients (%d legal representatives of minors), %d professionals in %d structures — all fictitious, NIRs under the demo OID %s\n",
		p.Patients, p.Representatives, p.Professionals, p.Structures, ins.OIDNIRDemo)
	fmt.Fprintf(w, "demo: patient portal %s/ (no login yet) — as patient %s, %s, %s (%s)\n", url, p.Patient.Name, insOf(p.Patient.Identifier), p.Patient.Role, p.Patient.Reference)
	_, rpps, _ := strings.Cut(p.Professional.Identifier, "|")
	fmt.Fprintf(w, "demo: professional portal %s/pro/ (no login yet) — as %s, %s, RPPS %s (%s)\n", url, p.Professional.Name, p.Professional.Role, rpps, p.Professional.Reference)
	fmt.Fprintf(w, "demo: FHIR API %s/fhir — e.g. %s/fhir/Patient?identifier=%s\n", url, url, strings.ReplaceAll(p.Patient.Identifier, "|", "%7C"))
}
