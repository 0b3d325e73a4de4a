package clone

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/calctl/calctl/installer/gitsource"
	"github.com/calctl/calctl/internal/testenv"
)

// BenchmarkCloneInProcess runs gitsource.Clone and gitsource.Update on the
// realistic repository inside the test process, so that
//
//	go test -run '^$' -bench CloneInProcess -benchtime 1x -cpuprofile cpu.out -memprofile mem.out ./bench/clone
//
// profiles calctl's own code (the git server's CGI plumbing shows up too,
// under net/http/cgi). The comparison with git is BenchmarkCloneRealistic.
func BenchmarkCloneInProcess(b *testing.B) {
	files, commits := envInt("CALCTL_BENCH_FILES", 2800), envInt("CALCTL_BENCH_COMMITS", 2400)
	srv := testenv.StartGitServer(b)
	repo := generateRealistic(b, srv.Root, files, commits)
	url := srv.RepoURL(filepath.Base(repo.Dir))
	work := b.TempDir()
	ctx := context.Background()
	prev, last := repo.Tags[len(repo.Tags)-2], repo.Tags[len(repo.Tags)-1]
	for _, depth := range []int{1, 0} {
		name := map[int]string{1: "shallow", 0: "full"}[depth]
		b.Run(name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				dir := filepath.Join(work, fmt.Sprintf("%s%d", name, i))
				if _, err := gitsource.Clone(ctx, gitsource.Options{URL: url, Dir: dir, Depth: depth, Submodules: gitsource.Skip}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				settle(dir)
				b.StartTimer()
			}
		})
	}
	b.Run("update", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			dir := filepath.Join(work, fmt.Sprintf("update%d", i))
			if _, err := gitsource.Clone(ctx, gitsource.Options{URL: url, Dir: dir, Depth: 1, Ref: prev, Submodules: gitsource.Skip}); err != nil {
				b.Fatal(err)
			}
			settle()
			b.StartTimer()
			if _, err := gitsource.Update(ctx, gitsource.Options{Dir: dir, Depth: 1, Ref: last, Submodules: gitsource.Skip}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			settle(dir)
			b.StartTimer()
		}
	})
}
