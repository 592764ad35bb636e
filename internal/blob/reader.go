package blob

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Reader reads a document in plaintext. Read and Seek serve sequential and
// HTTP-range use (http.ServeContent) and keep one chunk decrypted; ReadAt
// may be called concurrently and decrypts only the chunks it covers.
type Reader struct {
	obj    Object
	key    string
	c      *chunker
	size   int64  // plaintext bytes
	chunks uint32 // data chunks; the trailer has index chunks
	// Read/Seek state.
	off   int64
	cur   int64 // index of the chunk in plain, -1 if none
	buf   []byte
	plain []byte
}

var (
	_ io.ReadSeekCloser = (*Reader)(nil)
	_ io.ReaderAt       = (*Reader)(nil)
)

// chunkBufs recycles the chunk buffers of ReadAt.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, sealedChunk); return &b }}

func newReader(obj Object, patientKey, key string, aead cipher.AEAD) (*Reader, error) {
	var header [headerLen]byte
	if err := readFull(obj, header[:], 0); err != nil {
		return nil, readErr(key, "header", err)
	}
	if string(header[:len(magic)]) != magic || header[len(magic)] != version {
		return nil, integrityErr(key, "not a version 1 document object (bad header)")
	}
	r := &Reader{obj: obj, key: key, c: newChunker(header, patientKey, aead), cur: -1}

	// Work out the layout from the object size; the trailer confirms it.
	data := obj.Size() - int64(headerLen) - trailerLen
	if data < 0 {
		return nil, integrityErr(key, fmt.Sprintf("%d bytes, too short for a header and a trailer", obj.Size()))
	}
	full, rest := data/sealedChunk, data%sealedChunk
	if rest != 0 && rest <= tagLen {
		return nil, integrityErr(key, "size does not fall on a chunk boundary")
	}
	r.size = full * ChunkSize
	if rest != 0 {
		full++
		r.size += rest - tagLen
	}
	if full >= 1<<32 {
		return nil, integrityErr(key, "too many chunks")
	}
	r.chunks = uint32(full)

	var t [trailerLen]byte
	if err := readFull(obj, t[:], obj.Size()-trailerLen); err != nil {
		return nil, readErr(key, "trailer", err)
	}
	plain, err := r.c.open(t[:], r.chunks, true)
	if err != nil {
		return nil, integrityErr(key, "trailer fails authentication (altered, truncated, or not this patient's)")
	}
	if int64(binary.BigEndian.Uint64(plain)) != r.size {
		return nil, integrityErr(key, "trailer size differs from the object size")
	}
	if hex.EncodeToString(plain[8:]) != key[len(key)-2*sha256.Size:] {
		return nil, integrityErr(key, "content is another document's (SHA-256 differs from the key)")
	}
	return r, nil
}

// Size is the plaintext size of the document.
func (r *Reader) Size() int64 { return r.size }

// Read reads the next plaintext bytes, at most up to the end of a chunk.
func (r *Reader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if i := r.off / ChunkSize; i != r.cur {
		if r.buf == nil {
			r.buf = make([]byte, sealedChunk)
		}
		plain, err := r.chunk(i, r.buf)
		if err != nil {
			r.cur = -1
			return 0, err
		}
		r.plain, r.cur = plain, i
	}
	n := copy(p, r.plain[r.off-r.cur*ChunkSize:])
	r.off += int64(n)
	return n, nil
}

// Seek sets the offset of the next Read, as io.Seeker says.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return r.off, fmt.Errorf("blob: seek %s: bad whence %d", r.key, whence)
	}
	if offset < 0 {
		return r.off, fmt.Errorf("blob: seek %s: negative offset %d", r.key, offset)
	}
	r.off = offset
	return offset, nil
}

// ReadAt reads len(p) plaintext bytes at off, decrypting only the chunks
// that hold them, as io.ReaderAt says.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("blob: read %s: negative offset %d", r.key, off)
	}
	bp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bp)
	n := 0
	for n < len(p) && off < r.size {
		i := off / ChunkSize
		plain, err := r.chunk(i, *bp)
		if err != nil {
			return n, err
		}
		m := copy(p[n:], plain[off-i*ChunkSize:])
		n += m
		off += int64(m)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases the stored object.
func (r *Reader) Close() error { return r.obj.Close() }

// chunk reads and decrypts data chunk i into buf.
func (r *Reader) chunk(i int64, buf []byte) ([]byte, error) {
	n := int64(sealedChunk)
	if i == int64(r.chunks)-1 {
		n = r.size - i*ChunkSize + tagLen
	}
	sealed := buf[:n]
	if err := readFull(r.obj, sealed, int64(headerLen)+i*sealedChunk); err != nil {
		return nil, readErr(r.key, fmt.Sprintf("chunk %d", i), err)
	}
	plain, err := r.c.open(sealed, uint32(i), false)
	if err != nil {
		return nil, integrityErr(r.key, fmt.Sprintf("chunk %d of %d fails authentication (altered, or not this patient's)", i, r.chunks))
	}
	return plain, nil
}

// readFull fills p from obj at off; io.EOF after a full read is no error.
func readFull(obj Object, p []byte, off int64) error {
	n, err := obj.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readErr reports a failed read: a short read means the object is shorter
// than it said, which only tampering or a concurrent rewrite explains.
func readErr(key, what string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return integrityErr(key, what+" cut short")
	}
	return fmt.Errorf("blob: object %s: reading %s: %w", key, what, err)
}

func integrityErr(key, what string) error {
	return fmt.Errorf("blob: object %s: %s: %w", key, what, ErrIntegrity)
}
