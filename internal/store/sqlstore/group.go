package sqlstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/carnet-sante/carnet/internal/store"
)

// Grouped is an Engine whose write transactions run one at a time (SQLite's
// one writer). Running its Updates side by side gains nothing, and each
// commit costs a device flush (~0.7 ms here), so the store commits the
// Updates waiting at a moment together: one transaction and one flush for
// the group, each Update inside its own savepoint, so that each keeps its
// own all-or-nothing outcome (DESIGN.md §7, group commit).
type Grouped interface {
	Engine
	// GroupCommit reports whether Updates should be grouped.
	GroupCommit() bool
}

// maxGroup bounds the Updates of one group: their writes are held in one
// transaction, and the first of them waits for the last.
const maxGroup = 64

// group queues Updates and commits them in turns. There is no goroutine of
// its own: the first Update to arrive while no group is committing leads,
// commits what is queued (its own Update first), and hands the lead to the
// oldest Update still waiting, if any, before returning.
type group struct {
	e       Engine
	mu      sync.Mutex
	queue   []*job
	leading bool
}

// job is one Update waiting in a group.
type job struct {
	ctx  context.Context
	fn   func(store.ResourceTx) error
	done chan outcome // buffered: the leader never waits for a reader
}

// outcome is what a waiting Update is told: its result, or that it leads.
type outcome struct {
	err      error
	panicked any // what fn panicked with, to panic again in its caller
	lead     bool
}

func (g *group) update(ctx context.Context, fn func(store.ResourceTx) error) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan outcome, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, j)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		// No early return on ctx: the job may be running. The leader skips
		// it if ctx is done before its turn.
		if o := <-j.done; !o.lead {
			return o.result()
		}
	}
	// j is first in the queue: a new leader is the oldest waiting job.
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := append([]*job(nil), g.queue[:n]...)
	g.queue = g.queue[n:]
	g.mu.Unlock()

	outcomes := g.commit(batch)
	for i, o := range batch[1:] {
		o.done <- outcomes[i+1]
	}

	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
	} else {
		g.queue[0].done <- outcome{lead: true}
	}
	g.mu.Unlock()
	return outcomes[0].result()
}

// result is what Update returns: the error, or fn's panic, raised again in
// the goroutine that called Update, as without grouping.
func (o outcome) result() error {
	if o.panicked != nil {
		panic(o.panicked)
	}
	return o.err
}

// commit runs the jobs of a batch in one transaction and returns each
// one's outcome.
func (g *group) commit(batch []*job) []outcome {
	out := make([]outcome, len(batch))
	all := func(err error) []outcome {
		for i := range out {
			if out[i].err == nil {
				out[i].err = err
			}
		}
		return out
	}
	// Statements run without the jobs' cancellation: SQLite answers an
	// interrupted write inside a transaction by rolling the whole
	// transaction back, which would fail the other jobs. A job whose
	// context is done before its turn does not run.
	ctx := context.WithoutCancel(batch[0].ctx)
	t, err := g.e.Begin(ctx)
	if err != nil {
		return all(fmt.Errorf("store: begin a write transaction: %w", err))
	}
	tx := detached{t}
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			out[i].err = fmt.Errorf("store: write transaction not run: %w", err)
			continue
		}
		if _, err := tx.Exec(ctx, Stmt{SQL: "SAVEPOINT job"}); err != nil {
			t.Rollback(ctx)
			return all(fmt.Errorf("store: begin a write transaction: %w", err))
		}
		out[i] = runJob(j.ctx, g.e, tx, j.fn)
		undo := []Stmt{{SQL: "RELEASE job"}}
		if out[i].err != nil {
			undo = []Stmt{{SQL: "ROLLBACK TO job"}, {SQL: "RELEASE job"}}
		}
		if _, err := tx.Exec(ctx, undo...); err != nil {
			// SQLite rolls the whole transaction back on some errors (disk
			// full, I/O): the earlier jobs are lost with it.
			t.Rollback(ctx)
			return all(fmt.Errorf("store: write transaction lost: %w", err))
		}
	}
	if err := t.Commit(ctx); err != nil {
		return all(failed(g.e, "commit", err))
	}
	return out
}

// runJob is run, with a panic of fn caught: the leader must go on to answer
// the other jobs and end the transaction. The job's own Update panics
// again with it.
func runJob(ctx context.Context, e Engine, tx Tx, fn func(store.ResourceTx) error) (o outcome) {
	defer func() {
		if r := recover(); r != nil {
			o = outcome{err: fmt.Errorf("store: write transaction panicked: %v", r), panicked: r}
		}
	}()
	return outcome{err: run(ctx, e, tx, fn)}
}

// detached runs a transaction's statements without the caller's
// cancellation (see commit).
type detached struct{ Tx }

func (d detached) Query(ctx context.Context, sql string, args ...any) (Rows, error) {
	return d.Tx.Query(context.WithoutCancel(ctx), sql, args...)
}

func (d detached) Exec(ctx context.Context, stmts ...Stmt) ([]int64, error) {
	return d.Tx.Exec(context.WithoutCancel(ctx), stmts...)
}
