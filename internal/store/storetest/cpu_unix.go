//go:build unix

package storetest

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) this process has used,
// or 0 where the system does not say.
func processCPU() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
