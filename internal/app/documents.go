package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/carnet-sante/carnet/internal/document"
	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/terminology"
)

// terminologyCandidates are where the national value sets are looked for
// when --terminology is not given: beside the checkout (../shared, as in
// development and CI), then in the working directory. They are data the
// ANS publishes, loaded at run time, not copied into the tree.
var terminologyCandidates = []string{filepath.Join("..", "shared", "terminology"), "terminology"}

// openDocuments builds document sharing on the stores: the terminology
// the codes are checked against, and the key that names the patients
// created on a first deposit, derived from the master key.
func (a *App) openDocuments(master []byte) error {
	cat, err := loadTerminology(a.Config.TerminologyDir)
	if err != nil {
		return err
	}
	if cat == nil {
		a.Log.Warn("no terminology directory found: the codes of deposited documents are not checked against the national value sets (give --terminology)", "looked in", terminologyCandidates)
	}
	a.Documents = document.New(a.Store, a.Vault, document.Options{
		MaxSize:      a.Config.MaxDocument,
		Terminology:  cat,
		RecordStatus: recordStatus,
		PatientIDKey: deriveKey(master, "carnet document: patient id"),
		Log:          a.Log,
	})
	return nil
}

// recordStatus is the identity service's opt-out rule, as document
// sharing asks it: does the patient's record take deposits?
func recordStatus(patient map[string]any) (open bool, state, reason string) {
	s, reason := identity.RecordStatus(patient)
	return s == identity.RecordOpen, string(s), reason
}

// seedDemoDocuments deposits the demo documents through the API h serves,
// after the demo population, and returns how many documents there are.
func seedDemoDocuments(ctx context.Context, h http.Handler) (int, error) {
	client, base := &http.Client{Transport: inProcess{h}}, "http://in-process/fhir"
	if _, err := document.SeedDemo(ctx, client, base); err != nil {
		return 0, fmt.Errorf("seeding the demo documents: %w", err)
	}
	resp, err := client.Get(base + "/DocumentReference?_summary=count")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var count struct{ Total int }
	if err := json.NewDecoder(resp.Body).Decode(&count); err != nil {
		return 0, fmt.Errorf("counting the demo documents: %w", err)
	}
	return count.Total, nil
}

// loadTerminology loads the value sets of dir; with no dir, of the first
// candidate that exists, nil when none does.
func loadTerminology(dir string) (*terminology.Catalog, error) {
	if dir != "" {
		cat, err := terminology.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("--terminology: %w", err)
		}
		return cat, nil
	}
	for _, d := range terminologyCandidates {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return loadTerminology(d)
		}
	}
	return nil, nil
}

// deriveKey derives a key for one purpose from the master key, so that
// every purpose has its own and none reveals the master key.
func deriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
