package packindex

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"sync"
	"sync/atomic"

	githash "github.com/go-git/go-git/v5/plumbing/hash"
)

// maxDepth bounds delta chains, as git's pack-objects does (4095).
const maxDepth = 4095

// resolve is the second pass: it names every delta by resolving the delta
// trees rooted at whole objects, in parallel. REF_DELTA entries whose base
// is not in the pack are left for completeThin.
func (p *pack) resolve() error {
	sort.Slice(p.ofs, func(i, j int) bool { return p.ents[p.ofs[i]].base < p.ents[p.ofs[j]].base })
	sort.Slice(p.refs, func(i, j int) bool { return bytes.Compare(p.refs[i].base[:], p.refs[j].base[:]) < 0 })
	// Every OFS_DELTA base must be the start of an entry before it.
	for _, k := range p.ofs {
		b := p.ents[k].base
		i := sort.Search(len(p.ents), func(i int) bool { return p.ents[i].off >= b })
		if i == len(p.ents) || p.ents[i].off != b {
			return malformed("delta at %d names a base at %d, which is not an object", p.ents[k].off, b)
		}
	}
	var roots []int32
	for i := range p.ents {
		if !p.ents[i].isDelta() {
			roots = append(roots, int32(i))
		}
	}
	if err := p.run(roots, nil); err != nil {
		return err
	}
	// Deltas whose base is not in the pack: a thin pack's.
	for _, r := range p.refs {
		if p.ents[r.idx].hash.IsZero() {
			if len(p.thin) == 0 || p.thin[len(p.thin)-1] != r.base {
				p.thin = append(p.thin, r.base)
			}
		}
	}
	for _, k := range p.ofs {
		if p.ents[k].hash.IsZero() {
			return malformed("delta at %d could not be resolved (a delta cycle?)", p.ents[k].off)
		}
	}
	return nil
}

