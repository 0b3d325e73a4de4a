package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/safefile"
)

func collectBackup(ctx context.Context, f *checks.Facts, o Options) error {
	hist := ""
	if o.Dir != "" {
		if _, err := os.Stat(history.Path(o.Dir)); err == nil {
			hist = history.Path(o.Dir)
		}
	}
	if o.BackupDir == "" && o.ContingencyFile == "" && hist == "" {
		return skipf("no --backup-dir, no contingency.yaml and no calctl backup history")
	}
	b := &checks.BackupFacts{Dir: o.BackupDir}
	f.Backup = b
	if o.ContingencyFile != "" {
		if err := readContingency(o.ContingencyFile, b); err != nil {
			return err
		}
	}
	if hist != "" {
		if err := readHistory(hist, b); err != nil {
			return err
		}
	}
	if b.Dir == "" {
		return nil
	}
	o.BackupDir = b.Dir
	st, err := os.Stat(o.BackupDir)
	if err != nil {
		return err
	}
	b.DirMode = uint32(st.Mode().Perm())
	var newest string
	var newestInfo fs.FileInfo
	err = filepath.WalkDir(o.BackupDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || ctx.Err() != nil {
			return err
		}
		if d.IsDir() {
			if strings.Count(strings.TrimPrefix(p, o.BackupDir), string(os.PathSeparator)) > 3 {
				return filepath.SkipDir
			}
			if isResticRepo(p) {
				b.Files++
				info, _ := d.Info()
				if newestInfo == nil || info.ModTime().After(newestInfo.ModTime()) {
					newest, newestInfo = p, info
				}
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		if n := d.Name(); strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".tmp") {
			return nil // lock files and unfinished backups are not backups
		}
		b.Files++
		if newestInfo == nil || info.ModTime().After(newestInfo.ModTime()) {
			newest, newestInfo = p, info
		}
		return nil
	})
	if err != nil {
		return err
	}
	if newestInfo == nil {
		return nil
	}
	bf := &checks.BackupFile{Path: newest, ModTime: newestInfo.ModTime().UTC(), Size: newestInfo.Size(), Mode: uint32(newestInfo.Mode().Perm())}
	if newestInfo.IsDir() {
		bf.Format, bf.Encrypted = "restic-repo", true
	} else {
		bf.Format, bf.Encrypted = SniffBackup(newest)
	}
	if dataDir := localDataDir(f); dataDir != "" {
		if a, b2 := devOf(newest), devOf(dataDir); a != 0 && b2 != 0 {
			same := a == b2
			bf.SameDevice = &same
		}
	}
	b.Newest = bf
	return nil
}

func isResticRepo(dir string) bool {
	_, e1 := os.Stat(filepath.Join(dir, "config"))
	_, e2 := os.Stat(filepath.Join(dir, "keys"))
	return e1 == nil && e2 == nil
}

func localDataDir(f *checks.Facts) string {
	if f.PG != nil && f.PG.Local && f.PG.DataDirectory != "" {
		if _, err := os.Stat(f.PG.DataDirectory); err == nil {
			return f.PG.DataDirectory
		}
	}
	return ""
}

func devOf(p string) uint64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Dev)
	}
	return 0
}

// SniffBackup reads the first bytes of a backup (through gzip) and names its
// format and whether it is encrypted.
func SniffBackup(path string) (format string, encrypted bool) {
	fh, _, err := safefile.Open(path, safefile.Options{}) // never blocks on a FIFO in the backup dir
	if err != nil {
		return "unreadable", false
	}
	defer fh.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(fh, head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		if _, err := fh.Seek(0, io.SeekStart); err == nil {
			if zr, err := gzip.NewReader(fh); err == nil {
				inner := make([]byte, 64)
				m, _ := io.ReadFull(zr, inner)
				f, e := sniff(inner[:m])
				return "gzip+" + f, e
			}
		}
	}
	return sniff(head)
}

func sniff(h []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(h, []byte("PGDMP")):
		return "pgdump-custom", false
	case bytes.HasPrefix(h, []byte("age-encryption.org/v1")):
		return "age", true
	case bytes.HasPrefix(h, []byte("-----BEGIN AGE ENCRYPTED FILE-----")):
		return "age-armor", true
	case bytes.HasPrefix(h, []byte("-----BEGIN PGP MESSAGE-----")):
		return "openpgp-armor", true
	case len(h) > 0 && h[0]&0x80 != 0 && openPGPTag(h[0]) != 0:
		return "openpgp", true
	case bytes.Contains(h, []byte("PostgreSQL database dump")) || bytes.HasPrefix(h, []byte("--\n")) || bytes.HasPrefix(h, []byte("-- ")):
		return "sql", false
	case bytes.HasPrefix(h, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd", false
	}
	return "unknown", false
}

// openPGPTag returns the packet tag of an encrypted-session-key or
// encrypted-data packet, else 0.
func openPGPTag(b byte) int {
	var tag int
	if b&0x40 != 0 {
		tag = int(b & 0x3f)
	} else {
		tag = int(b&0x3c) >> 2
	}
	switch tag {
	case 1, 3, 9, 18, 20:
		return tag
	}
	return 0
}

// readHistory takes calctl's own evidence from the install's history:
// the directory of its newest successful backup (when no --backup-dir was
// given), its newest passed restore drill (when newer than contingency.yaml)
// and failures newer than the last success.
func readHistory(path string, b *checks.BackupFacts) error {
	events, err := history.ReadFile(path)
	if err != nil {
		return err
	}
	b.History = path
	if ok, found := history.Last(events, history.KindBackup, history.ResultOK); found {
		if b.Dir == "" && ok.File != "" {
			if _, err := os.Stat(filepath.Dir(ok.File)); err == nil {
				b.Dir = filepath.Dir(ok.File)
			}
		}
		if bad, found := history.Last(events, history.KindBackup, history.ResultFailed); found && bad.Time.After(ok.Time) {
			t := bad.Time.UTC()
			b.LastBackupFailedAt, b.LastBackupError = &t, bad.Error
		}
	} else if bad, found := history.Last(events, history.KindBackup, history.ResultFailed); found {
		t := bad.Time.UTC()
		b.LastBackupFailedAt, b.LastBackupError = &t, bad.Error
	}
	drill, passed := history.Last(events, history.KindVerify, history.ResultOK)
	if passed && (b.RestoreTestedAt == nil || drill.Time.After(*b.RestoreTestedAt)) {
		t := drill.Time.UTC()
		b.RestoreTestedAt, b.RestoreTestedBy, b.ContingencyFile = &t, drill.By+" (calctl backup verify "+filepath.Base(drill.File)+")", path
	}
	if bad, found := history.Last(events, history.KindVerify, history.ResultFailed); found && (!passed || bad.Time.After(drill.Time)) {
		t := bad.Time.UTC()
		b.LastDrillFailedAt, b.LastDrillError = &t, bad.Error
	}
	return nil
}

type contingency struct {
	LastRestoreTest string `yaml:"last_restore_test"`
	By              string `yaml:"by"`
}

func readContingency(path string, b *checks.BackupFacts) error {
	raw, err := readRegular(path, 1<<20)
	if err != nil {
		return err
	}
	var c contingency
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return err
	}
	b.ContingencyFile = path
	if c.LastRestoreTest != "" {
		t, err := time.Parse("2006-01-02", c.LastRestoreTest)
		if err != nil {
			return err
		}
		b.RestoreTestedAt, b.RestoreTestedBy = &t, c.By
	}
	return nil
}
