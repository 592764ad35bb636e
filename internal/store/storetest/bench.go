package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/testenv"
)

// Bench runs the resource store's benchmarks against the engine of h:
//
//	Ingest/synthea/batch=500  the Synthea fixtures, 500 resources per transaction (group commit)
//	Ingest/synthea/batch=100  100 per transaction
//	Ingest/synthea/batch=1    one resource per transaction
//	Ingest/wide/batch=100     an Observation with about 30 index rows
//	Search/…                  typical reads on ten copies of the Synthea population
//
// Ingest reports resources/s, index rows/resource, and cpu-µs/resource:
// the CPU time this process used per resource, which a busy machine does
// not inflate as it does the wall clock (with SQLite that is all the work;
// with PostgreSQL, the client's share). Search reports the time of one
// search (ns/op). The fixtures come from ../shared (see syntheaDir).
func Bench(b *testing.B, h Harness) {
	synthea := syntheaWrites(b)
	b.Run("Ingest/synthea/batch=500", func(b *testing.B) { benchIngest(b, h, synthea, 500) })
	b.Run("Ingest/synthea/batch=100", func(b *testing.B) { benchIngest(b, h, synthea, 100) })
	b.Run("Ingest/synthea/batch=1", func(b *testing.B) { benchIngest(b, h, synthea, 1) })
	b.Run("Ingest/wide/batch=100", func(b *testing.B) {
		benchIngest(b, h, []store.Write{newWrite(b, wideObservation, 1, baseTime)}, 100)
	})
	b.Run("Search", func(b *testing.B) { benchSearch(b, h, synthea) })
}

// benchIngest creates b.N resources, batch per transaction, cycling
// through ws (each round under new ids and patient keys).
func benchIngest(b *testing.B, h Harness, ws []store.Write, batch int) {
	ctx := b.Context()
	s := h.openMigrated(b)
	rows := 0
	for _, w := range ws {
		rows += len(w.Index)
	}
	b.ResetTimer()
	cpu := processCPU()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		if err := writeAll(ctx, s, copies(ws, done, n)...); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric(float64(rows)/float64(len(ws)), "rows/resource")
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/resource")
}

// copies returns writes number from to from+n of the endless cycle over
// ws, the k-th round under ids, patient keys and reference targets
// suffixed "-k", so that each round is a population of its own.
func copies(ws []store.Write, from, n int) []store.Write {
	out := make([]store.Write, n)
	for i := range out {
		w := ws[(from+i)%len(ws)]
		if round := (from + i) / len(ws); round > 0 {
			suffix := fmt.Sprintf("-%d", round)
			w.ID += suffix
			if w.PatientKey != "" {
				w.PatientKey += suffix
			}
			w.Index = slices.Clone(w.Index)
			for k, v := range w.Index {
				if v.RefID != "" {
					w.Index[k].RefID += suffix
					w.Index[k].URL += suffix
				}
			}
		}
		out[i] = w
	}
	return out
}

