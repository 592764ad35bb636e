package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// server is a `carnet serve` process the benchmark started, on a data
// directory (and database) of its own.
type server struct {
	cmd     *exec.Cmd
	url     string // http://127.0.0.1:port
	logPath string
	exited  chan struct{}
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startServer runs `exe serve` on a free port of 127.0.0.1 and waits until
// it says where it listens. Its logs (warnings and errors only) go to
// logPath.
func startServer(ctx context.Context, exe, dataDir, databaseURL, logPath string, pprof bool) (*server, error) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--log-level", "warn", "--log-format", "json"}
	if databaseURL != "" {
		args = append(args, "--database", databaseURL)
	}
	if pprof {
		args = append(args, "--pprof")
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = withoutCarnetEnv(os.Environ())
	cmd.SysProcAttr = serverProcAttr()
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the server: %w", err)
	}
	s := &server{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(s.exited) }()
	select {
	case s.url = <-found:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("the server exited before listening: %s", s.logTail())
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("the server did not listen within 2 minutes: %s", s.logTail())
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// withoutCarnetEnv drops CARNET_* variables, which are the benchmark's own
// options: the server gets only the flags given to it.
func withoutCarnetEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "CARNET_") {
			out = append(out, kv)
		}
	}
	return out
}

// stop asks the server to shut down (SIGTERM) and kills it if it has not
// exited after 30 seconds.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// logTail is the end of the server's log, to explain a failure.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// peakRSSMB is the peak resident memory of process pid (VmHWM), in MiB.
func peakRSSMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return statusKB(b, "VmHWM")
}

// statusKB reads a "Name:   123 kB" line of /proc/PID/status, in MiB.
func statusKB(status []byte, name string) (float64, error) {
	for _, line := range bytes.Split(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte(name+":"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 64)
		if err != nil {
			return 0, fmt.Errorf("/proc status %s: %w", name, err)
		}
		return kb / 1024, nil
	}
	return 0, fmt.Errorf("/proc status has no %s", name)
}

// dirBytes sums the sizes of the regular files under dir; 0 if it does
// not exist.
func dirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// sqliteBytes is the size of the SQLite database of a data directory:
// the file and its write-ahead log.
func sqliteBytes(dataDir string) (int64, error) {
	var total int64
	for _, name := range []string{"carnet.db", "carnet.db-wal"} {
		info, err := os.Stat(filepath.Join(dataDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		total += info.Size()
	}
	return total, nil
}

// postgresBytes is the size of a PostgreSQL database on disk.
func postgresBytes(ctx context.Context, databaseURL string) (int64, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int64
	err = conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
	return n, err
}

// client talks HTTP to the server under test.
type client struct {
	http *http.Client
	base string // the FHIR base: http://host:port/fhir
	root string // http://host:port
}

func newClient(root string, concurrency int) *client {
	root = strings.TrimSuffix(strings.TrimSuffix(root, "/"), "/fhir")
	tr := &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute}
	return &client{http: &http.Client{Transport: tr, Timeout: 5 * time.Minute}, base: root + "/fhir", root: root}
}

// do sends a request to path (relative to the FHIR base) and returns the
// body of a 2xx answer; any other status is an error quoting the body.
func (c *client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/"+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		if len(out) > 300 {
			out = out[:300]
		}
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode, out)
	}
	return out, nil
}

// profile fetches a CPU profile of the server over the next `seconds`
// seconds into path (the server must run with --pprof).
func (c *client) profile(ctx context.Context, seconds int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", c.root, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: HTTP %d (does the server run with --pprof?)", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
