package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/store"
)

// scenario is what a scenario runs: its operation, the unit its
// throughput counts, and what to do once the load is over.
type scenario struct {
	unit  string
	op    Op
	after func(ctx context.Context, r *Result) error
}

func (b *bench) scenario(name string) (*scenario, error) {
	switch name {
	case "deposit":
		s := b.deposit(KindCDA, 1)
		s.after = b.ceiling
		return s, nil
	case "deposit-batch":
		return b.deposit(KindCDA, 10), nil
	case "deposit-pdf":
		return b.deposit(KindPDF, 1), nil
	case "deposit-imaging":
		return b.deposit(KindImaging, 1), nil
	case "search-patient": // ITI-67 by patient
		return b.read(func(d StoredDocument) string { return "DocumentReference?patient=" + d.PatientID }, true)
	case "read":
		return b.read(func(d StoredDocument) string { return "DocumentReference/" + d.ReferenceID }, false)
	case "retrieve": // ITI-68: the bytes at attachment.url
		return b.read(func(d StoredDocument) string { return d.BinaryURL }, false)
	case "patient-list": // the patient portal's list of documents, newest first
		return b.read(func(d StoredDocument) string {
			return "DocumentReference?patient=" + d.PatientID + "&status=current&_sort=-date&_count=20"
		}, true)
	case "synthea":
		return b.synthea()
	case "everything":
		return b.everything()
	}
	return nil, fmt.Errorf("unknown scenario")
}

// depositTime draws when a deposited document was written: within the
// last three years, so that sorting by date means something.
func depositTime(r *rand.Rand) time.Time {
	return time.Now().UTC().Add(-time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Second)
}

// deposit POSTs ITI-65 bundles of n documents of kind k for random
// patients by random authors; throughput counts documents.
func (b *bench) deposit(k Kind, n int) *scenario {
	return &scenario{unit: "documents", op: func(ctx context.Context, _ int, r *rand.Rand) (int, error) {
		p := &b.pop.Patients[r.IntN(len(b.pop.Patients))]
		a := &b.pop.Professionals[r.IntN(len(b.pop.Professionals))]
		d := NewDeposit(r, k, n, p, a, depositTime(r))
		body, err := d.Bundle()
		if err != nil {
			return 0, err
		}
		reply, err := b.c.do(ctx, "POST", "", body)
		if err != nil {
			return 0, err
		}
		stored, err := d.ParseReply(reply)
		if err != nil {
			return 0, err
		}
		b.docs.add(stored...)
		return n, nil
	}}
}

// ceiling stores the deposit scenario's documents straight into the
// stores — the same bytes and rows, made by Deposit.Stored, without HTTP,
// validation and PDSm checks — for as long and with as many writers, and
// sets the deposit's efficiency. It needs to reach the stores: not
// possible for a server given by --url alone.
func (b *bench) ceiling(ctx context.Context, r *Result) error {
	if b.opt.Open == nil || b.dataDir == "" && b.databaseURL == "" {
		b.progress("deposit: no ceiling: the store of a --url server is not known (give --data or --database)")
		return nil
	}
	st, closeStore, err := b.opt.Open(ctx, b.dataDir, b.databaseURL)
	if err != nil {
		return fmt.Errorf("ceiling: open the stores: %w", err)
	}
	defer closeStore()
	b.progress("deposit: ceiling (straight into the store) for %s with %d writers", b.opt.Duration, b.opt.Concurrency)
	l := RunLoad(ctx, b.opt.Concurrency, b.opt.Duration, 1, func(ctx context.Context, _ int, r *rand.Rand) (int, error) {
		return storeDeposit(ctx, st, r, b.pop, KindCDA, 1)
	}, nil)
	if l.Errors > 0 {
		r.Errors += l.Errors
		if r.FirstError == "" {
			r.FirstError = "ceiling: " + l.FirstError.Error()
		}
	}
	ceiling := round(l.Rate(), 1)
	r.CeilingOpsPerS = &ceiling
	if ceiling > 0 {
		eff := round(r.OpsPerS/ceiling, 3)
		r.Efficiency = &eff
	}
	b.progress("deposit: ceiling %.1f documents/s (%s)", ceiling, l)
	return nil
}

// storeDeposit makes one deposit of n documents straight into the
// stores, as the server would: the bytes into the vault, then the
// resources and events in one transaction.
func storeDeposit(ctx context.Context, st Stores, r *rand.Rand, pop *Population, k Kind, n int) (int, error) {
	p := &pop.Patients[r.IntN(len(pop.Patients))]
	a := &pop.Professionals[r.IntN(len(pop.Professionals))]
	at := depositTime(r)
	d := NewDeposit(r, k, n, p, a, at)
	writes, events, err := putDocuments(ctx, st.Vault, d, at)
	if err != nil {
		return 0, err
	}
	return n, storeAll(ctx, st.Resources, writes, events)
}

