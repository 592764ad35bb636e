//go:build unix && !linux

package bench

import "syscall"

// serverProcAttr puts the server in its own process group, so that a ^C in
// the terminal reaches the benchmark (which then stops the server
// gracefully). Without Linux's Pdeathsig, a server outlives a killed
// benchmark: stop it by hand.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
