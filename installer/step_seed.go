package installer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/safefile"
)

// seedStep seeds Cal.com's app store where the tree has a seed-app-store
// script, once per upgrade: calcom/docker's start.sh ran it on every start
// (`npx ts-node --transpile-only /calcom/packages/prisma/seed-app-store.ts`,
// docker@4d6a0c4:scripts/start.sh); the current script is `yarn workspace
// @calcom/prisma seed-app-store` (calcom-facts.md §9 "App store seed").
// The commit seeded last is kept in .calctl/app-store-seeded; the same
// commit is not seeded again. Trees whose build already seeds (2022:
// "build": "yarn prisma migrate deploy && yarn seed-app-store") are only
// recorded.
type seedStep struct{}

func (seedStep) Name() string { return "seed" }

func (seedStep) Timeout(*State) time.Duration { return 10 * time.Minute }

// seedMarker holds the commit whose app store was seeded.
const seedMarker = ".calctl/app-store-seeded"

func (seedStep) Skip(s *State) (bool, string) {
	switch {
	case s.DryRun:
		return true, "dry run"
	case !s.Repo.SeedAppStore:
		return true, "the tree has no seed-app-store script"
	case s.Answers.Migrate.Skip:
		return true, "migrate.skip is true"
	}
	if b, err := safefile.ReadFile(s.Path(seedMarker), 4096); err == nil && s.Repo.Commit != "" && strings.TrimSpace(string(b)) == s.Repo.Commit {
		return true, "app store already seeded at " + shortCommit(s.Repo.Commit)
	}
	return false, ""
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func (seedStep) Run(ctx context.Context, s *State) error {
	if s.Repo.BuildMigrates {
		s.Logf("info", "the build of this tree seeded the app store (packages/prisma build)")
	} else {
		pkg := s.Repo.PrismaPackage
		if pkg == "" {
			pkg = "@calcom/prisma"
		}
		argv := []string{"yarn", "workspace", pkg, "seed-app-store"}
		s.Logf("info", "running: %s", strings.Join(argv, " "))
		var err error
		if s.Answers.Target == TargetPM2 {
			err = runLogged(ctx, s, s.Answers.Source.Dir, argv)
		} else {
			err = execInWeb(ctx, s, argv, "read the error above; the app store can also be enabled app by app in Cal.com's admin settings")
		}
		if err != nil {
			return err
		}
	}
	if s.Repo.Commit == "" {
		return nil
	}
	p := s.Path(seedMarker)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, []byte(s.Repo.Commit+"\n"), 0o644)
}
