// Package archive is calctl's backup file: one age-encrypted tar stream
// (filippo.io/age, https://age-encryption.org/v1) holding the database dump,
// the install's secret files and answers, and a manifest written last that
// records the size and SHA-256 of every member.
//
// The layout is plain enough for an operator with only the age and tar
// tools at 3 a.m.:
//
//	age -d -i key.txt calctl-backup-….age | tar x
//	cat database.dump.part-* > database.dump   # pg_dump -Fc output
//
// A streamed member (the dump) is cut into parts of PartSize bytes, since a
// tar header needs the size before the data and a dump's size is known only
// at its end; memory stays flat in the size of the database. Small members
// (secret files) are written whole under their own names.
//
// A file is written to <name>.tmp, fsynced and renamed: a killed backup
// never leaves a file with the final name, and age's STREAM construction
// (the last chunk is marked) makes a truncated file fail to decrypt.
package archive

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/calctl/calctl/internal/atomicfile"
)

// Format is the manifest format this package writes.
const Format = 1

// ManifestName is the tar member holding the manifest; it is always last.
const ManifestName = "manifest.json"

// DumpName is the member holding the pg_dump -Fc output.
const DumpName = "database.dump"

// PartSize is the size of each part of a streamed member.
const PartSize = 4 << 20

// Suffix is the file name suffix of complete backups; TempSuffix is added
// while one is written.
const (
	Suffix     = ".age"
	TempSuffix = ".tmp"
)

// Manifest describes a backup. It is the last member of the archive.
type Manifest struct {
	// Format is the manifest format version: the Format constant, set by
	// Writer.Commit; a reader refuses any other value.
	Format int `json:"format"`
	// Tool is the program that wrote the backup: "calctl " followed by its
	// build version (internal/buildinfo).
	Tool string `json:"tool"`
	// CreatedAt is when the dump's snapshot had been exported, just before
	// pg_dump starts (UTC); the backup's file name carries it as
	// 20060102T150405Z.
	CreatedAt time.Time `json:"created_at"`
	// InstallDir and Project identify the install that was backed up.
	InstallDir string `json:"install_dir,omitempty"`
	// Project is the compose project of the bundled database container (its
	// com.docker.compose.project label); empty for an external database.
	Project string `json:"project,omitempty"`
	// CalcomVersion (apps/web/package.json) and Commit of the checkout.
	CalcomVersion string `json:"calcom_version,omitempty"`
	// Commit is the full hex hash of HEAD of the git checkout in
	// <install>/src; empty when that directory is no git repository.
	Commit string `json:"commit,omitempty"`
	// Database describes the server the dump came from.
	Database DatabaseInfo `json:"database"`
	// Tables are exact row counts, taken in the dump's snapshot.
	Tables []TableCount `json:"tables"`
	// Members are every member before the manifest, in archive order.
	Members []Member `json:"members"`
}

// DatabaseInfo describes the dumped database.
type DatabaseInfo struct {
	// Mode is bundled (the compose database service) or external.
	Mode string `json:"mode"`
	// Name is the database name; ServerVersion the server's version string
	// (SHOW server_version) and ServerMajor its major.
	Name string `json:"name"`
	// ServerVersion is the server's version string as it reports it
	// (current_setting('server_version')).
	ServerVersion string `json:"server_version"`
	// ServerMajor is the server's major version (server_version_num / 10000);
	// verify looks for local tools of at least this major.
	ServerMajor int `json:"server_major"`
	// Image is the bundled database's image, for a verify in a container
	// of the same image.
	Image string `json:"image,omitempty"`
}

// TableCount is the number of rows of one table.
type TableCount struct {
	// Table is the table's name: bare for the public schema, schema.table for
	// any other (pgtool.Counts).
	Table string `json:"table"`
	// Rows is the table's exact row count (count(*)), taken in the dump's
	// snapshot.
	Rows int64 `json:"rows"`
}

