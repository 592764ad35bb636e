package bench

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/cda"
	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/fhir/validate"
	"github.com/carnet-sante/carnet/internal/ins"
)

// TestPopulation checks that every generated identifier is valid, and
// distinct, and that the same seed gives the same population.
func TestPopulation(t *testing.T) {
	pop, err := NewPopulation(7, 2000, 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(pop.Patients) != 2000 || len(pop.Professionals) != 200 {
		t.Fatalf("got %d patients, %d professionals", len(pop.Patients), len(pop.Professionals))
	}
	nirs := map[string]bool{}
	for i := range pop.Patients {
		p := &pop.Patients[i]
		in, err := ins.ValidateINS(ins.SystemNIRDemo, p.NIR.String())
		if err != nil || len(in.Warnings) > 0 {
			t.Fatalf("patient %d: NIR %s: %v %v", i, p.NIR, err, in.Warnings)
		}
		if nirs[p.NIR.String()] {
			t.Fatalf("patient %d: NIR %s given twice", i, p.NIR)
		}
		nirs[p.NIR.String()] = true
		if err := p.Traits.Validate(); err != nil {
			t.Fatalf("patient %d: %v", i, err)
		}
		if p.NIR.Sex != p.Traits.Sex {
			t.Fatalf("patient %d: NIR sex %v, traits %v", i, p.NIR.Sex, p.Traits.Sex)
		}
		res, err := p.Resource()
		if err != nil {
			t.Fatal(err)
		}
		id, err := ins.FromPatient(res)
		if err != nil || len(id.INS) != 1 || id.INS[0].Kind != ins.KindNIRDemo || id.Traits != p.Traits {
			t.Fatalf("patient %d: the Patient resource reads back as %+v, %v", i, id, err)
		}
	}
	rpps := map[string]bool{}
	for i := range pop.Professionals {
		p := &pop.Professionals[i]
		if err := (directory.Validator{}).RPPS(p.RPPS); err != nil {
			t.Fatalf("professional %d: %v", i, err)
		}
		if _, err := (directory.Validator{}).IdNatPS(p.IdNatPS()); err != nil {
			t.Fatalf("professional %d: %v", i, err)
		}
		if _, err := (directory.Validator{}).IdNatStruct(p.Structure); err != nil {
			t.Fatalf("professional %d: structure: %v", i, err)
		}
		if rpps[p.RPPS] {
			t.Fatalf("professional %d: RPPS %s given twice", i, p.RPPS)
		}
		rpps[p.RPPS] = true
	}
	again, _ := NewPopulation(7, 2000, 200)
	if !reflect.DeepEqual(pop, again) {
		t.Error("the same seed gave another population")
	}
}

// TestDeposit checks that a deposit is what a producer sends: valid FHIR
// resources, attachments whose size and hash are those of the bytes, a
// CDA whose header the platform parses, and store writes keyed by the
// patient.
func TestDeposit(t *testing.T) {
	pop, err := NewPopulation(1, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := &pop.Patients[0]
	p.ID = "p1"
	r := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)
	for _, k := range []Kind{KindCDA, KindPDF, KindImaging, KindNote} {
		t.Run(k.Name, func(t *testing.T) {
			d := NewDeposit(r, k, 2, p, &pop.Professionals[0], at)
			if len(d.Entries) != 5 || len(d.Contents) != 2 {
				t.Fatalf("want a List and two documents, got %d entries", len(d.Entries))
			}
			for _, e := range d.Entries {
				if issues := validate.Resource(roundTrip(t, e.Resource)); issues != nil {
					t.Errorf("%s is invalid: %v", e.Type, issues)
				}
			}
			ref, bin := d.Entries[1].Resource, d.Entries[2].Resource
			doc, err := base64.StdEncoding.DecodeString(bin["data"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if len(doc) < k.Size*95/100 || len(doc) > k.Size*105/100 {
				t.Errorf("document of %d bytes, want about %d", len(doc), k.Size)
			}
			att := ref["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)
			sum := sha1.Sum(doc)
			if att["size"] != json.Number(strconv.Itoa(len(doc))) || att["hash"] != base64.StdEncoding.EncodeToString(sum[:]) || att["url"] != d.Entries[2].FullURL() {
				t.Errorf("attachment %v does not describe the Binary", att)
			}
			if k.ContentType == "text/xml" {
				parsed, err := cda.Parse(bytes.NewReader(doc), 0)
				if err != nil {
					t.Fatalf("CDA header: %v", err)
				}
				if tr := parsed.Patient.Traits(); tr.BirthName != p.Traits.BirthName || tr.BirthDate != p.Traits.BirthDate {
					t.Errorf("CDA patient %+v, want %+v", tr, p.Traits)
				}
			}
			refs := make([]blob.Ref, len(d.Contents))
			for i, c := range d.Contents {
				refs[i] = blob.Ref{Key: "p1/" + strconv.Itoa(i), Size: int64(len(c)), SHA1: sha1.Sum(c)}
			}
			writes, events, err := d.Stored(at, refs)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 2 || events[0].Subject != "DocumentReference/"+d.Entries[1].ID || events[0].PatientKey != "p1" {
				t.Errorf("events %+v, want one deposited event per document", events)
			}
			if !bytes.Contains(writes[2].Content, []byte(`"valueString":"p1/0"`)) || bytes.Contains(writes[2].Content, []byte(`"data"`)) {
				t.Errorf("the Binary should point to the vault, not hold the bytes: %s", writes[2].Content)
			}
			for i, w := range writes {
				if w.PatientKey != "p1" || w.ID != d.Entries[i].ID || len(w.Index) == 0 && w.Type != "Binary" {
					t.Errorf("write %d (%s): key %q, id %q, %d index values", i, w.Type, w.PatientKey, w.ID, len(w.Index))
				}
			}
			if !bytes.Contains(writes[1].Content, []byte(`"url":"Binary/`+d.Entries[2].ID+`"`)) ||
				!bytes.Contains(writes[0].Content, []byte(`"reference":"DocumentReference/`+d.Entries[1].ID+`"`)) {
				t.Errorf("references between entries not resolved:\n%s\n%s", writes[0].Content, writes[1].Content)
			}
		})
	}
}

// roundTrip decodes the JSON of res as the server would (numbers kept).
func roundTrip(t *testing.T, res map[string]any) map[string]any {
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunLoad(t *testing.T) {
	var calls atomic.Int64
	l := RunLoad(context.Background(), 3, 50*time.Millisecond, 10, func(ctx context.Context, w int, r *rand.Rand) (int, error) {
		if calls.Add(1)%5 == 0 {
			return 0, errors.New("boom")
		}
		time.Sleep(time.Millisecond)
		return 2, nil
	}, nil)
	n := int(calls.Load())
	if n < 10 || len(l.Latencies) != n {
		t.Fatalf("%d calls, %d latencies; want at least 10, one latency each", n, len(l.Latencies))
	}
	if l.Errors != n/5 || l.Units != 2*(n-n/5) || l.FirstError == nil || l.FirstError.Error() != "boom" {
		t.Errorf("errors %d, units %d, first %v after %d calls", l.Errors, l.Units, l.FirstError, n)
	}
	if l.Elapsed < 50*time.Millisecond || l.Rate() <= 0 {
		t.Errorf("elapsed %v, rate %v", l.Elapsed, l.Rate())
	}
}

// BenchmarkDepositBundle is what the load generator spends making one
// 20 KB CDA deposit, CPU it takes from the server on a shared machine.
func BenchmarkDepositBundle(b *testing.B) {
	pop, err := NewPopulation(1, 10, 2)
	if err != nil {
		b.Fatal(err)
	}
	pop.Patients[0].ID = "p1"
	r := rand.New(rand.NewPCG(1, 2))
	at := time.Now()
	for b.Loop() {
		if _, err := NewDeposit(r, KindCDA, 1, &pop.Patients[0], &pop.Professionals[0], at).Bundle(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDepositStored is what the ceiling spends, outside the stores,
// making the writes of one 20 KB CDA deposit (generation included): the
// index extraction and encoding the server does too.
func BenchmarkDepositStored(b *testing.B) {
	pop, err := NewPopulation(1, 10, 2)
	if err != nil {
		b.Fatal(err)
	}
	pop.Patients[0].ID = "p1"
	r := rand.New(rand.NewPCG(1, 2))
	at := time.Now()
	for b.Loop() {
		d := NewDeposit(r, KindCDA, 1, &pop.Patients[0], &pop.Professionals[0], at)
		if _, _, err := d.Stored(at, []blob.Ref{{Key: "p1/0"}}); err != nil {
			b.Fatal(err)
		}
	}
}
