package bench

import "syscall"

// serverProcAttr puts the server in its own process group, so that a ^C in
// the terminal reaches the benchmark (which then stops the server
// gracefully) and not the server mid-scenario, and has the kernel SIGKILL
// it if the benchmark dies.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
