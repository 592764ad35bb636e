package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one operation of a scenario, run by worker w with its own random
// source: it returns how many units it did (documents, resources,
// requests) so that throughput counts what the scenario is about.
type Op func(ctx context.Context, w int, r *rand.Rand) (units int, err error)

// Load is the outcome of running an Op: every latency, the units done and
// the errors, over the elapsed time.
type Load struct {
	Latencies []time.Duration
	Units     int
	Errors    int
	// FirstError is the first failure, to say what went wrong.
	FirstError error
	Elapsed    time.Duration
}

// RunLoad runs op from `concurrency` workers until `duration` has passed (an
// operation started before then completes) or ctx ends, and at least
// minOps operations have been run in all, so that a slow scenario still
// gives a figure. tick, if not nil, is called every 5 seconds with the
// operations and errors so far, for progress.
func RunLoad(ctx context.Context, concurrency int, duration time.Duration, minOps int, op Op, tick func(ops, errors int)) *Load {
	var (
		mu      sync.Mutex
		total   Load
		started atomic.Int64
		done    atomic.Int64
		failed  atomic.Int64
	)
	start := time.Now()
	deadline := start.Add(duration)
	stopTick := make(chan struct{})
	var ticker sync.WaitGroup
	if tick != nil {
		ticker.Go(func() {
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					tick(int(done.Load()), int(failed.Load()))
				case <-stopTick:
					return
				}
			}
		})
	}
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w)+1, uint64(start.UnixNano())))
			lat := make([]time.Duration, 0, 1024)
			units, errs := 0, 0
			var first error
			for ctx.Err() == nil {
				if n := started.Add(1); n > int64(minOps) && time.Now().After(deadline) {
					break
				}
				t0 := time.Now()
				u, err := op(ctx, w, r)
				lat = append(lat, time.Since(t0))
				if err != nil {
					if ctx.Err() != nil {
						break // cancelled: not the server's failure
					}
					errs++
					failed.Add(1)
					if first == nil {
						first = err
					}
				} else {
					units += u
				}
				done.Add(1)
			}
			mu.Lock()
			defer mu.Unlock()
			total.Latencies = append(total.Latencies, lat...)
			total.Units += units
			total.Errors += errs
			if total.FirstError == nil {
				total.FirstError = first
			}
		})
	}
	wg.Wait()
	total.Elapsed = time.Since(start)
	close(stopTick)
	ticker.Wait()
	return &total
}

// Rate is units per second.
func (l *Load) Rate() float64 {
	if l.Elapsed <= 0 {
		return 0
	}
	return float64(l.Units) / l.Elapsed.Seconds()
}

// String summarises the load for progress lines.
func (l *Load) String() string {
	return fmt.Sprintf("%d requests, %d errors in %s", len(l.Latencies), l.Errors, l.Elapsed.Round(time.Millisecond))
}
