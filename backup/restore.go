package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/docker/docker/api/types/container"
	"github.com/jackc/pgx/v5"

	"github.com/calctl/calctl/backup/archive"
	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/backup/pgtool"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/atomicfile"
	"github.com/calctl/calctl/internal/database"
	"github.com/calctl/calctl/internal/dotenv"
)

// RestoreOptions configure a restore.
type RestoreOptions struct {
	// Identities decrypt the backup: the age keys of the --identity file
	// (default $CALCTL_BACKUP_IDENTITY) or the scrypt identity of
	// --passphrase-env.
	Identities []age.Identity
	// Confirm asks the operator; nil (no terminal) refuses what needs
	// asking unless Yes.
	Confirm func(question string) bool
	// Yes answers every question yes (--yes).
	Yes bool
	// Say receives progress lines (a terminal only); Note the lines an
	// operator must always see (which secrets differ, warnings).
	Say, Note func(format string, a ...any)
	// HealthTimeout bounds the wait for the app after the start.
	HealthTimeout time.Duration
}

// SecretChange is one secret that differs between the install and the
// backup. Values are never kept: only short SHA-256 fingerprints.
type SecretChange struct {
	// File is the install file concerned, relative to the install directory:
	// .env, cron/cron.env, agent/token or agent/signing_secret.
	File string `json:"file"`
	// Key is the env key that differs, for an env file; empty for a file
	// compared whole.
	Key string `json:"key,omitempty"`
	// Change is "differs", "only in backup" or "only here".
	Change string `json:"change"`
	// Current is the fingerprint of this install's value ("sha256:" and the
	// first 8 hex digits of its SHA-256); empty when the secret is only in the
	// backup.
	Current string `json:"current,omitempty"`
	// Backup is the fingerprint of the backup's value, in the same form; empty
	// when the secret is only here.
	Backup string `json:"backup,omitempty"`
}

// String describes the change with fingerprints only.
func (c SecretChange) String() string {
	what := c.File
	if c.Key != "" {
		what = c.File + " " + c.Key
	}
	switch c.Change {
	case "only in backup":
		return fmt.Sprintf("%s: only in the backup (%s)", what, c.Backup)
	case "only here":
		return fmt.Sprintf("%s: only in this install (%s), kept", what, c.Current)
	}
	return fmt.Sprintf("%s: this install %s, backup %s", what, c.Current, c.Backup)
}

// fingerprint masks a secret: the first 8 hex digits of its SHA-256.
func fingerprint(v string) string {
	s := sha256.Sum256([]byte(v))
	return "sha256:" + hex.EncodeToString(s[:4])
}

// secretEnvFiles are the env files whose secret keys a restore brings back;
// db.env and the DATABASE_* keys belong to the database server this
// install runs, not to the backup, and are kept.
var secretEnvFiles = []string{".env", "cron/cron.env"}

// secretFiles are restored whole.
var secretFiles = []string{"agent/token", "agent/signing_secret"}

// IsSecretKey reports whether an env key holds a secret that must follow
// the data: CALENDSO_ENCRYPTION_KEY decrypts stored credentials,
// NEXTAUTH_SECRET signs sessions (calcom-facts.md §3), and the cron and
// VAPID keys pair with what clients hold.
func IsSecretKey(k string) bool {
	K := strings.ToUpper(k)
	if strings.HasPrefix(K, "DATABASE_") || strings.HasPrefix(K, "POSTGRES_") {
		return false
	}
	for _, s := range []string{"SECRET", "KEY", "PASSWORD", "TOKEN"} {
		if strings.Contains(K, s) {
			return true
		}
	}
	return false
}