// Member is one logical member of the archive.
type Member struct {
	// Name is the member's name: database.dump for the dump, install/<path>
	// for an install file; a streamed member's tar entries are
	// <Name>.part-NNNNNN.
	Name string `json:"name"`
	// Size is the member's length in bytes, unencrypted, all its parts
	// together.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of the member's bytes (its parts in order);
	// reading the archive checks it.
	SHA256 string `json:"sha256"`
	// Parts is how many tar entries hold it (0: written whole).
	Parts int `json:"parts,omitempty"`
}

// Member returns the manifest's member called name.
func (m *Manifest) Member(name string) (Member, bool) {
	for _, x := range m.Members {
		if x.Name == name {
			return x, true
		}
	}
	return Member{}, false
}

// Writer writes one backup file.
type Writer struct {
	final, tmp string
	f          *os.File
	buf        *bufio.Writer
	sum        hash.Hash
	size       int64
	enc        io.WriteCloser
	tw         *tar.Writer
	members    []Member
	names      map[string]bool
	done       bool
}

// Create starts the backup file path (written as path+TempSuffix, mode 0600,
// never over an existing file) encrypted to recipients.
func Create(path string, recipients ...age.Recipient) (*Writer, error) {
	if len(recipients) == 0 {
		return nil, errors.New("no age recipient or passphrase: a backup is never written unencrypted")
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s already exists", path)
	}
	tmp := path + TempSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	w := &Writer{final: path, tmp: tmp, f: f, sum: sha256.New(), names: map[string]bool{}}
	// the file's own SHA-256 is taken on the way out (no second read)
	w.buf = bufio.NewWriterSize(io.MultiWriter(f, w.sum, sizeCounter{&w.size}), 256<<10)
	w.enc, err = age.Encrypt(w.buf, recipients...)
	if err != nil {
		w.Abort()
		return nil, fmt.Errorf("age: %w", err)
	}
	w.tw = tar.NewWriter(w.enc)
	return w, nil
}

type sizeCounter struct{ n *int64 }

func (c sizeCounter) Write(b []byte) (int, error) { *c.n += int64(len(b)); return len(b), nil }

// FileSum returns the size and SHA-256 (hex) of the whole file; valid
// after Commit.
func (w *Writer) FileSum() (int64, string) { return w.size, hex.EncodeToString(w.sum.Sum(nil)) }

// TempPath is the name the file has until Commit.
func (w *Writer) TempPath() string { return w.tmp }

func (w *Writer) checkName(name string) error {
	if name == "" || name == ManifestName || strings.Contains(name, "..") || strings.HasPrefix(name, "/") || partName.MatchString(name) || w.names[name] {
		return fmt.Errorf("archive: bad or duplicate member name %q", name)
	}
	w.names[name] = true
	return nil
}

func (w *Writer) header(name string, size int64, mod time.Time) error {
	return w.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX})
}

