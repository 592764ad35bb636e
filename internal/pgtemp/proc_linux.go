package pgtemp

import "syscall"

// sysProcAttr runs the server as cred (nil: as ourselves), in its own
// process group so that a ^C in the terminal reaches the tests and not the
// server, and has the kernel SIGKILL it when this process dies.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
