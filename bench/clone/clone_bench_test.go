// Package clone benchmarks `calctl clone` against `git clone` on a
// generated repository of Cal.com's shallow size, served over loopback
// smart HTTP by the same server, with the same depth and flags.
//
// Run it with bench/clone/run.sh, or:
//
//	go test -run '^$' -bench Clone -benchtime 3x ./bench/clone
//
// CALCTL_BENCH_FILES and CALCTL_BENCH_MB change the generated size
// (defaults 20000 files, 200 MB).
package clone

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

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

// run runs a command and returns its wall time and peak RSS in bytes
// (wait4's rusage: the largest of the process and its waited-for children).
func run(b *testing.B, name string, args ...string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return wall, ru.Maxrss * 1024
}

func BenchmarkClone(b *testing.B) {
	files, mb := envInt("CALCTL_BENCH_FILES", 20000), envInt("CALCTL_BENCH_MB", 200)
	srv := testenv.StartGitServer(b)
	b.Logf("generating %d files, ~%d MB ...", files, mb)
	generate(b, filepath.Join(srv.Root, "cal.com.git"), files, mb)
	url := srv.RepoURL("cal.com.git")
	calctl := testenv.BuildStaticBinary(b, "github.com/calctl/calctl/cmd/calctl", b.TempDir(), "calctl")
	work := b.TempDir()
	syscall.Sync()

	var cw, gw time.Duration
	var cr, gr int64
	b.ResetTimer()
	// settle flushes the previous run's writes and removals, so that
	// neither tool pays for the other's write-back.
	settle := func(dir string) {
		os.RemoveAll(dir)
		syscall.Sync()
		time.Sleep(2 * time.Second)
	}
	for i := 0; b.Loop(); i++ {
		gd, cd := filepath.Join(work, fmt.Sprintf("g%d", i)), filepath.Join(work, fmt.Sprintf("c%d", i))
		runGit := func() {
			w, r := run(b, "git", "clone", "-q", "--depth", "1", "--no-tags", "--single-branch", "--no-recurse-submodules", url, gd)
			gw += w
			gr = max(gr, r)
			settle(gd)
		}
		runCalctl := func() {
			w, r := run(b, calctl, "clone", "--quiet", "--depth", "1", "--submodules", "skip", url, cd)
			cw += w
			cr = max(cr, r)
			settle(cd)
		}
		// Alternate which tool goes first.
		if i%2 == 0 {
			runGit()
			runCalctl()
		} else {
			runCalctl()
			runGit()
		}
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64(cw/n)/1e9, "calctl-s")
	b.ReportMetric(float64(gw/n)/1e9, "git-s")
	b.ReportMetric(float64(cw)/float64(gw), "wall-ratio")
	b.ReportMetric(float64(cr)/(1<<20), "calctl-peak-MB")
	b.ReportMetric(float64(gr)/(1<<20), "git-peak-MB")
	b.ReportMetric(float64(cr)/float64(gr), "rss-ratio")
	fmt.Printf("clone of %d files / ~%d MB at depth 1 over loopback smart HTTP, %d runs each:\n", files, mb, b.N)
	fmt.Printf("  git clone    wall %6.2fs  peak RSS %6.1f MB\n", (gw / n).Seconds(), float64(gr)/(1<<20))
	fmt.Printf("  calctl clone wall %6.2fs  peak RSS %6.1f MB\n", (cw / n).Seconds(), float64(cr)/(1<<20))
	fmt.Printf("  ratio calctl/git: wall %.2f (goal <= 1.5), peak RSS %.2f; calctl peak RSS goal <= 300 MB\n", float64(cw)/float64(gw), float64(cr)/float64(gr))
}
