// Package gitsource gets Cal.com's source onto the host: it clones a
// repository with go-git and then resolves, flattens or skips each of its
// git submodules, giving every submodule its own credentials.
//
// Cal.com's monorepo has pinned private submodules (apps/api, apps/website,
// ...) for years; a plain recursive clone asks for credentials the customer
// does not have and fails. gitsource instead clones the parent without
// recursion, probes each submodule, skips the unreachable ones with a clear
// reason (removing them from .gitmodules so later git commands do not trip
// on them), and then checks out (resolve) or copies in (flatten) the
// reachable ones at exactly the commit the parent pins.
//
// Repositories are untrusted input: submodule names, paths and URLs are
// validated before anything is written, flattening writes through os.Root
// so no symlink can make a write escape the checkout, and the whole clone
// happens in a temporary sibling directory that is renamed into place only
// on success. Credentials travel in memory only; they are never written to
// .git/config, logged or printed.
package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/calctl/calctl/installer/gitsource/packindex"
	"github.com/calctl/calctl/internal/secret"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// Mode says what to do with a repository's submodules.
type Mode string

// The submodule modes.
const (
	// Resolve checks each reachable submodule out at the pinned commit, as
	// `git submodule update --init` would.
	Resolve Mode = "resolve"
	// Flatten copies each reachable submodule's files at the pinned commit
	// into the parent as ordinary files, committed as one commit.
	Flatten Mode = "flatten"
	// Skip leaves submodules uninitialised.
	Skip Mode = "skip"
)

// ParseMode parses a --submodules value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Resolve, Flatten, Skip:
		return m, nil
	case "":
		return Resolve, nil
	}
	return "", fmt.Errorf("unknown submodule mode %q: use resolve, flatten or skip", s)
}

// Actions reported per submodule.
const (
	ActionResolved  = "resolved"
	ActionFlattened = "flattened"
	ActionSkipped   = "skipped"
)

// Limits bound what a clone may write, so a hostile or runaway repository
// cannot fill the disk. Zero values mean the defaults.
type Limits struct {
	// MaxFiles is the most files (blobs and symlinks) a checkout may hold.
	MaxFiles int
	// MaxBytes is the most bytes of file content a checkout may hold.
	MaxBytes int64
}

// Default limits: Cal.com's tree has about 20,000 files and well under 1 GB.
const (
	DefaultMaxFiles = 250_000
	DefaultMaxBytes = 4 << 30
)

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// Options describe one clone.
type Options struct {
	// URL is the parent repository's URL (https, ssh or scp-like). User
	// info in the URL is moved into the credentials and never stored.
	URL string
	// Dir is the destination; it must not exist or be an empty directory.
	Dir string
	// Ref is a branch, tag, full ref name or commit hash; empty means the
	// remote's HEAD.
	Ref string
	// Depth limits history (0 = full). Shallow clones fetch no tags.
	Depth int
	// Submodules is the submodule mode (default Resolve).
	Submodules Mode
	// Require lists submodule paths that must be reachable.
	Require []string
	// Strict turns any skipped unreachable submodule into an error.
	Strict bool
	// Token is an HTTPS token (sent as basic-auth password) for the parent's
	// host. It is never sent to any other host.
	Token secret.Secret
	// TokenUser is the basic-auth user sent with Token ("x-access-token"
	// when empty, which GitHub and most forges accept).
	TokenUser string
	// SSHKeyPath is a private key for ssh URLs.
	SSHKeyPath string
	// SSHKeyPassphrase unlocks SSHKeyPath when it is encrypted.
	SSHKeyPassphrase secret.Secret
	// Limits bound the size of the checkout and of flattened submodules.
	Limits Limits
	// Progress, when set, receives progress reports.
	Progress func(Progress)
}

// Progress is one progress report.
type Progress struct {
	// Phase names what is happening, e.g. "clone", "Receiving objects",
	// "submodule apps/api".
	Phase string `json:"phase"`
	// Percent is 0-100 when known, -1 otherwise.
	Percent int `json:"percent"`
	// Message is a human-readable line.
	Message string `json:"message"`
}

// Result says what a clone did.
type Result struct {
	// URL is the parent URL without credentials.
	URL string `json:"url"`
	// Dir is the checkout's absolute path.
	Dir string `json:"dir"`
	// Ref is the ref that was cloned (e.g. refs/heads/main), or the commit.
	Ref string `json:"ref"`
	// Commit is the upstream commit that was cloned.
	Commit string `json:"commit"`
	// Head is HEAD after calctl's own commits (flatten, dropped
	// submodules); equal to Commit when calctl committed nothing.
	Head string `json:"head"`
	// Shallow reports a --depth clone.
	Shallow bool `json:"shallow"`
	// Submodules lists every submodule declared in .gitmodules, by path.
	Submodules []SubmoduleResult `json:"submodules"`
	// Notes are things the user should know (e.g. an unshallow retry).
	Notes []string `json:"notes,omitempty"`
}

