package document_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/document"
	"github.com/carnet-sante/carnet/internal/identity"
)

// TestSeedDemo deposits the demo documents for demo patients: PDF and
// CDA, accepted by every rule of a deposit; none for a record objected
// to; nothing new when seeded again.
func TestSeedDemo(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for i, nir := range []string{"279035121518989", "180017505600103", "185037505600181"} {
			p := map[string]any{"resourceType": "Patient", "id": "demo-" + itoa(i),
				"identifier": []any{map[string]any{"system": insDemo, "value": nir}},
				"name":       []any{map[string]any{"use": "official", "family": "DURAND", "given": []any{"Léa"}}},
				"gender":     "female", "birthDate": "1979-03-15",
			}
			if i == 2 {
				identity.SetRecordStatus(p, identity.RecordObjected, "", time.Now())
			}
			e.do(http.MethodPut, "Patient/demo-"+itoa(i), p).must(t, http.StatusCreated)
		}
		client := e.srv.Client()
		n, err := document.SeedDemo(t.Context(), client, e.base)
		if err != nil || n < 8 || n > 20 {
			t.Fatalf("SeedDemo = %d, %v; want 4 to 10 documents for each of the two open records", n, err)
		}
		if found := e.search(t, "DocumentReference", url.Values{"patient": {"Patient/demo-2"}}); len(found) != 0 {
			t.Errorf("documents deposited in an objected record: %v", found)
		}
		cda := e.search(t, "DocumentReference", url.Values{"format": {"urn:asip:ci-sis:2010"}})
		pdf := e.search(t, "DocumentReference", url.Values{"format": {"urn:ihe:iti:xds-sd:pdf:2008"}})
		if len(cda) == 0 || len(pdf) == 0 || len(cda)+len(pdf) != n {
			t.Errorf("%d CDA and %d PDF documents, %d deposited", len(cda), len(pdf), n)
		}
		if html, err := e.service.Narrative(t.Context(), cda[0]); err != nil || len(html) == 0 {
			t.Errorf("Narrative of a demo CDA: %v", err)
		}
		if again, err := document.SeedDemo(t.Context(), client, e.base); err != nil || again != 0 {
			t.Errorf("seeding again: %d new documents, %v", again, err)
		}
	}, withRecordStatus)
}
