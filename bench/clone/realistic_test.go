package clone

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/testenv"
)

// realisticRepo describes a generated repository of Cal.com's shape.
type realisticRepo struct {
	Dir  string   // the bare repository
	Tags []string // release tags, oldest first; the last one is the tip
}

// The source tree's shape: directories like Cal.com's monorepo (a Next.js
// web app, an API app, packages with an app store of many small apps).
var realisticDirs = []string{
	"apps/web/pages", "apps/web/pages/api", "apps/web/pages/settings", "apps/web/components",
	"apps/web/components/booking", "apps/web/components/eventtype", "apps/web/lib", "apps/web/playwright",
	"apps/web/public/static/locales/en", "apps/web/public/static/locales/de", "apps/api/pages/api",
	"apps/api/lib/validations", "packages/ui/components", "packages/ui/form", "packages/lib", "packages/lib/hooks",
	"packages/prisma", "packages/prisma/migrations", "packages/trpc/server/routers", "packages/features/bookings",
	"packages/features/ee/teams", "packages/emails/templates", "packages/core", "packages/embeds/embed-core/src",
}

// generateRealistic builds a bare repository of Cal.com's shape with git
// fast-import and packs it as a server would (`git repack -a -d -f`, git's
// default window 10 and depth 50): files source files growing from a
// quarter of that number, commits commits each touching a few files with
// small line edits, files chosen with a Zipf law so a few hot files (a
// yarn.lock of about 1 MB among them) change hundreds of times and the pack
// has long delta chains, plus some binary assets that never delta well. A
// release tag is made every tagEvery commits and at the tip. Everything is
// seeded: the same arguments build the same repository.
//
// When CALCTL_BENCH_CACHE names a directory, the repository is kept there
// and reused by later runs with the same arguments.
func generateRealistic(tb testing.TB, root string, files, commits int) realisticRepo {
	tb.Helper()
	const tagEvery = 100
	name := fmt.Sprintf("calcom-shape-%df-%dc.git", files, commits)
	var tags []string
	for c := tagEvery; c < commits; c += tagEvery {
		tags = append(tags, fmt.Sprintf("v1.%d.0", c/tagEvery))
	}
	tags = append(tags, fmt.Sprintf("v1.%d.0", (commits+tagEvery-1)/tagEvery))
	if cache := os.Getenv("CALCTL_BENCH_CACHE"); cache != "" {
		cached := filepath.Join(cache, name)
		if _, err := os.Stat(filepath.Join(cached, "calctl-bench-done")); err != nil {
			os.RemoveAll(cached)
			if err := os.MkdirAll(cache, 0o755); err != nil {
				tb.Fatal(err)
			}
			buildRealistic(tb, cached, files, commits, tagEvery)
			if err := os.WriteFile(filepath.Join(cached, "calctl-bench-done"), nil, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
		dir := filepath.Join(root, name)
		// Serve a copy of the cached repository so the run cannot change it.
		if out, err := exec.Command("cp", "-a", cached, dir).CombinedOutput(); err != nil {
			tb.Fatalf("copy %s: %v\n%s", cached, err, out)
		}
		return realisticRepo{Dir: dir, Tags: tags}
	}
	dir := filepath.Join(root, name)
	buildRealistic(tb, dir, files, commits, tagEvery)
	return realisticRepo{Dir: dir, Tags: tags}
}

func buildRealistic(tb testing.TB, dir string, files, commits, tagEvery int) {
	testenv.Git(tb, filepath.Dir(dir), "init", "-q", "--bare", "-b", "main", dir)
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	g := newSourceGen(rand.New(rand.NewPCG(7, uint64(files)<<20|uint64(commits))))

	type file struct {
		path  string
		lines []string // nil for a binary asset
		bin   []byte
	}
	var tree []*file
	byPath := map[string]bool{}
	addSource := func() *file {
		for {
			d := realisticDirs[g.r.IntN(len(realisticDirs))]
			ext := []string{".ts", ".tsx", ".tsx", ".ts", ".json", ".md"}[g.r.IntN(6)]
			if strings.Contains(d, "locales") {
				ext = ".json"
			}
			if strings.Contains(d, "migrations") {
				d += "/" + fmt.Sprintf("2022%04d%06d_%s", g.r.IntN(1300), g.r.IntN(999999), g.ident())
				ext = ".sql"
			}
			p := d + "/" + g.ident() + ext
			if byPath[p] {
				continue
			}
			byPath[p] = true
			f := &file{path: p, lines: g.lines(20 + int(g.r.ExpFloat64()*180))}
			tree = append(tree, f)
			return f
		}
	}
	addAsset := func() *file {
		p := fmt.Sprintf("apps/web/public/static/%s-%d.%s", g.ident(), len(tree), []string{"png", "woff2", "jpg"}[g.r.IntN(3)])
		byPath[p] = true
		b := make([]byte, 4<<10+g.r.IntN(120<<10))
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		f := &file{path: p, bin: b}
		tree = append(tree, f)
		return f
	}
	lock := &file{path: "yarn.lock", lines: g.yarnLock(5200)}
	tree = append(tree, lock, &file{path: "package.json", lines: g.lines(60)}, &file{path: ".gitignore", lines: g.lines(30)})
	assets := files / 25
	for len(tree) < files/4 {
		if len(tree)%25 == 0 && assets > 0 {
			addAsset()
			assets--
			continue
		}
		addSource()
	}
	zipf := rand.NewZipf(g.r, 1.15, 2, uint64(files))

	writeFile := func(f *file) {
		var data []byte
		if f.bin != nil {
			data = f.bin
		} else {
			data = []byte(strings.Join(f.lines, "\n") + "\n")
		}
		fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n", f.path, len(data))
		w.Write(data)
		w.WriteString("\n")
	}
	tag := 0
	for c := 0; c < commits; c++ {
		var touched []*file
		if c == 0 {
			touched = tree
		} else {
			// Grow the tree to files by the last commit.
			for want := files/4 + (files-files/4)*c/(commits-1); len(tree) < want; {
				if len(tree)%25 == 0 && assets > 0 {
					touched = append(touched, addAsset())
					assets--
				} else {
					touched = append(touched, addSource())
				}
			}
			n := 1 + int(g.r.ExpFloat64()*3)
			seen := map[*file]bool{}
			for i := 0; i < n; i++ {
				// Zipf over the tree in order of creation: the oldest files
				// (the lock file, the core pages) are the hot ones.
				f := tree[int(zipf.Uint64())%len(tree)]
				if f.bin != nil || seen[f] {
					continue
				}
				seen[f] = true
				if f == lock {
					g.editLock(f.lines)
				} else {
					f.lines = g.edit(f.lines)
				}
				touched = append(touched, f)
			}
			if c%12 == 0 && !seen[lock] { // dependency bumps
				g.editLock(lock.lines)
				touched = append(touched, lock)
			}
		}
		msg := fmt.Sprintf("%s: %s %s (#%d)\n\n%s\n", []string{"feat", "fix", "chore", "refactor"}[g.r.IntN(4)], g.ident(), g.ident(), 1000+c, strings.Join(g.lines(2), "\n"))
		fmt.Fprintf(w, "commit refs/heads/main\nauthor dev%d <dev%d@example.com> %d +0000\ncommitter bench <bench@example.com> %d +0000\ndata %d\n%s",
			g.r.IntN(40), g.r.IntN(40), 1640000000+c*3600, 1640000000+c*3600, len(msg), msg)
		for _, f := range touched {
			writeFile(f)
		}
		w.WriteString("\n")
		if (c+1)%tagEvery == 0 || c == commits-1 {
			tag++
			fmt.Fprintf(w, "reset refs/tags/v1.%d.0\nfrom refs/heads/main\n\n", tag)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		tb.Fatal(err)
	}
	// Pack as a forge's gc would: fresh delta search, git's default window
	// and depth, so the pack has git's usual long delta chains.
	testenv.Git(tb, dir, "repack", "-a", "-d", "-f", "-q", "--window=10", "--depth=50")
	testenv.Git(tb, dir, "config", "uploadpack.allowReachableSHA1InWant", "true")
}

// sourceGen produces TypeScript-like lines from a fixed vocabulary, so the
// text compresses and deltas about as real source does.
type sourceGen struct {
	r     *rand.Rand
	words []string
}

func newSourceGen(r *rand.Rand) *sourceGen {
	stems := []string{"booking", "event", "type", "user", "team", "schedule", "availability", "calendar", "credential",
		"webhook", "payment", "slot", "attendee", "location", "reminder", "workflow", "app", "store", "form", "field",
		"route", "session", "token", "locale", "theme", "brand", "embed", "seat", "host", "member", "invite", "org",
		"profile", "date", "time", "zone", "range", "limit", "duration", "buffer", "meta", "data", "props", "state",
		"query", "mutation", "handler", "input", "schema", "config", "util", "list", "item", "view", "page", "modal",
		"dialog", "button", "select", "toggle", "badge", "avatar", "icon", "label", "status", "result", "error", "id"}
	s := &sourceGen{r: r}
	for i := 0; i < 900; i++ {
		a, b := stems[r.IntN(len(stems))], stems[r.IntN(len(stems))]
		s.words = append(s.words, a+strings.ToUpper(b[:1])+b[1:])
	}
	return s
}

func (s *sourceGen) ident() string { return s.words[s.r.IntN(len(s.words))] }

func (s *sourceGen) line() string {
	indent := strings.Repeat("  ", s.r.IntN(5))
	a, b, c := s.ident(), s.ident(), s.ident()
	switch s.r.IntN(10) {
	case 0:
		return fmt.Sprintf(`import { %s, %s } from "@calcom/%s";`, a, b, strings.ToLower(c))
	case 1:
		return fmt.Sprintf("%sexport const %s = %s(%s, { %s });", indent, a, b, c, s.ident())
	case 2:
		return fmt.Sprintf("%sif (!%s.%s) return null;", indent, a, b)
	case 3:
		return fmt.Sprintf("%sconst [%s, set%s] = useState<%s>(%s);", indent, a, strings.ToUpper(a[:1])+a[1:], strings.ToUpper(b[:1])+b[1:], c)
	case 4:
		return fmt.Sprintf(`%s<div className="flex %s-%d">{%s}</div>`, indent, strings.ToLower(a), s.r.IntN(12), b)
	case 5:
		return fmt.Sprintf("%s// %s %s %s", indent, a, b, c)
	case 6:
		return fmt.Sprintf("%s%s: z.%s().optional(),", indent, a, []string{"string", "number", "boolean"}[s.r.IntN(3)])
	case 7:
		return indent + "}"
	case 8:
		return fmt.Sprintf("%sawait prisma.%s.findMany({ where: { %s }, select: { %s: true } });", indent, a, b, c)
	}
	return fmt.Sprintf("%sreturn %s(%s, %s);", indent, a, b, c)
}

func (s *sourceGen) lines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s.line()
	}
	return out
}

// edit makes one to three small hunks, as most commits do.
func (s *sourceGen) edit(lines []string) []string {
	for h := 1 + s.r.IntN(3); h > 0; h-- {
		at := s.r.IntN(len(lines) + 1)
		del := min(s.r.IntN(4), len(lines)-at)
		if len(lines) > 600 { // keep files from growing without bound
			del = min(del+3, len(lines)-at)
		}
		ins := s.lines(s.r.IntN(6))
		lines = append(lines[:at], append(ins, lines[at+del:]...)...)
	}
	return lines
}

func (s *sourceGen) yarnLock(entries int) []string {
	var out []string
	for i := 0; i < entries; i++ {
		out = append(out, s.lockEntry(i)...)
	}
	return out
}

func (s *sourceGen) lockEntry(i int) []string {
	pkg := fmt.Sprintf("@%s/%s-%d", strings.ToLower(s.ident()), strings.ToLower(s.ident()), i)
	v := fmt.Sprintf("%d.%d.%d", s.r.IntN(9), s.r.IntN(30), s.r.IntN(20))
	sum := make([]byte, 64)
	for j := range sum {
		sum[j] = byte(s.r.Uint32())
	}
	return []string{
		fmt.Sprintf(`"%s@^%s":`, pkg, v),
		fmt.Sprintf(`  version "%s"`, v),
		fmt.Sprintf(`  resolved "https://registry.yarnpkg.com/%s/-/%s.tgz"`, pkg, v),
		"  integrity sha512-" + base64.StdEncoding.EncodeToString(sum),
		"",
	}
}

// editLock bumps a few entries of a yarn.lock in place (5 lines each).
func (s *sourceGen) editLock(lines []string) {
	for n := 1 + s.r.IntN(6); n > 0; n-- {
		e := s.r.IntN(len(lines) / 5)
		copy(lines[e*5:e*5+5], s.lockEntry(e))
	}
}

// BenchmarkCloneRealistic compares calctl with git on the realistic
// repository: a shallow clone (the install default), a full clone, and an
// update of a shallow checkout at the previous release tag to the newest
// (git: fetch --depth 1 origin tag T && checkout T; calctl: clone --update).
// CALCTL_BENCH_FILES and CALCTL_BENCH_COMMITS change the size (defaults
// 2800 and 2400); CALCTL_BENCH_CACHE keeps generated repositories.
// Each sub-benchmark's iterations are its alternating run pairs.
func BenchmarkCloneRealistic(b *testing.B) {
	files, commits := envInt("CALCTL_BENCH_FILES", 2800), envInt("CALCTL_BENCH_COMMITS", 2400)
	srv := testenv.StartGitServer(b)
	b.Logf("generating a repository of %d files and %d commits ...", files, commits)
	repo := generateRealistic(b, srv.Root, files, commits)
	url := srv.RepoURL(filepath.Base(repo.Dir))
	calctl := buildCalctl(b)
	work := b.TempDir()
	prev, last := repo.Tags[len(repo.Tags)-2], repo.Tags[len(repo.Tags)-1]
	type result struct {
		name string
		p    *pair
	}
	var results []result
	clone := func(name string, gitArgs, calctlArgs []string) {
		p := &pair{}
		b.Run(name, func(b *testing.B) {
			*p = pair{}
			for i := 0; b.Loop(); i++ {
				gd, cd := filepath.Join(work, fmt.Sprintf("g%d", i)), filepath.Join(work, fmt.Sprintf("c%d", i))
				p.alternate(b, i,
					func() sample {
						args := append([]string{"clone", "-q", "--no-recurse-submodules"}, gitArgs...)
						return timed(b, "", "git", append(args, url, gd)...)
					},
					func() sample {
						args := append([]string{"clone", "--quiet", "--submodules", "skip"}, calctlArgs...)
						return timed(b, "", calctl, append(args, url, cd)...)
					},
					func() { settle(gd, cd) })
			}
			p.report(b)
		})
		results = append(results, result{name, p})
	}
	clone("shallow", []string{"--depth", "1", "--no-tags", "--single-branch"}, []string{"--depth", "1"})
	clone("full", nil, nil)
	up := &pair{}
	b.Run("update", func(b *testing.B) {
		*up = pair{}
		for i := 0; b.Loop(); i++ {
			gd, cd := filepath.Join(work, fmt.Sprintf("ug%d", i)), filepath.Join(work, fmt.Sprintf("uc%d", i))
			// Untimed: each tool's own shallow checkout of the previous tag.
			timed(b, "", "git", "clone", "-q", "--depth", "1", "--no-tags", "--single-branch", "--branch", prev, url, gd)
			timed(b, "", calctl, "clone", "--quiet", "--depth", "1", "--submodules", "skip", "--ref", prev, url, cd)
			settle()
			var before int64
			up.alternate(b, i,
				func() sample {
					before = srv.BytesServed()
					s := timedSeq(b, gd, []string{"git", "fetch", "-q", "--depth", "1", "origin", "tag", last}, []string{"git", "checkout", "-q", last})
					up.gitServed = append(up.gitServed, srv.BytesServed()-before)
					return s
				},
				func() sample {
					before = srv.BytesServed()
					s := timed(b, "", calctl, "clone", "--update", "--quiet", "--depth", "1", "--submodules", "skip", "--ref", last, cd)
					up.calctlServed = append(up.calctlServed, srv.BytesServed()-before)
					return s
				},
				func() { settle() })
			if g, c := testenv.Git(b, gd, "rev-parse", "HEAD"), testenv.Git(b, cd, "rev-parse", "HEAD"); g != c {
				b.Fatalf("after the update git is at %s, calctl at %s", g, c)
			}
			settle(gd, cd)
		}
		up.report(b)
	})
	results = append(results, result{"update", up})
	fmt.Printf("realistic repository: %d files, %d commits, pack %s; update %s -> %s; load %s\n",
		files, commits, packSize(repo.Dir), prev, last, loadavg())
	fmt.Println(tableHeader)
	for _, r := range results {
		if len(r.p.git) > 0 {
			fmt.Println(r.p.row(r.name))
		}
	}
}

// packSize returns the size of a bare repository's packs in MB.
func packSize(dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	var n int64
	for _, p := range m {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
