package packindex

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"container/list"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
)

// ErrNotFound means an object is in none of the packs.
var ErrNotFound = errors.New("object not in any pack")

// Objects reads objects straight from a repository's packs, for checkout:
// a whole object is inflated as a stream into its destination, a delta is
// rebuilt from its base chain through a bounded cache of bases. go-git's
// reader instead reopens the pack for every object and buffers objects
// whole, which on a large tree costs time and memory. An Objects is for one
// goroutine; Fork gives another goroutine its own over the same packs.
type Objects struct {
	packs *packSet
	cache *baseCache
	z     io.ReadCloser
	br    *bufio.Reader
	comp  []byte
}

type packSet struct {
	packs []*packFile
}

type packFile struct {
	f    *os.File
	idx  *idxfile.MemoryIndex
	size int64
}

// OpenObjects opens every pack of the .git directory gitdir. cacheBytes
// bounds the delta bases it keeps (per Objects).
func OpenObjects(gitdir string, cacheBytes int64) (*Objects, error) {
	dir := filepath.Join(gitdir, "objects", "pack")
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	ps := &packSet{}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, "pack-") || !strings.HasSuffix(n, ".idx") {
			continue
		}
		pf, err := openPack(filepath.Join(dir, strings.TrimSuffix(n, ".idx")))
		if err != nil {
			ps.close()
			return nil, err
		}
		ps.packs = append(ps.packs, pf)
	}
	return &Objects{packs: ps, cache: newBaseCache(cacheBytes)}, nil
}

func openPack(base string) (*packFile, error) {
	ib, err := os.ReadFile(base + ".idx")
	if err != nil {
		return nil, err
	}
	idx := idxfile.NewMemoryIndex()
	if err := idxfile.NewDecoder(bytes.NewReader(ib)).Decode(idx); err != nil {
		return nil, fmt.Errorf("%s.idx: %w", base, err)
	}
	f, err := os.Open(base + ".pack")
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &packFile{f: f, idx: idx, size: st.Size()}, nil
}

func (ps *packSet) close() {
	for _, p := range ps.packs {
		p.f.Close()
	}
}

// Fork returns an Objects over the same packs with its own cache and
// buffers, for another goroutine.
func (o *Objects) Fork() *Objects {
	return &Objects{packs: o.packs, cache: newBaseCache(o.cache.max)}
}

// Close closes the pack files (of every fork).
func (o *Objects) Close() { o.packs.close() }

// find returns the pack and offset of h.
func (o *Objects) find(h plumbing.Hash) (*packFile, int64, error) {
	for _, p := range o.packs.packs {
		if off, err := p.idx.FindOffset(h); err == nil {
			return p, off, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: %s", ErrNotFound, h)
}

// header is a parsed entry header.
type header struct {
	typ      plumbing.ObjectType
	size     int64
	dataOff  int64 // start of the zlib data
	baseOff  int64 // OFS_DELTA
	baseHash plumbing.Hash
}

func (p *packFile) header(off int64) (header, error) {
	var b [64]byte
	n, err := p.f.ReadAt(b[:], off)
	if n == 0 {
		return header{}, err
	}
	pos := 0
	next := func() (byte, error) {
		if pos >= n {
			return 0, malformed("entry header at %d is cut short", off)
		}
		c := b[pos]
		pos++
		return c, nil
	}
	c, _ := next()
	h := header{typ: plumbing.ObjectType((c >> 4) & 7), size: int64(c & 15)}
	for shift := 4; c&0x80 != 0; shift += 7 {
		if shift > 56 {
			return h, malformed("entry at %d: size overflows", off)
		}
		if c, err = next(); err != nil {
			return h, err
		}
		h.size |= int64(c&0x7f) << shift
	}
	switch h.typ {
	case plumbing.OFSDeltaObject:
		if c, err = next(); err != nil {
			return h, err
		}
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if c, err = next(); err != nil {
				return h, err
			}
			rel = (rel+1)<<7 | int64(c&0x7f)
		}
		h.baseOff = off - rel
		if rel <= 0 || h.baseOff < 12 {
			return h, malformed("entry at %d: delta base out of range", off)
		}
	case plumbing.REFDeltaObject:
		if pos+20 > n {
			return h, malformed("entry header at %d is cut short", off)
		}
		copy(h.baseHash[:], b[pos:pos+20])
		pos += 20
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	default:
		return h, malformed("entry at %d has invalid type %d", off, h.typ)
	}
	h.dataOff = off + int64(pos)
	return h, nil
}

// stream returns a reader of entry h's inflated data.
func (o *Objects) stream(p *packFile, h header) (io.Reader, error) {
	sec := io.NewSectionReader(p.f, h.dataOff, p.size-h.dataOff)
	if o.br == nil {
		o.br = bufio.NewReaderSize(sec, 64<<10)
	} else {
		o.br.Reset(sec)
	}
	var err error
	if o.z == nil {
		o.z, err = zlib.NewReader(o.br)
	} else {
		err = o.z.(zlib.Resetter).Reset(o.br, nil)
	}
	if err != nil {
		return nil, malformed("entry at %d: %v", h.dataOff, err)
	}
	return io.LimitReader(o.z, h.size), nil
}

// data returns entry h's inflated data whole.
func (o *Objects) data(p *packFile, h header) ([]byte, error) {
	r, err := o.stream(p, h)
	if err != nil {
		return nil, err
	}
	b := make([]byte, h.size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, malformed("entry at %d: %v", h.dataOff, err)
	}
	return b, nil
}

// resolve returns the content and type of the entry at off, rebuilding a
// delta from its chain and caching the bases it used.
func (o *Objects) resolve(p *packFile, off int64, depth int) ([]byte, plumbing.ObjectType, error) {
	if b, t, ok := o.cache.get(p, off); ok {
		return b, t, nil
	}
	if depth > maxDepth {
		return nil, 0, malformed("delta chain deeper than %d", maxDepth)
	}
	h, err := p.header(off)
	if err != nil {
		return nil, 0, err
	}
	var base []byte
	var typ plumbing.ObjectType
	switch h.typ {
	case plumbing.OFSDeltaObject:
		base, typ, err = o.resolve(p, h.baseOff, depth+1)
	case plumbing.REFDeltaObject:
		bp, boff, ferr := o.find(h.baseHash)
		if ferr != nil {
			return nil, 0, ferr
		}
		base, typ, err = o.resolve(bp, boff, depth+1)
	default:
		b, err := o.data(p, h)
		return b, h.typ, err
	}
	if err != nil {
		return nil, 0, err
	}
	// The base may be needed by this object's siblings: keep it.
	o.cache.put(p, baseOffset(h, p, o), base, typ)
	d, err := o.data(p, h)
	if err != nil {
		return nil, 0, err
	}
	out, err := patch(base, d, DefaultMaxObjectSize, nil)
	if err != nil {
		return nil, 0, malformed("delta at %d: %v", off, err)
	}
	return out, typ, nil
}

func baseOffset(h header, p *packFile, o *Objects) int64 {
	if h.typ == plumbing.OFSDeltaObject {
		return h.baseOff
	}
	if _, off, err := o.find(h.baseHash); err == nil {
		return off
	}
	return -1
}

// WriteBlob writes the content of blob h to w and returns its size. A
// whole object is streamed; a delta is rebuilt in memory. At most limit
// bytes are written (ErrTooLarge-style errors are the caller's).
func (o *Objects) WriteBlob(h plumbing.Hash, w io.Writer) (int64, error) {
	p, off, err := o.find(h)
	if err != nil {
		return 0, err
	}
	hd, err := p.header(off)
	if err != nil {
		return 0, err
	}
	if hd.typ == plumbing.OFSDeltaObject || hd.typ == plumbing.REFDeltaObject {
		b, typ, err := o.resolve(p, off, 0)
		if err != nil {
			return 0, err
		}
		if typ != plumbing.BlobObject {
			return 0, fmt.Errorf("%s is a %s, not a blob", h, typ)
		}
		n, err := w.Write(b)
		return int64(n), err
	}
	if hd.typ != plumbing.BlobObject {
		return 0, fmt.Errorf("%s is a %s, not a blob", h, hd.typ)
	}
	r, err := o.stream(p, hd)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, r)
	if err == nil && n != hd.size {
		err = malformed("blob %s: %d bytes, declared %d", h, n, hd.size)
	}
	return n, err
}

