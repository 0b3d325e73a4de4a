package packindex

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	githash "github.com/go-git/go-git/v5/plumbing/hash"
)

// ErrMalformed means the pack could not be read or resolved.
var ErrMalformed = errors.New("malformed pack")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// entry is one object of the pack.
type entry struct {
	off    int64         // offset of the entry's header in the pack
	size   int64         // inflated size of the entry's data (the delta, for deltas)
	base   int64         // OFS_DELTA: offset of the base entry
	hash   plumbing.Hash // the object's name, once known
	crc    uint32        // CRC-32 of the entry's bytes in the pack
	parent int32         // index of the base entry once resolved; -1 for none
	hdr    uint8         // header length: the zlib data starts at off+hdr
	disk   plumbing.ObjectType
	typ    plumbing.ObjectType // the object's type, once known
	ext    bool                // a base appended from the repository (thin pack)
}

func (e *entry) isDelta() bool {
	return e.disk == plumbing.OFSDeltaObject || e.disk == plumbing.REFDeltaObject
}

// refDelta is a REF_DELTA entry and the name of its base.
type refDelta struct {
	base plumbing.Hash
	idx  int32
}

// writer receives a pack from go-git's fetch through a pipe.
type writer struct {
	pw  *io.PipeWriter
	res chan error
}

func newWriter(s *Storage) (*writer, error) {
	pr, pw := io.Pipe()
	w := &writer{pw: pw, res: make(chan error, 1)}
	go func() {
		err := index(s, pr)
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.Close()
		}
		w.res <- err
	}()
	return w, nil
}

func (w *writer) Write(p []byte) (int, error) { return w.pw.Write(p) }

// Close ends the pack and waits for the index.
func (w *writer) Close() error {
	w.pw.Close()
	return <-w.res
}

