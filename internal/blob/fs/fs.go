// Package fs keeps blobs as files under a root directory (--data/blobs).
//
// An object with key k lives in root/xx/yy/name, where xxyy are the first
// hex digits of SHA-256(k), so that no directory grows too large, and name
// is k with "/" replaced by "~" (CheckKey keeps "~" out of keys). A write
// goes to a temporary file in root/tmp, which is fsynced, renamed into
// place, and the directory fsynced: a reader sees the whole object or
// nothing, and a committed object survives a crash or power cut.
package fs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/carnet-sante/carnet/internal/blob"
)

const (
	tmpDir    = "tmp"
	tmpPrefix = "put-"
	lockFile  = "lock"
)

// Backend is a blob.Backend on a local directory.
type Backend struct {
	root string
	lock *os.File
	// synced remembers fan-out directories whose entry is known durable.
	synced sync.Map
}

var _ blob.Backend = (*Backend)(nil)

// Open uses root as blob storage, creating it if needed. Temporary files
// left by a process that died mid-write are removed, unless another process
// has the directory open (it might be writing them): every open Backend
// holds a shared lock on root/tmp/lock, and cleaning needs it exclusive.
func Open(root string) (*Backend, error) {
	tmp := filepath.Join(root, tmpDir)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("blob fs: create %s: %w", tmp, err)
	}
	if err := syncDir(filepath.Dir(root)); err != nil { // root may be new
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(tmp, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("blob fs: open lock file: %w", err)
	}
	if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		err = removeTemps(tmp)
	}
	if err == nil {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_SH)
	}
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("blob fs: open %s: %w", root, err)
	}
	return &Backend{root: root, lock: lock}, nil
}

func removeTemps(tmp string) error {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.Remove(filepath.Join(tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove leftover temporary file: %w", err)
			}
		}
	}
	return nil
}

// Name is "fs".
func (b *Backend) Name() string { return "fs" }

// Close releases the directory lock.
func (b *Backend) Close() error { return b.lock.Close() }

// Ping checks that the root directory is still there.
func (b *Backend) Ping(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(b.root, tmpDir)); err != nil {
		return fmt.Errorf("blob fs: %w", err)
	}
	return nil
}

// Path is the file that holds key. It is exported for tests and tools that
// inspect the directory; code reads objects through Get.
func (b *Backend) Path(key string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", fmt.Errorf("blob fs: %w", err)
	}
	h := sha256.Sum256([]byte(key))
	x := hex.EncodeToString(h[:2])
	return filepath.Join(b.root, x[:2], x[2:], strings.ReplaceAll(key, "/", "~")), nil
}

// Create stages a new object in a temporary file.
func (b *Backend) Create(ctx context.Context) (blob.Writer, error) {
	f, err := os.CreateTemp(filepath.Join(b.root, tmpDir), tmpPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("blob fs: %w", err)
	}
	return &writer{b: b, ctx: ctx, f: f}, nil
}

// Get opens the file of key.
func (b *Backend) Get(ctx context.Context, key string) (blob.Object, error) {
	path, err := b.Path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob fs: %s: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob fs: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob fs: %w", err)
	}
	return &object{File: f, size: st.Size()}, nil
}

// Delete removes the file of key and makes the removal durable.
func (b *Backend) Delete(ctx context.Context, key string) error {
	path, err := b.Path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("blob fs: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

type object struct {
	*os.File
	size int64
}

func (o *object) Size() int64 { return o.size }

type writer struct {
	b    *Backend
	ctx  context.Context
	f    *os.File
	done bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("blob fs: write after commit or abort")
	}
	return w.f.Write(p)
}

func (w *writer) Commit(key string) error {
	if w.done {
		return errors.New("blob fs: commit after commit or abort")
	}
	path, err := w.b.Path(key)
	if err != nil {
		return err
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("blob fs: commit %s: %w", key, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("blob fs: fsync %s: %w", w.f.Name(), err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("blob fs: close %s: %w", w.f.Name(), err)
	}
	if err := w.b.makeDirs(filepath.Dir(path)); err != nil {
		return err
	}
	if err := os.Rename(w.f.Name(), path); err != nil {
		return fmt.Errorf("blob fs: rename %s: %w", w.f.Name(), err)
	}
	w.done = true
	return syncDir(filepath.Dir(path))
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	return os.Remove(w.f.Name())
}

// makeDirs creates the two fan-out levels above a file and makes their
// entries durable. Each directory is synced once per process.
func (b *Backend) makeDirs(dir string) error {
	for _, d := range []string{filepath.Dir(dir), dir} {
		if _, ok := b.synced.Load(d); ok {
			continue
		}
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("blob fs: %w", err)
		}
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
		b.synced.Store(d, true)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob fs: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("blob fs: fsync directory %s: %w", dir, err)
	}
	return nil
}
