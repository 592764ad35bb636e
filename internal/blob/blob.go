// Package blob stores document bytes. A Backend (blob/fs, blob/s3) keeps
// opaque objects; a Vault on top encrypts every object with the data key of
// the patient it belongs to, so that erasing that key erases the bytes.
package blob

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned for a key that holds no object.
var ErrNotFound = errors.New("blob not found")

// ErrIntegrity is returned when stored bytes fail authentication: they were
// altered, truncated, or encrypted under another key.
var ErrIntegrity = errors.New("blob integrity check failed")

// Backend keeps opaque objects by key. Put is atomic: a reader sees the
// whole object or nothing, even if the process dies mid-write, and a
// successful Put is durable.
type Backend interface {
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	Get(ctx context.Context, key string) (Object, error)
	Delete(ctx context.Context, key string) error
	// Ping checks that the storage answers, for /readyz.
	Ping(ctx context.Context) error
	// Name is "fs" or "s3", for logs and metrics.
	Name() string
}

// Object is a stored object opened for random access.
type Object interface {
	io.ReaderAt
	io.Closer
	Size() int64
}