// index reads a pack from r into the repository: pack file, then index.
func index(s *Storage, r io.Reader) (err error) {
	packDir := filepath.Join(s.fs.Root(), "objects", "pack")
	if err := os.MkdirAll(packDir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(packDir, "tmp_pack_")
	if err != nil {
		return err
	}
	defer func() {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	p := &pack{opts: s.opts, f: f}
	empty, err := p.scan(r, bw)
	if err != nil || empty {
		_, _ = io.Copy(io.Discard, r)
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := p.resolve(); err != nil {
		return err
	}
	if len(p.thin) > 0 {
		if err := p.completeThin(s); err != nil {
			return err
		}
	}
	name := "pack-" + p.sum.String()
	idxTmp := f.Name() + ".idx"
	if err := p.writeIndex(idxTmp); err != nil {
		os.Remove(idxTmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(idxTmp)
		return err
	}
	tmp := f.Name()
	f = nil
	if err := os.Chmod(tmp, 0o444); err != nil {
		return err
	}
	// The pack first, then its index, as git does: a pack without an
	// index is ignored, an index without its pack would be an error.
	if err := os.Rename(tmp, filepath.Join(packDir, name+".pack")); err != nil {
		os.Remove(tmp)
		os.Remove(idxTmp)
		return err
	}
	if err := os.Rename(idxTmp, filepath.Join(packDir, name+".idx")); err != nil {
		os.Remove(idxTmp)
		return err
	}
	s.Reindex()
	return nil
}

// pack is one pack being indexed.
type pack struct {
	opts    Options
	f       *os.File
	ents    []entry
	refs    []refDelta // REF_DELTA entries, sorted by base before resolving
	ofs     []int32    // OFS_DELTA entries, sorted by base offset before resolving
	thin    []plumbing.Hash
	inPack  int   // entries received; thin bases are appended after them
	dataEnd int64 // offset of the trailer
	sum     plumbing.Hash
}

// scan is the first pass: it copies the pack from r to out and records
// every entry, hashing whole objects as they stream by.
func (p *pack) scan(r io.Reader, out io.Writer) (empty bool, err error) {
	sr := newStreamReader(r, out)
	var hdr [12]byte
	if n, err := io.ReadFull(sr, hdr[:]); err != nil {
		if n == 0 && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
			return true, nil
		}
		return false, malformed("pack header: %v", err)
	}
	if string(hdr[:4]) != "PACK" {
		return false, malformed("not a pack (no PACK signature)")
	}
	if v := binary.BigEndian.Uint32(hdr[4:8]); v != 2 && v != 3 {
		return false, malformed("unsupported pack version %d", v)
	}
	count := binary.BigEndian.Uint32(hdr[8:12])
	p.ents = make([]entry, 0, min(count, 1<<16))
	z, copyBuf := io.ReadCloser(nil), make([]byte, 64<<10)
	h := githash.New(githash.CryptoType)
	for i := uint32(0); i < count; i++ {
		sr.startObject()
		e := entry{off: sr.offset(), parent: -1}
		c, err := sr.ReadByte()
		if err != nil {
			return false, malformed("object %d: %v", i, err)
		}
		e.disk = plumbing.ObjectType((c >> 4) & 7)
		e.size = int64(c & 15)
		for shift := 4; c&0x80 != 0; shift += 7 {
			if shift > 56 {
				return false, malformed("object %d: size overflows", i)
			}
			if c, err = sr.ReadByte(); err != nil {
				return false, malformed("object %d: %v", i, err)
			}
			e.size |= int64(c&0x7f) << shift
		}
		if e.size > p.opts.MaxObjectSize {
			return false, malformed("object %d is %d bytes, over the %d-byte limit", i, e.size, p.opts.MaxObjectSize)
		}
		switch e.disk {
		case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
			e.typ = e.disk
		case plumbing.OFSDeltaObject:
			if c, err = sr.ReadByte(); err != nil {
				return false, malformed("object %d: %v", i, err)
			}
			rel := int64(c & 0x7f)
			for c&0x80 != 0 {
				if rel > 1<<48 {
					return false, malformed("object %d: delta offset overflows", i)
				}
				if c, err = sr.ReadByte(); err != nil {
					return false, malformed("object %d: %v", i, err)
				}
				rel = (rel+1)<<7 | int64(c&0x7f)
			}
			e.base = e.off - rel
			if rel <= 0 || e.base < 12 {
				return false, malformed("object %d: delta base offset out of range", i)
			}
			p.ofs = append(p.ofs, int32(len(p.ents)))
		case plumbing.REFDeltaObject:
			var b plumbing.Hash
			if _, err := io.ReadFull(sr, b[:]); err != nil {
				return false, malformed("object %d: %v", i, err)
			}
			p.refs = append(p.refs, refDelta{base: b, idx: int32(len(p.ents))})
		default:
			return false, malformed("object %d has invalid type %d", i, e.disk)
		}
		e.hdr = uint8(sr.offset() - e.off)
		if z == nil {
			z, err = zlib.NewReader(sr)
		} else {
			err = z.(zlib.Resetter).Reset(sr, nil)
		}
		if err != nil {
			return false, malformed("object %d: %v", i, err)
		}
		var n int64
		if e.isDelta() {
			n, err = io.CopyBuffer(io.Discard, io.LimitReader(z, e.size+1), copyBuf)
		} else {
			h.Reset()
			writeHeader(h, e.typ, e.size)
			n, err = io.CopyBuffer(h, io.LimitReader(z, e.size+1), copyBuf)
			copy(e.hash[:], h.Sum(nil))
		}
		if err == nil && n == e.size {
			// Read to the end, so that zlib checks its Adler-32 trailer.
			var one [1]byte
			switch m, rerr := z.Read(one[:]); {
			case m != 0:
				err = errors.New("more data than the declared size")
			case !errors.Is(rerr, io.EOF):
				err = rerr
			}
		}
		if err != nil {
			return false, malformed("object %d at %d: %v", i, e.off, err)
		}
		if n != e.size {
			return false, malformed("object %d at %d: %d bytes, declared %d", i, e.off, n, e.size)
		}
		e.crc = sr.endObject()
		p.ents = append(p.ents, e)
	}
	p.dataEnd = sr.offset()
	p.inPack = len(p.ents)
	sum, ok, err := sr.trailer()
	if err != nil {
		return false, malformed("pack trailer: %v", err)
	}
	if !ok {
		return false, malformed("pack checksum mismatch")
	}
	copy(p.sum[:], sum)
	return false, sr.err
}

// writeHeader starts an object's name: "<type> <size>\x00".
func writeHeader(w io.Writer, t plumbing.ObjectType, size int64) {
	var b [32]byte
	n := copy(b[:], t.Bytes())
	b[n] = ' '
	n++
	n += len(fmt.Appendf(b[n:n], "%d", size))
	b[n] = 0
	w.Write(b[:n+1])
}
