package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/calctl/calctl/installer/gitsource/packindex"
	"github.com/calctl/calctl/internal/safefile"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// probeTimeout bounds one submodule reachability probe; probes run
// probeParallel at a time, so unresponsive hosts cost one timeout, not one
// each.
var probeTimeout = 30 * time.Second

const probeParallel = 8

// handleSubmodules probes every submodule, drops the unreachable ones, and
// resolves or flattens the rest.
func (c *cloner) handleSubmodules(ctx context.Context, mods []*module) error {
	if len(mods) == 0 {
		return c.checkRequired(nil)
	}
	results := map[string]*SubmoduleResult{}
	var drop []*module
	var keep []*module
	type probed struct{ reason, hint string }
	outcome := make([]probed, len(mods))
	var wg sync.WaitGroup
	sem := make(chan struct{}, probeParallel)
	for i, m := range mods {
		if m.missing != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outcome[i].reason, outcome[i].hint = c.probe(ctx, m)
		}()
	}
	if n := len(mods); n > 0 {
		c.report(Progress{Phase: "submodules", Percent: -1, Message: fmt.Sprintf("checking access to %d submodule(s)", n)})
	}
	wg.Wait()
	for i, m := range mods {
		r := &SubmoduleResult{Name: m.name, Path: m.path, URL: redactURL(m.url)}
		if !m.pinned.IsZero() {
			r.Pinned = m.pinned.String()
		}
		results[m.path] = r
		if m.missing != "" {
			r.Action, r.Reason = ActionSkipped, m.missing
			r.Hint = "remove the entry from .gitmodules in the repository; calctl removed it from this checkout"
			drop = append(drop, m)
			continue
		}
		if reason, hint := outcome[i].reason, outcome[i].hint; reason != "" {
			r.Action, r.Reason, r.Hint = ActionSkipped, reason, hint
			drop = append(drop, m)
			continue
		}
		keep = append(keep, m)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.checkRequired(results); err != nil {
		return err
	}
	if len(drop) > 0 {
		if err := c.dropModules(drop); err != nil {
			return err
		}
	}
	var flattened []*module
	for _, m := range keep {
		r := results[m.path]
		switch c.o.Submodules {
		case Skip:
			r.Action, r.Reason = ActionSkipped, "--submodules skip: left uninitialised"
		case Resolve:
			if err := c.resolve(ctx, m); err != nil {
				return fmt.Errorf("submodule %s: %w", m.path, err)
			}
			r.Action = ActionResolved
		case Flatten:
			if err := c.flatten(ctx, m); err != nil {
				return fmt.Errorf("submodule %s: %w", m.path, err)
			}
			r.Action = ActionFlattened
			flattened = append(flattened, m)
		}
	}
	if len(flattened) > 0 {
		if err := c.commitFlatten(flattened); err != nil {
			return err
		}
	}
	c.res.Submodules = c.res.Submodules[:0]
	for _, m := range mods { // mods are sorted by path
		c.res.Submodules = append(c.res.Submodules, *results[m.path])
	}
	return nil
}

