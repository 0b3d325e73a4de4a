package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/calctl/calctl/installer/gitsource"
	"github.com/calctl/calctl/installer/preflight"
)

// cloneStep clones the Cal.com monorepo into source.dir, or, when a checkout
// is already there, fetches and moves it to source.ref (refusing a dirty
// tree). Submodules are resolved, flattened or skipped per the answers.
type cloneStep struct{}

func (cloneStep) Name() string { return "clone" }

// Skip in a dry run: report what would happen instead.
func (cloneStep) Skip(s *State) (bool, string) {
	if !s.DryRun {
		return false, ""
	}
	if isCheckout(s.Answers.Source.Dir) {
		return true, fmt.Sprintf("dry run: would fetch and move %s to %s", s.Answers.Source.Dir, s.Answers.Source.Ref)
	}
	return true, fmt.Sprintf("dry run: would clone %s@%s into %s", s.Answers.Source.URL, s.Answers.Source.Ref, s.Answers.Source.Dir)
}

func isCheckout(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, ".git"))
	return err == nil && st.IsDir()
}

func (cloneStep) Run(ctx context.Context, s *State) error {
	a := s.Answers
	mode, err := gitsource.ParseMode(a.Source.Submodules)
	if err != nil {
		return err
	}
	o := gitsource.Options{URL: a.Source.URL, Dir: a.Source.Dir, Ref: a.Source.Ref, Depth: a.Source.Depth,
		Submodules: mode, Token: s.Env.GitToken, SSHKeyPath: a.Source.SSHKey,
		Progress: func(p gitsource.Progress) {
			s.Emit(Event{Type: EventProgress, Percent: max(p.Percent, 0), Message: p.Phase + ": " + p.Message})
		}}
	var res *gitsource.Result
	if isCheckout(a.Source.Dir) {
		s.Logf("info", "updating the checkout in %s to %s", a.Source.Dir, a.Source.Ref)
		res, err = gitsource.Update(ctx, o)
	} else {
		if err := os.MkdirAll(filepath.Dir(a.Source.Dir), 0o755); err != nil {
			return WithRemedy(fmt.Errorf("create %s: %w", filepath.Dir(a.Source.Dir), err), "make install_dir writable or choose another one")
		}
		res, err = gitsource.Clone(ctx, o)
	}
	if err != nil {
		return cloneRemedy(err, a)
	}
	for _, sm := range res.Submodules {
		if sm.Action == gitsource.ActionSkipped {
			s.Emit(Event{Type: EventLog, Level: "warn", Message: fmt.Sprintf("submodule %s skipped: %s", sm.Path, sm.Reason), Remedy: sm.Hint})
		} else {
			s.Logf("info", "submodule %s %s at %.12s", sm.Path, sm.Action, sm.Pinned)
		}
	}
	for _, n := range res.Notes {
		s.Logf("info", "%s", n)
	}
	repo, err := InspectRepo(res.Dir)
	if err != nil {
		return err
	}
	repo.Commit = res.Head
	s.Repo = repo
	s.Logf("info", "%s at %.12s (Node %d for engines.node %q, api app: %v)", res.Ref, res.Head, repo.NodeMajor, repo.NodeEngine, repo.HasAPI)
	if a.Target == TargetPM2 {
		// now that the engines are known, check the host's node and yarn against them
		in := &preflight.Input{Target: a.Target, NodeBin: a.PM2.Node, NodeEngine: repo.NodeEngine, YarnEngine: repo.YarnEngine, PM2Cluster: a.PM2.Instances > 1}
		rep, err := preflight.Run(ctx, in, []preflight.Check{nodeCheckByName()}, s.IgnorePreflight)
		if err != nil {
			return err
		}
		for _, f := range rep.Findings {
			s.Emit(Event{Type: EventLog, Level: map[bool]string{true: "error", false: "warn"}[f.Severity == preflight.Error && !f.Ignored], Message: "node: " + f.Message, Remedy: f.Remedy})
		}
		if rep.Errors() > 0 {
			return WithRemedy(errors.New("node/yarn do not satisfy the repository's engines"), "install the Node the findings name, or --ignore-preflight node")
		}
	}
	return nil
}

func nodeCheckByName() preflight.Check {
	for _, c := range preflight.All {
		if c.Name == "node" {
			return c
		}
	}
	panic("preflight: no node check")
}

func cloneRemedy(err error, a *Answers) error {
	switch {
	case errors.Is(err, gitsource.ErrDirty):
		return WithRemedy(err, "commit or stash your changes in %s (calctl never discards them), then run again", a.Source.Dir)
	case errors.Is(err, gitsource.ErrRemote):
		return WithRemedy(err, "check source.url, network access, and the token in $%s for a private repository", orDefault(a.Source.TokenEnv, "CALCTL_GIT_TOKEN"))
	case errors.Is(err, gitsource.ErrRef):
		return WithRemedy(err, "check source.ref: a branch, tag or commit that exists in %s", a.Source.URL)
	case errors.Is(err, gitsource.ErrRequiredSubmodule):
		return WithRemedy(err, "get access to the submodule or use source.submodules: skip")
	case errors.Is(err, gitsource.ErrDestination):
		return WithRemedy(err, "source.dir must be empty, absent, or a checkout made by calctl")
	}
	return err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
