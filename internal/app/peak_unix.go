//go:build linux || darwin

package app

import (
	"runtime"
	"syscall"
)

// peakMemory is the largest resident set size the process has had, in
// bytes, for the summary of long commands.
func peakMemory() (uint64, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	if runtime.GOOS == "darwin" {
		return uint64(ru.Maxrss), true // bytes
	}
	return uint64(ru.Maxrss) << 10, true // KiB on Linux
}
