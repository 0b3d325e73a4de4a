package clone

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calctl/calctl/internal/testenv"
)

// sample is one whole-process run.
type sample struct {
	wall time.Duration
	rss  int64 // peak RSS in bytes of the largest single process
	// floored: rss came from this process's wait4 and may be this
	// process's own peak instead of the command's (timed)
	floored bool
}

// timed runs a command in dir and returns its wall time and peak RSS
// (wait4's rusage: the largest of the process and its waited-for children).
//
// The RSS comes from GNU time (/usr/bin/time -f %M), which fork()s the
// command from its own small process. Without it, wait4's ru_maxrss of a
// child of this test process is never below this process's own peak RSS:
// Go starts children with vfork (they share this address space until exec)
// and Linux keeps the old address space's high-water mark across exec. A
// test process that generated the repository (or grew for any reason) then
// reports that size for git and calctl alike; such samples are marked.
func timed(b *testing.B, dir, name string, args ...string) sample {
	b.Helper()
	var rssFile string
	if _, err := os.Stat(gnuTime); err == nil {
		rssFile = filepath.Join(b.TempDir(), "rss")
		args = append([]string{"-f", "%M", "-o", rssFile, name}, args...)
		name = gnuTime
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	if rssFile != "" {
		kb, err := lastInt(rssFile)
		if err != nil {
			b.Fatalf("%s %v: %v", name, args, err)
		}
		return sample{wall: wall, rss: kb * 1024}
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return sample{wall: wall, rss: ru.Maxrss * 1024, floored: true}
}

// gnuTime measures a command's peak RSS from outside this process (timed).
const gnuTime = "/usr/bin/time"

// lastInt reads the integer on the last line of file (GNU time's -o file
// puts "Command exited with non-zero status N" before it on failure).
func lastInt(file string) (int64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
}

// timedSeq runs commands one after the other in dir: wall times add up,
// the peak RSS is the largest.
func timedSeq(b *testing.B, dir string, cmds ...[]string) sample {
	b.Helper()
	var s sample
	for _, c := range cmds {
		r := timed(b, dir, c[0], c[1:]...)
		s.wall += r.wall
		s.rss = max(s.rss, r.rss)
		s.floored = s.floored || r.floored
	}
	return s
}

// settle removes the given directories and flushes the file system, so
// that neither tool pays for the other's write-back.
func settle(dirs ...string) {
	for _, d := range dirs {
		os.RemoveAll(d)
	}
	syscall.Sync()
	time.Sleep(time.Second)
}

// pair collects alternating runs of git and calctl.
type pair struct {
	git, calctl []sample
	// served are the bytes the server sent per run, when counted.
	gitServed, calctlServed []int64
}

// alternate runs git and calctl once each, git first on even i, calctl
// first on odd i, with after between and after the runs.
func (p *pair) alternate(b *testing.B, i int, git, calctl func() sample, after func()) {
	b.Helper()
	g := func() { p.git = append(p.git, git()); after() }
	c := func() { p.calctl = append(p.calctl, calctl()); after() }
	if i%2 == 0 {
		g()
		c()
	} else {
		c()
		g()
	}
}

func median[T int64 | time.Duration](s []T) T {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (p *pair) medians() (gw, cw time.Duration, gr, cr int64) {
	var gws, cws []time.Duration
	var grs, crs []int64
	for _, s := range p.git {
		gws, grs = append(gws, s.wall), append(grs, s.rss)
	}
	for _, s := range p.calctl {
		cws, crs = append(cws, s.wall), append(crs, s.rss)
	}
	return median(gws), median(cws), median(grs), median(crs)
}

// report adds the medians and ratios to the benchmark's result line.
func (p *pair) report(b *testing.B) {
	gw, cw, gr, cr := p.medians()
	b.ReportMetric(cw.Seconds(), "calctl-s")
	b.ReportMetric(gw.Seconds(), "git-s")
	b.ReportMetric(float64(cw)/float64(gw), "wall-ratio")
	b.ReportMetric(float64(cr)/(1<<20), "calctl-MB")
	b.ReportMetric(float64(gr)/(1<<20), "git-MB")
	b.ReportMetric(float64(cr)/float64(gr), "rss-ratio")
}

const tableHeader = "             runs  git wall  calctl wall  ratio   git RSS  calctl RSS  ratio   (medians; wall range git | calctl)"

// row formats one line of the summary table.
func (p *pair) row(name string) string {
	gw, cw, gr, cr := p.medians()
	rng := func(s []sample) string {
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for _, x := range s {
			lo, hi = min(lo, x.wall), max(hi, x.wall)
		}
		return fmt.Sprintf("%.2f-%.2f", lo.Seconds(), hi.Seconds())
	}
	line := fmt.Sprintf("%-12s %5d  %7.2fs  %10.2fs  %5.2f  %6.1f MB  %7.1f MB  %5.2f   (%s | %s)",
		name, len(p.git), gw.Seconds(), cw.Seconds(), float64(cw)/float64(gw),
		float64(gr)/(1<<20), float64(cr)/(1<<20), float64(cr)/float64(gr), rng(p.git), rng(p.calctl))
	if slices.ContainsFunc(append(slices.Clone(p.git), p.calctl...), func(s sample) bool { return s.floored }) {
		line += fmt.Sprintf("\n%-12s        RSS from wait4, never below this test process's own peak (install GNU time: %s)", "", gnuTime)
	}
	if len(p.gitServed) > 0 {
		line += fmt.Sprintf("\n%-12s        bytes served: git %.2f MB, calctl %.2f MB", "", float64(median(p.gitServed))/(1<<20), float64(median(p.calctlServed))/(1<<20))
	}
	return line
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// buildCalctl builds the calctl binary as shipped (static, trimmed), or
// returns CALCTL_BENCH_BIN, a calctl built elsewhere (an older commit, for
// a before/after comparison against the same git runs).
func buildCalctl(b *testing.B) string {
	b.Helper()
	if bin := os.Getenv("CALCTL_BENCH_BIN"); bin != "" {
		return bin
	}
	return testenv.BuildStaticBinary(b, "github.com/calctl/calctl/cmd/calctl", b.TempDir(), "calctl")
}
