//go:build unix && !linux

package pgtemp

import "syscall"

// sysProcAttr runs the server as cred (nil: as ourselves), in its own
// process group so that a ^C in the terminal reaches the tests and not the
// server. Without Linux's Pdeathsig, a server outlives a killed parent:
// stop it by hand.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