// SecretChanges compares the install's secrets with the backup's files and
// returns the changes and the new file contents to write.
func SecretChanges(dir string, backup map[string][]byte) ([]SecretChange, map[string][]byte, error) {
	var changes []SecretChange
	writes := map[string][]byte{}
	for _, rel := range secretEnvFiles {
		b, ok := backup[rel]
		if !ok {
			continue
		}
		bf, err := dotenv.Parse(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s in the backup: %w", rel, err)
		}
		cur, err := os.ReadFile(filepath.Join(dir, rel))
		if errors.Is(err, os.ErrNotExist) {
			cur = nil
		} else if err != nil {
			return nil, nil, err
		}
		cf, err := dotenv.Parse(cur)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, rel), err)
		}
		bm, cm := bf.Map(), cf.Map()
		keys := make([]string, 0, len(bm))
		for k := range bm {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		changed := false
		for _, k := range keys {
			if !IsSecretKey(k) {
				continue
			}
			cv, has := cm[k]
			switch {
			case !has:
				changes = append(changes, SecretChange{File: rel, Key: k, Change: "only in backup", Backup: fingerprint(bm[k])})
			case cv != bm[k]:
				changes = append(changes, SecretChange{File: rel, Key: k, Change: "differs", Current: fingerprint(cv), Backup: fingerprint(bm[k])})
			default:
				continue
			}
			if err := cf.Set(k, bm[k]); err != nil {
				return nil, nil, err
			}
			changed = true
		}
		for k, v := range cm {
			if _, ok := bm[k]; !ok && IsSecretKey(k) {
				changes = append(changes, SecretChange{File: rel, Key: k, Change: "only here", Current: fingerprint(v)})
			}
		}
		if changed {
			writes[rel] = cf.Bytes()
		}
	}
	for _, rel := range secretFiles {
		b, ok := backup[rel]
		if !ok {
			continue
		}
		cur, err := os.ReadFile(filepath.Join(dir, rel))
		if err == nil && bytes.Equal(cur, b) {
			continue
		}
		c := SecretChange{File: rel, Change: "differs", Backup: fingerprint(string(b))}
		if err != nil {
			c.Change = "only in backup"
		} else {
			c.Current = fingerprint(string(cur))
		}
		changes = append(changes, c)
		writes[rel] = b
	}
	return changes, writes, nil
}

// RestoreResult is a restore's outcome.
type RestoreResult struct {
	// File is the absolute path of the backup restored.
	File string `json:"file"`
	// Manifest is the backup's manifest once every member's hash checked; nil
	// when the file could not be opened, decrypted or checked.
	Manifest *archive.Manifest `json:"manifest"`
	// Secrets are the secrets that differ between the install and the backup
	// (fingerprints only); once confirmed, the restore writes the backup's
	// values and keeps the secrets only here. Empty when they are equal or
	// the restore stopped before comparing them.
	Secrets []SecretChange `json:"secrets"`
	// Seconds is how long the restore took (wall clock, in seconds), failed
	// ones included.
	Seconds float64 `json:"seconds"`
}

// ErrDeclined means the operator said no; nothing was changed.
var ErrDeclined = errors.New("restore declined; nothing was changed")

