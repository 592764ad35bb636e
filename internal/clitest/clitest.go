// Package clitest runs the real carnet binary in tests, as a user would:
// built once per test binary, started with flags, read on stdout and
// stderr, stopped with a signal.
package clitest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds ./cmd/carnet once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "carnet-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "carnet")
		cmd := exec.Command("go", "build", "-o", build.path, "github.com/carnet-sante/carnet/cmd/carnet")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// Result is how a finished command ended.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs carnet to completion with args and extra environment variables.
func Run(t testing.TB, env []string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run carnet %v: %v", args, err)
	}
	return Result{code, stdout.String(), stderr.String()}
}

// cleanEnv is the test's environment without CARNET_* settings and the Go
// runtime's GOGC and GOMEMLIMIT, so that a developer's shell does not
// change what a test checks.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CARNET_") && !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			env = append(env, kv)
		}
	}
	return env
}

// Server is a running `carnet serve`.
type Server struct {
	URL    string // http://host:port
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	mu     *sync.Mutex
	done   chan error
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// Serve starts `carnet serve --addr 127.0.0.1:0 args…` and waits for the
// line that says where it listens. The server is stopped when the test ends.
func Serve(t testing.TB, env []string, args ...string) *Server {
	t.Helper()
	cmd := exec.Command(Binary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	if runtime.GOOS == "linux" {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cmd: cmd, stderr: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan error, 1)}
	cmd.Stderr = lockedWriter{s.mu, s.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { s.Stop(t) })

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s.URL = <-found:
		return s
	case err := <-s.done:
		t.Fatalf("carnet serve exited before listening: %v\nstderr:\n%s", err, s.Stderr())
	case <-time.After(60 * time.Second):
		t.Fatalf("carnet serve did not say where it listens within 60s\nstderr:\n%s", s.Stderr())
	}
	return nil
}

// Stderr is what the server has logged so far.
func (s *Server) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// Stop sends SIGTERM and waits for a graceful exit; it fails the test if
// the server does not exit cleanly.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("carnet serve did not exit cleanly after SIGTERM: %v\nstderr:\n%s", err, s.Stderr())
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("carnet serve still running 30s after SIGTERM")
	}
}

// Kill sends SIGKILL, as a crash or a power cut would end the server,
// and waits until it is gone.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill carnet serve: %v", err)
	}
	<-s.done
}

// Get fetches path and returns the status and body.
func (s *Server) Get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// WaitStatus polls path until it answers want, or fails after timeout.
func (s *Server) WaitStatus(t testing.TB, path string, want int, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body := s.Get(t, path)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: still %d after %s, want %d: %s", path, code, timeout, want, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
