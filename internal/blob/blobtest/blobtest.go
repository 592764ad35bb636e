// Package blobtest is the conformance suite of blob backends: the same
// behaviour tests, of the Backend contract and of a Vault on top of it, run
// on the filesystem and on a real S3 server.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/keyring"
	"github.com/carnet-sante/carnet/internal/keyring/keyringtest"
)

// NewBackend returns an empty backend for one test. The suite closes it
// when the test ends.
type NewBackend func(t *testing.T) blob.Backend

// Run runs every test of the suite, in parallel, each on a fresh backend.
func Run(t *testing.T, newBackend NewBackend) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, NewBackend)
	}{
		{"Backend/RoundTrip", testRoundTrip},
		{"Backend/Staging", testStaging},
		{"Backend/Overwrite", testOverwrite},
		{"Backend/NotFound", testNotFound},
		{"Backend/Delete", testDelete},
		{"Backend/ReadAt", testReadAt},
		{"Backend/ReadAtPatterns", testReadAtPatterns},
		{"Backend/Keys", testKeys},
		{"Backend/Ping", testPing},
		{"Vault/RoundTrip", testVaultRoundTrip},
		{"Vault/Ranges", testVaultRanges},
		{"Vault/HTTPRange", testVaultHTTPRange},
		{"Vault/Idempotent", testVaultIdempotent},
		{"Vault/NotFound", testVaultNotFound},
		{"Vault/Tamper", testVaultTamper},
		{"Vault/Truncate", testVaultTruncate},
		{"Vault/CryptoShredding", testVaultCryptoShredding},
		{"Vault/WrongPatient", testVaultWrongPatient},
		{"Vault/BadInput", testVaultBadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newBackend)
		})
	}
}

func open(t *testing.T, newBackend NewBackend) blob.Backend {
	t.Helper()
	b := newBackend(t)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close %s backend: %v", b.Name(), err)
		}
	})
	return b
}

