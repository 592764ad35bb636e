package s3_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/blob/blobtest"
	"github.com/carnet-sante/carnet/internal/blob/s3"
	"github.com/carnet-sante/carnet/internal/keyring/keyringtest"
	"github.com/carnet-sante/carnet/internal/testenv"
)

// open connects to a new bucket of the shared test server.
func open(t *testing.T) *s3.Backend {
	t.Helper()
	endpoint, access, secret := testenv.S3(t)
	b, err := s3.Open(context.Background(), "s3://"+testenv.S3Bucket(t)+"?endpoint="+endpoint+"&secure=false", access, secret)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Backend { return open(t) })
}

func TestOpenURL(t *testing.T) {
	endpoint, access, secret := testenv.S3(t)
	for _, tc := range []struct{ url, want string }{
		{"http://b?endpoint=" + endpoint, "want s3://bucket"},
		{"s3://?endpoint=" + endpoint, "want s3://bucket"},
		{"s3://b/prefix?endpoint=" + endpoint, "want s3://bucket"},
		{"s3://b", "missing endpoint"},
		{"s3://b?endpoint=" + endpoint + "&secure=perhaps", `secure="perhaps"`},
		{"s3://b?endpoint=" + endpoint + "&sekure=false", `unknown parameter "sekure"`},
		{"s3://Bad_Bucket?endpoint=" + endpoint + "&secure=false", "Bad_Bucket"},
	} {
		_, err := s3.Open(context.Background(), tc.url, access, secret)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) error = %v, want one saying %q", tc.url, err, tc.want)
		}
	}
}

func TestCredentials(t *testing.T) {
	endpoint, access, secret := testenv.S3(t)
	url := "s3://" + testenv.S3Bucket(t) + "?endpoint=" + endpoint + "&secure=false"
	ctx := context.Background()

	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := s3.Open(ctx, url, "", ""); err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("Open without credentials: error = %v, want one naming AWS_ACCESS_KEY_ID", err)
	}
	if _, err := s3.Open(ctx, url, access, "wrong secret"); err == nil {
		t.Error("Open with a wrong secret succeeded")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	b, err := s3.Open(ctx, url, "", "")
	if err != nil {
		t.Fatalf("Open with credentials from the environment: %v", err)
	}
	// The bucket now exists: opening it again is fine.
	if _, err := s3.Open(ctx, url, "", ""); err != nil {
		t.Errorf("Open of an existing bucket: %v", err)
	}
	if err := b.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// TestOutage stops the S3 server under a backend: Ping fails within its
// deadline, and everything works again once the server is back, without
// reopening the backend.
func TestOutage(t *testing.T) {
	srv := testenv.NewS3Server(t)
	ctx := context.Background()
	b, err := s3.Open(ctx, srv.URL("outage"), srv.AccessKey, srv.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := keyringtest.New(t)
	v := blob.NewVault(b, kr)
	data := blobtest.Data(200_000, 1)
	ref, err := v.Put(ctx, "p", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pingCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = b.Ping(pingCtx)
	cancel()
	if err == nil {
		t.Fatal("Ping succeeded with the server down")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Ping took %v with a 500ms deadline", d)
	}
	t.Logf("Ping with the server down: %v", err)

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	pingCtx, cancel = context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.Ping(pingCtx); err != nil {
		t.Fatalf("Ping after the server came back: %v", err)
	}
	r, err := v.Open(ctx, "p", ref.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
		t.Errorf("read after the outage: %d bytes, %v", len(got), err)
	}
}

// TestReplacedWhileReading checks that an object opened for reading is not
// silently mixed with a newer version written meanwhile.
func TestReplacedWhileReading(t *testing.T) {
	b := open(t)
	ctx := context.Background()
	blobtest.Put(t, b, "k", blobtest.Data(3<<20, 1))
	o, err := b.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := o.ReadAt(make([]byte, 1000), 0); err != nil {
		t.Fatal(err)
	}
	blobtest.Put(t, b, "k", blobtest.Data(3<<20, 2))
	_, err = o.ReadAt(make([]byte, 1000), 2<<20)
	if err == nil || !strings.Contains(err.Error(), "replaced while being read") {
		t.Errorf("read of a replaced object: error = %v, want one saying it was replaced", err)
	}
}
