package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"filippo.io/age"
	"github.com/go-git/go-git/v5"
	"github.com/jackc/pgx/v5"

	"github.com/calctl/calctl/backup/archive"
	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/backup/pgtool"
	"github.com/calctl/calctl/internal/buildinfo"
)

// FilePrefix starts the name of every backup file calctl writes.
const FilePrefix = "calctl-backup-"

// CreateOptions configure one backup.
type CreateOptions struct {
	// OutDir receives the backup (created 0700 when missing).
	OutDir string
	// Recipients encrypt it (X25519 keys or one scrypt passphrase).
	Recipients []age.Recipient
	// Retain, when > 0, keeps only the newest Retain backups of this
	// install in OutDir after this one succeeded.
	Retain int
	// Progress, when set, receives a progress line now and then.
	Progress func(dumped int64)
	// Now is the clock (tests).
	Now func() time.Time
}

// Result is what a backup produced.
type Result struct {
	// File is the absolute path of the backup written:
	// <out>/calctl-backup-<project or install dir name>-<CreatedAt as
	// 20060102T150405Z>.age.
	File string `json:"file"`
	// Size is the backup file's size in bytes, encrypted, as on disk.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of the whole backup file as on disk.
	SHA256 string `json:"sha256"`
	// Seconds is how long the backup took (wall clock, in seconds).
	Seconds float64 `json:"seconds"`
	// Manifest is the manifest written as the backup's last member.
	Manifest *archive.Manifest `json:"manifest"`
	// Pruned are the absolute paths of older backups of this install that
	// --retain removed from the directory; empty when Retain is 0.
	Pruned []string `json:"pruned,omitempty"`
	// StaleRemoved are temporary files of killed backups removed first.
	StaleRemoved []string `json:"stale_removed,omitempty"`
}

// LockOutDir takes the backup lock of dir (an flock on .calctl-backup.lock,
// released by the kernel when the process dies), so that two backups never
// write to one directory and leftover temporary files are known stale.
func LockOutDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".calctl-backup.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another calctl backup is writing to %s (its lock .calctl-backup.lock is held); wait for it to finish", dir)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
}