// Data returns n pseudo-random bytes, the same for the same seed.
func Data(n int, seed uint64) []byte {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// Put stores data under key directly in the backend.
func Put(t testing.TB, b blob.Backend, key string, data []byte) {
	t.Helper()
	w, err := b.Create(context.Background())
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer w.Abort()
	if _, err := w.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Commit(key); err != nil {
		t.Fatalf("commit %s: %v", key, err)
	}
}

// Get reads the object at key directly from the backend.
func Get(t testing.TB, b blob.Backend, key string) []byte {
	t.Helper()
	o, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer o.Close()
	p := make([]byte, o.Size())
	if n, err := o.ReadAt(p, 0); n != len(p) {
		t.Fatalf("get %s: read %d of %d bytes: %v", key, n, len(p), err)
	}
	return p
}

func testRoundTrip(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	for i, size := range []int{0, 1, 1000, 3<<20 + 7} {
		key := fmt.Sprintf("rt/%d", i)
		want := Data(size, uint64(i))
		w, err := b.Create(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// Write in uneven pieces, as a decoder would.
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 1+len(rest)/3)
			if _, err := w.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := w.Commit(key); err != nil {
			t.Fatal(err)
		}
		o, err := b.Get(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if o.Size() != int64(size) {
			t.Errorf("size %d: Size() = %d", size, o.Size())
		}
		o.Close()
		if got := Get(t, b, key); !bytes.Equal(got, want) {
			t.Errorf("size %d: read back different bytes", size)
		}
	}
}

func testStaging(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	ctx := context.Background()
	w, err := b.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("staged"))
	if _, err := b.Get(ctx, "staged"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("uncommitted object: Get error = %v, want ErrNotFound", err)
	}
	if err := w.Commit("staged"); err != nil {
		t.Fatal(err)
	}
	if got := Get(t, b, "staged"); string(got) != "staged" {
		t.Errorf("committed object = %q", got)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after Commit succeeded")
	}
	if err := w.Commit("again"); err == nil {
		t.Error("second Commit succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if got := Get(t, b, "staged"); string(got) != "staged" {
		t.Errorf("object after Abort of its committed writer = %q", got)
	}

	w, err = b.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("dropped"))
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if err := w.Commit("dropped"); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if _, err := b.Get(ctx, "dropped"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("aborted object: Get error = %v, want ErrNotFound", err)
	}
}

func testOverwrite(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	Put(t, b, "k", []byte("first version"))
	Put(t, b, "k", []byte("v2"))
	if got := Get(t, b, "k"); string(got) != "v2" {
		t.Errorf("after overwrite: %q, want %q", got, "v2")
	}
}

func testNotFound(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	Put(t, b, "p/present", []byte("x"))
	for _, key := range []string{"absent", "p/absent", "p/present/below", "p"} {
		if _, err := b.Get(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", key, err)
		}
	}
}

func testDelete(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	ctx := context.Background()
	Put(t, b, "d/1", []byte("x"))
	Put(t, b, "d/2", []byte("y"))
	if err := b.Delete(ctx, "d/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "d/1"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("deleted object: Get error = %v, want ErrNotFound", err)
	}
	if err := b.Delete(ctx, "d/1"); err != nil {
		t.Errorf("deleting a missing object: %v, want no error", err)
	}
	if got := Get(t, b, "d/2"); string(got) != "y" {
		t.Errorf("other object after delete = %q", got)
	}
}

func testReadAt(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	data := Data(1000, 1)
	Put(t, b, "r", data)
	o, err := b.Get(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, tc := range []struct {
		off     int64
		n       int
		wantN   int
		wantEOF bool
	}{
		{0, 10, 10, false},
		{990, 10, 10, false},
		{500, 0, 0, false},
		{995, 10, 5, true},
		{1000, 1, 0, true},
		{5000, 1, 0, true},
		{0, 1000, 1000, false},
		{0, 2000, 1000, true},
	} {
		p := make([]byte, tc.n)
		n, err := o.ReadAt(p, tc.off)
		if n != tc.wantN || (err == io.EOF) != tc.wantEOF || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt(%d bytes, %d) = %d, %v; want %d, EOF %v", tc.n, tc.off, n, err, tc.wantN, tc.wantEOF)
			continue
		}
		if !bytes.Equal(p[:n], data[min(tc.off, 1000):min(tc.off, 1000)+int64(n)]) {
			t.Errorf("ReadAt(%d bytes, %d): wrong bytes", tc.n, tc.off)
		}
	}
	if _, err := o.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
}

// testReadAtPatterns reads a large object forward, backward and from
// several goroutines, as range requests and a Vault do.
func testReadAtPatterns(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	data := Data(3<<20+123, 2)
	Put(t, b, "big", data)
	o, err := b.Get(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	check := func(off int64, n int) {
		p := make([]byte, n)
		got, err := o.ReadAt(p, off)
		end := min(off+int64(n), int64(len(data)))
		if got != int(end-off) || (err != nil && err != io.EOF) || !bytes.Equal(p[:got], data[off:end]) {
			t.Errorf("ReadAt(%d bytes, %d) = %d, %v: wrong", n, off, got, err)
		}
	}
	const step = 100_000
	for off := int64(0); off < int64(len(data)); off += step {
		check(off, step)
	}
	for off := int64(len(data)) - step; off >= 0; off -= 3 * step {
		check(off, step)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for off := int64(g * step); off < int64(len(data)); off += 4 * step {
				check(off, step)
			}
		})
	}
	wg.Wait()
}

func testKeys(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	ctx := context.Background()
	valid := []string{"a", "A-b_c.d", "patient-1/0123abcd", "x/y/z", ".hidden", "a..b", strings.Repeat("k", blob.MaxKeyLen)}
	for i, key := range valid {
		Put(t, b, key, []byte{byte(i)})
	}
	for i, key := range valid {
		if got := Get(t, b, key); !bytes.Equal(got, []byte{byte(i)}) {
			t.Errorf("key %q holds %v, want [%d]", key, got, i)
		}
	}
	invalid := []string{"", "/a", "a/", "a//b", "..", "../a", "a/../b", "a/./b", "a\\b", "a b", "é", "a~b", "a\x00b", strings.Repeat("k", blob.MaxKeyLen+1)}
	for _, key := range invalid {
		if err := blob.CheckKey(key); err == nil {
			t.Errorf("CheckKey(%q) accepted it", key)
		}
		if _, err := b.Get(ctx, key); err == nil || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want an invalid key error", key, err)
		}
		if err := b.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q) accepted it", key)
		}
		w, err := b.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(key); err == nil {
			t.Errorf("Commit(%q) accepted it", key)
		}
		w.Abort()
	}
}

func testPing(t *testing.T, nb NewBackend) {
	b := open(t, nb)
	if err := b.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if b.Name() == "" {
		t.Error("Name is empty")
	}
}

