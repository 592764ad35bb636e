package blob

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Keys hands out the 32-byte AES data key of each patient; keyring.Keyring
// implements it.
type Keys interface {
	// ForWrite returns the patient's data key, creating it on first use.
	ForWrite(ctx context.Context, patientKey string) ([]byte, error)
	// ForRead returns the patient's data key and fails if it was erased or
	// never created: a read never creates a key.
	ForRead(ctx context.Context, patientKey string) ([]byte, error)
}

// Vault stores documents encrypted with their patient's data key, under a
// content address in that patient's namespace: "<patientKey>/<sha256 hex>".
//
// Object format, version 1 (all chunks AES-256-GCM, 16-byte tag):
//
//	header   "CRNB" | 0x01 | 8-byte random prefix         (13 bytes)
//	chunk i  seal(plaintext[i*ChunkSize:(i+1)*ChunkSize])  (every chunk full but the last)
//	trailer  seal(uint64 size | SHA-256 of the plaintext)  (56 bytes)
//
// The nonce of chunk i (the trailer being the last one) is the prefix
// followed by i as a big-endian uint32, so chunks cannot be reordered or
// moved between objects. The additional data is the header, a flag that is
// 1 for the trailer only, and the patient key: a truncated object lacks a
// trailer that authenticates, an object copied to another patient does not
// decrypt, and the SHA-256 in the trailer must match the key the object was
// opened by. Each chunk authenticates on its own, so a range read decrypts
// only the chunks it covers.
type Vault struct {
	backend Backend
	keys    Keys
}

// ChunkSize is the plaintext size of every chunk but the last.
const ChunkSize = 64 << 10

const (
	magic        = "CRNB"
	version      = 1
	prefixLen    = 8
	headerLen    = len(magic) + 1 + prefixLen
	tagLen       = 16
	sealedChunk  = ChunkSize + tagLen
	trailerPlain = 8 + sha256.Size
	trailerLen   = trailerPlain + tagLen
)

// NewVault encrypts into backend with the data keys that keys hands out.
func NewVault(backend Backend, keys Keys) *Vault {
	return &Vault{backend: backend, keys: keys}
}

// Ref describes a stored document.
type Ref struct {
	Key    string // backend key: "<patientKey>/<sha256 hex>"
	Size   int64  // plaintext size in bytes
	SHA256 [sha256.Size]byte
	SHA1   [sha1.Size]byte // MHD/FHIR Attachment.hash
}

// Put encrypts everything r yields into the patient's namespace and returns
// where it went. It holds one chunk in memory whatever the size. Putting the
// same bytes again for the same patient keeps the object already stored
// (replacing it only if it no longer decrypts, e.g. after the patient's key
// was erased and created anew). When Put returns, the object is durable.
func (v *Vault) Put(ctx context.Context, patientKey string, r io.Reader) (Ref, error) {
	if err := checkPatient(patientKey); err != nil {
		return Ref{}, err
	}
	dk, err := v.keys.ForWrite(ctx, patientKey)
	if err != nil {
		return Ref{}, fmt.Errorf("blob: put for patient %s: %w", patientKey, err)
	}
	aead, err := newAEAD(dk)
	if err != nil {
		return Ref{}, err
	}
	w, err := v.backend.Create(ctx)
	if err != nil {
		return Ref{}, fmt.Errorf("blob: put for patient %s: %w", patientKey, err)
	}
	defer w.Abort()

	var header [headerLen]byte
	copy(header[:], magic)
	header[len(magic)] = version
	rand.Read(header[len(magic)+1:])
	if _, err := w.Write(header[:]); err != nil {
		return Ref{}, fmt.Errorf("blob: put for patient %s: %w", patientKey, err)
	}
	c := newChunker(header, patientKey, aead)

	h256, h1 := sha256.New(), sha1.New()
	var size int64
	var i uint32
	buf := make([]byte, sealedChunk)
	for ; ; i++ {
		if err := ctx.Err(); err != nil {
			return Ref{}, fmt.Errorf("blob: put for patient %s: %w", patientKey, err)
		}
		n, rerr := io.ReadFull(r, buf[:ChunkSize])
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return Ref{}, fmt.Errorf("blob: put for patient %s: reading the document: %w", patientKey, rerr)
		}
		if n == 0 {
			break
		}
		if i == math.MaxUint32 {
			return Ref{}, fmt.Errorf("blob: put for patient %s: document larger than %d chunks", patientKey, uint32(math.MaxUint32))
		}
		h256.Write(buf[:n])
		h1.Write(buf[:n])
		size += int64(n)
		if _, err := w.Write(c.seal(buf[:n], i, false)); err != nil {
			return Ref{}, fmt.Errorf("blob: put for patient %s: %w", patientKey, err)
		}
		if n < ChunkSize {
			i++
			break
		}
	}

	ref := Ref{Size: size}
	h256.Sum(ref.SHA256[:0])
	h1.Sum(ref.SHA1[:0])
	ref.Key = patientKey + "/" + hex.EncodeToString(ref.SHA256[:])
	trailer := binary.BigEndian.AppendUint64(buf[:0], uint64(size))
	trailer = append(trailer, ref.SHA256[:]...)
	if _, err := w.Write(c.seal(trailer, i, true)); err != nil {
		return Ref{}, fmt.Errorf("blob: put for patient %s: %w", patientKey, err)
	}

	switch old, err := v.open(ctx, patientKey, ref.Key, aead); {
	case err == nil:
		old.Close()
		return ref, nil // already stored and intact
	case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrIntegrity):
		return Ref{}, err
	}
	if err := w.Commit(ref.Key); err != nil {
		return Ref{}, fmt.Errorf("blob: put %s: %w", ref.Key, err)
	}
	return ref, nil
}

