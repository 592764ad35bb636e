package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/carnet-sante/carnet/internal/keyring"
	"github.com/carnet-sante/carnet/internal/keyring/keyringtest"
)

var ctx = context.Background()

func TestReadNeverCreates(t *testing.T) {
	kr, ks := keyringtest.New(t)
	for range 2 {
		_, err := kr.ForRead(ctx, "p1")
		if !errors.Is(err, keyring.ErrKeyErased) || !strings.Contains(err.Error(), "p1") {
			t.Fatalf("ForRead of a patient without key: error = %v, want ErrKeyErased naming p1", err)
		}
	}
	if _, err := ks.WrappedKey(ctx, "p1"); err == nil {
		t.Error("ForRead created a key")
	}
}

func TestWriteCreatesOnce(t *testing.T) {
	ks := keyringtest.NewKeyStore()
	master := keyringtest.MasterKey()
	kr, _ := keyring.New(master, ks, 0)
	k1, err := kr.ForWrite(ctx, "p1")
	if err != nil || len(k1) != keyring.KeySize {
		t.Fatalf("ForWrite = %d bytes, %v", len(k1), err)
	}
	for name, get := range map[string]func(context.Context, string) ([]byte, error){"ForWrite": kr.ForWrite, "ForRead": kr.ForRead} {
		if k, err := get(ctx, "p1"); err != nil || !bytes.Equal(k, k1) {
			t.Errorf("%s after the first write returned another key (%v)", name, err)
		}
	}
	// A keyring with an empty cache, as after a restart or on another node.
	fresh, _ := keyring.New(master, ks, 0)
	if k, err := fresh.ForRead(ctx, "p1"); err != nil || !bytes.Equal(k, k1) {
		t.Errorf("another keyring on the same store: other key (%v)", err)
	}
	if k2, _ := kr.ForWrite(ctx, "p2"); bytes.Equal(k1, k2) {
		t.Error("two patients got the same key")
	}
	// Keys handed out are copies: changing one changes nothing stored.
	k1[0] ^= 1
	if k, _ := kr.ForRead(ctx, "p1"); bytes.Equal(k, k1) {
		t.Error("a key handed out aliases the cache")
	}
}

// TestConcurrentCreate has several keyrings (nodes) create the key of one
// patient at once: all must end up with the same key.
func TestConcurrentCreate(t *testing.T) {
	ks := keyringtest.NewKeyStore()
	master := keyringtest.MasterKey()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		kr, _ := keyring.New(master, ks, 0)
		wg.Go(func() {
			k, err := kr.ForWrite(ctx, "p")
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("racing writers got different keys")
		}
	}
}

func TestErase(t *testing.T) {
	kr, ks := keyringtest.New(t)
	old, _ := kr.ForWrite(ctx, "alice")
	bob, _ := kr.ForWrite(ctx, "bob")
	if err := kr.Erase(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.ForRead(ctx, "alice"); !errors.Is(err, keyring.ErrKeyErased) {
		t.Errorf("ForRead after Erase: error = %v, want ErrKeyErased (even from the cache)", err)
	}
	if _, err := ks.WrappedKey(ctx, "alice"); err == nil {
		t.Error("Erase left the wrapped key in the store")
	}
	if k, err := kr.ForRead(ctx, "bob"); err != nil || !bytes.Equal(k, bob) {
		t.Errorf("other patient after Erase: %v", err)
	}
	if err := kr.Erase(ctx, "alice"); err != nil {
		t.Errorf("second Erase: %v, want none", err)
	}
	if k, err := kr.ForWrite(ctx, "alice"); err != nil || bytes.Equal(k, old) {
		t.Errorf("ForWrite after Erase: %v; want a new key", err)
	}
}

func TestUnwrapFailures(t *testing.T) {
	ks := keyringtest.NewKeyStore()
	master := keyringtest.MasterKey()
	kr, _ := keyring.New(master, ks, 0)
	kr.ForWrite(ctx, "alice")
	aliceWrapped, _ := ks.WrappedKey(ctx, "alice")

	other, _ := keyring.New(keyringtest.MasterKey(), ks, 0)
	if _, err := other.ForRead(ctx, "alice"); err == nil || !strings.Contains(err.Error(), "wrong master key") {
		t.Errorf("another master key: error = %v, want one saying wrong master key", err)
	}

	altered := bytes.Clone(aliceWrapped)
	altered[len(altered)-1] ^= 1
	for _, tc := range []struct {
		name    string
		wrapped []byte
		want    string
	}{
		{"alice's key in bob's row", aliceWrapped, "belongs to another patient"},
		{"altered", altered, "altered"},
		{"short", aliceWrapped[:10], "not a version 1 wrapped key"},
		{"unknown version", append([]byte{9}, aliceWrapped[1:]...), "not a version 1 wrapped key"},
	} {
		ks.Put("bob", tc.wrapped)
		fresh, _ := keyring.New(master, ks, 0) // nothing cached
		for name, get := range map[string]func(context.Context, string) ([]byte, error){"ForWrite": fresh.ForWrite, "ForRead": fresh.ForRead} {
			if _, err := get(ctx, "bob"); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bob") {
				t.Errorf("%s, %s: error = %v, want one naming bob and saying %q", tc.name, name, err, tc.want)
			}
		}
		if got, _ := ks.WrappedKey(ctx, "bob"); !bytes.Equal(got, tc.wrapped) {
			t.Errorf("%s: the stored key was replaced", tc.name)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	ks := keyringtest.NewKeyStore()
	kr, _ := keyring.New(keyringtest.MasterKey(), ks, 2)
	for _, p := range []string{"a", "b", "c"} {
		kr.ForWrite(ctx, p)
	}
	// The cache holds b and c: reading them does not reach the store...
	reads := ks.Reads()
	kr.ForRead(ctx, "b")
	kr.ForRead(ctx, "c")
	if ks.Reads() != reads {
		t.Errorf("reading cached keys reached the store %d times", ks.Reads()-reads)
	}
	// ...but a was evicted.
	kr.ForRead(ctx, "a")
	if ks.Reads() != reads+1 {
		t.Errorf("reading an evicted key reached the store %d times, want 1", ks.Reads()-reads)
	}
}

func TestNewRejectsBadMasterKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := keyring.New(make([]byte, n), keyringtest.NewKeyStore(), 0); err == nil {
			t.Errorf("New with a %d-byte master key succeeded", n)
		}
	}
}