// run resolves the trees below roots with the configured workers. load,
// when set, supplies a root's data instead of the pack (thin bases).
func (p *pack) run(roots []int32, load func(int32) ([]byte, error)) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var failed atomic.Bool
	budget := &atomic.Int64{}
	budget.Store(p.opts.BaseBudget)
	claimed := make([]atomic.Bool, len(p.ents))
	var wg sync.WaitGroup
	for w := 0; w < p.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rv := &resolver{p: p, budget: budget, claimed: claimed, load: load, h: githash.New(githash.CryptoType)}
			for !failed.Load() {
				i := next.Add(1) - 1
				if i >= int64(len(roots)) {
					return
				}
				if err := rv.tree(roots[i]); err != nil {
					once.Do(func() { firstErr = err; failed.Store(true) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// resolver is one worker's state.
type resolver struct {
	p       *pack
	budget  *atomic.Int64
	claimed []atomic.Bool
	load    func(int32) ([]byte, error)
	h       hash.Hash
	z       io.ReadCloser
	comp    []byte // compressed entry data
	delta   []byte // inflated delta
	stack   []frame
	spare   [][]byte // buffers to reuse (alloc, free)
}

// frame is a resolved object whose children are being resolved.
type frame struct {
	idx   int32
	data  []byte // nil when dropped to stay within the budget
	kids  []int32
	next  int
	depth int
}

// children returns the entries that are deltas against entry i.
func (r *resolver) children(i int32) []int32 {
	p := r.p
	e := &p.ents[i]
	var kids []int32
	if !e.ext {
		lo := sort.Search(len(p.ofs), func(k int) bool { return p.ents[p.ofs[k]].base >= e.off })
		for k := lo; k < len(p.ofs) && p.ents[p.ofs[k]].base == e.off; k++ {
			kids = append(kids, p.ofs[k])
		}
	}
	lo := sort.Search(len(p.refs), func(k int) bool { return bytes.Compare(p.refs[k].base[:], e.hash[:]) >= 0 })
	for k := lo; k < len(p.refs) && p.refs[k].base == e.hash; k++ {
		kids = append(kids, p.refs[k].idx)
	}
	return kids
}

// tree resolves every delta below root, depth first. A base is kept only
// while it has children left; a base with one child left is released
// before descending, so a plain chain costs two objects of memory.
func (r *resolver) tree(root int32) error {
	kids := r.children(root)
	if len(kids) == 0 {
		return nil
	}
	data, err := r.materialize(root)
	if err != nil {
		return err
	}
	r.stack = append(r.stack[:0], frame{idx: root, data: data, kids: kids})
	r.retain(len(data))
	for len(r.stack) > 0 {
		top := len(r.stack) - 1
		f := &r.stack[top]
		if f.next == len(f.kids) {
			r.release(f)
			r.stack = r.stack[:top]
			continue
		}
		k := f.kids[f.next]
		f.next++
		if r.claimed[k].Swap(true) {
			continue // a duplicate base already resolved it
		}
		base := f.data
		if base == nil {
			if base, err = r.materialize(f.idx); err != nil {
				return err
			}
			if f.next < len(f.kids) {
				f.data = base
				r.retain(len(base))
			}
		}
		out, err := r.apply(base, k)
		if err != nil {
			return err
		}
		if base != nil && f.data == nil {
			r.free(base) // rebuilt for this child only
		}
		e := &r.p.ents[k]
		e.parent = f.idx
		e.typ = r.p.ents[f.idx].typ
		r.h.Reset()
		writeHeader(r.h, e.typ, int64(len(out)))
		r.h.Write(out)
		copy(e.hash[:], r.h.Sum(nil))
		depth := f.depth + 1
		if depth > maxDepth {
			return malformed("delta chain deeper than %d at %d", maxDepth, e.off)
		}
		if f.next == len(f.kids) { // the last child: the base is done
			r.release(f)
			r.stack = r.stack[:top]
		}
		if kk := r.children(k); len(kk) > 0 {
			r.stack = append(r.stack, frame{idx: k, data: out, kids: kk, depth: depth})
			r.retain(len(out))
			r.shrink()
		} else {
			r.free(out)
		}
	}
	return nil
}

// alloc returns a buffer of length 0 and capacity at least n, reusing
// one of the worker's spare buffers when one fits: resolving a file's
// history makes hundreds of buffers of the same size, and reusing them
// keeps the heap (and so the process) small.
func (r *resolver) alloc(n int64) []byte {
	for i, b := range r.spare {
		if int64(cap(b)) >= n && int64(cap(b)) <= 2*n+64<<10 {
			r.spare = append(r.spare[:i], r.spare[i+1:]...)
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

// free gives a buffer no longer referenced back to the worker.
func (r *resolver) free(b []byte) {
	if cap(b) == 0 {
		return
	}
	if len(r.spare) == 8 {
		r.spare = r.spare[1:]
	}
	r.spare = append(r.spare, b)
}

func (r *resolver) retain(n int) { r.budget.Add(-int64(n)) }

func (r *resolver) release(f *frame) {
	if f.data != nil {
		r.budget.Add(int64(len(f.data)))
		r.free(f.data)
		f.data = nil
	}
}

// shrink drops the data of the oldest frames (never the newest) while the
// budget is overdrawn; materialize rebuilds them if they are needed again.
func (r *resolver) shrink() {
	for i := 0; i < len(r.stack)-1 && r.budget.Load() < 0; i++ {
		r.release(&r.stack[i])
	}
}

// materialize returns the content of entry i: inflated from the pack, or
// rebuilt from its base chain when it is a delta.
func (r *resolver) materialize(i int32) ([]byte, error) {
	e := &r.p.ents[i]
	if e.ext {
		return r.load(i)
	}
	if !e.isDelta() {
		return r.inflate(e, r.alloc(e.size))
	}
	chain := []int32{i}
	for j := e.parent; ; j = r.p.ents[j].parent {
		if j < 0 {
			return nil, malformed("delta at %d has no resolved base", e.off)
		}
		chain = append(chain, j)
		if !r.p.ents[j].isDelta() || r.p.ents[j].ext {
			break
		}
		if len(chain) > maxDepth+1 {
			return nil, malformed("delta chain deeper than %d at %d", maxDepth, e.off)
		}
	}
	data, err := r.materialize(chain[len(chain)-1])
	if err != nil {
		return nil, err
	}
	for k := len(chain) - 2; k >= 0; k-- {
		out, err := r.apply(data, chain[k])
		if err != nil {
			return nil, err
		}
		r.free(data)
		data = out
	}
	return data, nil
}

// inflate reads entry e's zlib data from the pack into dst (reused when
// large enough).
func (r *resolver) inflate(e *entry, dst []byte) ([]byte, error) {
	end := r.p.dataEnd
	if i := r.next(e); i >= 0 {
		end = r.p.ents[i].off
	}
	start := e.off + int64(e.hdr)
	n := int(end - start)
	if cap(r.comp) < n {
		r.comp = make([]byte, n)
	}
	comp := r.comp[:n]
	if _, err := r.p.f.ReadAt(comp, start); err != nil {
		return nil, fmt.Errorf("read pack at %d: %w", start, err)
	}
	var err error
	if r.z == nil {
		r.z, err = zlib.NewReader(bytes.NewReader(comp))
	} else {
		err = r.z.(zlib.Resetter).Reset(bytes.NewReader(comp), nil)
	}
	if err != nil {
		return nil, malformed("object at %d: %v", e.off, err)
	}
	if int64(cap(dst)) < e.size {
		dst = make([]byte, e.size)
	}
	dst = dst[:e.size]
	if _, err := io.ReadFull(r.z, dst); err != nil {
		return nil, malformed("object at %d: %v", e.off, err)
	}
	return dst, nil
}

// next returns the index of the entry after e in the pack, or -1.
func (r *resolver) next(e *entry) int {
	ents := r.p.ents[:r.p.inPack] // in pack order; thin bases come after
	i := sort.Search(len(ents), func(i int) bool { return ents[i].off > e.off })
	if i == len(ents) {
		return -1
	}
	return i
}

// apply inflates delta entry k and applies it to base.
func (r *resolver) apply(base []byte, k int32) ([]byte, error) {
	e := &r.p.ents[k]
	d, err := r.inflate(e, r.delta)
	if err != nil {
		return nil, err
	}
	r.delta = d
	out, err := patch(base, d, r.p.opts.MaxObjectSize, r.alloc)
	if err != nil {
		return nil, malformed("delta at %d: %v", e.off, err)
	}
	return out, nil
}

var errDelta = errors.New("invalid delta")

// patch applies a git delta to base, checking every bound.
func patch(base, delta []byte, maxSize int64, alloc func(int64) []byte) ([]byte, error) {
	pos := 0
	varint := func() (int64, error) {
		var v int64
		for shift := 0; ; shift += 7 {
			if pos >= len(delta) || shift > 56 {
				return 0, errDelta
			}
			c := delta[pos]
			pos++
			v |= int64(c&0x7f) << shift
			if c&0x80 == 0 {
				return v, nil
			}
		}
	}
	srcSize, err := varint()
	if err != nil {
		return nil, err
	}
	if srcSize != int64(len(base)) {
		return nil, fmt.Errorf("%w: base is %d bytes, delta expects %d", errDelta, len(base), srcSize)
	}
	dstSize, err := varint()
	if err != nil {
		return nil, err
	}
	if dstSize > maxSize {
		return nil, fmt.Errorf("%w: result of %d bytes is over the limit", errDelta, dstSize)
	}
	// Grow with the data really produced, not the declared size.
	var out []byte
	if n := min(dstSize, int64(len(base))+int64(len(delta))+(1<<20)); alloc != nil {
		out = alloc(n)
	} else {
		out = make([]byte, 0, n)
	}
	for pos < len(delta) {
		op := delta[pos]
		pos++
		switch {
		case op&0x80 != 0: // copy from base
			var off, n int64
			for i := 0; i < 4; i++ {
				if op&(1<<i) != 0 {
					if pos >= len(delta) {
						return nil, errDelta
					}
					off |= int64(delta[pos]) << (8 * i)
					pos++
				}
			}
			for i := 0; i < 3; i++ {
				if op&(0x10<<i) != 0 {
					if pos >= len(delta) {
						return nil, errDelta
					}
					n |= int64(delta[pos]) << (8 * i)
					pos++
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > int64(len(base)) || int64(len(out))+n > dstSize {
				return nil, fmt.Errorf("%w: copy out of range", errDelta)
			}
			out = append(out, base[off:off+n]...)
		case op != 0: // insert
			n := int(op)
			if pos+n > len(delta) || int64(len(out)+n) > dstSize {
				return nil, fmt.Errorf("%w: insert out of range", errDelta)
			}
			out = append(out, delta[pos:pos+n]...)
			pos += n
		default:
			return nil, fmt.Errorf("%w: reserved opcode 0", errDelta)
		}
	}
	if int64(len(out)) != dstSize {
		return nil, fmt.Errorf("%w: result is %d bytes, delta declares %d", errDelta, len(out), dstSize)
	}
	return out, nil
}
