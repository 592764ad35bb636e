package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// What bounds a scenario shows in where the CPU went during it: the
// server's CPU time per operation, the load generator's (this process),
// and how busy the whole box was. When server + load generator + database
// keep every core busy, the figure is the machine's; when the box idles,
// something waits (fsync, a lock). Read from Linux's /proc; absent
// elsewhere.

// userHZ is the unit of the CPU times in /proc/PID/stat: fixed at 100 by
// the Linux ABI, whatever the kernel's tick.
const userHZ = 100

// cpuSample is the CPU time of the server and of this process, and the
// busy and total time of every core of the box, at one moment.
type cpuSample struct {
	server, self time.Duration
	busy, total  uint64 // jiffies, all cores
	ok           bool
}

func sampleCPU(serverPID int) cpuSample {
	var s cpuSample
	var err error
	if serverPID > 0 {
		if s.server, err = processCPU(serverPID); err != nil {
			return s
		}
	}
	if s.self, err = processCPU(os.Getpid()); err != nil {
		return s
	}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	if s.busy, s.total, err = machineCPU(stat); err != nil {
		return s
	}
	s.ok = true
	return s
}

// account completes r with the CPU used between two samples, per unit
// of r.
func (before cpuSample) account(after cpuSample, r *Result, server bool) {
	units := r.OpsPerS * r.Seconds
	if !before.ok || !after.ok || units <= 0 {
		return
	}
	perOp := func(d time.Duration) *float64 {
		v := round(float64(d)/float64(time.Millisecond)/units, 3)
		return &v
	}
	if server {
		r.ServerCPUMsPerOp = perOp(after.server - before.server)
	}
	r.LoadCPUMsPerOp = perOp(after.self - before.self)
	if total := after.total - before.total; total > 0 {
		busy := round(float64(after.busy-before.busy)/float64(total), 2)
		r.MachineBusy = &busy
	}
}

// processCPU is the user + system CPU time process pid has used.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return statCPU(b)
}

// statCPU reads utime and stime, the 14th and 15th fields of
// /proc/PID/stat; the command name (2nd) may hold spaces and parentheses,
// so fields are counted from its closing parenthesis.
func statCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat: no command name")
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is the 3rd field
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields", len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// machineCPU reads the first line of /proc/stat, the time of all cores:
// user nice system idle iowait irq softirq steal…; busy is all but idle
// and iowait.
func machineCPU(stat []byte) (busy, total uint64, err error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	for i, s := range f[1:] {
		if i >= 8 { // guest times are already counted in user
			break
		}
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total, nil
}
