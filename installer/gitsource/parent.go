package gitsource

import (
	"context"

	"github.com/calctl/calctl/installer/gitsource/packindex"
	"github.com/calctl/calctl/internal/redact"
	"path/filepath"

	"errors"
	"fmt"
	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"regexp"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

var hexRef = regexp.MustCompile(`^[0-9a-fA-F]{4,40}$`)

// target is what the requested ref resolved to on the remote.
type target struct {
	ref    plumbing.ReferenceName // branch or tag; empty for a commit
	commit string                 // a (possibly short) commit hash when ref is empty
}

// listRemote runs the equivalent of git ls-remote with the auth for url.
func (a *authSet) listRemote(ctx context.Context, url string) ([]*plumbing.Reference, error) {
	auth, err := a.forURL(url)
	if err != nil {
		return nil, err
	}
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth, PeelingOption: git.AppendPeeled})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil, fmt.Errorf("the repository is empty")
	}
	return refs, err
}

// resolveTarget finds o.Ref among the remote's refs.
func resolveTarget(refs []*plumbing.Reference, want string) (target, error) {
	byName := map[plumbing.ReferenceName]*plumbing.Reference{}
	for _, r := range refs {
		byName[r.Name()] = r
	}
	if want == "" {
		head, ok := byName[plumbing.HEAD]
		if !ok {
			return target{}, fmt.Errorf("%w: the remote advertises no HEAD; pass --ref", ErrRef)
		}
		if head.Type() == plumbing.SymbolicReference {
			return target{ref: head.Target()}, nil
		}
		// No symref: pick the branch pointing at HEAD's commit.
		for _, r := range refs {
			if r.Name().IsBranch() && r.Hash() == head.Hash() {
				return target{ref: r.Name()}, nil
			}
		}
		return target{commit: head.Hash().String()}, nil
	}
	for _, n := range []plumbing.ReferenceName{
		plumbing.ReferenceName(want),
		plumbing.NewBranchReferenceName(want),
		plumbing.NewTagReferenceName(want),
	} {
		if _, ok := byName[n]; ok && (n.IsBranch() || n.IsTag()) {
			return target{ref: n}, nil
		}
	}
	if hexRef.MatchString(want) {
		return target{commit: strings.ToLower(want)}, nil
	}
	var branches, tags []string
	for _, r := range refs {
		switch {
		case r.Name().IsBranch():
			branches = append(branches, r.Name().Short())
		case r.Name().IsTag() && !strings.HasSuffix(r.Name().String(), "^{}"):
			tags = append(tags, r.Name().Short())
		}
	}
	sort.Strings(branches)
	sort.Strings(tags)
	return target{}, fmt.Errorf("%w: %q is neither a branch, a tag nor a commit of the repository (branches: %s; tags: %s)",
		ErrRef, want, redact.Controls(listSome(branches)), redact.Controls(listSome(tags)))
}

func listSome(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	if len(s) > 8 {
		return strings.Join(s[:8], ", ") + fmt.Sprintf(" and %d more", len(s)-8)
	}
	return strings.Join(s, ", ")
}

// cloneParent fetches the parent repository into c.tmp without checking
// out, so .gitmodules can be vetted before any file is written.
func (c *cloner) cloneParent(ctx context.Context) error {
	c.report(Progress{Phase: "connect", Percent: -1, Message: "contacting " + c.url})
	refs, err := c.auth.listRemote(ctx, c.url)
	if err != nil {
		return fmt.Errorf("%w: %s: %s", ErrRemote, c.url, describeRemoteError(err, c.auth, c.url))
	}
	tg, err := resolveTarget(refs, c.o.Ref)
	if err != nil {
		return err
	}
	auth, err := c.auth.forURL(c.url)
	if err != nil {
		return err
	}
	prog, flush := c.sidebandProgress()
	defer flush()
	if tg.ref != "" {
		c.res.Ref = tg.ref.String()
		tags := git.AllTags
		if c.o.Depth > 0 {
			tags = git.NoTags
		}
		st, wt := c.openStorage()
		c.repo, err = git.CloneContext(ctx, st, wt, &git.CloneOptions{
			URL:               c.url,
			Auth:              auth,
			ReferenceName:     tg.ref,
			SingleBranch:      c.o.Depth > 0,
			Depth:             c.o.Depth,
			Tags:              tags,
			NoCheckout:        true,
			RecurseSubmodules: git.NoRecurseSubmodules,
			Progress:          prog,
		})
		if err != nil {
			return fmt.Errorf("clone %s: %s", c.url, describeRemoteError(err, c.auth, c.url))
		}
		head, err := c.repo.Head()
		if err != nil {
			return err
		}
		c.res.Commit = head.Hash().String()
		return nil
	}
	return c.cloneCommit(ctx, tg.commit, auth, prog)
}

