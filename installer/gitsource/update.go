package gitsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/safefile"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// stateFile, inside .git, records what the last Clone or Update produced,
// so that Update can tell "nothing to do" from "move to a new ref".
const stateFile = "calctl-source.json"

type sourceState struct {
	Mode   Mode    `json:"mode"`
	Result *Result `json:"result"`
}

func (c *cloner) saveState(root string) error {
	b, err := json.MarshalIndent(sourceState{Mode: c.o.Submodules, Result: c.res}, "", "  ")
	if err != nil {
		return err
	}
	// the state file is output too: no URL credentials (internal/redact, issue 11.7)
	return atomicfile.WriteFile(filepath.Join(root, ".git", stateFile), append([]byte(redact.URL(string(b))), '\n'), 0o644)
}

// Update brings an existing checkout made by Clone to o.Ref (default: the
// remote's HEAD), fetching with the same credentials rules, and handles
// submodules again per o.Submodules. It refuses a checkout with local
// changes to tracked files rather than lose them. When the checkout is
// already where o asks, it changes nothing.
func Update(ctx context.Context, o Options) (*Result, error) {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(filepath.Join(dir, ".git")); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a git checkout made by calctl (no .git directory)", ErrDestination, dir)
	}
	store := openStore(filepath.Join(dir, ".git"))
	defer store.Close()
	repo, err := git.Open(store, osfs.New(dir))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a git checkout: %v", ErrDestination, dir, err)
	}
	rem, err := repo.Remote("origin")
	if err != nil || len(rem.Config().URLs) == 0 {
		return nil, fmt.Errorf("%w: %s has no origin remote", ErrDestination, dir)
	}
	origin := rem.Config().URLs[0]
	if o.URL == "" {
		o.URL = origin
	}
	o.Dir = dir
	c, err := newCloner(o)
	if err != nil {
		return nil, err
	}
	if c.url != origin {
		return nil, fmt.Errorf("%w: %s was cloned from %s, not %s; clone into a new directory instead", ErrDestination, dir, origin, c.url)
	}
	c.tmp, c.repo, c.updating = dir, repo, true
	defer c.close()
	if err := c.checkClean(); err != nil {
		return nil, err
	}
	var prev sourceState
	if b, err := safefile.Read(filepath.Join(dir, ".git", stateFile), 1<<20, safefile.Options{NoFollow: true}); err == nil {
		_ = json.Unmarshal(b, &prev)
	}
	c.report(Progress{Phase: "connect", Percent: -1, Message: "contacting " + c.url})
	refs, err := c.auth.listRemote(ctx, c.url)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrRemote, c.url, describeRemoteError(err, c.auth, c.url))
	}
	tg, err := resolveTarget(refs, c.o.Ref)
	if err != nil {
		return nil, err
	}
	if err := c.fetchTarget(ctx, tg); err != nil {
		return nil, err
	}
	head, err := repo.Head()
	if err != nil {
		return nil, err
	}
	if prev.Result != nil && prev.Mode == c.o.Submodules && prev.Result.Commit == c.res.Commit && prev.Result.Head == head.Hash().String() {
		res := *prev.Result
		res.Notes = []string{"already at " + short(res.Commit) + "; nothing changed"}
		return &res, nil
	}
	c.target = &tg
	if err := c.populate(ctx); err != nil {
		return nil, err
	}
	return c.res, nil
}

// checkClean refuses a checkout with local work that moving it could
// lose: changes to the parent's tracked files, and, in every submodule
// that has a checkout (whatever the mode now asked), changes to its tracked
// files and files it does not track. Untracked files of the parent are
// kept by the move (a new file in their way is refused when written).
func (c *cloner) checkClean() error {
	idx, err := c.repo.Storer.Index()
	if err != nil {
		return err
	}
	changed, err := localChanges(c.tmp, idx, false)
	if err != nil {
		return err
	}
	for _, e := range idx.Entries {
		if e.Mode != filemode.Submodule {
			continue
		}
		if err := checkRepoPath(e.Name); err != nil {
			continue // never written by calctl; nothing of it to lose
		}
		sub := filepath.Join(c.tmp, filepath.FromSlash(e.Name))
		sidx, ok, err := submoduleIndex(c.tmp, sub)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		sc, err := localChanges(sub, sidx, true)
		if err != nil {
			return err
		}
		for _, p := range sc {
			changed = append(changed, e.Name+"/"+p)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return fmt.Errorf("%w in %s: %s. calctl discards nothing: commit, stash (git stash -u; inside the submodule for its files) or remove them, then run again",
		ErrDirty, c.tmp, dirtyList(changed))
}

// fetchTarget fetches the target ref or commit into the existing repository.
func (c *cloner) fetchTarget(ctx context.Context, tg target) error {
	auth, err := c.auth.forURL(c.url)
	if err != nil {
		return err
	}
	prog, flush := c.sidebandProgress()
	defer flush()
	fo := &git.FetchOptions{RemoteName: "origin", Auth: auth, Depth: c.o.Depth, Progress: prog, Tags: git.NoTags, Force: true}
	switch {
	case tg.ref.IsBranch():
		fo.RefSpecs = []config.RefSpec{config.RefSpec("+" + tg.ref.String() + ":refs/remotes/origin/" + tg.ref.Short())}
	case tg.ref.IsTag():
		fo.RefSpecs = []config.RefSpec{config.RefSpec("+" + tg.ref.String() + ":" + tg.ref.String())}
	default:
		fo.RefSpecs = []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"}
		fo.Depth = 0
	}
	if err := c.repo.FetchContext(ctx, fo); err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch %s: %s", c.url, describeRemoteError(err, c.auth, c.url))
	}
	var h *plumbing.Hash
	switch {
	case tg.ref.IsBranch():
		h, err = c.repo.ResolveRevision(plumbing.Revision("refs/remotes/origin/" + tg.ref.Short()))
	case tg.ref.IsTag():
		h, err = c.repo.ResolveRevision(plumbing.Revision(tg.ref.String() + "^{commit}"))
	default:
		h, err = c.repo.ResolveRevision(plumbing.Revision(tg.commit))
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRef, err)
	}
	c.res.Commit = h.String()
	if tg.ref != "" {
		c.res.Ref = tg.ref.String()
	} else {
		c.res.Ref = h.String()
	}
	return nil
}

// moveTo points the checkout at the fetched commit: a local branch of the
// same name for a branch, a detached HEAD otherwise.
func (c *cloner) moveTo(tg target) error {
	h := plumbing.NewHash(c.res.Commit)
	if tg.ref.IsBranch() {
		if err := c.repo.Storer.SetReference(plumbing.NewHashReference(tg.ref, h)); err != nil {
			return err
		}
		return c.repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, tg.ref))
	}
	return c.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, h))
}
