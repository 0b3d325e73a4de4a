package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/go-git/go-git/v5"
	"github.com/spf13/cobra"

	"github.com/calctl/calctl/backup"
	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/installer"
	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/installer/wizard"
	"github.com/calctl/calctl/internal/atomicfile"
)

type upgradeOptions struct {
	IO         IO
	Factory    *Factory
	Dir        string
	Ref        string
	Answers    string
	Out        string
	Keys       keyFlags
	DryRun     bool
	NoBackup   bool
	RollbackDB bool
	Output     string
}

func newUpgradeCmd(f *Factory) *cobra.Command {
	opts := &upgradeOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "upgrade --ref REF",
		Short: "Upgrade Cal.com to another ref: verified backup, build beside the old, migrate, switch, roll back on failure",
		Long: `upgrade moves a compose install to another branch, tag or commit of the
Cal.com monorepo: preflight on the new tree, a backup that is verified by
a restore drill first (refused without one unless --no-backup), then the
install steps with the secrets kept: fetch and move the checkout, render,
build the new image while the old container keeps serving, the migration
guard (failed rows in _prisma_migrations stop it: P3009), migrate, switch,
verify. If anything fails, the checkout and the rendered files go back,
and after the switch the previous image is put back; when migrations may
have run the database is restored from the backup with --rollback-db (else
the restore command is printed). Every upgrade is recorded in the
install's history.`,
		Example: `  calctl upgrade --dir /opt/calcom --ref v5.9.0 --dry-run
  calctl upgrade --dir /opt/calcom --ref v5.9.0 --recipient age1... --rollback-db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUpgrade(cmd.Context(), opts) },
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Dir, "dir", "", installDirUsage)
	fl.StringVar(&opts.Ref, "ref", "", "branch, tag or commit to upgrade to (required)")
	fl.StringVar(&opts.Answers, "answers", "", "the install's answers file (default <dir>/"+wizard.AnswersFile+")")
	fl.StringVar(&opts.Out, "backup-out", "", "directory for the pre-upgrade backup (default <dir>/backups)")
	opts.Keys.bindEncrypt(cmd)
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and the file diffs (secrets masked); change nothing")
	fl.BoolVar(&opts.NoBackup, "no-backup", false, "upgrade without a verified backup (a failed migration then cannot be undone)")
	fl.BoolVar(&opts.RollbackDB, "rollback-db", false, "if the upgrade fails after migrations may have run, restore the pre-upgrade backup unattended")
	enumFlag(cmd, &opts.Output, "output", "o", "text", textOrJSON, "event output, text to stderr or JSON lines to stdout")
	return cmd
}

// upgradeSteps are the install steps in the order the engine runs them;
// a failure's position decides what the rollback undoes.
var upgradeSteps = []string{"preflight", "clone", "secrets", "render", "write", "start", "migrate", "seed", "verify", "check", "agent"}

func stepIndex(name string) int {
	for i, s := range upgradeSteps {
		if s == name {
			return i
		}
	}
	return len(upgradeSteps)
}

func runUpgrade(ctx context.Context, o *upgradeOptions) (err error) {
	if o.Ref == "" {
		return usageErrorf("--ref is required: the branch, tag or commit to upgrade to")
	}
	dir, err := installDir(o.Factory, o.Dir)
	if err != nil {
		return err
	}
	ansFile := o.Answers
	if ansFile == "" {
		ansFile = filepath.Join(dir, wizard.AnswersFile)
		if _, err := os.Stat(ansFile); err != nil {
			return usageErrorf("no answers for %s: pass --answers FILE (the file the install ran with); %s does not exist", dir, ansFile)
		}
	}
	af := answersFlags{File: ansFile, Set: []string{"source.ref=" + o.Ref}, Output: o.Output, DryRun: o.DryRun}
	a, env, err := af.load(o.Factory.getenv)
	if err != nil {
		return err
	}
	if abs, _ := filepath.Abs(a.InstallDir); abs != dir {
		return usageErrorf("the answers' install_dir is %s, not %s", a.InstallDir, dir)
	}
	if a.Target != contract.TargetCompose {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("calctl upgrade handles compose installs; this one is %s: run `calctl backup` and `calctl backup verify`, then `calctl install --non-interactive --answers %s --ref %s` (pm2 reloads with the new build), and restore the backup if its migrations fail", a.Target, ansFile, o.Ref)}
	}
	say := func(format string, args ...any) { fmt.Fprintf(o.IO.Err, "upgrade: "+format+"\n", args...) }
	sink := af.sink(o.IO)
	newState := func(a *contract.Answers, dry bool) *installer.State {
		return &installer.State{Answers: a, Env: env, Getenv: o.Factory.Getenv, DryRun: dry, Stdout: o.IO.Err, Stderr: o.IO.Err, FailOn: "none"}
	}
	oldCommit := headCommit(a.Source.Dir)
	if o.DryRun {
		say("plan: %s -> %s", shortHash(oldCommit), o.Ref)
		if o.NoBackup {
			red := "NO BACKUP (--no-backup): a failed migration cannot be undone"
			if o.IO.IsTerminal {
				red = "\033[31m" + red + "\033[0m"
			}
			say("1. %s", red)
		} else {
			say("1. backup of the database and secrets, verified by a restore drill (refused without one)")
		}
		say("2. preflight, fetch and move the checkout, render with secrets kept, build the new image while the old serves")
		say("3. migration guard (_prisma_migrations, P3009), migrate, switch, verify; on failure: files, checkout and image back%s", map[bool]string{true: ", database restored (--rollback-db)", false: ""}[o.RollbackDB])
		e := &installer.Engine{Sink: sink}
		return runEngine(ctx, e, installer.InstallPlan(a), newState(a, true))
	}

	start := time.Now()
	ev := history.Event{Kind: history.KindUpgrade, From: oldCommit, To: o.Ref}
	defer func() {
		ev.Seconds = time.Since(start).Seconds()
		ev.Result = history.ResultOK
		if err != nil {
			ev.Result, ev.Error = history.ResultFailed, oneLineErr(err)
		}
		_ = history.Append(dir, ev)
	}()

	// 1. the verified backup, encrypted to the operator's key and to a key
	// that lives only in this process (for the drill and a rollback).
	var backupFile string
	var ids []age.Identity
	in, err := backup.OpenInstall(ctx, dir)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	defer in.Close()
	if !o.NoBackup {
		rs, err := o.Keys.recipients(o.Factory.getenv)
		if err != nil {
			return usageErrorf("upgrade makes a verified backup first: %v (or --no-backup)", err)
		}
		eph, err := age.GenerateX25519Identity()
		if err != nil {
			return err
		}
		ids = []age.Identity{eph}
		out := o.Out
		if out == "" {
			out = filepath.Join(dir, "backups")
		}
		say("backing up the database and secrets")
		res, err := backup.Create(ctx, in, backup.CreateOptions{OutDir: out, Recipients: append(rs, eph.Recipient())})
		if err != nil {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("upgrade refused: the backup failed: %w; nothing was changed", err)}
		}
		say("verifying %s by a restore drill", res.File)
		if _, err := backup.Verify(ctx, res.File, backup.VerifyOptions{Identities: ids, HistoryDir: dir}); err != nil {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("upgrade refused: the backup %s did not pass its restore drill: %w; nothing was changed", res.File, err)}
		}
		backupFile = res.File
	}

	// 2. what a rollback needs: the files, the checkout's commit, the image
	snap, err := snapshotInstall(dir, a.Source.Dir)
	if err != nil {
		return err
	}
	webImage := a.Start.Project + "-web:local"
	rollbackTag := a.Start.Project + "-web:calctl-rollback"
	oldImage := ""
	if in.Docker != nil {
		if insp, err := in.Docker.ImageInspect(ctx, webImage); err == nil {
			oldImage = insp.ID
			if err := in.Docker.ImageTag(ctx, oldImage, rollbackTag); err != nil {
				return fmt.Errorf("keep the running image as %s: %w", rollbackTag, err)
			}
		}
	}

	// 3. the install steps on the new ref
	e := &installer.Engine{Sink: sink}
	runErr := e.Run(ctx, installer.InstallPlan(a), newState(a, false))
	if runErr == nil {
		ev.To = o.Ref + " " + shortHash(headCommit(a.Source.Dir))
		if in.Docker != nil && oldImage != "" {
			_, _ = in.Docker.ImageRemove(ctx, rollbackTag, imageRemoveOptions())
		}
		say("upgraded %s -> %s", shortHash(oldCommit), shortHash(headCommit(a.Source.Dir)))
		return nil
	}
	failed := "preflight"
	var sf *contract.StepFailure
	if errors.As(runErr, &sf) {
		failed = sf.Step
	}
	headline, _, _ := strings.Cut(runErr.Error(), "\n")
	headline = strings.TrimSuffix(strings.TrimSuffix(headline, "; last output:"), " last output:")
	if stepIndex(failed) == 0 && ctx.Err() == nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("upgrade stopped at preflight of %s: %s; nothing was changed", o.Ref, headline)}
	}
	// 4. roll back: checkout and files, the image, the database
	rctx := context.Background()
	say("step %s failed: rolling back", failed)
	var problems []string
	if oldCommit != "" {
		old := *a
		old.Source.Ref = oldCommit
		if err := (&installer.Engine{Sink: contract.Tee()}).Run(rctx, []installer.Step{installer.CloneStep()}, newState(&old, false)); err != nil {
			problems = append(problems, "checkout back to "+shortHash(oldCommit)+": "+oneLineErr(err))
		}
	}
	if err := snap.restore(); err != nil {
		problems = append(problems, "files: "+err.Error())
	}
	switched := false
	if in.Docker != nil && oldImage != "" {
		if err := in.Docker.ImageTag(rctx, oldImage, webImage); err != nil {
			problems = append(problems, "image: "+err.Error())
		}
		switched = webRunsOther(rctx, in.Docker, dir, oldImage)
		if switched {
			say("putting the previous image back")
			if err := composeRecreate(rctx, in.Docker, dir, a.Start.Project); err != nil {
				problems = append(problems, "restart on the previous image: "+err.Error())
			}
		}
		_, _ = in.Docker.ImageRemove(rctx, rollbackTag, imageRemoveOptions())
	}
	dbNote := ""
	if stepIndex(failed) >= stepIndex("migrate") {
		switch {
		case backupFile == "":
			dbNote = "; migrations may have run and there is no backup (--no-backup)"
		case o.RollbackDB:
			say("restoring the database from %s (--rollback-db)", backupFile)
			if err := func() error {
				// the containers may have been recreated: find them again
				in2, err := backup.OpenInstall(rctx, dir)
				if err != nil {
					return err
				}
				defer in2.Close()
				_, err = backup.Restore(rctx, in2, backupFile, backup.RestoreOptions{Identities: ids, Yes: true})
				return err
			}(); err != nil {
				problems = append(problems, "database restore: "+oneLineErr(err))
			} else {
				dbNote = "; database restored from " + backupFile
			}
		default:
			dbNote = fmt.Sprintf("; migrations may have run: to undo them `calctl restore %s --dir %s` (with your identity), or re-run with --rollback-db", backupFile, dir)
		}
	}
	if len(problems) > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("upgrade to %s failed at %s (%s) and the rollback is incomplete: %s%s", o.Ref, failed, headline, strings.Join(problems, "; "), dbNote)}
	}
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("upgrade to %s failed at %s (%s); rolled back to %s%s", o.Ref, failed, headline, shortHash(oldCommit), dbNote)}
}

func oneLineErr(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(unknown)"
	}
	return h
}

func headCommit(src string) string {
	r, err := git.PlainOpen(src)
	if err != nil {
		return ""
	}
	h, err := r.Head()
	if err != nil {
		return ""
	}
	return h.Hash().String()
}

// webRunsOther reports whether the install's web container runs an image
// other than id (the switch happened).
func webRunsOther(ctx context.Context, cli *client.Client, dir, id string) bool {
	f := filters.NewArgs(filters.Arg("label", "com.docker.compose.project.working_dir="+dir), filters.Arg("label", "com.docker.compose.service=web"))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return true
	}
	for _, c := range cs {
		if c.ImageID != id {
			return true
		}
	}
	return len(cs) == 0
}

// composeRecreate recreates the app's containers (not the database's) on
// the images their tags name now.
func composeRecreate(ctx context.Context, cli *client.Client, dir, project string) error {
	c, err := preflight.DetectCompose(ctx)
	if err != nil {
		return err
	}
	f := filters.NewArgs(filters.Arg("label", "com.docker.compose.project.working_dir="+dir))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	var services []string
	for _, ct := range cs {
		if s := ct.Labels["com.docker.compose.service"]; s != "" && s != backup.BundledService {
			services = append(services, s)
		}
	}
	args := append(append([]string{}, c.Command[1:]...), "-p", project, "-f", filepath.Join(dir, "docker-compose.yml"), "up", "-d", "--force-recreate", "--no-build", "--no-deps")
	args = append(args, services...)
	cmd := exec.CommandContext(ctx, c.Command[0], args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%v: %s", err, lines[len(lines)-1])
	}
	return nil
}

// installSnapshot holds the install's own files (not the checkout, the
// backups or calctl's history), to put them back byte for byte.
type installSnapshot struct {
	dir   string
	skip  []string
	files map[string]snapFile
}

type snapFile struct {
	data []byte
	mode fs.FileMode
}

func snapshotInstall(dir, src string) (*installSnapshot, error) {
	s := &installSnapshot{dir: dir, files: map[string]snapFile{},
		skip: []string{filepath.Join(dir, "backups"), filepath.Join(dir, ".calctl"), src}}
	err := s.walk(func(p string, info fs.FileInfo) error {
		if info.Size() > 16<<20 {
			return fmt.Errorf("%s is larger than 16 MiB; move it out of the install dir before upgrading", p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.files[p] = snapFile{b, info.Mode().Perm()}
		return nil
	})
	return s, err
}

func (s *installSnapshot) walk(fn func(string, fs.FileInfo) error) error {
	return filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, k := range s.skip {
			if p == k {
				return filepath.SkipDir
			}
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return fn(p, info)
	})
}

// restore removes files the upgrade added and rewrites those it changed.
func (s *installSnapshot) restore() error {
	var extra []string
	err := s.walk(func(p string, info fs.FileInfo) error {
		if _, ok := s.files[p]; !ok {
			extra = append(extra, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range extra {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	for p, f := range s.files {
		cur, err := os.ReadFile(p)
		st, serr := os.Stat(p)
		if err == nil && serr == nil && bytes.Equal(cur, f.data) && st.Mode().Perm() == f.mode {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

func imageRemoveOptions() image.RemoveOptions { return image.RemoveOptions{} }