// SubmoduleResult is what happened to one submodule.
type SubmoduleResult struct {
	// Name is the submodule's name in .gitmodules.
	Name string `json:"name"`
	// Path is its path in the work tree.
	Path string `json:"path"`
	// URL is its .gitmodules URL with any credentials removed.
	URL string `json:"url"`
	// Pinned is the commit the superproject pins (full hex); "" when the
	// tree has no gitlink for it.
	Pinned string `json:"pinned"`
	// Action is resolved, flattened or skipped.
	Action string `json:"action"`
	// Reason says why a submodule was skipped ("" otherwise).
	Reason string `json:"reason,omitempty"`
	// Hint says what to do about a skip.
	Hint string `json:"hint,omitempty"`
}

// Error kinds, for errors.Is.
var (
	// ErrUnsafeRepository means the repository declares a submodule whose
	// name, path or URL could write outside the checkout or into .git.
	ErrUnsafeRepository = errors.New("unsafe repository")
	// ErrRequiredSubmodule means a required submodule could not be reached.
	ErrRequiredSubmodule = errors.New("required submodule unreachable")
	// ErrTooLarge means the checkout exceeds Limits.
	ErrTooLarge = errors.New("repository exceeds size limits")
	// ErrDestination means Dir cannot be used.
	ErrDestination = errors.New("destination unusable")
	// ErrRef means the requested ref does not exist on the remote.
	ErrRef = errors.New("ref not found")
	// ErrRemote means the parent repository could not be reached.
	ErrRemote = errors.New("repository unreachable")
	// ErrDirty means an existing checkout has local changes.
	ErrDirty = errors.New("checkout has local changes")
)

// Clone clones o.URL into o.Dir and handles its submodules per
// o.Submodules. On error nothing is left at o.Dir (an empty directory that
// existed before is kept).
func Clone(ctx context.Context, o Options) (*Result, error) {
	c, err := newCloner(o)
	if err != nil {
		return nil, err
	}
	return c.run(ctx)
}

// cloner carries one Clone's state.
type cloner struct {
	o      Options
	url    string // parent URL without credentials
	auth   *authSet
	dir    string // final destination (absolute)
	tmp    string // working directory, renamed to dir on success
	repo   *git.Repository
	res    *Result
	report func(Progress)
	// storage is the parent's object storage when cloneParent opened it.
	storage *packindex.Storage
	// tree is the cloned commit's walked tree (set by readModules).
	tree *treeIndex
	// updating is set by Update: the checkout already has files.
	updating bool
	// target is where Update moves HEAD once the files are in place.
	target *target
	// closers release what the clone keeps open (pack readers)
	closers []func()
	// running totals of the checkout's files, checked against Limits
	flatFiles int
	flatBytes int64
}

func newCloner(o Options) (*cloner, error) {
	if o.URL == "" {
		return nil, errors.New("no repository URL given")
	}
	if o.Dir == "" {
		return nil, fmt.Errorf("%w: no destination directory given", ErrDestination)
	}
	if o.Depth < 0 {
		return nil, fmt.Errorf("--depth must be 0 (full history) or positive, got %d", o.Depth)
	}
	if o.Submodules == "" {
		o.Submodules = Resolve
	}
	if _, err := ParseMode(string(o.Submodules)); err != nil {
		return nil, err
	}
	o.Limits = o.Limits.withDefaults()
	clean, auth, err := newAuthSet(o)
	if err != nil {
		return nil, err
	}
	for i, p := range o.Require {
		o.Require[i] = strings.Trim(filepath.ToSlash(p), "/")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDestination, err)
	}
	report := o.Progress
	if report == nil {
		report = func(Progress) {}
	}
	return &cloner{o: o, url: clean, auth: auth, dir: dir, report: report,
		res: &Result{URL: clean, Dir: dir, Shallow: o.Depth > 0, Submodules: []SubmoduleResult{}}}, nil
}

// staleAge is how old an unlocked hidden working directory of an earlier
// clone must be before a later run removes it (a clone killed by SIGKILL
// cannot remove its own).
const staleAge = 2 * time.Minute