// vault returns a Vault on a fresh backend, with its keyring.
func vault(t *testing.T, nb NewBackend) (*blob.Vault, blob.Backend, *keyring.Keyring) {
	b := open(t, nb)
	kr, _ := keyringtest.New(t)
	return blob.NewVault(b, kr), b, kr
}

func put(t *testing.T, v *blob.Vault, patient string, data []byte) blob.Ref {
	t.Helper()
	ref, err := v.Put(context.Background(), patient, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("put for %s: %v", patient, err)
	}
	return ref
}

// read opens and reads a whole document.
func read(v *blob.Vault, patient, key string) ([]byte, error) {
	r, err := v.Open(context.Background(), patient, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func testVaultRoundTrip(t *testing.T, nb NewBackend) {
	v, _, _ := vault(t, nb)
	const cs = blob.ChunkSize
	for i, size := range []int{0, 1, cs - 1, cs, cs + 1, 3 * cs, 3*cs + 17, 20*cs + 7} {
		want := Data(size, uint64(i))
		ref := put(t, v, "patient-1", want)
		sum256, sum1 := sha256.Sum256(want), sha1.Sum(want)
		if ref.Size != int64(size) || ref.SHA256 != sum256 || ref.SHA1 != sum1 || ref.Key != "patient-1/"+hex.EncodeToString(sum256[:]) {
			t.Errorf("size %d: ref = %+v", size, ref)
		}
		r, err := v.Open(context.Background(), "patient-1", ref.Key)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if r.Size() != int64(size) {
			t.Errorf("size %d: Size() = %d", size, r.Size())
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("size %d: read %d bytes, %v; want the %d bytes put", size, len(got), err, size)
		}
		r.Close()
	}
}

func testVaultRanges(t *testing.T, nb NewBackend) {
	v, _, _ := vault(t, nb)
	const cs = blob.ChunkSize
	data := Data(3*cs+100, 3)
	size := int64(len(data))
	ref := put(t, v, "p", data)
	r, err := v.Open(context.Background(), "p", ref.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct{ off, n int64 }{
		{0, 1}, {0, cs}, {cs - 1, 2}, {cs, cs}, {cs - 5, cs + 10}, {cs + 1, 2*cs + 50},
		{2*cs + 3, size - 2*cs - 3}, {size - 1, 1}, {size - 10, 100}, {size, 1}, {size + 5, 1}, {0, size + 1},
	} {
		end := min(tc.off+tc.n, size)
		want := data[min(tc.off, size):max(end, min(tc.off, size))]
		// ReadAt
		p := make([]byte, tc.n)
		n, err := r.ReadAt(p, tc.off)
		if !bytes.Equal(p[:n], want) || (err == io.EOF) != (int64(n) < tc.n) || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt(%d bytes, %d) = %d, %v; want %d bytes", tc.n, tc.off, n, err, len(want))
		}
		// Seek then Read
		if pos, err := r.Seek(tc.off, io.SeekStart); err != nil || pos != tc.off {
			t.Fatalf("Seek(%d) = %d, %v", tc.off, pos, err)
		}
		got, err := io.ReadAll(io.LimitReader(r, tc.n))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Seek(%d)+Read(%d) = %d bytes, %v; want %d bytes", tc.off, tc.n, len(got), err, len(want))
		}
	}
	if pos, err := r.Seek(-10, io.SeekEnd); err != nil || pos != size-10 {
		t.Errorf("Seek(-10, end) = %d, %v", pos, err)
	}
	if pos, err := r.Seek(-cs, io.SeekCurrent); err != nil || pos != size-10-cs {
		t.Errorf("Seek(-cs, current) = %d, %v", pos, err)
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative offset succeeded")
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
}

// testVaultHTTPRange serves a document with http.ServeContent, as document
// downloads will, and asks for a range across chunks.
func testVaultHTTPRange(t *testing.T, nb NewBackend) {
	v, _, _ := vault(t, nb)
	data := Data(2*blob.ChunkSize+10, 4)
	ref := put(t, v, "p", data)
	r, err := v.Open(context.Background(), "p", ref.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req := httptest.NewRequest("GET", "/doc", nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", blob.ChunkSize-3, 2*blob.ChunkSize+2))
	rec := httptest.NewRecorder()
	http.ServeContent(rec, req, "doc.pdf", time.Time{}, r)
	want := data[blob.ChunkSize-3 : 2*blob.ChunkSize+3]
	if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Errorf("range request: status %d, %d bytes; want 206 and %d bytes", rec.Code, rec.Body.Len(), len(want))
	}
}

func testVaultIdempotent(t *testing.T, nb NewBackend) {
	v, b, _ := vault(t, nb)
	data := Data(blob.ChunkSize+5, 5)
	ref := put(t, v, "p", data)
	stored := Get(t, b, ref.Key)
	again := put(t, v, "p", data)
	if again != ref {
		t.Errorf("second put: %+v, want %+v", again, ref)
	}
	if !bytes.Equal(Get(t, b, ref.Key), stored) {
		t.Error("second put of the same bytes rewrote the object")
	}
	if other := put(t, v, "q", data); other.Key == ref.Key || other.SHA256 != ref.SHA256 {
		t.Errorf("same bytes for another patient: key %s, want a key in its own namespace", other.Key)
	}
}

func testVaultNotFound(t *testing.T, nb NewBackend) {
	v, _, _ := vault(t, nb)
	ref := put(t, v, "p", []byte("present"))
	missing := sha256.Sum256([]byte("absent"))
	for _, key := range []string{
		"p/" + hex.EncodeToString(missing[:]),
		"p/" + strings.ToUpper(ref.Key[2:]),
		"p/" + ref.Key[2:10],
		"p/not-a-hash",
		"q/" + ref.Key[2:],
		ref.Key + "/x",
	} {
		if _, err := read(v, "p", key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(p, %q) error = %v, want ErrNotFound", key, err)
		}
	}
}

// wantIntegrity checks that reading key fails with ErrIntegrity, naming it.
func wantIntegrity(t *testing.T, v *blob.Vault, patient, key, what string) {
	t.Helper()
	_, err := read(v, patient, key)
	if !errors.Is(err, blob.ErrIntegrity) {
		t.Errorf("%s: read error = %v, want ErrIntegrity", what, err)
	} else if !strings.Contains(err.Error(), key) {
		t.Errorf("%s: error %q does not name the object", what, err)
	}
}

func testVaultTamper(t *testing.T, nb NewBackend) {
	v, b, _ := vault(t, nb)
	const cs = blob.ChunkSize
	data := Data(2*cs+10, 6)
	ref := put(t, v, "p", data)
	orig := Get(t, b, ref.Key)
	n := len(orig)
	for _, tc := range []struct {
		name string
		at   int
	}{
		{"magic", 0}, {"version", 4}, {"nonce prefix", 7},
		{"first chunk", 20}, {"first chunk tag", 13 + cs + 15},
		{"second chunk", 13 + cs + 16 + 1000}, {"last chunk", n - 56 - 3},
		{"trailer", n - 30}, {"trailer tag", n - 1},
	} {
		tampered := bytes.Clone(orig)
		tampered[tc.at] ^= 0x01
		Put(t, b, ref.Key, tampered)
		wantIntegrity(t, v, "p", ref.Key, tc.name)
	}
	// Swapping two documents of the same patient is caught too.
	other := put(t, v, "p", []byte("another document"))
	Put(t, b, ref.Key, Get(t, b, other.Key))
	wantIntegrity(t, v, "p", ref.Key, "other document under this key")

	// A put of the same bytes repairs the object.
	put(t, v, "p", data)
	if got, err := read(v, "p", ref.Key); err != nil || !bytes.Equal(got, data) {
		t.Errorf("after a new put: %d bytes, %v", len(got), err)
	}
}

func testVaultTruncate(t *testing.T, nb NewBackend) {
	v, b, _ := vault(t, nb)
	const cs = blob.ChunkSize
	data := Data(2*cs+10, 7)
	ref := put(t, v, "p", data)
	orig := Get(t, b, ref.Key)
	n := len(orig)
	for _, tc := range []struct {
		name   string
		stored []byte
	}{
		{"empty", nil},
		{"header only", orig[:13]},
		{"first chunk only", orig[:13+cs+16]},
		{"two chunks, no trailer", orig[:13+2*(cs+16)]},
		{"no trailer", orig[:n-56]},
		{"trailer cut", orig[:n-1]},
		{"one byte more", append(bytes.Clone(orig), 0)},
		{"a chunk more", append(bytes.Clone(orig), orig[13:13+cs+16]...)},
		{"trailer twice", append(bytes.Clone(orig), orig[n-56:]...)},
	} {
		Put(t, b, ref.Key, tc.stored)
		wantIntegrity(t, v, "p", ref.Key, tc.name)
	}

	// A document whose last chunk holds what a trailer of its first two
	// chunks would, cut before its real trailer and stored under the key of
	// those two chunks: only the final-chunk flag tells the forgery.
	head := data[:2*cs]
	headSum := sha256.Sum256(head)
	crafted := binary.BigEndian.AppendUint64(bytes.Clone(head), uint64(len(head)))
	crafted = append(crafted, headSum[:]...)
	forged := put(t, v, "p", crafted)
	stored := Get(t, b, forged.Key)
	headKey := "p/" + hex.EncodeToString(headSum[:])
	Put(t, b, headKey, stored[:len(stored)-56])
	wantIntegrity(t, v, "p", headKey, "last chunk posing as a trailer")
}

func testVaultCryptoShredding(t *testing.T, nb NewBackend) {
	v, _, kr := vault(t, nb)
	ctx := context.Background()
	a1, a2 := put(t, v, "alice", Data(3*blob.ChunkSize, 8)), put(t, v, "alice", []byte("note"))
	b1 := put(t, v, "bob", Data(1000, 9))
	if err := kr.Erase(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []blob.Ref{a1, a2} {
		_, err := read(v, "alice", ref.Key)
		if !errors.Is(err, keyring.ErrKeyErased) || !strings.Contains(err.Error(), "alice") {
			t.Errorf("erased patient's document: error = %v, want ErrKeyErased naming the patient", err)
		}
	}
	if got, err := read(v, "bob", b1.Key); err != nil || !bytes.Equal(got, Data(1000, 9)) {
		t.Errorf("other patient's document after erasure: %d bytes, %v", len(got), err)
	}
	// Writing again for the patient makes a new key; the same bytes are
	// readable again (the stale object is replaced), the others are not.
	again := put(t, v, "alice", []byte("note"))
	if got, err := read(v, "alice", again.Key); err != nil || string(got) != "note" {
		t.Errorf("document put after erasure: %q, %v", got, err)
	}
	if _, err := read(v, "alice", a1.Key); !errors.Is(err, blob.ErrIntegrity) {
		t.Errorf("document from before erasure, under the new key: error = %v, want ErrIntegrity", err)
	}
}

func testVaultWrongPatient(t *testing.T, nb NewBackend) {
	v, b, _ := vault(t, nb)
	data := []byte("alice's report")
	a := put(t, v, "alice", data)
	put(t, v, "bob", []byte("bob has a key too"))
	if _, err := read(v, "bob", a.Key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("bob opening alice's key: error = %v, want ErrNotFound", err)
	}
	// Alice's object copied into bob's namespace does not decrypt.
	moved := "bob/" + strings.TrimPrefix(a.Key, "alice/")
	Put(t, b, moved, Get(t, b, a.Key))
	wantIntegrity(t, v, "bob", moved, "alice's object in bob's namespace")

	// A patient without a key gets a clear error, and no key.
	carolKey := "carol/" + strings.TrimPrefix(a.Key, "alice/")
	Put(t, b, carolKey, Get(t, b, a.Key))
	for range 2 {
		if _, err := read(v, "carol", carolKey); !errors.Is(err, keyring.ErrKeyErased) {
			t.Errorf("patient without a key: error = %v, want ErrKeyErased", err)
		}
	}
}

func testVaultBadInput(t *testing.T, nb NewBackend) {
	v, _, _ := vault(t, nb)
	ctx := context.Background()
	for _, patient := range []string{"", "a/b", "..", "a b"} {
		if _, err := v.Put(ctx, patient, strings.NewReader("x")); err == nil {
			t.Errorf("Put for patient %q succeeded", patient)
		}
		if _, err := v.Open(ctx, patient, patient+"/00"); err == nil {
			t.Errorf("Open for patient %q succeeded", patient)
		}
	}
	boom := errors.New("connection reset by client")
	_, err := v.Put(ctx, "p", io.MultiReader(bytes.NewReader(Data(100_000, 10)), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Errorf("Put from a failing reader: error = %v, want it to wrap %v", err, boom)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := v.Put(cancelled, "p", bytes.NewReader(Data(3*blob.ChunkSize, 11))); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: error = %v", err)
	}
}
