// Package keyring manages the keys that encrypt documents at rest.
//
// Each patient has a random 256-bit data key. It is stored only wrapped
// (AES-256-GCM under the master key, with the patient key as additional
// data so that a wrapped key cannot be moved to another patient) through a
// store.KeyStore. Destroying a patient's wrapped key makes every document
// of that patient unreadable: crypto-shredding, the basis of erasure.
package keyring

import (
	"container/list"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/carnet-sante/carnet/internal/store"
)

// ErrKeyErased is returned when reading for a patient whose data key was
// erased, or never created because nothing was ever written for them.
var ErrKeyErased = errors.New("data key erased or never created")

// KeySize is the size of master and data keys: AES-256.
const KeySize = 32

// DefaultCacheSize is the number of unwrapped data keys New keeps when
// given no size: about 100 bytes each.
const DefaultCacheSize = 10000

// wrapVersion leads every wrapped key, so that a later master key rotation
// can tell formats apart.
const wrapVersion = 1

// Keyring hands out per-patient data keys. It is safe for concurrent use.
type Keyring struct {
	master cipher.AEAD
	store  store.KeyStore

	mu      sync.Mutex
	max     int
	lru     *list.List               // of *entry, most recently used first
	entries map[string]*list.Element // patient key → element of lru
	erasing uint64                   // bumped by Erase; see cache
}

type entry struct {
	patient string
	key     []byte
}

// New makes a keyring wrapping data keys with master (KeySize bytes) and
// keeping them in ks. It caches up to cacheSize unwrapped keys
// (DefaultCacheSize if cacheSize <= 0).
func New(master []byte, ks store.KeyStore, cacheSize int) (*Keyring, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("keyring: master key of %d bytes, want %d", len(master), KeySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if cacheSize <= 0 {
		cacheSize = DefaultCacheSize
	}
	return &Keyring{master: aead, store: ks, max: cacheSize, lru: list.New(), entries: map[string]*list.Element{}}, nil
}

// Check verifies that the master key unwraps the data keys already
// stored (one of them). A node started with another master key — another
// data directory's key file, a mistyped --master-key — would otherwise
// answer every deposit and read of a document with an error; a database
// without data keys passes.
func (k *Keyring) Check(ctx context.Context) error {
	patientKey, wrapped, err := k.store.FirstWrappedKey(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keyring: check the master key: %w", err)
	}
	if _, err := k.unwrap(patientKey, wrapped); err != nil {
		return fmt.Errorf("keyring: this master key did not write the data keys of this database (%w): start with the master key (--master-key, or the key file of the data directory) that the database was used with; a new key cannot read the documents already stored", err)
	}
	return nil
}

// ForWrite returns the patient's data key, creating it if the patient has
// none. Two nodes racing to create it both end up with the one stored.
func (k *Keyring) ForWrite(ctx context.Context, patientKey string) ([]byte, error) {
	key, err := k.ForRead(ctx, patientKey)
	if !errors.Is(err, ErrKeyErased) {
		return key, err
	}
	gen := k.generation()
	fresh := make([]byte, KeySize)
	rand.Read(fresh)
	wrapped, err := k.store.CreateWrappedKey(ctx, patientKey, k.wrap(patientKey, fresh))
	if err != nil {
		return nil, fmt.Errorf("keyring: store data key of patient %s: %w", patientKey, err)
	}
	if key, err = k.unwrap(patientKey, wrapped); err != nil {
		return nil, err
	}
	k.cache(patientKey, key, gen)
	return append([]byte(nil), key...), nil
}

// ForRead returns the patient's data key, or an error wrapping
// ErrKeyErased if there is none. It never creates a key.
func (k *Keyring) ForRead(ctx context.Context, patientKey string) ([]byte, error) {
	if key, ok := k.cached(patientKey); ok {
		return key, nil
	}
	gen := k.generation()
	wrapped, err := k.store.WrappedKey(ctx, patientKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("keyring: patient %s: %w", patientKey, ErrKeyErased)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: load data key of patient %s: %w", patientKey, err)
	}
	key, err := k.unwrap(patientKey, wrapped)
	if err != nil {
		return nil, err
	}
	k.cache(patientKey, key, gen)
	return append([]byte(nil), key...), nil
}

// Erase destroys the patient's data key, in the store and in this
// keyring's cache: every document encrypted with it becomes unreadable for
// good. Erasing a patient without a key does nothing, so erasure can be
// retried. Other nodes drop the key from their caches only when it ages
// out, so a cluster must also tell them (or restart) to be immediate.
func (k *Keyring) Erase(ctx context.Context, patientKey string) error {
	err := k.store.DestroyWrappedKey(ctx, patientKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("keyring: erase data key of patient %s: %w", patientKey, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.erasing++
	if e, ok := k.entries[patientKey]; ok {
		k.lru.Remove(e)
		delete(k.entries, patientKey)
	}
	return nil
}

func (k *Keyring) wrap(patientKey string, key []byte) []byte {
	out := make([]byte, 1+k.master.NonceSize(), 1+k.master.NonceSize()+len(key)+k.master.Overhead())
	out[0] = wrapVersion
	rand.Read(out[1:])
	return k.master.Seal(out, out[1:], key, []byte(patientKey))
}

func (k *Keyring) unwrap(patientKey string, wrapped []byte) ([]byte, error) {
	ns := k.master.NonceSize()
	if len(wrapped) != 1+ns+KeySize+k.master.Overhead() || wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("keyring: data key of patient %s: stored value is not a version %d wrapped key (damaged row?)", patientKey, wrapVersion)
	}
	key, err := k.master.Open(nil, wrapped[1:1+ns], wrapped[1+ns:], []byte(patientKey))
	if err != nil {
		return nil, fmt.Errorf("keyring: cannot unwrap data key of patient %s: wrong master key, or the stored key was altered or belongs to another patient", patientKey)
	}
	return key, nil
}

func (k *Keyring) cached(patientKey string) ([]byte, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.entries[patientKey]
	if !ok {
		return nil, false
	}
	k.lru.MoveToFront(e)
	return append([]byte(nil), e.Value.(*entry).key...), true
}

func (k *Keyring) generation() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.erasing
}

// cache keeps a key loaded when the erase generation was gen. If an Erase
// ran meanwhile the key is not kept: it may be the one just erased.
func (k *Keyring) cache(patientKey string, key []byte, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.erasing {
		return
	}
	if e, ok := k.entries[patientKey]; ok {
		k.lru.MoveToFront(e)
		return
	}
	k.entries[patientKey] = k.lru.PushFront(&entry{patient: patientKey, key: key})
	if k.lru.Len() > k.max {
		old := k.lru.Remove(k.lru.Back()).(*entry)
		delete(k.entries, old.patient)
	}
}