func TestParseMasterKey(t *testing.T) {
	key := keyringtest.MasterKey()
	enc := base64.StdEncoding.EncodeToString(key)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{enc, true},
		{"  " + enc + "\n", true},
		{"", false},
		{base64.StdEncoding.EncodeToString(key[:16]), false},
		{base64.StdEncoding.EncodeToString(append(key, 0)), false},
		{base64.RawURLEncoding.EncodeToString(key), false},
		{strings.Repeat("z", 44), false},
		{"not base64 at all!", false},
	} {
		got, err := keyring.ParseMasterKey(tc.in)
		if tc.ok && (err != nil || !bytes.Equal(got, key)) {
			t.Errorf("ParseMasterKey(%q) = %v, want the key", tc.in, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "base64 of 32 bytes")) {
			t.Errorf("ParseMasterKey(%q): error = %v, want one saying what is expected", tc.in, err)
		}
		if err != nil && strings.Contains(err.Error(), tc.in) && tc.in != "" {
			t.Errorf("ParseMasterKey error repeats the secret input: %v", err)
		}
	}
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "master.key")
	key, err := keyring.LoadOrCreateMasterKey(path)
	if err != nil || len(key) != keyring.KeySize {
		t.Fatalf("first start: %d bytes, %v", len(key), err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", st.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	if parsed, err := keyring.ParseMasterKey(string(b)); err != nil || !bytes.Equal(parsed, key) {
		t.Errorf("key file does not hold the key in base64: %v", err)
	}
	if again, err := keyring.LoadOrCreateMasterKey(path); err != nil || !bytes.Equal(again, key) {
		t.Errorf("second start: other key (%v)", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the key file", len(entries))
	}

	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"malformed", "hello\n", 0o600, "does not hold base64 of 32 bytes"},
		{"empty", "", 0o600, "does not hold base64 of 32 bytes"},
		{"readable by others", string(b), 0o644, "chmod 600"},
	} {
		p := filepath.Join(t.TempDir(), "master.key")
		os.WriteFile(p, []byte(tc.content), tc.mode)
		os.Chmod(p, tc.mode)
		_, err := keyring.LoadOrCreateMasterKey(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s key file: error = %v, want one naming the file and saying %q", tc.name, err, tc.want)
		}
		if got, _ := os.ReadFile(p); string(got) != tc.content {
			t.Errorf("%s key file was rewritten", tc.name)
		}
	}
}

// TestConcurrentFirstStart has processes racing to create the key file:
// all must get the same key.
func TestConcurrentFirstStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := keyring.LoadOrCreateMasterKey(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("racing first starts got different master keys")
		}
	}
}

// TestCheck: a keyring passes its check on a database whose data keys its
// master key wrote, or that has none, and fails it, saying what to do, on
// one written with another master key.
func TestCheck(t *testing.T) {
	master, other := keyringtest.MasterKey(), keyringtest.MasterKey()
	for _, tc := range []struct {
		name    string
		writers [][]byte // master keys that stored a data key, one patient each
		ok      bool
	}{
		{"no data keys", nil, true},
		{"written with this master key", [][]byte{master, master}, true},
		{"written with another master key", [][]byte{other}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := keyringtest.NewKeyStore()
			for i, m := range tc.writers {
				w, _ := keyring.New(m, ks, 0)
				if _, err := w.ForWrite(ctx, "p"+string(rune('1'+i))); err != nil {
					t.Fatal(err)
				}
			}
			kr, _ := keyring.New(master, ks, 0)
			err := kr.Check(ctx)
			if tc.ok && err != nil {
				t.Errorf("Check = %v, want nil", err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "--master-key")) {
				t.Errorf("Check = %v, want an error telling to start with the right --master-key", err)
			}
		})
	}
}