// AddBytes writes a small member whole.
func (w *Writer) AddBytes(name string, data []byte) error {
	if err := w.checkName(name); err != nil {
		return err
	}
	if err := w.header(name, int64(len(data)), time.Now().UTC().Truncate(time.Second)); err != nil {
		return err
	}
	if _, err := w.tw.Write(data); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	w.members = append(w.members, Member{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	return nil
}

// AddStream copies r into the member name, cut into parts of PartSize; the
// memory used is one part, whatever the size.
func (w *Writer) AddStream(name string, r io.Reader) (Member, error) {
	if err := w.checkName(name); err != nil {
		return Member{}, err
	}
	h := sha256.New()
	buf := make([]byte, PartSize)
	m := Member{Name: name}
	mod := time.Now().UTC().Truncate(time.Second)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 || m.Parts == 0 {
			if herr := w.header(fmt.Sprintf("%s.part-%06d", name, m.Parts), int64(n), mod); herr != nil {
				return m, herr
			}
			if _, werr := w.tw.Write(buf[:n]); werr != nil {
				return m, werr
			}
			h.Write(buf[:n])
			m.Size += int64(n)
			m.Parts++
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return m, err
		}
	}
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	w.members = append(w.members, m)
	return m, nil
}

// Commit writes the manifest (its Members filled in here), closes the
// encryption, fsyncs and renames the file to its final name.
func (w *Writer) Commit(m *Manifest) error {
	if w.done {
		return errors.New("archive: already finished")
	}
	m.Format = Format
	m.Members = append([]Member(nil), w.members...)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := w.header(ManifestName, int64(len(b)), m.CreatedAt.UTC().Truncate(time.Second)); err != nil {
		return w.fail(err)
	}
	if _, err := w.tw.Write(b); err != nil {
		return w.fail(err)
	}
	if err := w.tw.Close(); err != nil {
		return w.fail(err)
	}
	if err := w.enc.Close(); err != nil {
		return w.fail(err)
	}
	if err := w.buf.Flush(); err != nil {
		return w.fail(err)
	}
	if err := w.f.Sync(); err != nil {
		return w.fail(fmt.Errorf("fsync: %w", err))
	}
	if err := w.f.Close(); err != nil {
		return w.fail(err)
	}
	if err := os.Rename(w.tmp, w.final); err != nil {
		return w.fail(err)
	}
	w.done = true
	return atomicfile.SyncDir(filepath.Dir(w.final))
}

func (w *Writer) fail(err error) error {
	w.Abort()
	return err
}

// Abort removes the unfinished file. It is safe after Commit (no-op).
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.f.Close()
	_ = os.Remove(w.tmp)
}

var partName = regexp.MustCompile(`^(.+)\.part-(\d{6})$`)

// ErrNotBackup means the file is not an age file at all.
var ErrNotBackup = errors.New("not a calctl backup (no age header)")

// ErrWrongKey means no given identity or passphrase opens the file.
var ErrWrongKey = errors.New("the key or passphrase does not open this backup")

// ErrCorrupt means the file decrypts only in part or its content does not
// match its manifest.
var ErrCorrupt = errors.New("the backup is corrupted or truncated")

// Sniff reports whether the first bytes of a file are an age header.
func Sniff(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	b := make([]byte, len("age-encryption.org/v1"))
	if _, err := io.ReadFull(f, b); err != nil {
		return false, nil
	}
	return string(b) == "age-encryption.org/v1", nil
}

// ReadFunc receives each member before the manifest, in order, as a stream.
// Its content is checked against the manifest only when Read returns.
type ReadFunc func(name string, body io.Reader) error

// Read decrypts the backup at path with ids and streams every member to fn
// (nil: read and hash only). It returns the manifest once every member's
// size and SHA-256 matched it; any mismatch, truncation or extra member is
// ErrCorrupt.
func Read(path string, ids []age.Identity, fn ReadFunc) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadFrom(f, ids, fn)
}

