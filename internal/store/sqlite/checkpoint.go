package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// checkpointEvery is how often, while writes go on, the checkpointer
// copies the WAL back into the database file. At the deposit rate of the
// benchmark that is a few thousand pages each time, about what SQLite's
// own automatic checkpoint (1,000 pages) would copy, in fewer fsyncs.
const checkpointEvery = 250 * time.Millisecond

// writerCheckpointPages is when the writer checkpoints by itself after
// all, should the checkpointer fall behind: the WAL then holds ~80 MB.
const writerCheckpointPages = "20000"

// checkpointer copies the WAL into the database file on a connection of
// its own. Left to the writer, each checkpoint (random writes to the
// database file and an fsync) would run inside a commit, in turn with
// every other write; here it runs beside them (a PASSIVE checkpoint takes
// no write lock).
type checkpointer struct {
	db    *sql.DB
	nudge chan struct{}
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, nudge: make(chan struct{}, 1), stop: make(chan struct{})}
	c.wg.Go(c.run)
	return c
}

// wrote tells the checkpointer that a transaction committed. It never
// blocks.
func (c *checkpointer) wrote() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	for {
		select {
		case <-c.stop:
			return
		case <-c.nudge:
		}
		if _, err := c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			// The writer's own checkpoint (writerCheckpointPages) keeps the
			// WAL bounded meanwhile.
			slog.Warn("sqlite: checkpoint failed", "err", err)
		}
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// Close stops the checkpointer and closes its connection. Closing again
// does nothing.
func (c *checkpointer) Close() error {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
	return c.db.Close()
}
