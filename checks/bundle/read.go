package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/safefile"
)

// Limits that keep a hostile bundle from exhausting memory.
const (
	maxEntry   = 32 << 20
	maxTotal   = 64 << 20
	maxEntries = 2000
	// maxFacts bounds facts.json: live facts are tens of KiB.
	maxFacts = 8 << 20
)

// Contents is a read bundle: file name → bytes.
type Contents struct {
	// Files maps each regular file's cleaned archive path to its bytes,
	// manifest.json included.
	Files map[string][]byte
	// Manifest is manifest.json decoded.
	Manifest Manifest
}

// Read opens a bundle file: a regular file (never blocking on a FIFO) of
// at most twice maxTotal, whose entries hold at most maxTotal.
func Read(file string) (*Contents, error) {
	fh, st, err := safefile.Open(file, safefile.Options{})
	if err != nil {
		return nil, fmt.Errorf("open bundle: %w", err)
	}
	defer fh.Close()
	if st.Size() > 2*maxTotal {
		return nil, fmt.Errorf("open bundle: %w", safefile.TooLarge(file, st.Size(), 2*maxTotal))
	}
	c, err := ReadFrom(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// ReadFrom reads a bundle stream with size and count limits.
func ReadFrom(r io.Reader) (*Contents, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a gzip-compressed support bundle: %w", err)
	}
	tr := tar.NewReader(gz)
	c := &Contents{Files: map[string][]byte{}}
	total := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read bundle: %w", err)
		}
		if len(c.Files) >= maxEntries {
			return nil, errors.New("bundle has too many entries")
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(h.Name)
		if path.IsAbs(name) || name == ".." || len(name) > 2 && name[:3] == "../" {
			return nil, fmt.Errorf("bundle entry %q escapes the bundle", h.Name)
		}
		if h.Size > maxEntry {
			return nil, fmt.Errorf("bundle entry %s is too large (%d bytes)", name, h.Size)
		}
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(tr, maxEntry+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if n > maxEntry {
			return nil, fmt.Errorf("bundle entry %s is too large", name)
		}
		total += int(n)
		if total > maxTotal {
			return nil, errors.New("bundle is too large")
		}
		c.Files[name] = buf.Bytes()
	}
	raw, ok := c.Files["manifest.json"]
	if !ok {
		return nil, errors.New("bundle has no manifest.json (not a calctl support bundle)")
	}
	if err := json.Unmarshal(raw, &c.Manifest); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if c.Manifest.Version != ManifestVersion {
		return nil, fmt.Errorf("bundle format version %d is not supported (want %d)", c.Manifest.Version, ManifestVersion)
	}
	return c, nil
}

// Facts decodes facts.json.
func (c *Contents) Facts() (*checks.Facts, error) {
	raw, ok := c.Files["facts.json"]
	if !ok {
		return nil, errors.New("bundle has no facts.json")
	}
	if len(raw) > maxFacts {
		return nil, fmt.Errorf("facts.json is %d bytes (limit %d): not a bundle calctl wrote", len(raw), maxFacts)
	}
	var f checks.Facts
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("facts.json: %w", err)
	}
	if f.SchemaVersion != checks.FactsSchemaVersion {
		return nil, fmt.Errorf("facts.json schema %d is not supported (want %d)", f.SchemaVersion, checks.FactsSchemaVersion)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("facts.json: %w: not a bundle calctl wrote", err)
	}
	return &f, nil
}

// ReadFacts reads the facts from a bundle file.
func ReadFacts(file string) (*checks.Facts, error) {
	c, err := Read(file)
	if err != nil {
		return nil, err
	}
	f, err := c.Facts()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return f, nil
}