// openStorage returns the object storage and work tree for c.tmp. The
// storage keeps its pack files open: go-git otherwise reopens the pack for
// every object it reads, which dominates checkout time on a large tree.
// run closes it.
func (c *cloner) openStorage() (*packindex.Storage, billy.Filesystem) {
	c.storage = openStore(filepath.Join(c.tmp, ".git"))
	return c.storage, osfs.New(c.tmp)
}

// openStore opens the object storage of a .git directory: go-git's, with
// fetched packs indexed by packindex (parallel, bounded memory, thin packs
// completed). Every repository gitsource fetches into is opened here.
func openStore(gitdir string) *packindex.Storage {
	return packindex.Open(gitdir, packindex.Options{})
}

// go-git's fetch asks for thin packs only when told to: every storage
// gitsource fetches into is a packindex.Storage, which completes them, and
// a fetch into an existing checkout (Update) then transfers only what
// changed.
func init() { packindex.EnableThinPacks() }

// cloneCommit fetches a repository and detaches HEAD at commit. A full
// 40-hex commit is first fetched by itself (servers that allow it, such as
// GitHub, then send only what is needed); otherwise all branches are fetched
// and the (possibly short) hash is looked up.
func (c *cloner) cloneCommit(ctx context.Context, commit string, auth transport.AuthMethod, prog sideband.Progress) error {
	var err error
	st, wt := c.openStorage()
	c.repo, err = git.Init(st, wt)
	if err != nil {
		return err
	}
	if _, err := c.repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{c.url}}); err != nil {
		return err
	}
	fetched := false
	if len(commit) == 40 {
		err := c.repo.FetchContext(ctx, &git.FetchOptions{
			RemoteName: "origin", Auth: auth, Depth: c.o.Depth, Tags: git.NoTags, Progress: prog,
			RefSpecs: []config.RefSpec{config.RefSpec("+" + commit + ":refs/calctl/fetched")},
		})
		fetched = err == nil || errors.Is(err, git.NoErrAlreadyUpToDate)
		_ = c.repo.Storer.RemoveReference("refs/calctl/fetched")
	}
	if !fetched {
		if c.o.Depth > 0 {
			c.res.Notes = append(c.res.Notes, fmt.Sprintf("the server cannot send commit %s by itself; fetched full history instead of --depth %d", short(commit), c.o.Depth))
			c.res.Shallow = false
		}
		err := c.repo.FetchContext(ctx, &git.FetchOptions{
			RemoteName: "origin", Auth: auth, Tags: git.AllTags, Progress: prog,
			RefSpecs: []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"},
		})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return fmt.Errorf("fetch %s: %s", c.url, describeRemoteError(err, c.auth, c.url))
		}
	}
	h, err := c.repo.ResolveRevision(plumbing.Revision(commit))
	if err != nil {
		return fmt.Errorf("%w: commit %s is not in %s", ErrRef, commit, c.url)
	}
	if _, err := c.repo.CommitObject(*h); err != nil {
		return fmt.Errorf("%w: %s is not a commit: %v", ErrRef, commit, err)
	}
	if err := c.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, *h)); err != nil {
		return err
	}
	c.res.Commit = h.String()
	c.res.Ref = h.String()
	return nil
}
