// Package keyringtest provides what tests of encrypted storage need: an
// in-memory store.KeyStore and ready-made keyrings over it.
package keyringtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/carnet-sante/carnet/internal/keyring"
	"github.com/carnet-sante/carnet/internal/store"
)

// KeyStore is a store.KeyStore in memory. It counts the calls it gets, so
// that tests can see what a keyring caches.
type KeyStore struct {
	mu    sync.Mutex
	keys  map[string][]byte
	reads int
}

var _ store.KeyStore = (*KeyStore)(nil)

// NewKeyStore returns an empty KeyStore.
func NewKeyStore() *KeyStore { return &KeyStore{keys: map[string][]byte{}} }

// WrappedKey returns the stored key or store.ErrNotFound.
func (s *KeyStore) WrappedKey(ctx context.Context, patientKey string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	k, ok := s.keys[patientKey]
	if !ok {
		return nil, fmt.Errorf("wrapped key of %s: %w", patientKey, store.ErrNotFound)
	}
	return append([]byte(nil), k...), nil
}

// CreateWrappedKey stores wrapped unless a key is there, and returns the
// key stored.
func (s *KeyStore) CreateWrappedKey(ctx context.Context, patientKey string, wrapped []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[patientKey]; ok {
		return append([]byte(nil), k...), nil
	}
	s.keys[patientKey] = append([]byte(nil), wrapped...)
	return wrapped, nil
}

// DestroyWrappedKey removes the key, or returns store.ErrNotFound.
func (s *KeyStore) DestroyWrappedKey(ctx context.Context, patientKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[patientKey]; !ok {
		return fmt.Errorf("wrapped key of %s: %w", patientKey, store.ErrNotFound)
	}
	delete(s.keys, patientKey)
	return nil
}

// FirstWrappedKey returns the key of the smallest patient key, or
// store.ErrNotFound.
func (s *KeyStore) FirstWrappedKey(ctx context.Context) (string, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) == 0 {
		return "", nil, fmt.Errorf("no wrapped key: %w", store.ErrNotFound)
	}
	first := slices.Min(slices.Collect(maps.Keys(s.keys)))
	return first, append([]byte(nil), s.keys[first]...), nil
}

// Reads is the number of WrappedKey calls so far.
func (s *KeyStore) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// Put replaces a stored key as is, to simulate a damaged or moved row.
func (s *KeyStore) Put(patientKey string, wrapped []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[patientKey] = append([]byte(nil), wrapped...)
}

// MasterKey returns a random master key.
func MasterKey() []byte {
	k := make([]byte, keyring.KeySize)
	rand.Read(k)
	return k
}

// New returns a keyring with a random master key over a new KeyStore.
func New(t testing.TB) (*keyring.Keyring, *KeyStore) {
	t.Helper()
	ks := NewKeyStore()
	kr, err := keyring.New(MasterKey(), ks, 0)
	if err != nil {
		t.Fatal(err)
	}
	return kr, ks
}
