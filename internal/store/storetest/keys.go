package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/carnet-sante/carnet/internal/store"
)

// keyTests cover the KeyStore: per-patient wrapped data keys.
var keyTests = []Test{
	{"Keys/CreateThenRead", testKeyCreateThenRead},
	{"Keys/CreateKeepsFirst", testKeyCreateKeepsFirst},
	{"Keys/CreateRace", testKeyCreateRace},
	{"Keys/NotFound", testKeyNotFound},
	{"Keys/Destroy", testKeyDestroy},
	{"Keys/PatientsAreSeparate", testKeyPatientsAreSeparate},
	{"Keys/RefusesEmpty", testKeyRefusesEmpty},
	{"Keys/First", testKeyFirst},
}

func testKeyCreateThenRead(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	for _, key := range [][]byte{
		[]byte("wrapped"),
		{0x00},
		{0x00, 0xff, 0x00, 0x80, 0x7f},
		bytes.Repeat([]byte{0xab}, 4096),
	} {
		patient := NewPatientKey()
		got, err := s.CreateWrappedKey(ctx, patient, key)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("CreateWrappedKey(%x) = %x, %v; want the key back", key, got, err)
		}
		got, err = s.WrappedKey(ctx, patient)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("WrappedKey() = %x, %v; want %x", got, err, key)
		}
	}
}

func testKeyCreateKeepsFirst(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	patient := NewPatientKey()
	first, second := []byte("first"), []byte("second")
	if _, err := s.CreateWrappedKey(ctx, patient, first); err != nil {
		t.Fatal(err)
	}
	got, err := s.CreateWrappedKey(ctx, patient, second)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("second CreateWrappedKey = %q, %v; want the first key %q", got, err, first)
	}
	if got, err := s.WrappedKey(ctx, patient); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("WrappedKey() = %q, %v; want the first key %q", got, err, first)
	}
}

// testKeyCreateRace has many writers create a key for the same patient at
// once, each with its own: all must come back with the same stored key.
func testKeyCreateRace(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	patient := NewPatientKey()
	const writers = 16
	results := make([][]byte, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.CreateWrappedKey(ctx, patient, fmt.Appendf(nil, "key of writer %d", i))
		})
	}
	close(start)
	wg.Wait()

	stored, err := s.WrappedKey(ctx, patient)
	if err != nil {
		t.Fatal(err)
	}
	for i := range writers {
		if errs[i] != nil || !bytes.Equal(results[i], stored) {
			t.Errorf("writer %d got %q, %v; want the stored key %q", i, results[i], errs[i], stored)
		}
	}
}

func testKeyNotFound(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	if got, err := s.WrappedKey(t.Context(), NewPatientKey()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("WrappedKey(unknown patient) = %q, %v; want ErrNotFound", got, err)
	}
	if err := s.DestroyWrappedKey(t.Context(), NewPatientKey()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DestroyWrappedKey(unknown patient) = %v; want ErrNotFound", err)
	}
}

// testKeyDestroy checks that a destroyed key is gone for good, and that the
// patient can then be given a new one.
func testKeyDestroy(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	patient := NewPatientKey()
	if _, err := s.CreateWrappedKey(ctx, patient, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroyWrappedKey(ctx, patient); err != nil {
		t.Fatalf("DestroyWrappedKey: %v", err)
	}
	if got, err := s.WrappedKey(ctx, patient); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("WrappedKey after destroy = %q, %v; want ErrNotFound", got, err)
	}
	if err := s.DestroyWrappedKey(ctx, patient); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DestroyWrappedKey = %v; want ErrNotFound", err)
	}
	got, err := s.CreateWrappedKey(ctx, patient, []byte("new"))
	if err != nil || string(got) != "new" {
		t.Errorf("CreateWrappedKey after destroy = %q, %v; want the new key", got, err)
	}
}

func testKeyPatientsAreSeparate(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	a, b := NewPatientKey(), NewPatientKey()
	if _, err := s.CreateWrappedKey(ctx, a, []byte("key of a")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateWrappedKey(ctx, b, []byte("key of b")); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroyWrappedKey(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.WrappedKey(ctx, b); err != nil || string(got) != "key of b" {
		t.Errorf("after destroying a's key, WrappedKey(b) = %q, %v; want b's key", got, err)
	}
}

func testKeyRefusesEmpty(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	for _, tc := range []struct {
		name    string
		patient string
		key     []byte
	}{
		{"empty patient key", "", []byte("key")},
		{"nil wrapped key", NewPatientKey(), nil},
		{"empty wrapped key", NewPatientKey(), []byte{}},
	} {
		if got, err := s.CreateWrappedKey(ctx, tc.patient, tc.key); err == nil {
			t.Errorf("%s: CreateWrappedKey = %q, nil; want an error", tc.name, got)
		}
		if got, err := s.WrappedKey(ctx, tc.patient); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: WrappedKey after the refused create = %q, %v; want ErrNotFound", tc.name, got, err)
		}
	}
}

// testKeyFirst checks FirstWrappedKey: nothing in a new database, then the
// key of the smallest patient key, whatever the order of creation.
func testKeyFirst(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	if p, got, err := s.FirstWrappedKey(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FirstWrappedKey in a new database = %q, %q, %v; want ErrNotFound", p, got, err)
	}
	prefix := NewPatientKey()
	for _, p := range []string{prefix + "-B", prefix + "-A", prefix + "-C"} {
		if _, err := s.CreateWrappedKey(ctx, p, []byte("key of "+p)); err != nil {
			t.Fatal(err)
		}
	}
	p, got, err := s.FirstWrappedKey(ctx)
	if want := prefix + "-A"; err != nil || p != want || string(got) != "key of "+want {
		t.Errorf("FirstWrappedKey = %q, %q, %v; want %q and its key", p, got, err, want)
	}
	if err := s.DestroyWrappedKey(ctx, prefix+"-A"); err != nil {
		t.Fatal(err)
	}
	if p, _, err := s.FirstWrappedKey(ctx); err != nil || p != prefix+"-B" {
		t.Errorf("after destroying the first, FirstWrappedKey = %q, %v; want %q", p, err, prefix+"-B")
	}
}