// benchSearch loads ten copies of the Synthea population (about 66,000
// resources, 310 patients) and times typical searches on it.
func benchSearch(b *testing.B, h Harness, synthea []store.Write) {
	s := h.openMigrated(b)
	const rounds = 10
	all := copies(synthea, 0, rounds*len(synthea))
	for start := 0; start < len(all); start += 500 {
		if err := writeAll(b.Context(), s, all[start:min(start+500, len(all))]...); err != nil {
			b.Fatal(err)
		}
	}
	// As an operator would after a bulk import (and autovacuum does on
	// PostgreSQL), so that the planners know the tables.
	if a, ok := s.(interface{ Analyze(context.Context) error }); ok {
		if err := a.Analyze(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	// A patient of the last round, and their family name.
	var patient, family string
	for _, w := range all[len(all)-len(synthea):] {
		if w.Type == "Patient" {
			patient = w.ID
			for _, v := range w.Index {
				if v.Param.Code == "family" {
					family = v.Text
				}
			}
			break
		}
	}
	for _, bc := range []struct{ name, typ, query string }{
		{"patient-observations-by-date", "Observation", "patient=" + patient + "&_sort=-date&_count=20"},
		{"patient-code", "Observation", "patient=" + patient + "&code=http://loinc.org|8302-2"},
		{"patient-date-range", "Observation", "patient=" + patient + "&date=ge2015-01-01&date=lt2017-01-01&_count=50"},
		{"code-all-patients", "Observation", "code=http://loinc.org|8302-2&_count=20"},
		{"code-all-patients-total", "Observation", "code=http://loinc.org|8302-2&_total=accurate&_count=20"},
		{"code-all-patients-sorted", "Observation", "code=http://loinc.org|8302-2&_sort=-date&_count=20"},
		{"name", "Patient", "name=" + family[:3]},
		{"chain", "Observation", "subject:Patient.name=" + family + "&code=http://loinc.org|8302-2"},
		{"has", "Patient", "_has:Observation:patient:code=http://loinc.org|8302-2&_count=20"},
		{"include", "MedicationRequest", "patient=" + patient + "&_include=MedicationRequest:requester&_count=50"},
		{"revinclude", "Patient", "_id=" + patient + "&_revinclude=Encounter:patient&_count=50"},
	} {
		q := parse(b, bc.typ, bc.query)
		b.Run(bc.name, func(b *testing.B) {
			found := 0
			for b.Loop() {
				p, err := s.Search(b.Context(), q)
				if err != nil {
					b.Fatal(err)
				}
				found = len(p.Resources) + len(p.Included)
			}
			b.ReportMetric(float64(found), "resources")
		})
	}
	b.Run("everything", func(b *testing.B) {
		q := &search.Query{Compartment: patient, Count: 100}
		for b.Loop() {
			if _, err := s.Search(b.Context(), q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("third-page", func(b *testing.B) {
		q := parse(b, "Observation", "code=http://loinc.org|8302-2&_count=20")
		first := mustSearch(b, s, q)
		q.After = first.Next
		q.After = mustSearch(b, s, q).Next
		for b.Loop() {
			if _, err := s.Search(b.Context(), q); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Read(b.Context(), "Patient", patient); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// wideObservation has about 30 search values.
const wideObservation = `{"resourceType":"Observation","id":"wide","status":"final",
	"meta":{"profile":["http://example.org/StructureDefinition/bp"],"tag":[{"system":"http://example.org/tags","code":"a"},{"system":"http://example.org/tags","code":"b"}]},
	"identifier":[{"system":"urn:oid:1.2.3","value":"i1"},{"system":"urn:oid:1.2.4","value":"i2"}],
	"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
	"code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel"},{"system":"http://snomed.info/sct","code":"75367002"}],"text":"Tension"},
	"subject":{"reference":"Patient/wide-patient"},"encounter":{"reference":"Encounter/e1"},
	"performer":[{"reference":"Practitioner/pr1"},{"reference":"Organization/org1"}],
	"effectiveDateTime":"2020-03-15T10:00:00Z",
	"component":[
		{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic"}]},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
		{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic"}]},"valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`

// syntheaDir is where the shared Synthea fixtures are, seen from an
// engine's package directory (internal/store/<engine>).
const syntheaDir = "../../../../shared/fixtures/synthea"

var synthea struct {
	once   sync.Once
	writes []store.Write
	err    error
}

// syntheaWrites returns the writes of every resource of the Synthea
// transaction bundles, once each (the bundles share Organizations and
// Practitioners), with their urn:uuid: references rewritten to Type/id as
// a transaction does. Without the fixtures the benchmark is skipped, or
// fails under CI.
func syntheaWrites(tb testing.TB) []store.Write {
	synthea.once.Do(func() { synthea.writes, synthea.err = loadSynthea() })
	if os.IsNotExist(synthea.err) {
		testenv.Unavailable(tb, "the shared Synthea fixtures", synthea.err.Error())
	}
	if synthea.err != nil {
		tb.Fatal(synthea.err)
	}
	return synthea.writes
}

func loadSynthea() ([]store.Write, error) {
	files, err := filepath.Glob(filepath.Join(syntheaDir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, &os.PathError{Op: "glob", Path: syntheaDir, Err: os.ErrNotExist}
	}
	var writes []store.Write
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		d := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		d.UseNumber()
		var bundle struct {
			Entry []struct {
				FullURL  string         `json:"fullUrl"`
				Resource map[string]any `json:"resource"`
			} `json:"entry"`
		}
		if err := d.Decode(&bundle); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		local := map[string]string{}
		for _, e := range bundle.Entry {
			if id, ok := strings.CutPrefix(e.FullURL, "urn:uuid:"); ok {
				e.Resource["id"] = id
				local[e.FullURL] = e.Resource["resourceType"].(string) + "/" + id
			}
		}
		for _, e := range bundle.Entry {
			rewriteRefs(e.Resource, local)
			key := e.Resource["resourceType"].(string) + "/" + e.Resource["id"].(string)
			if seen[key] {
				continue
			}
			seen[key] = true
			content, err := json.Marshal(e.Resource)
			if err != nil {
				return nil, err
			}
			w, err := writeOf(e.Resource, content, 1, baseTime)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", f, key, err)
			}
			writes = append(writes, w)
		}
	}
	return writes, nil
}

// rewriteRefs replaces each Reference.reference of n naming a bundle
// entry's urn:uuid: by its Type/id.
func rewriteRefs(n any, local map[string]string) {
	switch n := n.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && k == "reference" && local[s] != "" {
				n[k] = local[s]
				continue
			}
			rewriteRefs(v, local)
		}
	case []any:
		for _, v := range n {
			rewriteRefs(v, local)
		}
	}
}
