package testenv

import (
	"crypto/rand"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// VersityGWInstall is how to get the S3 server tests run against.
const VersityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// s3StartTimeout bounds how long a start waits for versitygw to answer; it
// normally takes a fraction of a second.
const s3StartTimeout = 30 * time.Second

// S3Server is a versitygw process (Apache-2.0) serving a directory over S3
// on 127.0.0.1, for tests and `carnet bench`. Buckets are directories of
// dir/root. It can be stopped and started again on the same port and data,
// to test how carnet lives through an outage of its object store.
type S3Server struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string

	dir string // holds root/ and versitygw.log
	bin string

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil while stopped
	done chan struct{} // closed when cmd has exited
}

// StartS3Server starts versitygw with fresh credentials on a free port,
// keeping its data in dir (created if missing), and waits until it answers.
// Call Close to stop it and remove dir.
func StartS3Server(dir string) (*S3Server, error) {
	bin, err := findVersityGW()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	s := &S3Server{
		AccessKey: "carnet" + strings.ToLower(rand.Text()[:10]),
		SecretKey: rand.Text(),
		dir:       dir,
		bin:       bin,
	}
	if err := os.MkdirAll(s.root(), 0o700); err != nil {
		return nil, fmt.Errorf("s3 server: %w", err)
	}
	// The port is picked free, but another process may take it before
	// versitygw binds it: try a few.
	for attempt := 0; ; attempt++ {
		port, err := freeTCPPort()
		if err != nil {
			return nil, err
		}
		s.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.Start()
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "address already in use") {
			return s, err
		}
	}
}

// URL is the carnet --blobs URL of a bucket on this server.
func (s *S3Server) URL(bucket string) string {
	return "s3://" + bucket + "?endpoint=" + s.Endpoint + "&secure=false"
}

// Start starts a stopped server again, on the same port and data, and waits
// until it answers. It is a no-op on a running server.
func (s *S3Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("s3 server: open log: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(s.bin, "--quiet", "--port", s.Endpoint, "posix", s.root())
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Pdeathsig: syscall.SIGKILL, // no server outlives a crashed test binary
		Setpgid:   true,            // a ^C in the terminal goes to the tests only
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("s3 server: start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	if err := waitHTTP("http://"+s.Endpoint+"/", done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("s3 server: versitygw did not start on %s: %w\n%s", s.Endpoint, err, tail(s.logPath()))
	}
	s.cmd, s.done = cmd, done
	return nil
}

// Stop kills the server, as a crash would, and waits for it to exit; the
// data stay, and Start brings it back. It is a no-op on a stopped server.
func (s *S3Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("s3 server: stop: %w", err)
	}
	<-s.done
	s.cmd, s.done = nil, nil
	return nil
}

// Close stops the server and removes its directory.
func (s *S3Server) Close() error {
	return errors.Join(s.Stop(), os.RemoveAll(s.dir))
}

func (s *S3Server) root() string    { return filepath.Join(s.dir, "root") }
func (s *S3Server) logPath() string { return filepath.Join(s.dir, "versitygw.log") }

// s3Shared is the S3 server of this test binary, started on first use and
// killed with the process (Pdeathsig).
var s3Shared struct {
	once   sync.Once
	server *S3Server
	err    error
}

// S3 returns the address and credentials of an S3 server shared by the
// tests of this binary. Give each test its own bucket (S3Bucket). If no
// server can be started, the test is skipped, or fails under CI=true.
func S3(t testing.TB) (endpoint, accessKey, secretKey string) {
	t.Helper()
	s3Shared.once.Do(func() {
		removeStaleS3Dirs()
		dir, err := os.MkdirTemp("", s3DirPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			s3Shared.err = err
			return
		}
		if s3Shared.server, s3Shared.err = StartS3Server(dir); s3Shared.err != nil {
			os.RemoveAll(dir)
		}
	})
	if s3Shared.err != nil {
		Unavailable(t, "S3 server (versitygw)", s3Shared.err.Error())
	}
	s := s3Shared.server
	return s.Endpoint, s.AccessKey, s.SecretKey
}

// s3DirPrefix starts the directories of shared servers, followed by the
// process id of the test binary that owns it.
const s3DirPrefix = "carnet-s3-"

// removeStaleS3Dirs removes the directories of shared servers whose test
// binary is gone: the server dies with it (Pdeathsig), its data is garbage.
func removeStaleS3Dirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), s3DirPrefix+"*-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(d), s3DirPrefix), "-", 2)[0])
		if err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}

// S3Bucket returns a bucket name of the shared server (S3) no other test
// uses; the bucket, once created, is removed with its objects when t ends.
func S3Bucket(t testing.TB) string {
	t.Helper()
	S3(t)
	name := "carnet-test-" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		if err := os.RemoveAll(filepath.Join(s3Shared.server.root(), name)); err != nil {
			t.Logf("remove test bucket %s: %v", name, err)
		}
	})
	return name
}

// NewS3Server starts an S3 server for this test alone, closed when the test
// ends: for tests that stop and restart it, which would break the other
// tests of the binary if done to the shared one.
func NewS3Server(t testing.TB) *S3Server {
	t.Helper()
	s, err := StartS3Server(t.TempDir())
	if err != nil {
		Unavailable(t, "S3 server (versitygw)", err.Error())
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// findVersityGW looks for versitygw in PATH, then where go install puts it.
func findVersityGW() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	dirs := []string{os.Getenv("GOBIN")}
	for _, p := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "versitygw"); d != "" && isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found in PATH, $GOBIN or $GOPATH/bin: %s", VersityGWInstall)
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// waitHTTP polls url until it gives any HTTP answer, the process exits, or
// s3StartTimeout passes.
func waitHTTP(url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(s3StartTimeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			return resp.Body.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after %v: %w", s3StartTimeout, err)
		}
		select {
		case <-exited:
			return errors.New("the server exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freeTCPPort asks the kernel for a TCP port nobody listens on.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of a log file, to explain a failed start.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