func (c *cloner) run(ctx context.Context) (res *Result, err error) {
	removeStale(c.dir)
	exists, err := checkDestination(c.dir)
	if err != nil {
		return nil, err
	}
	// The clone is built in a hidden working directory and moved into
	// place only when complete. For an existing empty directory (perhaps a
	// mount point, which a rename cannot replace) that working directory
	// is inside it, so the directory itself — mode, owner, mount — stays;
	// otherwise it is a sibling renamed to DIR. Either way a directory that
	// cannot be written fails here, before anything is downloaded.
	if exists {
		c.tmp, err = os.MkdirTemp(c.dir, tempPrefix)
	} else {
		c.tmp, err = os.MkdirTemp(filepath.Dir(c.dir), "."+filepath.Base(c.dir)+tempPrefix)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot create a working directory in %s: %v", ErrDestination, filepath.Dir(c.tmp), err)
	}
	unlock := lockDir(c.tmp)
	defer func() {
		c.close()
		if err != nil {
			if rmErr := os.RemoveAll(c.tmp); rmErr != nil {
				err = fmt.Errorf("%w (and the partial clone at %s could not be removed: %v)", err, c.tmp, rmErr)
			}
		}
		unlock()
	}()
	if err := os.Chmod(c.tmp, 0o755); err != nil {
		return nil, err
	}
	if err := c.cloneParent(ctx); err != nil {
		return nil, err
	}
	if err := c.populate(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if exists {
		err = moveContents(c.tmp, c.dir)
	} else {
		err = os.Rename(c.tmp, c.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: move the clone into %s: %v", ErrDestination, c.dir, err)
	}
	c.report(Progress{Phase: "done", Percent: 100, Message: "cloned " + c.url + " at " + short(c.res.Commit)})
	return c.res, nil
}

// close releases the pack readers and storage the clone kept open.
func (c *cloner) close() {
	for _, f := range c.closers {
		f()
	}
	c.closers = nil
	if c.storage != nil {
		_ = c.storage.Close() // release kept pack descriptors before rename/removal
		c.storage = nil
	}
}

// tempPrefix names calctl's hidden working directories.
const tempPrefix = ".calctl-clone-"

// moveContents moves every entry of the working directory tmp (inside dst)
// up into dst, then removes tmp. Should a move fail, what was moved goes
// back, so dst is left as empty as it was.
func moveContents(tmp, dst string) error {
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	var moved []string
	for _, e := range ents {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			for _, n := range moved {
				_ = os.Rename(filepath.Join(dst, n), filepath.Join(tmp, n))
			}
			return err
		}
		moved = append(moved, e.Name())
	}
	return os.Remove(tmp)
}

// removeStale removes hidden working directories that clones into dir
// killed before they could clean up left behind: named as calctl names
// them (next to dir, or inside an empty dir), owned by this user, older
// than staleAge, and locked by no running clone.
func removeStale(dir string) {
	var cands []string
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+tempPrefix+"*"))
	cands = append(cands, m...)
	m, _ = filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	cands = append(cands, m...)
	for _, p := range cands {
		st, err := os.Lstat(p)
		if err != nil || !st.IsDir() || time.Since(st.ModTime()) < staleAge || !ownedByMe(st) {
			continue
		}
		if unlock, ok := tryLockDir(p); ok {
			_ = os.RemoveAll(p)
			unlock()
		}
	}
}

// populate is what Clone and Update share once the parent's commit is
// fetched: vet .gitmodules, check the tree out, handle the submodules,
// record HEAD, make sure no credential was stored, and save the state.
func (c *cloner) populate(ctx context.Context) error {
	mods, err := c.readModules()
	if err != nil {
		return err
	}
	if err := c.checkout(ctx); err != nil {
		return err
	}
	if c.target != nil {
		// An update moves HEAD only once the work tree and index match
		// the new commit: a refused or failed move leaves HEAD, index and
		// files as they were.
		if err := c.moveTo(*c.target); err != nil {
			return err
		}
	}
	if err := c.handleSubmodules(ctx, mods); err != nil {
		return err
	}
	head, err := c.repo.Head()
	if err != nil {
		return err
	}
	c.res.Head = head.Hash().String()
	if err := c.verifyNoCredentials(); err != nil {
		return err
	}
	return c.saveState(c.tmp)
}

// checkDestination accepts a missing path (whose parent exists) or an
// empty directory, and says which it is.
func checkDestination(dir string) (exists bool, err error) {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if pst, perr := os.Stat(filepath.Dir(dir)); perr != nil || !pst.IsDir() {
			return false, fmt.Errorf("%w: parent directory %s does not exist: create it first", ErrDestination, filepath.Dir(dir))
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: %v", ErrDestination, err)
	case !st.IsDir():
		return false, fmt.Errorf("%w: %s exists and is not a directory", ErrDestination, dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrDestination, err)
	}
	if len(ents) > 0 {
		return false, fmt.Errorf("%w: %s exists and is not empty: choose a new directory, or update an existing checkout instead", ErrDestination, dir)
	}
	return true, nil
}

func (c *cloner) checkout(ctx context.Context) error {
	c.report(Progress{Phase: "checkout", Percent: -1, Message: "checking out " + short(c.res.Commit)})
	if err := ctx.Err(); err != nil {
		return err
	}
	var old *index.Index
	if c.updating {
		var err error
		if old, err = c.repo.Storer.Index(); err != nil {
			return err
		}
	}
	idx, err := checkoutTree(ctx, c.tmp, filepath.Join(c.tmp, ".git"), c.tree, old, c.report)
	if err != nil {
		return err
	}
	return c.repo.Storer.SetIndex(idx)
}

// verifyNoCredentials is a last guard: the token must appear in no file
// calctl wrote under .git (config files of the parent and modules).
func (c *cloner) verifyNoCredentials() error {
	tok := c.o.Token.Reveal()
	if len(tok) < 4 {
		return nil
	}
	return filepath.WalkDir(filepath.Join(c.tmp, ".git"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if name != "config" && name != "FETCH_HEAD" && name != "packed-refs" && !strings.HasSuffix(name, ".git") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), tok) {
			return fmt.Errorf("refusing to finish: the token would be stored in %s", strings.TrimPrefix(p, c.tmp+"/"))
		}
		return nil
	})
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
