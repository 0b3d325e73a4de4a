// Package clone benchmarks `calctl clone` against the git CLI, both served
// over loopback smart HTTP by git http-backend (internal/testenv), with the
// same depth and flags, as whole processes: wall time and peak RSS (the
// largest single process, from wait4's rusage).
//
// Two generated repositories (nothing is downloaded):
//
//   - wide (BenchmarkClone): 20,000 files / 200 MB in a tip with a 4-commit
//     history; a shallow clone, mostly checkout.
//   - realistic (BenchmarkCloneRealistic, realistic_test.go): Cal.com's
//     shape, ~2,800 files and ~2,400 commits editing the same files, packed
//     with git's delta chains (depth 50); shallow clone, full clone, and an
//     update of a shallow checkout to the next release tag.
//
// Runs alternate git and calctl (A B, B A, ...), sync and settle between
// runs, and print the medians and the calctl/git ratios. Run it with
// bench/clone/run.sh. Profiles of the same clones done in-process:
// BenchmarkCloneInProcess (inprocess_test.go) with -cpuprofile/-memprofile.
package clone

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// generate builds a bare repository with files files totalling about mb
// megabytes in the tip commit (text-like content that compresses roughly
// as source code does), plus a short history, using git fast-import.
func generate(b *testing.B, dir string, files, mb int) {
	b.Helper()
	testenv.Git(b, filepath.Dir(dir), "init", "-q", "--bare", "-b", "main", dir)
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 4096)
	for i := range words {
		n := 2 + rng.IntN(10)
		bs := make([]byte, n)
		for j := range bs {
			bs[j] = byte('a' + rng.IntN(26))
		}
		words[i] = string(bs)
	}
	avg := mb << 20 / files
	mark := 0
	blob := func() int {
		size := avg/2 + rng.IntN(avg)
		buf := make([]byte, 0, size+16)
		for len(buf) < size {
			buf = append(buf, words[rng.IntN(len(words))]...)
			if rng.IntN(12) == 0 {
				buf = append(buf, '\n')
			} else {
				buf = append(buf, ' ')
			}
		}
		mark++
		fmt.Fprintf(w, "blob\nmark :%d\ndata %d\n", mark, len(buf))
		w.Write(buf)
		w.WriteString("\n")
		return mark
	}
	// History: 4 commits, each rewriting a quarter of the files; the tip
	// holds every file.
	const commits = 4
	paths := make([]string, files)
	for i := range paths {
		paths[i] = fmt.Sprintf("apps/pkg%03d/src/dir%02d/file%05d.ts", i%300, i%37, i)
	}
	for c := 0; c < commits; c++ {
		marks := map[int]int{}
		for i := range paths {
			if c == 0 || i%commits == c {
				marks[i] = blob()
			}
		}
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter bench <bench@example.com> %d +0000\ndata 9\ncommit %d\n", 1700000000+c, c)
		for i, m := range marks {
			fmt.Fprintf(w, "M 100644 :%d %s\n", m, paths[i])
		}
		w.WriteString("\n")
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	testenv.Git(b, dir, "repack", "-a", "-d", "-q")
}

// BenchmarkClone is the wide mode: a shallow clone of a 20,000-file tree.
// CALCTL_BENCH_FILES and CALCTL_BENCH_MB change the generated size.
func BenchmarkClone(b *testing.B) {
	files, mb := envInt("CALCTL_BENCH_FILES", 20000), envInt("CALCTL_BENCH_MB", 200)
	srv := testenv.StartGitServer(b)
	b.Logf("generating %d files, ~%d MB ...", files, mb)
	generate(b, filepath.Join(srv.Root, "cal.com.git"), files, mb)
	url := srv.RepoURL("cal.com.git")
	calctl := buildCalctl(b)
	work := b.TempDir()
	var p pair
	for i := 0; b.Loop(); i++ {
		gd, cd := filepath.Join(work, fmt.Sprintf("g%d", i)), filepath.Join(work, fmt.Sprintf("c%d", i))
		p.alternate(b, i,
			func() sample {
				return timed(b, "", "git", "clone", "-q", "--depth", "1", "--no-tags", "--single-branch", "--no-recurse-submodules", url, gd)
			},
			func() sample {
				return timed(b, "", calctl, "clone", "--quiet", "--depth", "1", "--submodules", "skip", url, cd)
			},
			func() { settle(gd, cd) })
	}
	p.report(b)
	fmt.Printf("wide repository: %d files / ~%d MB at depth 1 over loopback smart HTTP (load %s)\n", files, mb, loadavg())
	fmt.Println(tableHeader)
	fmt.Println(p.row("shallow"))
}
