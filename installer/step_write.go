package installer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/safefile"
)

// writeStep writes the rendered files into install_dir, all or nothing:
// every changed file is first staged beside its destination (temp file,
// fsync) and every update's old content copied to <name>.bak-<UTC
// timestamp>; only when all of that succeeded are the staged files renamed
// into place. A failure while staging (a full disk) removes what was staged
// and leaves the install exactly as it was. Every path is opened through
// os.Root on install_dir, so a symlinked directory inside it cannot send a
// write elsewhere. Secret files are 0600. With --dry-run it emits the diff
// of each file (secrets masked) and writes nothing.
type writeStep struct{}

func (writeStep) Name() string { return "write" }

// Plan lists what the write step would change.
func (writeStep) Plan(s *State) []Change {
	var out []Change
	mask := s.secretValues()
	root, _ := os.OpenRoot(s.Answers.InstallDir)
	if root != nil {
		defer root.Close()
	}
	for _, f := range s.Files {
		var old []byte
		var st fs.FileInfo
		err := fs.ErrNotExist
		if root != nil {
			if st, err = root.Lstat(f.Path); err == nil && st.Mode().IsRegular() {
				old, err = safefile.ReadIn(root, f.Path, 0) // no FIFO swapped in since the Lstat blocks render
			} else if err == nil {
				err = fmt.Errorf("%s is not a regular file", f.Path)
			}
		}
		switch {
		case err != nil:
			out = append(out, Change{Path: f.Path, Action: "create", Diff: maskFile(f, lineDiff("", string(f.Data)), mask)})
		case !bytes.Equal(old, f.Data):
			out = append(out, Change{Path: f.Path, Action: "update", Diff: maskFile(f, lineDiff(string(old), string(f.Data)), mask)})
		case st.Mode().Perm() != f.Mode.Perm():
			out = append(out, Change{Path: f.Path, Action: "chmod", Diff: fmt.Sprintf("mode %v -> %v\n", st.Mode().Perm(), f.Mode.Perm())})
		default:
			out = append(out, Change{Path: f.Path, Action: "unchanged"})
		}
	}
	return out
}

func maskFile(f File, diff string, secrets []string) string {
	d := Mask(diff, secrets)
	if f.Secret {
		d = maskEnvLines(d)
	}
	return d
}

// secretValues lists every secret value the rendered files may contain.
func (s *State) secretValues() []string {
	vals := []string{s.Secrets.NextAuthSecret.Reveal(), s.Secrets.EncryptionKey.Reveal(), s.Secrets.DatabasePassword.Reveal(), s.Secrets.SuperuserPassword.Reveal(),
		s.Secrets.CronAPIKey.Reveal(), s.Secrets.CronSecret.Reveal(), s.Secrets.LicenseKey.Reveal(), s.Env.LicenseKey.Reveal(), s.Secrets.DBTLS.Key.Reveal(),
		s.Env.DatabaseURL.Reveal(), s.Env.SMTPPassword.Reveal(), s.Env.BillingToken.Reveal(), s.Env.SigningSecret.Reveal(), s.Env.GitToken.Reveal()}
	if u, err := DatabaseURLsFor(s.Answers, s.Env, s.Repo, s.Secrets); err == nil {
		vals = append(vals, u.App, u.Direct, u.Calctl, u.Host)
	}
	return append(vals, redact.URLPasswords(s.Env.DatabaseURL.Reveal())...)
}

func (w writeStep) Run(ctx context.Context, s *State) error {
	changes := w.Plan(s)
	changed := 0
	for _, c := range changes {
		if c.Action != "unchanged" {
			changed++
		}
	}
	if s.DryRun {
		for _, c := range changes {
			if c.Action != "unchanged" { // the plan lists only what would change
				s.Emit(Event{Type: EventChange, Path: c.Path, Action: c.Action, Diff: c.Diff})
			}
		}
		s.Logf("info", "dry run: %d of %d files would change; nothing was written", changed, len(changes))
		return nil
	}
	if changed == 0 {
		s.Logf("info", "all %d files are up to date", len(changes))
		return nil
	}
	dir := s.Answers.InstallDir
	if err := ensureWritableDir(dir); err != nil {
		return WithRemedy(err, "run calctl as a user who can write %s, or choose another install_dir", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return WithRemedy(fmt.Errorf("open install_dir: %w", err), "make %s a directory calctl can open", dir)
	}
	defer root.Close()
	byPath := map[string]File{}
	for _, f := range s.Files {
		byPath[f.Path] = f
	}
	tx := &writeTx{root: root, dir: dir, stamp: s.now().UTC().Format("20060102T150405Z")}
	for _, c := range changes {
		if c.Action == "unchanged" {
			continue
		}
		if err := tx.stage(byPath[c.Path], c.Action); err != nil {
			tx.rollback()
			return writeRemedy(err, dir)
		}
	}
	if err := tx.commit(); err != nil {
		tx.rollback()
		return writeRemedy(err, dir)
	}
	for _, st := range tx.staged {
		s.Written = append(s.Written, st.path)
		s.Emit(Event{Type: EventChange, Path: st.path, Action: st.action})
	}
	s.Backups = append(s.Backups, tx.backups...)
	return nil
}

// writeRemedy names the fix for a failed write: space for a full disk,
// permissions otherwise.
func writeRemedy(err error, dir string) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return WithRemedy(fmt.Errorf("%w; nothing was changed", err), "free space on the file system of %s (df -h %s shows it), then run calctl again", dir, dir)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return WithRemedy(fmt.Errorf("%w; nothing was changed", err), "make %s writable by the user running calctl, or choose another install_dir", dir)
	}
	return WithRemedy(fmt.Errorf("%w; nothing was changed", err), "check %s (a symbolic link inside install_dir that leaves it is refused)", dir)
}

