package packindex

import (
	"crypto/sha1"
	"errors"
	"hash"
	"hash/crc32"
	"io"
)

// streamReader reads the incoming pack for the first pass. It implements
// io.ByteReader, so compress/flate reads exactly the bytes of each object
// and no more, and it accounts for every consumed byte once: into the pack
// file, the pack's running checksum, and the current object's CRC-32.
type streamReader struct {
	src  io.Reader
	out  io.Writer
	buf  []byte
	r, w int   // unread bytes are buf[r:w]
	mark int   // buf[mark:r] is consumed but not yet accounted
	base int64 // pack offset of buf[0]
	crc  uint32
	sum  hash.Hash
	err  error // sticky error of src or out
}

func newStreamReader(src io.Reader, out io.Writer) *streamReader {
	return &streamReader{src: src, out: out, buf: make([]byte, 128<<10), sum: sha1.New()}
}

// offset is the pack offset of the next byte to be read.
func (s *streamReader) offset() int64 { return s.base + int64(s.r) }

// account writes the consumed bytes to the file and hashes them.
func (s *streamReader) account() {
	if s.mark == s.r {
		return
	}
	seg := s.buf[s.mark:s.r]
	s.crc = crc32.Update(s.crc, crc32.IEEETable, seg)
	s.sum.Write(seg)
	if _, err := s.out.Write(seg); err != nil && s.err == nil {
		s.err = err
	}
	s.mark = s.r
}

func (s *streamReader) fill() error {
	if s.err != nil {
		return s.err
	}
	s.account()
	if s.r == s.w {
		s.base += int64(s.w)
		s.r, s.w, s.mark = 0, 0, 0
	}
	for s.w < len(s.buf) {
		n, err := s.src.Read(s.buf[s.w:])
		s.w += n
		if err != nil {
			if errors.Is(err, io.EOF) && s.r < s.w {
				return nil
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			s.err = err
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return nil
}

// ReadByte implements io.ByteReader.
func (s *streamReader) ReadByte() (byte, error) {
	if s.r == s.w {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	b := s.buf[s.r]
	s.r++
	return b, nil
}

// Read implements io.Reader.
func (s *streamReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.r == s.w {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf[s.r:s.w])
	s.r += n
	return n, nil
}

// startObject begins a new object's CRC.
func (s *streamReader) startObject() {
	s.account()
	s.crc = 0
}

// endObject returns the CRC of the bytes read since startObject.
func (s *streamReader) endObject() uint32 {
	s.account()
	return s.crc
}

// trailer reads the pack's 20-byte trailer and reports whether it matches
// the checksum of everything before it; it also checks that nothing follows.
func (s *streamReader) trailer() ([]byte, bool, error) {
	s.account()
	want := s.sum.Sum(nil)
	got := make([]byte, 20)
	for i := range got {
		b, err := s.ReadByte()
		if err != nil {
			return nil, false, err
		}
		got[i] = b
	}
	// The trailer goes to the file but not into the checksum.
	seg := s.buf[s.mark:s.r]
	if _, err := s.out.Write(seg); err != nil {
		return nil, false, err
	}
	s.mark = s.r
	// Whatever follows the trailer (nothing, from a sane server) is read
	// and dropped, so the sender is never left blocked.
	s.r = s.w
	s.mark = s.r
	_, _ = io.Copy(io.Discard, s.src)
	return got, string(got) == string(want), nil
}
