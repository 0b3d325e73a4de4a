package packindex

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
	"github.com/go-git/go-git/v5/plumbing"
)

// history builds a repository whose files change in many small commits,
// so git packs them with long delta chains, and returns it.
func history(t *testing.T, commits int) *testenv.WorkRepo {
	t.Helper()
	r := testenv.NewWorkRepo(t)
	lines := make([]string, 400)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %d of a file that changes a little in every commit", i)
	}
	for c := 0; c < commits; c++ {
		lines[(c*37)%len(lines)] = fmt.Sprintf("changed in commit %d", c)
		r.Write(map[string]string{
			"big.txt":               strings.Join(lines, "\n"),
			fmt.Sprintf("f%d", c%7): strings.Repeat(fmt.Sprintf("%d ", c), 50),
		})
		r.Commit(fmt.Sprintf("c%d", c))
		if c == commits/2 {
			testenv.Git(t, r.Dir, "tag", "half")
		}
	}
	return r
}

// packOf returns a pack of revs made by git pack-objects.
func packOf(t *testing.T, dir string, args []string, revs string) []byte {
	t.Helper()
	cmd := exec.Command("git", append([]string{"pack-objects", "--stdout", "--revs", "--depth=50", "--window=10", "-q"}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(revs)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pack-objects: %v", err)
	}
	return out
}

func receive(t *testing.T, s *Storage, pack []byte) error {
	t.Helper()
	w, err := s.PackfileWriter()
	if err != nil {
		t.Fatal(err)
	}
	_, werr := io.Copy(w, bytes.NewReader(pack))
	cerr := w.Close()
	return errors.Join(werr, cerr)
}

func initBare(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "r.git")
	testenv.Git(t, filepath.Dir(dir), "init", "-q", "--bare", dir)
	return dir
}

// TestIndexMatchesGit: the index written for a pack with long delta
// chains is byte for byte the one `git index-pack` writes, with a small
// base budget (bases dropped and rebuilt) and with the default.
func TestIndexMatchesGit(t *testing.T) {
	src := history(t, 120)
	pack := packOf(t, src.Dir, nil, "HEAD\n")
	ref := filepath.Join(t.TempDir(), "ref.pack")
	if err := os.WriteFile(ref, pack, 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, filepath.Dir(ref), "index-pack", ref)
	want, err := os.ReadFile(strings.TrimSuffix(ref, ".pack") + ".idx")
	if err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int64{1, DefaultBaseBudget} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			dir := initBare(t)
			s := Open(dir, Options{BaseBudget: budget, Workers: 2})
			defer s.Close()
			if err := receive(t, s, pack); err != nil {
				t.Fatal(err)
			}
			idx, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*.idx"))
			if len(idx) != 1 {
				t.Fatalf("index files: %v", idx)
			}
			got, err := os.ReadFile(idx[0])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("index differs from git index-pack's (%d vs %d bytes)", len(got), len(want))
			}
			if out, err := testenv.GitOutput(dir, "fsck", "--strict"); err != nil {
				t.Fatalf("fsck: %v\n%s", err, out)
			}
			// The reader rebuilds every blob as git does.
			objs, err := OpenObjects(dir, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer objs.Close()
			for _, rev := range []string{"HEAD:big.txt", "half:big.txt", "HEAD~100:big.txt"} {
				h := testenv.Git(t, src.Dir, "rev-parse", rev)
				var b bytes.Buffer
				if _, err := objs.WriteBlob(plumbing.NewHash(h), &b); err != nil {
					t.Fatal(err)
				}
				if want := testenv.Git(t, dir, "cat-file", "blob", h); strings.TrimSpace(b.String()) != want {
					t.Fatalf("%s differs from git cat-file", rev)
				}
			}
		})
	}
}

// TestThinPackCompleted: a thin pack (deltas against objects the
// repository has) is completed with its bases, as index-pack --fix-thin.
func TestThinPackCompleted(t *testing.T) {
	src := history(t, 60)
	dir := initBare(t)
	s := Open(dir, Options{})
	defer s.Close()
	if err := receive(t, s, packOf(t, src.Dir, nil, "half\n")); err != nil {
		t.Fatal(err)
	}
	thin := packOf(t, src.Dir, []string{"--thin"}, "HEAD\n^half\n")
	if err := receive(t, s, thin); err != nil {
		t.Fatal(err)
	}
	head := testenv.Git(t, src.Dir, "rev-parse", "HEAD")
	testenv.Git(t, dir, "update-ref", "refs/heads/main", head)
	if out, err := testenv.GitOutput(dir, "fsck", "--strict", "--no-dangling"); err != nil {
		t.Fatalf("fsck: %v\n%s", err, out)
	}
	for _, idx := range must(filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*.idx"))) {
		if out, err := testenv.GitOutput(dir, "verify-pack", idx); err != nil {
			t.Fatalf("verify-pack %s: %v\n%s", idx, err, out)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestHostilePacks: damaged or hostile packs fail with ErrMalformed and
// leave nothing in the repository.
func TestHostilePacks(t *testing.T) {
	src := history(t, 30)
	good := packOf(t, src.Dir, nil, "HEAD\n")
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0xff
		return b
	}
	tests := map[string][]byte{
		"truncated":          good[:len(good)/2],
		"no trailer":         good[:len(good)-20],
		"bad checksum":       flip(len(good) - 1),
		"corrupt data":       flip(len(good) / 2),
		"not a pack":         []byte("HTTP/1.1 200 OK\r\n\r\nhello, this is not a pack at all"),
		"huge object count":  append([]byte("PACK\x00\x00\x00\x02\xff\xff\xff\xff"), good[12:]...),
		"bad version":        append([]byte("PACK\x00\x00\x00\x09"), good[8:]...),
		"delta base forward": deltaPointingForward(t),
	}
	for name, pack := range tests {
		t.Run(name, func(t *testing.T) {
			dir := initBare(t)
			s := Open(dir, Options{})
			defer s.Close()
			err := receive(t, s, pack)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			left, _ := os.ReadDir(filepath.Join(dir, "objects", "pack"))
			if len(left) > 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}

// deltaPointingForward is a one-object pack whose OFS_DELTA names a base
// before the start of the pack.
func deltaPointingForward(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("PACK\x00\x00\x00\x02\x00\x00\x00\x01")
	b.Write([]byte{0x6 << 4, 0x7f}) // OFS_DELTA, size 0, base 127 bytes back
	b.Write([]byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	sum := sha1Sum(b.Bytes())
	b.Write(sum)
	return b.Bytes()
}

func sha1Sum(b []byte) []byte {
	h := sha1.Sum(b)
	return h[:]
}