// baseCache is an LRU of delta bases bounded in bytes.
type baseCache struct {
	max, used int64
	ll        *list.List
	m         map[cacheKey]*list.Element
}

type cacheKey struct {
	p   *packFile
	off int64
}

type cacheVal struct {
	k   cacheKey
	b   []byte
	typ plumbing.ObjectType
}

func newBaseCache(max int64) *baseCache {
	return &baseCache{max: max, ll: list.New(), m: map[cacheKey]*list.Element{}}
}

func (c *baseCache) get(p *packFile, off int64) ([]byte, plumbing.ObjectType, bool) {
	if e, ok := c.m[cacheKey{p, off}]; ok {
		c.ll.MoveToFront(e)
		v := e.Value.(*cacheVal)
		return v.b, v.typ, true
	}
	return nil, 0, false
}

func (c *baseCache) put(p *packFile, off int64, b []byte, typ plumbing.ObjectType) {
	k := cacheKey{p, off}
	if off < 0 || int64(len(b)) > c.max {
		return
	}
	if _, ok := c.m[k]; ok {
		return
	}
	c.m[k] = c.ll.PushFront(&cacheVal{k: k, b: b, typ: typ})
	c.used += int64(len(b))
	for c.used > c.max {
		e := c.ll.Back()
		v := e.Value.(*cacheVal)
		c.ll.Remove(e)
		delete(c.m, v.k)
		c.used -= int64(len(v.b))
	}
}

// Size returns the size of object h without reading it whole: from the
// entry header, or for a delta from the start of the delta.
func (o *Objects) Size(h plumbing.Hash) (int64, error) {
	p, off, err := o.find(h)
	if err != nil {
		return 0, err
	}
	hd, err := p.header(off)
	if err != nil {
		return 0, err
	}
	if hd.typ != plumbing.OFSDeltaObject && hd.typ != plumbing.REFDeltaObject {
		return hd.size, nil
	}
	r, err := o.stream(p, hd)
	if err != nil {
		return 0, err
	}
	var b [20]byte
	n, err := io.ReadFull(r, b[:min(int64(len(b)), hd.size)])
	if err != nil {
		return 0, malformed("delta at %d: %v", off, err)
	}
	pos := 0
	varint := func() (int64, error) {
		var v int64
		for shift := 0; pos < n && shift <= 56; shift += 7 {
			c := b[pos]
			pos++
			v |= int64(c&0x7f) << shift
			if c&0x80 == 0 {
				return v, nil
			}
		}
		return 0, malformed("delta at %d: bad size header", off)
	}
	if _, err := varint(); err != nil {
		return 0, err
	}
	return varint()
}