// Create makes a backup of the install: row counts and a pg_dump -Fc taken
// in one exported snapshot (consistent while Cal.com keeps running), plus
// the install's secret files, into one encrypted archive.
func Create(ctx context.Context, in *Install, o CreateOptions) (res *Result, err error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	start := now()
	defer func() {
		ev := history.Event{Kind: history.KindBackup, Result: history.ResultOK, Seconds: now().Sub(start).Seconds(), Encrypted: true}
		if err != nil {
			ev.Result, ev.Error = history.ResultFailed, oneLine(err)
		} else {
			ev.File, ev.Size, ev.SHA256 = res.File, res.Size, res.SHA256
			ev.Tables, ev.Rows = len(res.Manifest.Tables), totalRows(res.Manifest.Tables)
		}
		if herr := history.Append(in.Dir, ev); herr != nil && err == nil {
			err = herr
		}
	}()
	if len(o.Recipients) == 0 {
		return nil, errors.New("no encryption key: pass --recipient AGE_PUBLIC_KEY (`calctl backup keygen` makes one) or --passphrase-env VAR; calctl never writes a backup unencrypted")
	}
	out, err := filepath.Abs(o.OutDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	unlock, err := LockOutDir(out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res = &Result{}
	// Holding the lock, every temporary file is a killed backup's.
	stale, _ := filepath.Glob(filepath.Join(out, FilePrefix+"*"+archive.Suffix+archive.TempSuffix))
	for _, s := range stale {
		if os.Remove(s) == nil {
			res.StaleRemoved = append(res.StaleRemoved, s)
		}
	}

	t, err := in.Target(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := in.URL.ConnectConfig(ctx, t.Conn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	// A REPEATABLE READ transaction whose snapshot pg_dump imports
	// (--snapshot, https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION):
	// the counts in the manifest are exactly what the dump holds.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.Background())
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshot); err != nil {
		return nil, fmt.Errorf("export snapshot: %w", err)
	}
	version, major, err := pgtool.ServerVersion(ctx, tx)
	if err != nil {
		return nil, err
	}
	m := &archive.Manifest{Tool: "calctl " + buildinfo.Version, CreatedAt: now().UTC(), InstallDir: in.Dir, Project: in.Project,
		Database: archive.DatabaseInfo{Mode: "external", Name: t.Tools.Database, ServerVersion: version, ServerMajor: major}}
	if in.Bundled {
		m.Database.Mode, m.Database.Image = "bundled", in.Image
	}
	m.CalcomVersion, m.Commit = sourceVersion(in.Dir)

	name := FilePrefix + fileTag(in) + "-" + m.CreatedAt.Format("20060102T150405Z") + archive.Suffix
	res.File = filepath.Join(out, name)
	w, err := archive.Create(res.File, o.Recipients...)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", res.File, err)
	}
	defer w.Abort()

	pr, pw := io.Pipe()
	dumpErr := make(chan error, 1)
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		err := pgtool.Dump(dctx, t.Runner, t.Tools, snapshot, pw)
		pw.CloseWithError(err)
		dumpErr <- err
	}()
	// The row counts scan every table in the same snapshot while pg_dump
	// reads it: they overlap instead of adding a pass before the dump.
	type counted struct {
		tables []pgtool.Table
		err    error
	}
	countsDone := make(chan counted, 1)
	var counting sync.WaitGroup
	counting.Add(1)
	go func() {
		defer counting.Done()
		ts, err := pgtool.Counts(dctx, tx)
		countsDone <- counted{ts, err}
	}()
	// on every way out, the counts stop using the connection before the
	// transaction is rolled back (the defers above run after this one)
	defer func() { cancel(); counting.Wait() }()
	var src io.Reader = pr
	if o.Progress != nil {
		src = &progressReader{r: pr, fn: o.Progress}
	}
	_, addErr := w.AddStream(archive.DumpName, src)
	if addErr != nil {
		pr.CloseWithError(addErr)
		cancel()
	}
	if derr := <-dumpErr; derr != nil {
		if addErr != nil {
			return nil, fmt.Errorf("write %s: %w", w.TempPath(), addErr)
		}
		return nil, fmt.Errorf("pg_dump (in %s): %w", t.Runner.Where(), derr)
	}
	if addErr != nil {
		return nil, fmt.Errorf("write %s: %w", w.TempPath(), addErr)
	}
	c := <-countsDone
	if c.err != nil {
		return nil, fmt.Errorf("count rows: %w", c.err)
	}
	for _, tc := range c.tables {
		m.Tables = append(m.Tables, archive.TableCount{Table: tc.Name, Rows: tc.Rows})
	}
	for _, rel := range Members {
		b, err := os.ReadFile(filepath.Join(in.Dir, rel))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := w.AddBytes(MemberPrefix+rel, b); err != nil {
			return nil, fmt.Errorf("write %s: %w", w.TempPath(), err)
		}
	}
	if err := w.Commit(m); err != nil {
		return nil, fmt.Errorf("write %s: %w", res.File, err)
	}
	_ = tx.Rollback(ctx)
	res.Manifest = m
	res.Size, res.SHA256 = w.FileSum()
	res.Seconds = now().Sub(start).Seconds()
	if o.Retain > 0 {
		res.Pruned, err = Prune(out, fileTag(in), o.Retain)
		if err != nil {
			return res, fmt.Errorf("backup written to %s, but pruning old ones failed: %w", res.File, err)
		}
	}
	return res, nil
}

// fileTag names the install in backup file names: its compose project, or
// its directory's base name.
func fileTag(in *Install) string {
	tag := in.Project
	if tag == "" {
		tag = filepath.Base(in.Dir)
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, tag)
}

// Prune removes all but the newest keep backups of tag in dir (names sort
// by their UTC timestamp). It never touches other files.
func Prune(dir, tag string, keep int) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(dir, FilePrefix+tag+"-*"+archive.Suffix))
	if err != nil {
		return nil, err
	}
	var list []string
	for _, p := range all {
		rest := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), FilePrefix+tag+"-"), archive.Suffix)
		if len(rest) == len("20060102T150405Z") {
			list = append(list, p)
		}
	}
	sort.Strings(list)
	var removed []string
	for len(list) > keep {
		if err := os.Remove(list[0]); err != nil {
			return removed, err
		}
		removed = append(removed, list[0])
		list = list[1:]
	}
	return removed, nil
}

func fileSum(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// sourceVersion reads the Cal.com version (apps/web/package.json) and the
// commit of the checkout in <dir>/src (the default source.dir).
func sourceVersion(dir string) (version, commit string) {
	src := filepath.Join(dir, "src")
	if b, err := os.ReadFile(filepath.Join(src, "apps", "web", "package.json")); err == nil {
		var pj struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(b, &pj) == nil {
			version = pj.Version
		}
	}
	if r, err := git.PlainOpen(src); err == nil {
		if h, err := r.Head(); err == nil {
			commit = h.Hash().String()
		}
	}
	return version, commit
}

func totalRows(ts []archive.TableCount) int64 {
	var n int64
	for _, t := range ts {
		n += t.Rows
	}
	return n
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

type progressReader struct {
	r    io.Reader
	n    int64
	last time.Time
	fn   func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if time.Since(p.last) > 500*time.Millisecond || err != nil {
		p.last = time.Now()
		p.fn(p.n)
	}
	return n, err
}
