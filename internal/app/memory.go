package app

import (
	"os"
	"runtime/debug"
)

// gcPercent is the heap growth, in percent of the live heap, that starts a
// garbage collection below the memory limit. Go's default, 100, made the
// collector a fifth of a deposit's CPU (docs/PERFORMANCE.md).
const gcPercent = 400

// tuneGC makes the garbage collector trade memory for CPU within limit
// bytes (--memory-limit; 0 keeps Go's defaults). GOGC or GOMEMLIMIT in the
// environment have been applied by the Go runtime already and win.
func tuneGC(limit int64) {
	if limit == 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(limit)
}
