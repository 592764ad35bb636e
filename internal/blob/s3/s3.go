// Package s3 keeps blobs in a bucket of any S3-compatible object store,
// through minio-go.
//
// A write is spooled to an unlinked local temporary file, then sent with
// one PUT (multipart for large objects) when committed: the object key is
// only known at the end of the write (it is a content hash), S3 has no
// rename, and a PUT is atomic, so readers never see part of an object.
// Reads are range GETs pinned to the ETag seen when the object was opened.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/carnet-sante/carnet/internal/blob"
)

// Backend is a blob.Backend on one S3 bucket.
type Backend struct {
	client *minio.Client
	bucket string
}

var _ blob.Backend = (*Backend)(nil)

// Open connects to the bucket named by rawURL,
//
//	s3://bucket?endpoint=host:port[&secure=false][&region=name]
//
// and creates the bucket if it does not exist. TLS is on unless
// secure=false. Empty credentials are read from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN if set).
func Open(ctx context.Context, rawURL, accessKey, secretKey string) (*Backend, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "s3" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("blob s3: URL %q: want s3://bucket?endpoint=host:port[&secure=false][&region=name]", rawURL)
	}
	q := u.Query()
	for name := range q {
		if name != "endpoint" && name != "secure" && name != "region" {
			return nil, fmt.Errorf("blob s3: URL %q: unknown parameter %q (want endpoint, secure, region)", rawURL, name)
		}
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		return nil, fmt.Errorf("blob s3: URL %q: missing endpoint=host:port", rawURL)
	}
	secure := true
	if s := q.Get("secure"); s != "" {
		if secure, err = strconv.ParseBool(s); err != nil {
			return nil, fmt.Errorf("blob s3: URL %q: secure=%q: want true or false", rawURL, s)
		}
	}
	token := ""
	if accessKey == "" && secretKey == "" {
		accessKey, secretKey, token = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	}
	if accessKey == "" || secretKey == "" {
		return nil, errors.New("blob s3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(accessKey, secretKey, token),
		Secure: secure,
		Region: q.Get("region"),
	})
	if err != nil {
		return nil, fmt.Errorf("blob s3: %w", err)
	}
	b := &Backend{client: client, bucket: u.Host}
	if err := b.ensureBucket(ctx, q.Get("region")); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Backend) ensureBucket(ctx context.Context, region string) error {
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("blob s3: bucket %s at %s: %w", b.bucket, b.client.EndpointURL().Host, err)
	}
	if ok {
		return nil
	}
	err = b.client.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: region})
	if code := minio.ToErrorResponse(err).Code; code == minio.BucketAlreadyOwnedByYou {
		err = nil // created meanwhile by another node
	}
	if err != nil {
		return fmt.Errorf("blob s3: create bucket %s: %w", b.bucket, err)
	}
	return nil
}

// Name is "s3".
func (b *Backend) Name() string { return "s3" }

// Close does nothing: connections are pooled by the HTTP client.
func (b *Backend) Close() error { return nil }

// Ping checks that the bucket answers. It gives up when ctx is done, and
// a later Ping succeeds again as soon as the server is back.
func (b *Backend) Ping(ctx context.Context) error {
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("blob s3: bucket %s at %s: %w", b.bucket, b.client.EndpointURL().Host, err)
	}
	if !ok {
		return fmt.Errorf("blob s3: bucket %s at %s no longer exists", b.bucket, b.client.EndpointURL().Host)
	}
	return nil
}

// Create stages a new object in a local temporary file, unlinked at once
// so that a crash leaves nothing behind.
func (b *Backend) Create(ctx context.Context) (blob.Writer, error) {
	f, err := os.CreateTemp("", "carnet-s3-put-")
	if err != nil {
		return nil, fmt.Errorf("blob s3: spool file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("blob s3: spool file: %w", err)
	}
	return &writer{b: b, ctx: ctx, f: f}, nil
}

// Get looks the object up (one HEAD request); reads happen in ReadAt.
func (b *Backend) Get(ctx context.Context, key string) (blob.Object, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, fmt.Errorf("blob s3: %w", err)
	}
	info, err := b.client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, b.wrap(key, err)
	}
	return &object{b: b, ctx: ctx, key: key, etag: info.ETag, size: info.Size}, nil
}

// Delete removes the object; a missing one is not an error.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return fmt.Errorf("blob s3: %w", err)
	}
	if err := b.client.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return b.wrap(key, err)
	}
	return nil
}

func (b *Backend) wrap(key string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("blob s3: %s/%s: %w", b.bucket, key, blob.ErrNotFound)
	}
	return fmt.Errorf("blob s3: %s/%s: %w", b.bucket, key, err)
}

type writer struct {
	b    *Backend
	ctx  context.Context
	f    *os.File
	size int64
	done bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("blob s3: write after commit or abort")
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

func (w *writer) Commit(key string) error {
	if w.done {
		return errors.New("blob s3: commit after commit or abort")
	}
	if err := blob.CheckKey(key); err != nil {
		return fmt.Errorf("blob s3: %w", err)
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("blob s3: spool file: %w", err)
	}
	_, err := w.b.client.PutObject(w.ctx, w.b.bucket, key, w.f, w.size, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return w.b.wrap(key, err)
	}
	w.done = true
	return w.f.Close()
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	return w.f.Close()
}

// readAhead is how much one GET asks for beyond what ReadAt needs, so that
// reading a document chunk by chunk costs a request per readAhead bytes.
const readAhead = 1 << 20

// object reads through one open GET while reads are sequential, and opens
// a new one (bounded to readAhead) when they jump. Every GET carries
// If-Match with the ETag seen by Get: an object replaced meanwhile fails
// instead of mixing two versions.
type object struct {
	b    *Backend
	ctx  context.Context
	key  string
	etag string
	size int64

	mu     sync.Mutex
	body   io.ReadCloser
	pos    int64 // offset of the next byte of body
	bodyTo int64 // offset just past the last byte of body
}

func (o *object) Size() int64 { return o.size }

func (o *object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("blob s3: read %s: negative offset %d", o.key, off)
	}
	if off >= o.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	want := min(int64(len(p)), o.size-off)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.body == nil || o.pos != off || o.bodyTo < off+want {
		if err := o.open(off, want); err != nil {
			return 0, err
		}
	}
	n, err := io.ReadFull(o.body, p[:want])
	o.pos += int64(n)
	if err != nil {
		o.closeBody()
		return n, o.b.wrap(o.key, err)
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

func (o *object) open(off, want int64) error {
	o.closeBody()
	end := min(o.size, off+max(want, readAhead))
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, end-1); err != nil {
		return o.b.wrap(o.key, err)
	}
	if o.etag != "" {
		if err := opts.SetMatchETag(o.etag); err != nil {
			return o.b.wrap(o.key, err)
		}
	}
	body, _, _, err := minio.Core{Client: o.b.client}.GetObject(o.ctx, o.b.bucket, o.key, opts)
	if minio.ToErrorResponse(err).Code == minio.PreconditionFailed {
		return fmt.Errorf("blob s3: %s/%s was replaced while being read: open it again", o.b.bucket, o.key)
	}
	if err != nil {
		return o.b.wrap(o.key, err)
	}
	o.body, o.pos, o.bodyTo = body, off, end
	return nil
}

func (o *object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *object) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closeBody()
	return nil
}
