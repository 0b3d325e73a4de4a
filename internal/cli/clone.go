package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/gitsource"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/secret"
	"github.com/spf13/cobra"
)

type cloneOptions struct {
	IO        IO
	Getenv    func(string) string
	URL, Dir  string
	Ref       string
	Depth     int
	Mode      string
	Require   []string
	Strict    bool
	SSHKey    string
	Quiet     bool
	Output    string
	MaxFiles  int
	MaxBytes  int64
	TokenUser string
	Update    bool
}

func newCloneCmd(f *Factory) *cobra.Command {
	opts := &cloneOptions{IO: f.IO, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "clone URL DIR | clone --update [URL] DIR",
		Short: "Clone Cal.com with its submodules resolved, flattened or skipped",
		Long: `Clone a Cal.com repository (or a fork) into DIR without a recursive clone, then
handle each git submodule on its own, with its own credentials:

  resolve  check each reachable submodule out at the commit the parent pins
  flatten  copy each reachable submodule's files into the parent as ordinary
           files, committed as one commit, so the fork can be pushed to your
           own private remote as a single repository
  skip     leave submodules uninitialised

A submodule that cannot be reached (no access, not found, host down) is skipped
with the reason and what to do, and removed from .gitmodules so that later git
commands do not fail on it. --strict or --require-submodule turn such skips
into errors.

Credentials: an HTTPS token from CALCTL_GIT_TOKEN (or GITHUB_TOKEN), sent only
to the parent repository's host, or --ssh-key for ssh URLs (passphrase from
CALCTL_SSH_KEY_PASSPHRASE). Credentials are never written to disk.

--update brings a checkout made by calctl clone (or calctl install) to --ref:
it fetches only what is missing (keeping --depth), moves to the new commit
and handles the submodules again. Local changes, in the checkout or in any of
its resolved submodules, are refused and named; nothing is discarded.`,
		Example: `  calctl clone https://github.com/calcom/cal.com.git /opt/calcom/src --depth 1
  CALCTL_GIT_TOKEN=... calctl clone https://github.com/calcom/cal.com.git src --submodules flatten --require-submodule apps/api
  calctl clone git@github.com:acme/cal.com.git src --ssh-key ~/.ssh/deploy -o json
  calctl clone --update /opt/calcom/src --ref v4.0.1 --depth 1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.Update && len(args) == 1 {
				return nil
			}
			if len(args) != 2 {
				return usageErrorf("clone needs a repository URL and a destination directory (see 'calctl clone --help')")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Dir = args[0]
			} else {
				opts.URL, opts.Dir = args[0], args[1]
			}
			return runClone(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Ref, "ref", "", "branch, tag or commit to check out (default: the remote's HEAD)")
	fl.IntVar(&opts.Depth, "depth", 0, "history depth; 0 = full history (shallow clones fetch no tags)")
	enumFlag(cmd, &opts.Mode, "submodules", "", "resolve", contract.SubmoduleModes, "what to do with submodules")
	fl.StringArrayVar(&opts.Require, "require-submodule", nil, "fail unless this submodule path is reachable (repeatable)")
	fl.BoolVar(&opts.Strict, "strict", false, "fail instead of skipping any unreachable submodule")
	fl.StringVar(&opts.SSHKey, "ssh-key", "", "private key for ssh URLs")
	fl.BoolVar(&opts.Update, "update", false, "DIR is a checkout made by calctl: fetch --ref into it and move to it")
	fl.StringVar(&opts.TokenUser, "token-user", "", "basic-auth user sent with the token (default x-access-token)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print no progress")
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	fl.IntVar(&opts.MaxFiles, "max-files", gitsource.DefaultMaxFiles, "refuse a checkout with more files than this")
	fl.Int64Var(&opts.MaxBytes, "max-bytes", gitsource.DefaultMaxBytes, "refuse a checkout with more bytes of files than this")
	return cmd
}

// gitToken reads the HTTPS token from the environment.
func gitToken(getenv func(string) string) secret.Secret {
	for _, k := range []string{"CALCTL_GIT_TOKEN", "GITHUB_TOKEN"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return secret.Secret(v)
		}
	}
	return ""
}

func runClone(ctx context.Context, opts *cloneOptions) error {
	mode, err := gitsource.ParseMode(opts.Mode)
	if err != nil {
		return usageError{err}
	}
	prog := newProgressPrinter(opts.IO.Err, opts.IO.IsTerminal && !opts.Quiet, opts.Quiet)
	var report func(gitsource.Progress)
	if !opts.Quiet {
		report = prog.report
	}
	run := gitsource.Clone
	if opts.Update {
		run = gitsource.Update
	}
	res, err := run(ctx, gitsource.Options{
		URL: opts.URL, Dir: opts.Dir, Ref: opts.Ref, Depth: opts.Depth, Submodules: mode,
		Require: opts.Require, Strict: opts.Strict,
		Token: gitToken(opts.Getenv), TokenUser: opts.TokenUser,
		SSHKeyPath: opts.SSHKey, SSHKeyPassphrase: secret.Secret(opts.Getenv("CALCTL_SSH_KEY_PASSPHRASE")),
		Limits:   gitsource.Limits{MaxFiles: opts.MaxFiles, MaxBytes: opts.MaxBytes},
		Progress: report,
	})
	prog.finish()
	res = redactResult(res)
	if err != nil {
		if ctx.Err() != nil && opts.Update {
			return fmt.Errorf("%w: update of %s stopped", ctx.Err(), opts.Dir)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: clone stopped; nothing was left at %s", ctx.Err(), opts.Dir)
		}
		return cloneError(err)
	}
	for _, s := range res.Submodules {
		if s.Action == gitsource.ActionSkipped && !strings.HasPrefix(s.Reason, "--submodules skip") {
			line := fmt.Sprintf("warning: skipped submodule %s (%s): %s", s.Path, s.URL, s.Reason)
			if s.Hint != "" {
				line += ". " + s.Hint
			}
			fmt.Fprintln(opts.IO.Err, line)
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintln(opts.IO.Err, "note: "+n)
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printCloneText(opts.IO.Out, res)
}

// redactResult is res with URL credentials removed from every string clone
// prints or encodes (internal/redact's rule, which also takes URLs that do
// not parse). nil stays nil.
func redactResult(res *gitsource.Result) *gitsource.Result {
	if res == nil {
		return nil
	}
	r := *res
	r.URL = redact.URL(r.URL)
	r.Submodules = make([]gitsource.SubmoduleResult, len(res.Submodules))
	for i, s := range res.Submodules {
		s.URL, s.Reason, s.Hint = redact.URL(s.URL), redact.URL(s.Reason), redact.URL(s.Hint)
		r.Submodules[i] = s
	}
	r.Notes = make([]string, len(res.Notes))
	for i, n := range res.Notes {
		r.Notes[i] = redact.URL(n)
	}
	if res.Notes == nil {
		r.Notes = nil
	}
	return &r
}

// cloneError adds what to do to the errors a user can fix.
func cloneError(err error) error {
	switch {
	case errors.Is(err, gitsource.ErrUnsafeRepository):
		return fmt.Errorf("%w; nothing was written. Do not use this repository as it is; if it is your fork, fix .gitmodules", err)
	case errors.Is(err, gitsource.ErrRequiredSubmodule):
		return fmt.Errorf("%w; nothing was written. Pass a token that can read it (CALCTL_GIT_TOKEN) or --ssh-key", err)
	case errors.Is(err, gitsource.ErrRemote):
		return fmt.Errorf("%w; check the URL, your network and your token (CALCTL_GIT_TOKEN)", err)
	}
	return err
}

func printCloneText(w io.Writer, res *gitsource.Result) error {
	ref := res.Ref
	if strings.HasPrefix(ref, "refs/") {
		ref = strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/")
	}
	fmt.Fprintf(w, "Cloned %s (%s) at %s into %s\n", res.URL, ref, res.Commit, res.Dir)
	width := 0
	for _, s := range res.Submodules {
		width = max(width, len(s.Path))
	}
	for _, s := range res.Submodules {
		detail := ""
		switch s.Action {
		case gitsource.ActionSkipped:
			detail = s.Reason
		default:
			detail = "at " + s.Pinned
		}
		fmt.Fprintf(w, "  %-*s  %-9s  %s\n", width, s.Path, s.Action, detail)
	}
	if res.Head != res.Commit {
		fmt.Fprintf(w, "calctl committed its changes on top: HEAD is %s\n", res.Head)
	}
	return nil
}

// progressPrinter draws gitsource progress: one live line on a terminal,
// plain lines (one per phase, and every 25%) otherwise.
type progressPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	live  bool
	quiet bool
	phase string
	done  bool
	width int
}

func newProgressPrinter(w io.Writer, live, quiet bool) *progressPrinter {
	return &progressPrinter{w: w, live: live, quiet: quiet}
}

func (p *progressPrinter) report(pr gitsource.Progress) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := redact.URL(pr.Message)
	if pr.Percent >= 0 && pr.Phase != "done" {
		line = fmt.Sprintf("%s: %3d%%", pr.Phase, pr.Percent)
	}
	if p.live {
		pad := ""
		if n := p.width - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
		p.width = len(line)
		return
	}
	// Plain lines: a phase's first report, and its completion.
	if pr.Phase == p.phase && pr.Percent != 100 && !strings.HasPrefix(pr.Phase, "submodule") {
		return
	}
	if pr.Phase == p.phase && pr.Percent == 100 && p.done {
		return
	}
	p.done = pr.Percent == 100
	p.phase = pr.Phase
	fmt.Fprintln(p.w, line)
}

func (p *progressPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	}
}
