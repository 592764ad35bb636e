package app

import (
	"os"
	"runtime/debug"
)

// gcPercent is the heap growth, in percent of the live heap, that starts a
// garbage collection below the memory limit. Go's default, 100, made the
// collector a fifth of a deposit's CPU (docs/PERFORMANCE.md).
const gcPercent = 400

// tuneGC makes the server's garbage collector trade memory for CPU within
// limit bytes (--memory-limit; 0 keeps Go's defaults). GOGC or GOMEMLIMIT
// in the environment have been applied by the Go runtime already and win.
// Only `carnet serve` is tuned: bulk commands (import, the benchmark's
// million-document build) hold more live heap than a server's limit, and
// would spend their time collecting under it.
func tuneGC(limit int64) {
	if limit == 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(limit)
}
