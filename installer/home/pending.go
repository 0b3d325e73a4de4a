package home

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// PendingDir is where a run keeps its answers and log until the install
// directory exists: a run that fails before creating it (a preflight
// error) leaves the install directory absent — "nothing was changed" —
// and still keeps what the user typed. It lives next to the list of
// installs: <state>/pending/<name>-<hash of the install dir>.
func PendingDir(getenv func(string) string, dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs))
	name := strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, filepath.Base(abs)), "_")
	return filepath.Join(filepath.Dir(InstallsFile(getenv)), "pending", name+"-"+hex.EncodeToString(sum[:4]))
}

// Settle moves what a run kept in pending (answers, last run, logs) into
// the install directory dir when dir exists, and returns where they are
// now. When dir does not exist they stay in pending.
func Settle(pending, dir string) (string, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return pending, nil
	}
	var errs []error
	move := func(rel string) {
		src, dst := filepath.Join(pending, rel), filepath.Join(dir, rel)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			errs = append(errs, err)
			return
		}
		if err := moveFile(src, dst); err != nil {
			errs = append(errs, err)
		}
	}
	move(AnswersFile)
	logs, _ := filepath.Glob(filepath.Join(pending, LogDir, "*.log"))
	for _, l := range logs {
		move(filepath.Join(LogDir, filepath.Base(l)))
	}
	if r, err := LoadLastRun(pending); err == nil {
		if r.Log != "" {
			r.Log = filepath.Join(dir, LogDir, filepath.Base(r.Log))
		}
		if err := SaveLastRun(dir, r); err != nil {
			errs = append(errs, err)
		}
		_ = os.Remove(filepath.Join(pending, LastRunFile))
	}
	_ = os.Remove(filepath.Join(pending, LogDir))
	_ = os.Remove(pending)
	return dir, errors.Join(errs...)
}

// moveFile renames src to dst, or copies (keeping the mode) and removes
// src when they are on different file systems.
func moveFile(src, dst string) error {
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Remove(src)
}

// SavedAnswers finds the answers a run kept for the install in dir: in dir,
// else in its pending directory. It returns the file, or "" when none.
func SavedAnswers(getenv func(string) string, dir string) string {
	for _, p := range []string{filepath.Join(dir, AnswersFile), filepath.Join(PendingDir(getenv, dir), AnswersFile)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