// Open opens a document of the patient for reading. key is a Ref.Key; a key
// outside the patient's namespace is reported as not found. The header and
// trailer are authenticated here, so Size is trustworthy; every other chunk
// is authenticated when read, and a failure wraps ErrIntegrity.
func (v *Vault) Open(ctx context.Context, patientKey, key string) (*Reader, error) {
	if err := checkPatient(patientKey); err != nil {
		return nil, err
	}
	sum, ok := strings.CutPrefix(key, patientKey+"/")
	if b, err := hex.DecodeString(sum); !ok || err != nil || len(b) != sha256.Size || strings.ToLower(sum) != sum {
		return nil, fmt.Errorf("blob: %q is not a document key of patient %s: %w", key, patientKey, ErrNotFound)
	}
	dk, err := v.keys.ForRead(ctx, patientKey)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	aead, err := newAEAD(dk)
	if err != nil {
		return nil, err
	}
	return v.open(ctx, patientKey, key, aead)
}

func (v *Vault) open(ctx context.Context, patientKey, key string, aead cipher.AEAD) (*Reader, error) {
	obj, err := v.backend.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	r, err := newReader(obj, patientKey, key, aead)
	if err != nil {
		obj.Close()
		return nil, err
	}
	return r, nil
}

func checkPatient(patientKey string) error {
	if err := CheckKey(patientKey); err != nil || strings.Contains(patientKey, "/") {
		return fmt.Errorf("blob: patient key %q: want one key segment (letters, digits, '-', '_', '.')", patientKey)
	}
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("blob: data key of %d bytes, want 32 (AES-256)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// chunker seals and opens the chunks of one object.
type chunker struct {
	aead            cipher.AEAD
	prefix          [prefixLen]byte
	aadData, aadEnd []byte
}

func newChunker(header [headerLen]byte, patientKey string, aead cipher.AEAD) *chunker {
	c := &chunker{aead: aead}
	copy(c.prefix[:], header[len(magic)+1:])
	c.aadData = append(append(append([]byte{}, header[:]...), 0), patientKey...)
	c.aadEnd = append(append(append([]byte{}, header[:]...), 1), patientKey...)
	return c
}

func (c *chunker) nonce(i uint32) []byte {
	return binary.BigEndian.AppendUint32(append(make([]byte, 0, 12), c.prefix[:]...), i)
}

func (c *chunker) aad(final bool) []byte {
	if final {
		return c.aadEnd
	}
	return c.aadData
}

// seal encrypts p in place; p must have tagLen bytes of spare capacity.
func (c *chunker) seal(p []byte, i uint32, final bool) []byte {
	return c.aead.Seal(p[:0], c.nonce(i), p, c.aad(final))
}

// open decrypts p in place.
func (c *chunker) open(p []byte, i uint32, final bool) ([]byte, error) {
	return c.aead.Open(p[:0], c.nonce(i), p, c.aad(final))
}
