package installer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/redact"
)

// writeStep writes the rendered files into install_dir: atomically (temp
// file, fsync, rename), each changed file first copied to
// <name>.bak-<UTC timestamp>, secret files 0600. With --dry-run it emits the
// diff of each file (secrets masked) and writes nothing.
type writeStep struct{}

func (writeStep) Name() string { return "write" }

// Plan lists what the write step would change.
func (writeStep) Plan(s *State) []Change {
	var out []Change
	mask := s.secretValues()
	for _, f := range s.Files {
		p := s.Path(f.Path)
		old, err := os.ReadFile(p)
		st, serr := os.Stat(p)
		switch {
		case err != nil:
			out = append(out, Change{Path: f.Path, Action: "create", Diff: maskFile(f, lineDiff("", string(f.Data)), mask)})
		case !bytes.Equal(old, f.Data):
			out = append(out, Change{Path: f.Path, Action: "update", Diff: maskFile(f, lineDiff(string(old), string(f.Data)), mask)})
		case serr == nil && st.Mode().Perm() != f.Mode.Perm():
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
	vals := []string{s.Secrets.NextAuthSecret.Reveal(), s.Secrets.EncryptionKey.Reveal(), s.Secrets.DatabasePassword.Reveal(),
		s.Env.DatabaseURL.Reveal(), s.Env.SMTPPassword.Reveal(), s.Env.BillingToken.Reveal(), s.Env.SigningSecret.Reveal(), s.Env.GitToken.Reveal()}
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
	stamp := s.now().UTC().Format("20060102T150405Z")
	byPath := map[string]File{}
	for _, f := range s.Files {
		byPath[f.Path] = f
	}
	for _, c := range changes {
		if c.Action == "unchanged" {
			continue
		}
		f := byPath[c.Path]
		p := s.Path(f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return WithRemedy(fmt.Errorf("create %s: %w", filepath.Dir(p), err), "make %s writable", dir)
		}
		if c.Action == "chmod" {
			if err := os.Chmod(p, f.Mode.Perm()); err != nil {
				return fmt.Errorf("chmod %s: %w", p, err)
			}
			s.Emit(Event{Type: EventChange, Path: f.Path, Action: c.Action})
			continue
		}
		if c.Action == "update" {
			bak, err := backup(p, stamp)
			if err != nil {
				return err
			}
			s.Backups = append(s.Backups, bak)
		}
		if err := atomicfile.WriteFile(p, f.Data, f.Mode.Perm()); err != nil {
			return WithRemedy(fmt.Errorf("write %s: %w", p, err), "make %s writable", dir)
		}
		// atomicfile honours the umask on create; secrets must be exactly 0600.
		if err := os.Chmod(p, f.Mode.Perm()); err != nil {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
		s.Written = append(s.Written, f.Path)
		s.Emit(Event{Type: EventChange, Path: f.Path, Action: c.Action})
	}
	return nil
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

// backup copies path to path.bak-<stamp> with the same permissions.
func backup(path, stamp string) (string, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	bak := path + ".bak-" + stamp
	if err := atomicfile.WriteFile(bak, b, st.Mode().Perm()); err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	return bak, os.Chmod(bak, st.Mode().Perm())
}