// ReadFrom is Read over an open stream.
func ReadFrom(src io.Reader, ids []age.Identity, fn ReadFunc) (*Manifest, error) {
	br := bufio.NewReaderSize(src, 256<<10)
	if head, _ := br.Peek(len("age-encryption.org/v1")); string(head) != "age-encryption.org/v1" {
		return nil, ErrNotBackup
	}
	dec, err := age.Decrypt(br, ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) || strings.Contains(err.Error(), "incorrect passphrase") || strings.Contains(err.Error(), "no identity matched") {
			return nil, ErrWrongKey
		}
		if strings.Contains(err.Error(), "scrypt") && strings.Contains(err.Error(), "identit") {
			return nil, fmt.Errorf("%w (it was encrypted to a passphrase, not a key: use --passphrase-env)", ErrWrongKey)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	tr := tar.NewReader(dec)
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
	}
	type seen struct {
		size  int64
		sum   string
		parts int
	}
	got := map[string]seen{}
	var order []string
	var manifest *Manifest
	var pending *tar.Header
	next := func() (*tar.Header, error) {
		if pending != nil {
			h := pending
			pending = nil
			return h, nil
		}
		return tr.Next()
	}
	for {
		h, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, corrupt("%v", err)
		}
		if manifest != nil {
			return nil, corrupt("member %q after the manifest", h.Name)
		}
		if h.Name == ManifestName {
			b, err := io.ReadAll(io.LimitReader(tr, 16<<20))
			if err != nil {
				return nil, corrupt("manifest: %v", err)
			}
			manifest = &Manifest{}
			if err := json.Unmarshal(b, manifest); err != nil {
				return nil, corrupt("manifest: %v", err)
			}
			continue
		}
		name, parts := h.Name, 0
		if m := partName.FindStringSubmatch(h.Name); m != nil {
			if m[2] != "000000" {
				return nil, corrupt("part %q without its first part", h.Name)
			}
			name, parts = m[1], 1
		}
		if _, dup := got[name]; dup {
			return nil, corrupt("member %q twice", name)
		}
		hash := sha256.New()
		var body io.Reader = tr
		var pr *partReader
		if parts > 0 {
			pr = &partReader{tr: tr, name: name, idx: 0}
			body = pr
		}
		counted := &countingReader{r: io.TeeReader(body, hash)}
		if fn != nil {
			if err := fn(name, counted); err != nil {
				return nil, err
			}
		}
		if _, err := io.Copy(io.Discard, counted); err != nil {
			if errors.Is(err, ErrCorrupt) {
				return nil, err
			}
			return nil, corrupt("%s: %v", name, err)
		}
		if pr != nil {
			parts = pr.idx + 1
			pending = pr.pending
			if pr.err != nil {
				return nil, corrupt("%v", pr.err)
			}
		}
		got[name] = seen{size: counted.n, sum: hex.EncodeToString(hash.Sum(nil)), parts: parts}
		order = append(order, name)
	}
	if manifest == nil {
		return nil, corrupt("no manifest (the backup did not finish)")
	}
	if manifest.Format != Format {
		return nil, fmt.Errorf("backup format %d; this calctl reads format %d", manifest.Format, Format)
	}
	if len(manifest.Members) != len(order) {
		return nil, corrupt("%d members, the manifest lists %d", len(order), len(manifest.Members))
	}
	for i, m := range manifest.Members {
		s, ok := got[m.Name]
		if !ok || order[i] != m.Name {
			return nil, corrupt("member %q missing or out of order", m.Name)
		}
		if s.size != m.Size || s.sum != m.SHA256 {
			return nil, corrupt("member %q: size %d sha256 %s, manifest says %d %s", m.Name, s.size, short(s.sum), m.Size, short(m.SHA256))
		}
	}
	return manifest, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// partReader reads a streamed member across its consecutive parts.
type partReader struct {
	tr      *tar.Reader
	name    string
	idx     int
	pending *tar.Header
	err     error
	eof     bool
}

func (p *partReader) Read(b []byte) (int, error) {
	for {
		if p.eof {
			return 0, io.EOF
		}
		n, err := p.tr.Read(b)
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		h, err := p.tr.Next()
		if err == io.EOF {
			p.eof = true
			return 0, io.EOF
		}
		if err != nil {
			p.err, p.eof = err, true
			return 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		m := partName.FindStringSubmatch(h.Name)
		if m == nil || m[1] != p.name {
			p.pending, p.eof = h, true
			return 0, io.EOF
		}
		i, _ := strconv.Atoi(m[2])
		if i != p.idx+1 {
			p.err, p.eof = fmt.Errorf("part %q out of order", h.Name), true
			return 0, fmt.Errorf("%w: %v", ErrCorrupt, p.err)
		}
		p.idx = i
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
