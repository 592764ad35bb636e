package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ParseMasterKey decodes a master key written as standard base64 of
// KeySize bytes (what --master-key / CARNET_MASTER_KEY and the key file
// hold). Surrounding white space is ignored.
func ParseMasterKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("keyring: master key is not base64 of %d bytes (generate one with: head -c %d /dev/urandom | base64)", KeySize, KeySize)
	}
	return key, nil
}

// LoadOrCreateMasterKey reads the master key file at path, or, if there is
// none, creates it with a random key, readable by the owner only. A file
// that is malformed or readable by others is refused, never replaced:
// replacing it would make every document unreadable.
func LoadOrCreateMasterKey(path string) ([]byte, error) {
	key, err := loadMasterKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	rand.Read(key)
	if err := writeNewFile(path, base64.StdEncoding.EncodeToString(key)+"\n"); errors.Is(err, fs.ErrExist) {
		return loadMasterKey(path) // another process created it first
	} else if err != nil {
		return nil, fmt.Errorf("keyring: create master key file: %w", err)
	}
	return key, nil
}

// writeNewFile creates path with content, mode 0600, durably and all at
// once: the content goes to a temporary file that is then linked to path,
// which fails with fs.ErrExist rather than replace an existing file.
func writeNewFile(path, content string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".master.key-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	return err
}

func loadMasterKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("keyring: master key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: master key file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("keyring: master key file %s is accessible to other users (mode %04o): chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("keyring: master key file: %w", err)
	}
	key, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("keyring: master key file %s does not hold base64 of %d bytes: restore the right file (a new key cannot read existing documents)", path, KeySize)
	}
	return key, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
