// Package blob stores document bytes. A Backend (blob/fs, blob/s3) keeps
// opaque objects; a Vault on top encrypts every object with the data key of
// the patient it belongs to, so that erasing that key erases the bytes.
//
// Backends are small interfaces of plain methods so that a decorator (for
// metrics or tracing) can wrap one without knowing which it is.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotFound is returned for a key that holds no object.
var ErrNotFound = errors.New("blob not found")

// ErrIntegrity is returned when stored bytes fail authentication: they were
// altered, truncated, or encrypted under another key.
var ErrIntegrity = errors.New("blob integrity check failed")

// Backend keeps opaque objects by key. Writes are staged: nothing written
// to a Writer is visible until Commit, which is atomic and durable, so a
// reader sees a whole object or nothing, even if the process dies mid-write.
// Keys must pass CheckKey.
type Backend interface {
	// Create stages a new object. ctx bounds the whole write, Commit included.
	Create(ctx context.Context) (Writer, error)
	// Get opens an object for random access, or returns ErrNotFound.
	// ctx bounds every read of the returned Object.
	Get(ctx context.Context, key string) (Object, error)
	// Delete removes an object. Deleting a missing key is not an error, so
	// that collecting garbage can be retried.
	Delete(ctx context.Context, key string) error
	// Ping checks that the storage answers, for /readyz.
	Ping(ctx context.Context) error
	// Name is "fs" or "s3", for logs and metrics.
	Name() string
	// Close releases what the backend holds (locks, connections).
	Close() error
}

// Writer receives the bytes of a staged object.
type Writer interface {
	io.Writer
	// Commit makes the bytes written so far durable and visible under key,
	// replacing any object already there. The Writer is finished afterwards.
	Commit(key string) error
	// Abort discards the staged bytes. It does nothing after Commit, so it
	// can be deferred right after Create.
	Abort() error
}

// Object is a stored object opened for random access.
type Object interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// MaxKeyLen bounds keys so that every backend can hold them (a file name is
// at most 255 bytes on common filesystems).
const MaxKeyLen = 200

// CheckKey reports whether key can name an object: segments separated by
// "/", each made of ASCII letters, digits, '-', '_' and '.', none empty,
// "." or "..". The rule is the same for every backend so that an object
// can move between them, and it rules out path traversal by construction.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("blob key %q: want 1 to %d bytes", key, MaxKeyLen)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("blob key %q: empty, \".\" or \"..\" segment", key)
		}
		for _, c := range []byte(seg) {
			if !keyByte(c) {
				return fmt.Errorf("blob key %q: character %q not allowed (want letters, digits, '-', '_', '.', '/')", key, c)
			}
		}
	}
	return nil
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}
