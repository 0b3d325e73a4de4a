package packindex

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
)

// completeThin resolves the deltas against objects the repository already
// has and appends those bases to the pack as whole objects, so the pack
// stands on its own (git index-pack --fix-thin).
func (p *pack) completeThin(s *Storage) error {
	first := len(p.ents)
	for _, h := range p.thin {
		// A base missing from the repository may be a delta of this pack
		// that itself waits for an external base: resolved below, or not.
		obj, err := s.Storage.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			continue
		}
		p.ents = append(p.ents, entry{hash: h, typ: obj.Type(), disk: obj.Type(), size: obj.Size(), parent: -1, ext: true})
	}
	load := func(i int32) ([]byte, error) {
		obj, err := s.Storage.EncodedObject(plumbing.AnyObject, p.ents[i].hash)
		if err != nil {
			return nil, err
		}
		rd, err := obj.Reader()
		if err != nil {
			return nil, err
		}
		defer rd.Close()
		return io.ReadAll(io.LimitReader(rd, p.opts.MaxObjectSize))
	}
	var roots []int32
	for i := first; i < len(p.ents); i++ {
		roots = append(roots, int32(i))
	}
	// One worker: the loader reads go-git's storage, which is not safe
	// for concurrent use. Thin packs are small.
	workers := p.opts.Workers
	p.opts.Workers = 1
	err := p.run(roots, load)
	p.opts.Workers = workers
	if err != nil {
		return err
	}
	for _, r := range p.refs {
		if p.ents[r.idx].hash.IsZero() {
			return malformed("delta at %d: its base %s is neither in the pack nor in the repository", p.ents[r.idx].off, r.base)
		}
	}
	// Append the bases after the last object, then fix the count and the
	// trailer.
	if err := p.f.Truncate(p.dataEnd); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(io.NewOffsetWriter(p.f, p.dataEnd), 256<<10)
	off := p.dataEnd
	var zbuf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&zbuf, zlib.BestSpeed)
	for i := first; i < len(p.ents); i++ {
		e := &p.ents[i]
		data, err := load(int32(i))
		if err != nil {
			return err
		}
		var hdr [16]byte
		n := 0
		c := byte(e.typ)<<4 | byte(len(data)&15)
		rest := len(data) >> 4
		for rest > 0 {
			hdr[n] = c | 0x80
			n++
			c = byte(rest & 0x7f)
			rest >>= 7
		}
		hdr[n] = c
		n++
		zbuf.Reset()
		zw.Reset(&zbuf)
		zw.Write(data)
		if err := zw.Close(); err != nil {
			return err
		}
		crc := crc32.Update(crc32.ChecksumIEEE(hdr[:n]), crc32.IEEETable, zbuf.Bytes())
		if _, err := bw.Write(hdr[:n]); err != nil {
			return err
		}
		if _, err := bw.Write(zbuf.Bytes()); err != nil {
			return err
		}
		e.off, e.crc, e.hdr, e.ext = off, crc, uint8(n), false
		off += int64(n + zbuf.Len())
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var cnt [4]byte
	binary.BigEndian.PutUint32(cnt[:], uint32(len(p.ents)))
	if _, err := p.f.WriteAt(cnt[:], 8); err != nil {
		return err
	}
	sum := sha1.New()
	if _, err := io.Copy(sum, io.NewSectionReader(p.f, 0, off)); err != nil {
		return err
	}
	copy(p.sum[:], sum.Sum(nil))
	if _, err := p.f.WriteAt(p.sum[:], off); err != nil {
		return err
	}
	p.dataEnd = off
	return nil
}

// writeIndex writes a version 2 pack index for the pack to path.
func (p *pack) writeIndex(path string) error {
	order := make([]int32, len(p.ents))
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(a, b int) bool {
		return bytes.Compare(p.ents[order[a]].hash[:], p.ents[order[b]].hash[:]) < 0
	})
	// A pack may hold an object twice; the index names it once.
	uniq := order[:0]
	for i, k := range order {
		if p.ents[k].hash.IsZero() {
			return malformed("object at %d was not resolved", p.ents[k].off)
		}
		if i > 0 && p.ents[k].hash == p.ents[order[i-1]].hash {
			continue
		}
		uniq = append(uniq, k)
	}
	order = uniq
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o444)
	if err != nil {
		return err
	}
	defer f.Close()
	sum := sha1.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, sum), 256<<10)
	u32 := func(v uint32) { var b [4]byte; binary.BigEndian.PutUint32(b[:], v); w.Write(b[:]) }
	w.Write([]byte{0xff, 't', 'O', 'c'})
	u32(2)
	var fan [256]uint32
	for _, k := range order {
		fan[p.ents[k].hash[0]]++
	}
	total := uint32(0)
	for i := range fan {
		total += fan[i]
		u32(total)
	}
	for _, k := range order {
		w.Write(p.ents[k].hash[:])
	}
	for _, k := range order {
		u32(p.ents[k].crc)
	}
	var large []uint64
	for _, k := range order {
		off := p.ents[k].off
		if off < 1<<31 {
			u32(uint32(off))
			continue
		}
		u32(1<<31 | uint32(len(large)))
		large = append(large, uint64(off))
	}
	for _, off := range large {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], off)
		w.Write(b[:])
	}
	w.Write(p.sum[:])
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := f.Write(sum.Sum(nil)); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
