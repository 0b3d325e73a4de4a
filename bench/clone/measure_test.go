package clone

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
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
}

// timed runs a command in dir and returns its wall time and peak RSS
// (wait4's rusage: the largest of the process and its waited-for children).
func timed(b *testing.B, dir, name string, args ...string) sample {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return sample{wall: wall, rss: ru.Maxrss * 1024}
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