// Restore replaces the install's database and secrets with the backup's:
// it checks the whole file first, shows which secrets differ and asks,
// stops the app, restores the dump (for the bundled database into a new
// database swapped in only after its row counts match the manifest; for an
// external one in a single transaction), runs the migration guard, writes
// the secrets, starts the app and waits for it.
func Restore(ctx context.Context, in *Install, path string, o RestoreOptions) (res *RestoreResult, err error) {
	say, note := o.Say, o.Note
	if say == nil {
		say = func(string, ...any) {}
	}
	if note == nil {
		note = say
	}
	start := time.Now()
	abs, _ := filepath.Abs(path)
	res = &RestoreResult{File: abs}
	changed := false
	defer func() {
		res.Seconds = time.Since(start).Seconds()
		if !changed && err != nil {
			return // nothing happened worth a line: a refused or unreadable file
		}
		ev := history.Event{Kind: history.KindRestore, Result: history.ResultOK, File: abs, Seconds: res.Seconds, Encrypted: true}
		if err != nil {
			ev.Result, ev.Error = history.ResultFailed, oneLine(err)
		} else {
			ev.Tables, ev.Rows = len(res.Manifest.Tables), totalRows(res.Manifest.Tables)
		}
		if herr := history.Append(in.Dir, ev); herr != nil && err == nil {
			err = herr
		}
	}()
	say("checking every member's SHA-256")
	m, files, err := Check(path, o.Identities)
	if err != nil {
		return res, err
	}
	res.Manifest = m
	changes, writes, err := SecretChanges(in.Dir, files)
	if err != nil {
		return res, err
	}
	res.Secrets = changes
	ask := func(q string) bool {
		if o.Yes {
			return true
		}
		return o.Confirm != nil && o.Confirm(q)
	}
	if len(changes) == 0 {
		note("secrets: the backup's equal this install's")
	} else {
		note("secrets that differ (values masked as SHA-256 fingerprints):")
		for _, c := range changes {
			note("  %s", c)
		}
	}
	q := fmt.Sprintf("Replace database %q of %s with the backup of %s (%d tables)", m.Database.Name, in.Dir, m.CreatedAt.Format(time.RFC3339), len(m.Tables))
	if len(writes) > 0 {
		q += fmt.Sprintf(" and write the backup's secrets into %d file(s)", len(writes))
	}
	if !ask(q + "?") {
		if o.Confirm == nil && !o.Yes {
			return res, errors.New("restore replaces the database and secrets: confirm on a terminal or pass --yes; nothing was changed")
		}
		return res, ErrDeclined
	}
	t, err := in.Target(ctx)
	if err != nil {
		return res, err
	}
	stopped, err := in.stopApp(ctx, say)
	if err != nil {
		return res, err
	}
	changed = true
	started := false
	defer func() {
		if !started && len(stopped) > 0 {
			// leave the app as it was found: running, on the old data when
			// the restore failed before the swap
			for _, id := range stopped {
				_ = in.Docker.ContainerStart(context.Background(), id, container.StartOptions{})
			}
		}
	}()
	if err := restoreDB(ctx, in, t, path, o.Identities, m, say, note); err != nil {
		return res, err
	}
	if err := MigrationGuard(ctx, in.URL, t.Conn); err != nil {
		note("warning: %v", err)
	}
	for rel, b := range writes {
		p := filepath.Join(in.Dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return res, err
		}
		if err := atomicfile.WriteFile(p, b, 0o600); err != nil {
			return res, err
		}
		say("wrote %s", p)
	}
	if in.Compose {
		say("starting the app")
		if err := in.composeUp(ctx); err != nil {
			return res, err
		}
		started = true
		timeout := o.HealthTimeout
		if timeout == 0 {
			timeout = 5 * time.Minute
		}
		if err := in.waitHealthy(ctx, timeout); err != nil {
			return res, err
		}
	} else {
		note("the database and secrets are restored; restart the app (pm2 reload ecosystem.config.js --update-env)")
	}
	return res, nil
}

func restoreDB(ctx context.Context, in *Install, t *Target, path string, ids []age.Identity, m *archive.Manifest, say, note func(string, ...any)) error {
	stream := func(p pgtool.Params, clean bool) error {
		_, err := archive.Read(path, ids, func(name string, body io.Reader) error {
			if name != archive.DumpName {
				return nil
			}
			if err := pgtool.Restore(ctx, t.Runner, p, clean, body); err != nil {
				return fmt.Errorf("pg_restore (in %s): %w", t.Runner.Where(), err)
			}
			return nil
		})
		return err
	}
	countsMatch := func(db string, extraOK bool) error {
		cfg := t.Conn.Copy()
		cfg.Database = db
		conn, err := in.URL.ConnectConfig(ctx, cfg)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		got, err := pgtool.Counts(ctx, conn)
		if err != nil {
			return err
		}
		diff, extra := compareCounts(m.Tables, got)
		if !extraOK {
			diff = append(diff, extra...)
		} else if len(extra) > 0 {
			note("warning: tables that are not in the backup were left as they are: %s (a newer migration's?)", strings.Join(extra, ", "))
		}
		if len(diff) > 0 {
			return fmt.Errorf("restored row counts differ from the manifest: %s", strings.Join(diff, ", "))
		}
		return nil
	}
	target := t.Tools.Database
	if !in.Bundled {
		// An external server: the role may not create databases (RDS), so
		// restore over the database in one transaction — all or nothing.
		say("restoring into %s (one transaction)", target)
		if err := stream(t.Tools, true); err != nil {
			return err
		}
		return countsMatch(target, true)
	}
	// The bundled server: restore into a new database and swap it in only
	// when complete and counted; the old one stays until then.
	admin := t.Conn.Copy()
	admin.Database = "postgres"
	if user, password, ok := in.superuser(); ok {
		// Creating, renaming and dropping databases needs the superuser:
		// the app role of a hardened install is NOCREATEDB (PG-006).
		admin.User, admin.Password = user, password
	}
	conn, err := in.URL.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to the bundled server as %s: %w", admin.User, err)
	}
	defer conn.Close(context.Background())
	tmp, old := target+"_calctl_restore", target+"_calctl_previous"
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	for _, db := range []string{tmp, old} {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+id(db)+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+id(tmp)+" OWNER "+id(t.Tools.User)); err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	say("restoring into a new database %s", tmp)
	p := t.Tools
	p.Database = tmp
	if err := stream(p, false); err != nil {
		_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+id(tmp)+" WITH (FORCE)")
		return err
	}
	if err := countsMatch(tmp, false); err != nil {
		_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+id(tmp)+" WITH (FORCE)")
		return err
	}
	say("row counts match the manifest; swapping %s in", tmp)
	// DROP DATABASE ... WITH (FORCE) is PostgreSQL 13+, the minimum Cal.com
	// supports (calcom-facts.md §6).
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", target); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+id(target)+" RENAME TO "+id(old)); err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+id(tmp)+" RENAME TO "+id(target)); err != nil {
		_, _ = conn.Exec(context.Background(), "ALTER DATABASE "+id(old)+" RENAME TO "+id(target))
		return fmt.Errorf("swap: %w", err)
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE "+id(old)+" WITH (FORCE)"); err != nil {
		say("warning: the previous database is kept as %s: %v", old, err) // progress-only: the swap succeeded
	}
	return nil
}