// probe checks that a submodule's repository answers with its auth. It
// returns "" when reachable, or a reason and a hint.
func (c *cloner) probe(ctx context.Context, m *module) (reason, hint string) {
	if urlKind(m.url) == kindLocal && !c.auth.local {
		return "local-path URL " + m.url + " is not followed for a remote repository", "a submodule of a remote repository must have a remote URL"
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if _, err := c.auth.listRemote(pctx, m.url); err != nil {
		if ctx.Err() != nil {
			return "interrupted", ""
		}
		return describeRemoteError(err, c.auth, m.url), hintFor(m.path, err)
	}
	return "", ""
}

// checkRequired fails when a --require-submodule path is unreachable or
// absent, or when --strict and anything was skipped for being unreachable.
func (c *cloner) checkRequired(results map[string]*SubmoduleResult) error {
	var missing []string
	for _, p := range c.o.Require {
		r, ok := results[p]
		switch {
		case !ok:
			missing = append(missing, p+" (not a submodule of this repository)")
		case r.Action == ActionSkipped:
			missing = append(missing, fmt.Sprintf("%s (%s: %s)", p, r.URL, r.Reason))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrRequiredSubmodule, strings.Join(missing, "; "))
	}
	if c.o.Strict {
		var skipped []string
		for _, r := range results {
			if r.Action == ActionSkipped {
				skipped = append(skipped, fmt.Sprintf("%s (%s)", r.Path, r.Reason))
			}
		}
		if len(skipped) > 0 {
			return fmt.Errorf("%w (--strict): %s", ErrRequiredSubmodule, strings.Join(skipped, "; "))
		}
	}
	return nil
}

// dropModules removes unreachable submodules from .gitmodules and the
// index, and commits that, so that `git submodule update` and
// `git submodule status` work on what is left.
func (c *cloner) dropModules(drop []*module) error {
	names := map[string]bool{}
	var paths []string
	for _, m := range drop {
		names[m.name] = true
		paths = append(paths, m.path)
	}
	w, err := c.repo.Worktree()
	if err != nil {
		return err
	}
	idx, err := c.repo.Storer.Index()
	if err != nil {
		return err
	}
	for _, m := range drop {
		if m.pinned.IsZero() {
			continue
		}
		if _, err := idx.Remove(m.path); err != nil {
			return fmt.Errorf("remove gitlink %s from the index: %w", m.path, err)
		}
		_ = os.Remove(filepath.Join(c.tmp, filepath.FromSlash(m.path))) // the empty placeholder directory
	}
	if err := c.repo.Storer.SetIndex(idx); err != nil {
		return err
	}
	if err := c.rewriteGitmodules(w, names); err != nil {
		return err
	}
	return c.commit(w, "Remove unreachable submodules: "+strings.Join(paths, ", "),
		"calctl could not reach these submodules and removed them from this checkout\nso that git submodule commands keep working:\n\n"+c.describe(drop))
}

func (c *cloner) describe(mods []*module) string {
	var b strings.Builder
	for _, m := range mods {
		fmt.Fprintf(&b, "  %s  %s", m.path, redactURL(m.url))
		if !m.pinned.IsZero() {
			fmt.Fprintf(&b, " @ %s", m.pinned)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// rewriteGitmodules removes the named sections from .gitmodules in the
// work tree and index, deleting the file when nothing is left.
func (c *cloner) rewriteGitmodules(w *git.Worktree, names map[string]bool) error {
	p := filepath.Join(c.tmp, ".gitmodules")
	data, err := safefile.Read(p, maxGitmodules, safefile.Options{NoFollow: true})
	if err != nil {
		return err
	}
	out, err := removeModuleSections(data, names)
	if err != nil {
		return fmt.Errorf("rewrite .gitmodules: %w", err)
	}
	if out == nil {
		if err := os.Remove(p); err != nil {
			return err
		}
		_, err = w.Remove(".gitmodules")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := os.WriteFile(p, out, 0o644); err != nil {
		return err
	}
	_, err = w.Add(".gitmodules")
	return err
}

// commit records the index as a commit by calctl.
func (c *cloner) commit(w *git.Worktree, subject, body string) error {
	sig := &object.Signature{Name: "calctl", Email: "calctl@localhost", When: time.Now().UTC()}
	msg := subject
	if body != "" {
		msg += "\n\n" + body
	}
	_, err := w.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	return err
}

// resolve checks a submodule out at its pinned commit with its own auth,
// laid out as git does: objects in .git/modules/<name>, a ".git" file in
// the submodule's directory, the URL in the parent's config. The files are
// written by checkoutTree (os.Root, path checks, Limits counted together
// with the parent's). A shallow fetch that misses the pinned commit is
// retried with full history, and Notes say so.
//
// On an update, a submodule already checked out from the same URL is kept:
// only a missing pinned commit is fetched (into its repository), and only
// the files that differ are rewritten, as `git submodule update` does.
// checkClean has made sure it holds no local work before anything moved.
func (c *cloner) resolve(ctx context.Context, m *module) error {
	if err := noSymlinkBelow(c.tmp, m.path); err != nil {
		return err
	}
	c.report(Progress{Phase: "submodule " + m.path, Percent: -1, Message: "fetching " + short(m.pinned.String())})
	auth, err := c.auth.forURL(m.url)
	if err != nil {
		return err
	}
	gitdir := filepath.Join(c.tmp, ".git", "modules", filepath.FromSlash(m.name))
	wtdir := filepath.Join(c.tmp, filepath.FromSlash(m.path))
	var st *packindex.Storage
	var sub *git.Repository
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	fetch := func(depth int, spec config.RefSpec) error {
		err := sub.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Auth: auth, Tags: git.NoTags, Depth: depth, RefSpecs: []config.RefSpec{spec}})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return err
		}
		return nil
	}
	have := func() bool { _, err := sub.CommitObject(m.pinned); return err == nil }
	// fetchPinned fetches the branches, then (as git does) the pinned
	// commit by itself if they do not contain it.
	fetchPinned := func(depth int) (bool, error) {
		if err := fetch(depth, "+refs/heads/*:refs/remotes/origin/*"); err != nil {
			return false, err
		}
		if !have() {
			_ = fetch(depth, config.RefSpec("+"+m.pinned.String()+":"+pinnedRef.String()))
			_ = sub.Storer.RemoveReference(pinnedRef)
		}
		return have(), nil
	}
	// open starts the submodule's repository afresh.
	open := func(depth int) (bool, error) {
		if st != nil {
			st.Close()
		}
		if err := c.resetModule(m); err != nil {
			return false, err
		}
		st = openStore(gitdir)
		var err error
		if sub, err = git.Init(st, osfs.New(wtdir)); err != nil {
			return false, err
		}
		if _, err := sub.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{m.url}}); err != nil {
			return false, err
		}
		return fetchPinned(depth)
	}
	var old *index.Index
	found := false
	if c.updating {
		if sub, st, old = c.openModule(m, gitdir, wtdir); sub != nil {
			if found = have(); !found {
				found, err = fetchPinned(c.o.Depth)
				if err == nil && !found && c.o.Depth > 0 {
					found, err = fetchPinned(0)
				}
			}
		}
	}
	if sub == nil {
		found, err = open(c.o.Depth)
		if err == nil && !found && c.o.Depth > 0 {
			c.res.Notes = append(c.res.Notes, fmt.Sprintf("submodule %s: a depth-%d fetch did not contain the pinned commit %s; fetched its full history instead", m.path, c.o.Depth, short(m.pinned.String())))
			found, err = open(0)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("fetch %s: %s", redactURL(m.url), describeRemoteError(err, c.auth, m.url))
	}
	if !found {
		return fmt.Errorf("the pinned commit %s is not in %s (was it force-pushed away?)", m.pinned, redactURL(m.url))
	}
	commit, err := sub.CommitObject(m.pinned)
	if err != nil {
		return err
	}
	tree, err := commit.Tree()
	if err != nil {
		return err
	}
	t, err := scanTree(tree, c.sizer(gitdir, st.EncodedObjectSize), c.o.Limits, c.flatFiles, c.flatBytes)
	if err != nil {
		return err
	}
	c.flatFiles, c.flatBytes = t.files, t.bytes
	idx, err := checkoutTree(ctx, wtdir, gitdir, t, old, c.report)
	if err != nil {
		return err
	}
	if err := sub.Storer.SetIndex(idx); err != nil {
		return err
	}
	if err := sub.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, m.pinned)); err != nil {
		return err
	}
	cfg, err := c.repo.Config()
	if err != nil {
		return err
	}
	cfg.Submodules[m.name] = &config.Submodule{Name: m.name, Path: m.path, URL: m.url}
	return c.repo.SetConfig(cfg)
}

