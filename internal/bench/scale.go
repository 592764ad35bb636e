package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/store"
)

// KindNote is the document of a --scale build: a short CDA consultation
// note. Small, so that a million of them fit a laptop's disk; what a
// record's size does to search and read latencies is in its metadata and
// index rows, which are the same for any document size.
var KindNote = Kind{Name: "note", Size: 4 << 10, ContentType: KindCDA.ContentType,
	Type: KindCDA.Type, TypeDisplay: KindCDA.TypeDisplay, Class: KindCDA.Class, ClassDisplay: KindCDA.ClassDisplay,
	Format: KindCDA.Format}

const (
	// docsPerPatient is the size of every patient's record in a --scale
	// build: one deposit of that many documents each.
	docsPerPatient = 10
	// buildTxDeposits is how many deposits (of docsPerPatient documents)
	// one bulk transaction stores.
	buildTxDeposits = 100
)

// build makes a record of opt.Scale documents over opt.Scale/10 patients
// straight into the store, in large transactions, and reports its rate
// and the bytes per document. The server is not running yet: the store is
// the benchmark's alone.
func (b *bench) build(ctx context.Context) (Result, error) {
	patients := max(1, b.opt.Scale/docsPerPatient)
	b.progress("scale: generating %d patients", patients)
	pop, err := NewPopulation(b.opt.Seed, patients, b.opt.Professionals)
	if err != nil {
		return Result{}, err
	}
	b.pop = pop
	st, closeStore, err := b.opt.Open(ctx, b.dataDir, b.databaseURL)
	if err != nil {
		return Result{}, fmt.Errorf("scale: open the store: %w", err)
	}
	defer closeStore()
	if err := b.storePopulation(ctx, st.Resources); err != nil {
		return Result{}, err
	}

	// Several goroutines put the documents into the vault (each put
	// waits for an fsync) and make the deposits' writes; one stores them:
	// the store's single writer is what bounds a bulk load.
	start := time.Now()
	type batch struct {
		writes []store.Write
		events []store.Event
		docs   int
	}
	txs := make(chan batch, 4)
	var done atomic.Int64
	var gen sync.WaitGroup
	var genErr error
	var errOnce sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const makers = 32
	for m := range makers {
		gen.Go(func() {
			r := rand.New(rand.NewPCG(b.opt.Seed, uint64(m)+100))
			for first := m * buildTxDeposits; first < patients; first += makers * buildTxDeposits {
				var tx batch
				var docs []StoredDocument
				for i := first; i < min(first+buildTxDeposits, patients); i++ {
					p := &pop.Patients[i]
					at := depositTime(r)
					d := NewDeposit(r, KindNote, docsPerPatient, p, &pop.Professionals[r.IntN(len(pop.Professionals))], at)
					w, e, err := putDocuments(ctx, st.Vault, d, at)
					if err != nil {
						errOnce.Do(func() { genErr = err; cancel() })
						return
					}
					tx.writes = append(tx.writes, w...)
					tx.events = append(tx.events, e...)
					for j := 1; j+1 < len(d.Entries); j += 2 {
						docs = append(docs, StoredDocument{PatientID: p.ID, ReferenceID: d.Entries[j].ID, BinaryURL: "Binary/" + d.Entries[j+1].ID})
					}
				}
				tx.docs = len(docs)
				select {
				case txs <- tx:
				case <-ctx.Done():
					return
				}
				b.docs.add(docs...)
			}
		})
	}
	go func() { gen.Wait(); close(txs) }()

	stopTick := make(chan struct{})
	defer close(stopTick)
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				n := done.Load()
				if n == 0 {
					b.progress("scale: putting the first documents into the vault")
					continue
				}
				rate := float64(n) / time.Since(start).Seconds()
				eta := time.Duration(float64(int64(patients*docsPerPatient)-n)/rate) * time.Second
				b.progress("scale: %d of %d documents stored, %.0f documents/s, about %s left", n, patients*docsPerPatient, rate, eta.Round(time.Second))
			case <-stopTick:
				return
			}
		}
	}()

	var latencies []time.Duration
	for tx := range txs {
		t0 := time.Now()
		if err := storeAll(ctx, st.Resources, tx.writes, tx.events); err != nil {
			cancel()
			return Result{}, fmt.Errorf("scale: store: %w", err)
		}
		latencies = append(latencies, time.Since(t0))
		done.Add(int64(tx.docs))
	}
	if genErr != nil {
		return Result{}, genErr
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	l := &Load{Latencies: latencies, Units: int(done.Load()), Elapsed: time.Since(start)}
	r := NewResult("scale-build", b.engine, "documents", 1, l)
	b.progress("scale: %d documents in %s: %.0f documents/s", l.Units, l.Elapsed.Round(time.Second), r.OpsPerS)
	closeStore() // SQLite folds its write-ahead log into the file on close
	b.measure(ctx, &r)
	r.Documents = int64(l.Units)
	if r.DBBytes != nil && l.Units > 0 {
		per := float64(*r.DBBytes)
		if r.BlobBytes != nil {
			per += float64(*r.BlobBytes)
		}
		per = round(per/float64(l.Units), 0)
		r.BytesPerDocument = &per
	}
	return r, nil
}

// storePopulation writes the patients and professionals of a --scale
// build, with ids of its own choosing.
func (b *bench) storePopulation(ctx context.Context, st store.Resources) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	var writes []store.Write
	add := func(typ string, res map[string]any) error {
		res["meta"] = map[string]any{"versionId": "1", "lastUpdated": now.Format("2006-01-02T15:04:05.000Z07:00")}
		index, err := searchparam.Extract(typ, res)
		if err != nil {
			return err
		}
		key := ""
		if typ == "Patient" {
			key = res["id"].(string)
		}
		content, err := json.Marshal(res)
		if err != nil {
			return err
		}
		writes = append(writes, store.Write{Resource: store.Resource{Type: typ, ID: res["id"].(string), PatientKey: key,
			Version: 1, LastUpdated: now, Content: content}, Index: index})
		if len(writes) >= 2000 {
			err = storeAll(ctx, st, writes, nil)
			writes = writes[:0]
		}
		return err
	}
	b.progress("scale: storing %d patients and %d professionals", len(b.pop.Patients), len(b.pop.Professionals))
	for i := range b.pop.Patients {
		p := &b.pop.Patients[i]
		p.ID = newUUID(b.r)
		res, err := p.Resource()
		if err != nil {
			return err
		}
		if err := add("Patient", res); err != nil {
			return err
		}
	}
	for i := range b.pop.Professionals {
		p := &b.pop.Professionals[i]
		p.ID = newUUID(b.r)
		if err := add("Practitioner", p.Resource()); err != nil {
			return err
		}
	}
	return storeAll(ctx, st, writes, nil)
}

// storeAll stores writes and emits events in one transaction.
func storeAll(ctx context.Context, st store.Resources, writes []store.Write, events []store.Event) error {
	if len(writes) == 0 && len(events) == 0 {
		return nil
	}
	return st.Update(ctx, func(tx store.ResourceTx) error {
		for _, w := range writes {
			if err := tx.Write(ctx, w); err != nil {
				return err
			}
		}
		for _, e := range events {
			if err := tx.Emit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}
