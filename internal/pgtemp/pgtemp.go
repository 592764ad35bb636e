// Package pgtemp runs a throwaway PostgreSQL cluster from the binaries
// installed on the machine, for tests and for `carnet bench`: no Docker, no
// shared server, nothing left behind after Close.
//
// By default the cluster trades durability for speed (fsync=off, initdb
// --no-sync): it is for data you can afford to lose. StartWith with
// Options.Durable keeps PostgreSQL's crash-safe defaults, for benchmarks
// whose figures must include the cost of a durable commit.
//
// initdb and postgres refuse to run as root, so when the caller is root both
// run as the "postgres" OS user. That user must then be able to reach the
// cluster directory: every parent directory must be traversable by others
// (a fresh directory under /tmp with mode 0755 works; t.TempDir() does not,
// it is 0700).
package pgtemp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir is where Debian installs the PostgreSQL 15 server binaries. When
// initdb is not there, Start looks it up in PATH.
const BinDir = "/usr/lib/postgresql/15/bin"

// timeout bounds how long Start waits for the server to accept
// connections, and Stop for it to exit; both normally take well under a
// second.
const timeout = 30 * time.Second

// Cluster is a running (or stopped) PostgreSQL cluster in a directory of
// its own, listening on 127.0.0.1 and on a Unix socket in that directory.
// Its superuser is "postgres", with trust authentication.
type Cluster struct {
	dir   string // holds data/, the socket and postgres.log
	bin   string // directory of initdb and postgres
	port  int
	runAs *syscall.Credential // nil when not root
	opt   Options

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil while stopped
	done chan struct{} // closed when cmd has exited
}

// Options change how a cluster runs.
type Options struct {
	// Durable keeps fsync on and lets initdb sync the new cluster: every
	// commit reaches the disk, as on a production server.
	Durable bool
	// Settings are server settings (postgres -c name=value).
	Settings map[string]string
}

// Start creates a cluster in dir (created if missing, and must be empty or
// absent), starts it on a free port and waits until it accepts connections.
// Call Close to stop it and remove dir. If Start fails, dir is removed.
func Start(dir string) (*Cluster, error) {
	return StartWith(dir, Options{})
}

// StartWith is Start with options.
func StartWith(dir string, opt Options) (*Cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, opt: opt}
	if os.Geteuid() == 0 {
		if c.runAs, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	if err := c.initAndStart(); err != nil {
		os.RemoveAll(dir) // it was empty: all in it is ours
		return nil, err
	}
	return c, nil
}

func (c *Cluster) initAndStart() error {
	if err := c.initdb(); err != nil {
		return err
	}
	// The port is picked free, but another process may take it before
	// postgres binds it: try a few.
	for attempt := 0; ; attempt++ {
		var err error
		if c.port, err = freePort(); err != nil {
			return err
		}
		err = c.Start()
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "could not bind") {
			return err
		}
	}
}

// URL returns the connection URL of database dbname, over TCP as the
// superuser.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates an empty database and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtemp: connect to create database %q: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtemp: create database %q: %w", name, err)
	}
	return c.URL(name), nil
}

// Start starts a stopped cluster again, on the same directory and port, and
// waits until it accepts connections. It is a no-op on a running cluster.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtemp: open server log: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor
	args := []string{
		"-D", c.dataDir(),
		"-k", c.dir,
		"-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1",
	}
	if !c.opt.Durable {
		args = append(args, "-c", "fsync=off")
	}
	for _, name := range slices.Sorted(maps.Keys(c.opt.Settings)) {
		args = append(args, "-c", name+"="+c.opt.Settings[name])
	}
	cmd := c.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtemp: start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	if err := waitReady(c.URL("postgres"), done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("pgtemp: postgres did not start on port %d: %w\n%s", c.port, err, c.logTail())
	}
	c.cmd, c.done = cmd, done
	return nil
}

// Stop shuts the server down (fast shutdown: sessions are disconnected)
// and waits for it to exit; the data stay, and Start brings it back.
// It is a no-op on a stopped cluster.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return nil
	}
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgtemp: stop postgres: %w", err)
	}
	select {
	case <-c.done:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd, c.done = nil, nil
	return nil
}

// Close stops the server and removes its directory.
func (c *Cluster) Close() error {
	err := c.Stop()
	return errors.Join(err, os.RemoveAll(c.dir))
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

// prepareDir creates the cluster directory and, when running as root, hands
// it to the postgres user after checking that user can reach it.
func (c *Cluster) prepareDir() error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("pgtemp: %w", err)
	}
	if entries, err := os.ReadDir(c.dir); err != nil {
		return fmt.Errorf("pgtemp: %w", err)
	} else if len(entries) > 0 {
		return fmt.Errorf("pgtemp: %s is not empty: give Start a new directory", c.dir)
	}
	if c.runAs == nil {
		return nil
	}
	for p := filepath.Dir(c.dir); ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgtemp: %w", err)
		}
		if info.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgtemp: the postgres user cannot traverse %s (mode %v): put the cluster under a directory with mode 0755, such as one made under /tmp", p, info.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	if err := os.Chmod(c.dir, 0o755); err != nil {
		return fmt.Errorf("pgtemp: %w", err)
	}
	if err := os.Chown(c.dir, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
		return fmt.Errorf("pgtemp: give %s to the postgres user: %w", c.dir, err)
	}
	return nil
}

func (c *Cluster) initdb() error {
	args := []string{
		"-D", c.dataDir(),
		"-A", "trust",
		"-U", "postgres",
		"-E", "UTF8",
		"--locale=C",
	}
	if !c.opt.Durable {
		args = append(args, "--no-sync")
	}
	cmd := c.command("initdb", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtemp: initdb: %w\n%s", err, out)
	}
	return nil
}

// command prepares a PostgreSQL binary to run as the postgres user when we
// are root, and (on Linux) to be killed if this process dies first, so that
// a crashed test run leaves no server behind.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = sysProcAttr(c.runAs)
	return cmd
}

// logTail returns the end of the server log, to explain a failed start.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return ""
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}

// waitReady polls the server until it accepts a connection, it exits, or
// the timeout passes.
func waitReady(connURL string, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, connURL)
		cancel()
		if err == nil {
			return conn.Close(context.Background())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", timeout, err)
		}
		select {
		case <-exited:
			return errors.New("the server exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// findBinaries returns the directory holding initdb and postgres.
func findBinaries() (string, error) {
	if _, err := os.Stat(filepath.Join(BinDir, "initdb")); err == nil {
		return BinDir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("pgtemp: PostgreSQL server binaries not found in %s nor in PATH: install postgresql-15 (apt-get install postgresql-15)", BinDir)
}

// postgresUser returns the credentials of the postgres OS user.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtemp: running as root needs a postgres OS user to run initdb and postgres: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtemp: uid of postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtemp: gid of postgres: %w", err)
	}
	// No supplementary groups: root's must not leak to the server.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort asks the kernel for a TCP port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtemp: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