// openModule opens the submodule's existing checkout for an update when
// it was cloned from m.url; it returns a nil repository otherwise (a first
// resolve, or a changed URL: then resolve starts afresh).
func (c *cloner) openModule(m *module, gitdir, wtdir string) (*git.Repository, *packindex.Storage, *index.Index) {
	idx, ok, err := submoduleIndex(c.tmp, wtdir)
	if err != nil || !ok {
		return nil, nil, nil
	}
	if st, err := os.Stat(gitdir); err != nil || !st.IsDir() {
		return nil, nil, nil
	}
	st := openStore(gitdir)
	sub, err := git.Open(st, osfs.New(wtdir))
	if err == nil {
		if rem, rerr := sub.Remote("origin"); rerr == nil && len(rem.Config().URLs) == 1 && rem.Config().URLs[0] == m.url {
			return sub, st, idx
		}
	}
	st.Close()
	return nil, nil, nil
}

// resetModule removes a submodule's objects and its checkout so it can be
// fetched afresh. A checkout made by calctl holds nothing of the user's
// (checkClean refused local changes and untracked files in it); a
// directory that is not a submodule checkout but holds files is refused,
// never emptied.
func (c *cloner) resetModule(m *module) error {
	if err := os.RemoveAll(filepath.Join(c.tmp, ".git", "modules", filepath.FromSlash(m.name))); err != nil {
		return err
	}
	dir := filepath.Join(c.tmp, filepath.FromSlash(m.path))
	if _, isCheckout, err := submoduleIndex(c.tmp, dir); err != nil {
		return err
	} else if isCheckout {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	} else if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, m.path+"/"+e.Name())
		}
		return fmt.Errorf("%w: %s holds files but is not a checkout of submodule %s; move them away, then run again", ErrDirty, dirtyList(names), m.name)
	}
	return os.MkdirAll(dir, 0o755)
}

// pinnedRef is where a flattened submodule's pinned commit is fetched to.
const pinnedRef = plumbing.ReferenceName("refs/calctl/pinned")
