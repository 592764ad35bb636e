//go:build !linux && !darwin

package app

// peakMemory is not measured on this system.
func peakMemory() (uint64, bool) { return 0, false }
