package fs_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/blob/blobtest"
	"github.com/carnet-sante/carnet/internal/blob/fs"
	"github.com/carnet-sante/carnet/internal/keyring"
	"github.com/carnet-sante/carnet/internal/keyring/keyringtest"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Backend { return open(t, t.TempDir()) })
}

func open(t testing.TB, dir string) *fs.Backend {
	t.Helper()
	b, err := fs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newVault(t *testing.T) (*blob.Vault, *fs.Backend) {
	b := open(t, t.TempDir())
	t.Cleanup(func() { b.Close() })
	kr, _ := keyringtest.New(t)
	return blob.NewVault(b, kr), b
}

// TestDamageOnDisk alters object files in place, as bit rot or a careless
// operator would, rather than through the backend.
func TestDamageOnDisk(t *testing.T) {
	data := blobtest.Data(3*blob.ChunkSize, 1)
	for _, tc := range []struct {
		name   string
		damage func(path string) error
	}{
		{"flip a byte", func(path string) error {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			b := []byte{0}
			f.ReadAt(b, 100_000)
			_, err = f.WriteAt([]byte{b[0] ^ 0x80}, 100_000)
			return err
		}},
		{"truncate at a chunk boundary", func(path string) error { return os.Truncate(path, 13+2*(blob.ChunkSize+16)) }},
		{"truncate the trailer", func(path string) error { return os.Truncate(path, 13+3*(blob.ChunkSize+16)+20) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, b := newVault(t)
			ref, err := v.Put(context.Background(), "p", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			path, err := b.Path(ref.Key)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(path); err != nil {
				t.Fatal(err)
			}
			r, err := v.Open(context.Background(), "p", ref.Key)
			if err == nil {
				_, err = io.Copy(io.Discard, r)
				r.Close()
			}
			if !errors.Is(err, blob.ErrIntegrity) || !strings.Contains(err.Error(), ref.Key) {
				t.Errorf("error = %v, want ErrIntegrity naming %s", err, ref.Key)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	defer b.Close()
	blobtest.Put(t, b, "patient/abc", []byte("x"))
	path, err := b.Path("patient/abc")
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(dir, path)
	if parts := strings.Split(rel, string(filepath.Separator)); len(parts) != 3 || len(parts[0]) != 2 || len(parts[1]) != 2 || parts[2] != "patient~abc" {
		t.Errorf("object stored at %s, want xx/yy/patient~abc", rel)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("object file: %v, %v; want mode 0600", st.Mode(), err)
	}
	if temps := tempFiles(t, dir); len(temps) != 0 {
		t.Errorf("temporary files left after commit: %v", temps)
	}
	if _, err := b.Path("../escape"); err == nil {
		t.Error("Path accepted a traversal")
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "tmp", "put-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOpenRemovesTemps checks that temporary files of a dead writer go at
// the next Open, but not while another Backend has the directory open.
func TestOpenRemovesTemps(t *testing.T) {
	dir := t.TempDir()
	first := open(t, dir)
	w, err := first.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("in flight"))

	second := open(t, dir)
	if len(tempFiles(t, dir)) != 1 {
		t.Fatal("Open removed the temporary file of a live backend")
	}
	if err := w.Commit("k"); err != nil {
		t.Fatalf("commit after a second Open: %v", err)
	}
	if _, err := first.Create(context.Background()); err != nil { // left behind, as by a crash
		t.Fatal(err)
	}
	first.Close()
	second.Close()

	third := open(t, dir)
	defer third.Close()
	if temps := tempFiles(t, dir); len(temps) != 0 {
		t.Errorf("temporary files left after Open: %v", temps)
	}
	if got := blobtest.Get(t, third, "k"); string(got) != "in flight" {
		t.Errorf("committed object = %q", got)
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := fs.Open(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Open on a file: error = %v, want one naming it", err)
	}
}

// TestMemoryBounded checks that a large document is streamed in and out,
// never held whole in memory.
func TestMemoryBounded(t *testing.T) {
	v, _ := newVault(t)
	const size = 32 << 20
	src := io.LimitReader(rand.NewChaCha8([32]byte{1}), size)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ref, err := v.Put(context.Background(), "p", src)
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Open(context.Background(), "p", ref.Key)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	runtime.ReadMemStats(&after)
	if !bytes.Equal(h.Sum(nil), ref.SHA256[:]) || ref.Size != size {
		t.Fatal("read back other bytes than put")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("put and read of %d MiB allocated %d KiB, want at most 4 MiB", size>>20, alloc>>10)
	}
}

// Environment of the child process of TestCrashDuringWrites.
const (
	crashDirEnv     = "CARNET_TEST_CRASH_DIR"
	crashMasterEnv  = "CARNET_TEST_CRASH_MASTER"
	crashWrappedEnv = "CARNET_TEST_CRASH_WRAPPED"
	crashPatient    = "crash-patient"
)

// TestCrashDuringWrites kills a process writing documents with SIGKILL and
// checks that every document it acknowledged reads back whole, that no
// partial object is readable under any key, and that the next Open removes
// the temporary files it left.
func TestCrashDuringWrites(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	dir := t.TempDir()
	master := keyringtest.MasterKey()
	ks := keyringtest.NewKeyStore()
	kr, err := keyring.New(master, ks, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.ForWrite(context.Background(), crashPatient); err != nil {
		t.Fatal(err)
	}
	wrapped, _ := ks.WrappedKey(context.Background(), crashPatient)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringWrites$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		crashDirEnv+"="+dir,
		crashMasterEnv+"="+base64.StdEncoding.EncodeToString(master),
		crashWrappedEnv+"="+base64.StdEncoding.EncodeToString(wrapped))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the child once it has acknowledged enough writes, at a random
	// moment of the next one.
	acked, killing := map[string]bool{}, false
	lines := bufio.NewScanner(out)
	timeout := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	for lines.Scan() {
		if key, ok := strings.CutPrefix(lines.Text(), "ACK "); ok {
			acked[key] = true
		}
		if len(acked) == 30 && !killing {
			killing = true
			time.AfterFunc(time.Duration(rand.IntN(3000))*time.Microsecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	if len(acked) < 30 {
		t.Fatalf("child acknowledged %d writes before it was killed, want 30", len(acked))
	}
	t.Logf("killed after %d acknowledged writes, leaving %d temporary file(s)", len(acked), len(tempFiles(t, dir)))

	b := open(t, dir)
	defer b.Close()
	if temps := tempFiles(t, dir); len(temps) != 0 {
		t.Errorf("temporary files left after Open: %v", temps)
	}
	v := blob.NewVault(b, kr)
	for key := range acked {
		checkWhole(t, v, key)
	}
	// Every object file, acknowledged or not, decrypts whole.
	found := 0
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Dir(path) == filepath.Join(dir, "tmp") {
			return err
		}
		key := strings.ReplaceAll(d.Name(), "~", "/")
		if p, err := b.Path(key); err != nil || p != path {
			t.Errorf("file %s does not hold key %s", path, key)
			return nil
		}
		checkWhole(t, v, key)
		found++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < len(acked) || found > len(acked)+1 {
		t.Errorf("%d object files for %d acknowledged writes, want the same number or one more", found, len(acked))
	}
}

// checkWhole reads a document and checks its content against its key.
func checkWhole(t *testing.T, v *blob.Vault, key string) {
	t.Helper()
	r, err := v.Open(context.Background(), crashPatient, key)
	if err != nil {
		t.Errorf("open %s: %v", key, err)
		return
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Errorf("read %s: %v", key, err)
	} else if crashPatient+"/"+hex.EncodeToString(h.Sum(nil)) != key {
		t.Errorf("%s holds other bytes", key)
	}
}

// crashChild writes documents of 1 KiB to 1 MiB until killed, printing the
// key of each one Put acknowledged.
func crashChild(t *testing.T, dir string) {
	master, err1 := base64.StdEncoding.DecodeString(os.Getenv(crashMasterEnv))
	wrapped, err2 := base64.StdEncoding.DecodeString(os.Getenv(crashWrappedEnv))
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	ks := keyringtest.NewKeyStore()
	ks.Put(crashPatient, wrapped)
	kr, err := keyring.New(master, ks, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, dir)
	v := blob.NewVault(b, kr)
	for i := uint64(0); ; i++ {
		data := blobtest.Data(1<<10+rand.IntN(1<<20), i)
		ref, err := v.Put(context.Background(), crashPatient, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("ACK " + ref.Key + "\n")
	}
}