// MigrationGuard fails when _prisma_migrations has a failed migration
// (started, not finished, not rolled back): `prisma migrate deploy` then
// stops with P3009 (calcom-facts.md §7 row 9, §8). cfg is u.Config's (maybe
// aimed elsewhere); a failed connection is explained (database.Explain).
func MigrationGuard(ctx context.Context, u *database.URL, cfg *pgx.ConnConfig) error {
	conn, err := u.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('public._prisma_migrations') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return err
	}
	rows, err := conn.Query(ctx, `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at`)
	if err != nil {
		return err
	}
	var failed []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			failed = append(failed, n)
		}
	}
	rows.Close()
	if len(failed) > 0 {
		return fmt.Errorf("failed Prisma migration(s) %s: `prisma migrate deploy` will stop with P3009; after fixing the cause run `yarn prisma migrate resolve --rolled-back %s` (or --applied) in packages/prisma", strings.Join(failed, ", "), failed[0])
	}
	return nil
}

// stopApp stops the running containers of the install's project except the
// database, and returns their IDs.
func (in *Install) stopApp(ctx context.Context, say func(string, ...any)) ([]string, error) {
	if !in.Compose {
		return nil, nil
	}
	cs, err := in.Containers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cs {
		if c.Labels[labelService] == BundledService || c.State != "running" {
			continue
		}
		say("stopping %s", strings.TrimPrefix(firstName(c.Names), "/"))
		if err := in.Docker.ContainerStop(ctx, c.ID, container.StopOptions{}); err != nil {
			return ids, fmt.Errorf("stop %s: %w", firstName(c.Names), err)
		}
		ids = append(ids, c.ID)
	}
	return ids, nil
}

func firstName(n []string) string {
	if len(n) > 0 {
		return n[0]
	}
	return ""
}

// composeUp runs `docker compose -p PROJECT -f docker-compose.yml up -d`
// in the install dir: containers whose env files changed are recreated.
func (in *Install) composeUp(ctx context.Context) error {
	c, err := preflight.DetectCompose(ctx)
	if err != nil {
		return err
	}
	args := append([]string{}, c.Command[1:]...)
	if in.Project != "" {
		args = append(args, "-p", in.Project)
	}
	args = append(args, "-f", filepath.Join(in.Dir, "docker-compose.yml"), "up", "-d")
	cmd := exec.CommandContext(ctx, c.Command[0], args...)
	cmd.Dir = in.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s up -d: %v: %s", strings.Join(c.Command, " "), err, lastLines(string(out), 3))
	}
	return nil
}

// waitHealthy waits until every container of the project runs and those
// with a healthcheck are healthy.
func (in *Install) waitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		cs, err := in.Containers(ctx)
		if err != nil {
			return err
		}
		var bad []string
		for _, c := range cs {
			insp, err := in.Docker.ContainerInspect(ctx, c.ID)
			if err != nil || insp.State == nil {
				bad = append(bad, firstName(c.Names)+" (gone)")
				continue
			}
			switch {
			case !insp.State.Running:
				bad = append(bad, firstName(c.Names)+" "+insp.State.Status)
			case insp.State.Health != nil && insp.State.Health.Status != "healthy":
				bad = append(bad, firstName(c.Names)+" "+insp.State.Health.Status)
			}
		}
		if len(bad) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after the restore, not healthy within %s: %s (docker compose logs)", timeout, strings.Join(bad, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