type stagedFile struct {
	path, tmp, action string
	old               string // hard link to the replaced file, for rollback
	mode              os.FileMode
}

// writeTx stages files inside root and renames them into place together.
type writeTx struct {
	root    *os.Root
	dir     string
	stamp   string
	staged  []stagedFile
	backups []string // absolute paths, reported to the user
	created []string // paths created in root (temps, backups, dirs' files) to remove on rollback
	renamed []stagedFile
}

var tmpSeq atomic.Int64

func (tx *writeTx) tmpName(p string) string {
	return path.Join(path.Dir(p), fmt.Sprintf(".%s.calctl-%d-%d", path.Base(p), os.Getpid(), tmpSeq.Add(1)))
}

// writeNew writes data to a new file at p inside root, synced, mode perm.
func (tx *writeTx) writeNew(p string, data []byte, perm os.FileMode) error {
	f, err := tx.root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	tx.created = append(tx.created, p)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	return f.Close()
}

func (tx *writeTx) stage(f File, action string) error {
	p := filepath.ToSlash(f.Path)
	if d := path.Dir(p); d != "." {
		if err := tx.root.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	st := stagedFile{path: p, action: action, mode: f.Mode.Perm()}
	if action == "chmod" {
		tx.staged = append(tx.staged, st)
		return nil
	}
	if action == "update" {
		old, err := safefile.ReadIn(tx.root, p, 0)
		if err != nil {
			return fmt.Errorf("back up %s: %w", p, err)
		}
		ost, err := tx.root.Lstat(p)
		if err != nil {
			return err
		}
		bak := p + ".bak-" + tx.stamp
		if err := tx.writeNew(bak, old, ost.Mode().Perm()); err != nil {
			return fmt.Errorf("back up %s: %w", p, err)
		}
		tx.backups = append(tx.backups, filepath.Join(tx.dir, filepath.FromSlash(bak)))
		st.old = tx.tmpName(p + ".old")
		if err := tx.root.Link(p, st.old); err != nil {
			return fmt.Errorf("keep %s for rollback: %w", p, err)
		}
		tx.created = append(tx.created, st.old)
	}
	st.tmp = tx.tmpName(p)
	if err := tx.writeNew(st.tmp, f.Data, st.mode); err != nil {
		return err
	}
	tx.staged = append(tx.staged, st)
	return nil
}

// commit renames every staged file into place, then drops the rollback
// links and syncs the directories.
func (tx *writeTx) commit() error {
	dirs := map[string]bool{}
	for _, st := range tx.staged {
		if st.action == "chmod" {
			if err := tx.root.Chmod(st.path, st.mode); err != nil {
				return fmt.Errorf("chmod %s: %w", st.path, err)
			}
			continue
		}
		if err := tx.root.Rename(st.tmp, st.path); err != nil {
			return fmt.Errorf("write %s: %w", st.path, err)
		}
		tx.renamed = append(tx.renamed, st)
		dirs[path.Dir(st.path)] = true
	}
	for _, st := range tx.staged {
		if st.old != "" {
			_ = tx.root.Remove(st.old)
		}
	}
	tx.created = nil
	for d := range dirs {
		if err := atomicfile.SyncDir(filepath.Join(tx.dir, filepath.FromSlash(d))); err != nil {
			return err
		}
	}
	return nil
}

// rollback puts back what commit replaced and removes everything staged.
func (tx *writeTx) rollback() {
	for i := len(tx.renamed) - 1; i >= 0; i-- {
		st := tx.renamed[i]
		if st.old != "" {
			_ = tx.root.Rename(st.old, st.path)
		} else {
			_ = tx.root.Remove(st.path)
		}
	}
	for _, p := range tx.created {
		_ = tx.root.Remove(p)
	}
	tx.backups = nil
}

// ensureWritableDir creates dir if needed and proves it writable before a
// single file is written, so an unwritable install_dir leaves nothing behind.
func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create install_dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".calctl-probe-*")
	if err != nil {
		return fmt.Errorf("install_dir %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
