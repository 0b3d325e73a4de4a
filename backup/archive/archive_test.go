package archive

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
)

func write(t *testing.T, path string, r age.Recipient, dump []byte) *Writer {
	t.Helper()
	w, err := Create(path, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddStream(DumpName, bytes.NewReader(dump)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddBytes("secrets/.env", []byte("NEXTAUTH_SECRET=x\n")); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Tool: "test", CreatedAt: time.Now(), Tables: []TableCount{{"users", 3}}}
	if err := w.Commit(m); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestRoundTrip(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	pr, pid, err := Passphrase("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 2*PartSize+12345)
	rand.Read(big)
	tests := []struct {
		name string
		r    age.Recipient
		id   age.Identity
		dump []byte
	}{
		{"x25519 empty dump", id.Recipient(), id, nil},
		{"x25519 three parts", id.Recipient(), id, big},
		{"exactly one part", id.Recipient(), id, big[:PartSize]},
		{"passphrase", pr, pid, []byte("PGDMP tiny")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "b"+Suffix)
			w := write(t, path, tt.r, tt.dump)
			st, err := os.Stat(path)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("stat %v %v", st, err)
			}
			if _, err := os.Stat(path + TempSuffix); !os.IsNotExist(err) {
				t.Errorf("temp file left: %v", err)
			}
			b, _ := os.ReadFile(path)
			sum := sha256.Sum256(b)
			if n, h := w.FileSum(); n != int64(len(b)) || h != hex.EncodeToString(sum[:]) {
				t.Errorf("FileSum %d %s, file %d %x", n, h, len(b), sum)
			}
			if ok, _ := Sniff(path); !ok {
				t.Errorf("not sniffed as age")
			}
			var got []byte
			m, err := Read(path, []age.Identity{tt.id}, func(name string, body io.Reader) error {
				if name == DumpName {
					got, err = io.ReadAll(body)
					return err
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.dump) {
				t.Errorf("dump differs: %d bytes vs %d", len(got), len(tt.dump))
			}
			if len(m.Members) != 2 || m.Tables[0].Rows != 3 {
				t.Errorf("manifest %+v", m)
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	good := filepath.Join(dir, "good"+Suffix)
	dump := make([]byte, PartSize+100)
	rand.Read(dump)
	write(t, good, id.Recipient(), dump)
	b, _ := os.ReadFile(good)
	flipped := append([]byte(nil), b...)
	flipped[len(flipped)/2] ^= 1
	_, pid, _ := Passphrase("a wrong passphrase here")
	tests := []struct {
		name string
		data []byte
		ids  []age.Identity
		want error
	}{
		{"flipped byte", flipped, []age.Identity{id}, ErrCorrupt},
		{"truncated", b[:len(b)-100], []age.Identity{id}, ErrCorrupt},
		{"truncated at half", b[:len(b)/2], []age.Identity{id}, ErrCorrupt},
		{"wrong key", b, []age.Identity{other}, ErrWrongKey},
		{"passphrase for a key file", b, []age.Identity{pid}, ErrWrongKey},
		{"not age", []byte("PGDMP plain dump"), []age.Identity{id}, ErrNotBackup},
		{"empty", nil, []age.Identity{id}, ErrNotBackup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "x")
			os.WriteFile(p, tt.data, 0o600)
			_, err := Read(p, tt.ids, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCreateRefuses(t *testing.T) {
	dir := t.TempDir()
	id, _ := age.GenerateX25519Identity()
	if _, err := Create(filepath.Join(dir, "a")); err == nil {
		t.Error("created without recipients")
	}
	p := filepath.Join(dir, "b")
	os.WriteFile(p, nil, 0o600)
	if _, err := Create(p, id.Recipient()); err == nil {
		t.Error("overwrote an existing backup")
	}
	w, err := Create(filepath.Join(dir, "c"), id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if m, _ := filepath.Glob(filepath.Join(dir, "c*")); len(m) != 0 {
		t.Errorf("abort left %v", m)
	}
}

func TestKeygen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key.txt")
	rec, err := Keygen(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Recipients(rec); err != nil {
		t.Fatal(err)
	}
	ids, err := IdentitiesFile(p)
	if err != nil || len(ids) != 1 {
		t.Fatal(ids, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	if _, err := Keygen(p); err == nil {
		t.Error("overwrote the identity")
	}
}