// putDocuments puts a deposit's documents into the vault and returns what
// the store then keeps of it.
func putDocuments(ctx context.Context, v *blob.Vault, d *Deposit, at time.Time) ([]store.Write, []store.Event, error) {
	refs := make([]blob.Ref, len(d.Contents))
	for i, doc := range d.Contents {
		var err error
		if refs[i], err = v.Put(ctx, d.Patient.ID, bytes.NewReader(doc)); err != nil {
			return nil, nil, err
		}
	}
	return d.Stored(at, refs)
}

// read GETs the path made from a random deposited document; searchset
// says the answer must be a searchset Bundle.
func (b *bench) read(path func(StoredDocument) string, searchset bool) (*scenario, error) {
	if b.docs.len() == 0 {
		return nil, errors.New("no document to read: the deposit scenarios stored none")
	}
	return &scenario{unit: "requests", op: func(ctx context.Context, _ int, r *rand.Rand) (int, error) {
		d, _ := b.docs.pick(r)
		body, err := b.c.do(ctx, "GET", path(d), nil)
		switch {
		case err != nil:
			return 0, err
		case searchset && !isSearchset(body):
			return 0, fmt.Errorf("GET %s: not a searchset Bundle", path(d))
		case len(body) == 0:
			return 0, fmt.Errorf("GET %s: empty answer", path(d))
		}
		return 1, nil
	}}, nil
}

// syntheaBundle is a Synthea transaction bundle and its entry count.
type syntheaBundle struct {
	name    string
	body    []byte
	entries int
}

// synthea POSTs the Synthea transaction bundles one after the other (each
// creates a new patient record: their entries are POSTs), throughput in
// resources. The patients created are kept for everything.
func (b *bench) synthea() (*scenario, error) {
	bundles, err := loadSynthea(b.opt.Synthea)
	if err != nil {
		return nil, err
	}
	var next atomic.Int64
	var mu sync.Mutex
	return &scenario{unit: "resources", op: func(ctx context.Context, _ int, r *rand.Rand) (int, error) {
		sb := bundles[int(next.Add(1)-1)%len(bundles)]
		reply, err := b.c.do(ctx, "POST", "", sb.body)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", sb.name, err)
		}
		locs, err := locations(reply, sb.entries)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", sb.name, err)
		}
		for _, l := range locs {
			if strings.HasPrefix(l, "Patient/") {
				mu.Lock()
				b.syntheaPatients = append(b.syntheaPatients, idOf(l, "Patient"))
				mu.Unlock()
			}
		}
		return sb.entries, nil
	}}, nil
}

// loadSynthea reads the transaction bundles of dir.
func loadSynthea(dir string) ([]syntheaBundle, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Synthea bundle (*.json) in %s: give their directory with --synthea", dir)
	}
	var out []syntheaBundle
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var head struct {
			Type  string
			Entry []json.RawMessage
		}
		if err := json.Unmarshal(body, &head); err != nil || head.Type != "transaction" {
			return nil, fmt.Errorf("%s: not a transaction Bundle", f)
		}
		out = append(out, syntheaBundle{name: filepath.Base(f), body: body, entries: len(head.Entry)})
	}
	return out, nil
}

// everything reads whole patient records (Patient/{id}/$everything, first
// page): the Synthea patients when the synthea scenario ran, whose records
// are full, else the patients of the deposited documents.
func (b *bench) everything() (*scenario, error) {
	patients := b.syntheaPatients
	if len(patients) == 0 {
		seen := map[string]bool{}
		b.docs.mu.Lock()
		for _, d := range b.docs.docs {
			if !seen[d.PatientID] {
				seen[d.PatientID] = true
				patients = append(patients, d.PatientID)
			}
		}
		b.docs.mu.Unlock()
	}
	if len(patients) == 0 {
		return nil, errors.New("no patient record to read: run synthea or a deposit scenario first")
	}
	return &scenario{unit: "requests", op: func(ctx context.Context, _ int, r *rand.Rand) (int, error) {
		path := "Patient/" + url.PathEscape(patients[r.IntN(len(patients))]) + "/$everything"
		body, err := b.c.do(ctx, "GET", path, nil)
		if err != nil {
			return 0, err
		}
		if !isSearchset(body) {
			return 0, fmt.Errorf("GET %s: not a searchset Bundle", path)
		}
		return 1, nil
	}}, nil
}
