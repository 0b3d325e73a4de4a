package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/calctl/calctl/backup"
	"github.com/calctl/calctl/backup/archive"
)

// keyFlags say how a backup is encrypted or opened.
type keyFlags struct {
	Recipient     string
	Identity      string
	PassphraseEnv string
}

func (k *keyFlags) bindEncrypt(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.Recipient, "recipient", "", "age public key(s) to encrypt to, comma-separated (default $CALCTL_BACKUP_RECIPIENT; `calctl backup keygen` makes one)")
	cmd.Flags().StringVar(&k.PassphraseEnv, "passphrase-env", "", "encrypt with the passphrase in this environment variable (age scrypt) instead of a key")
}

func (k *keyFlags) bindDecrypt(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.Identity, "identity", "", "age identity file that opens the backup (default $CALCTL_BACKUP_IDENTITY)")
	cmd.Flags().StringVar(&k.PassphraseEnv, "passphrase-env", "", "open a passphrase backup with the passphrase in this environment variable")
}

func (k *keyFlags) recipients(getenv func(string) string) ([]age.Recipient, error) {
	if k.Recipient != "" && k.PassphraseEnv != "" {
		return nil, usageErrorf("--recipient and --passphrase-env: give one")
	}
	if k.PassphraseEnv != "" {
		r, _, err := k.passphrase(getenv)
		if err != nil {
			return nil, err
		}
		return []age.Recipient{r}, nil
	}
	rec := k.Recipient
	if rec == "" {
		rec = getenv("CALCTL_BACKUP_RECIPIENT")
	}
	if rec == "" {
		return nil, usageErrorf("no encryption key: pass --recipient AGE_PUBLIC_KEY (make one with `calctl backup keygen`) or --passphrase-env VAR; calctl never writes a backup unencrypted")
	}
	rs, err := archive.Recipients(rec)
	if err != nil {
		return nil, usageErrorf("--recipient: %v", err)
	}
	return rs, nil
}

func (k *keyFlags) passphrase(getenv func(string) string) (age.Recipient, age.Identity, error) {
	v := getenv(k.PassphraseEnv)
	if v == "" {
		return nil, nil, usageErrorf("--passphrase-env %s: that environment variable is empty or unset", k.PassphraseEnv)
	}
	r, id, err := archive.Passphrase(v)
	if err != nil {
		return nil, nil, usageErrorf("--passphrase-env %s: %v", k.PassphraseEnv, err)
	}
	return r, id, nil
}

func (k *keyFlags) identities(getenv func(string) string) ([]age.Identity, error) {
	if k.Identity != "" && k.PassphraseEnv != "" {
		return nil, usageErrorf("--identity and --passphrase-env: give one")
	}
	if k.PassphraseEnv != "" {
		_, id, err := k.passphrase(getenv)
		if err != nil {
			return nil, err
		}
		return []age.Identity{id}, nil
	}
	p := k.Identity
	if p == "" {
		p = getenv("CALCTL_BACKUP_IDENTITY")
	}
	if p == "" {
		return nil, usageErrorf("no key to open the backup: pass --identity FILE (the file `calctl backup keygen` wrote) or --passphrase-env VAR")
	}
	ids, err := archive.IdentitiesFile(p)
	if err != nil {
		return nil, usageErrorf("--identity: %v", err)
	}
	return ids, nil
}

// installDir is the install backup, restore and upgrade aim at:
// locateInstall with their --dir, saying which install it took when --dir
// was not given.
func installDir(f *Factory, dir string) (string, error) {
	in, err := locateInstall(f.getenv, "--dir DIR", dir, nil)
	if err != nil {
		return "", err
	}
	in.announce(f.IO.Err, "--dir DIR")
	return in.Dir, nil
}

// backupError turns archive errors into one line with what to do.
func backupError(path string, err error) error {
	switch {
	case errors.Is(err, archive.ErrWrongKey):
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: %v; pass the identity file or passphrase it was made with", path, err)}
	case errors.Is(err, archive.ErrNotBackup):
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: %v", path, err)}
	case errors.Is(err, archive.ErrCorrupt):
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: %v; use another backup (calctl backup verify checks one)", path, err)}
	case errors.Is(err, os.ErrNotExist):
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: no such file", path)}
	}
	return err
}

type backupOptions struct {
	IO      IO
	Factory *Factory
	Dir     string
	Out     string
	Keys    keyFlags
	Retain  int
	Output  string
}

func newBackupCmd(f *Factory) *cobra.Command {
	opts := &backupOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back up the database, secrets and answers into one encrypted file",
		Long: `backup writes a consistent pg_dump -Fc of the Cal.com database (taken while
Cal.com runs), the install's secrets (.env, db.env, the agent's and cron
runner's keys) and answers into one age-encrypted file with a manifest of
row counts and SHA-256 sums. The file appears under its final name only
when complete; mode 0600. Without the secrets a Cal.com backup cannot be
used (CALENDSO_ENCRYPTION_KEY decrypts stored credentials), so they travel
with it, encrypted.`,
		Example: `  calctl backup keygen --out /root/calctl-backup.key     # once; keep the key off this host
  calctl backup --dir /opt/calcom --recipient age1... --out /mnt/backups --retain 14
  calctl backup verify /mnt/backups/calctl-backup-calcom-20261207T030000Z.age --identity /root/calctl-backup.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBackup(cmd.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", installDirUsage)
	cmd.Flags().StringVar(&opts.Out, "out", "", "directory for the backup (default <dir>/backups)")
	opts.Keys.bindEncrypt(cmd)
	cmd.Flags().IntVar(&opts.Retain, "retain", 0, "after a successful backup keep only the newest N of this install in --out (0: keep all)")
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	cmd.AddCommand(newBackupVerifyCmd(f), newBackupKeygenCmd(f))
	return cmd
}

func runBackup(ctx context.Context, o *backupOptions) error {
	if o.Retain < 0 {
		return usageErrorf("--retain %d: want 0 (keep all) or more", o.Retain)
	}
	rs, err := o.Keys.recipients(o.Factory.getenv)
	if err != nil {
		return err
	}
	dir, err := installDir(o.Factory, o.Dir)
	if err != nil {
		return err
	}
	in, err := backup.OpenInstall(ctx, dir)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	defer in.Close()
	out := o.Out
	if out == "" {
		out = filepath.Join(in.Dir, "backups")
	}
	co := backup.CreateOptions{OutDir: out, Recipients: rs, Retain: o.Retain}
	if o.IO.IsTerminal {
		co.Progress = func(n int64) { fmt.Fprintf(o.IO.Err, "\rbackup: %s dumped ", humanBytes(n)) }
	}
	res, err := backup.Create(ctx, in, co)
	if o.IO.IsTerminal {
		fmt.Fprint(o.IO.Err, "\r\033[K")
	}
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("backup failed: %w", err)}
	}
	for _, s := range res.StaleRemoved {
		fmt.Fprintf(o.IO.Err, "removed %s (left by a backup that did not finish)\n", s)
	}
	for _, p := range res.Pruned {
		fmt.Fprintf(o.IO.Err, "pruned %s (--retain %d)\n", p, o.Retain)
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, res)
	}
	fmt.Fprintf(o.IO.Err, "backup: %d tables, %d rows, %s in %.1fs (database %s %s)\n", len(res.Manifest.Tables), sumRows(res.Manifest), humanBytes(res.Size), res.Seconds, res.Manifest.Database.Mode, res.Manifest.Database.ServerVersion)
	fmt.Fprintln(o.IO.Out, res.File)
	return nil
}

func sumRows(m *archive.Manifest) int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type backupVerifyOptions struct {
	IO      IO
	Factory *Factory
	Dir     string
	Keys    keyFlags
	Scratch string
	Output  string
}

func newBackupVerifyCmd(f *Factory) *cobra.Command {
	opts := &backupVerifyOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Restore drill: check a backup's hashes, restore it into a throwaway Postgres, compare row counts",
		Long: `verify decrypts the backup, checks the SHA-256 of every member against its
manifest, restores the dump into a throwaway PostgreSQL (a container of the
bundled database's image, or a local cluster of the server's major),
compares every table's row count with the manifest and removes the scratch
database. The drill is recorded in the install's history, where the BK
checks read it as evidence of a tested restore.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runBackupVerify(cmd.Context(), opts, args[0]) },
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "install whose history records the drill (default: the install the backup came from)")
	opts.Keys.bindDecrypt(cmd)
	enumFlag(cmd, &opts.Scratch, "scratch", "", "auto", []string{"auto", "container", "local"}, "where to restore: a container of the bundled image, a local cluster, or auto")
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	return cmd
}

func runBackupVerify(ctx context.Context, o *backupVerifyOptions, file string) error {
	ids, err := o.Keys.identities(o.Factory.getenv)
	if err != nil {
		return err
	}
	vo := backup.VerifyOptions{Identities: ids}
	if o.IO.IsTerminal {
		vo.Say = func(format string, a ...any) { fmt.Fprintf(o.IO.Err, "verify: "+format+"\n", a...) }
	}
	if o.Scratch != "auto" {
		vo.Scratch = o.Scratch
	}
	if o.Dir != "" {
		if vo.HistoryDir, err = filepath.Abs(o.Dir); err != nil {
			return err
		}
	}
	res, err := backup.Verify(ctx, file, vo)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if o.Output == "json" && res != nil {
			_ = writeJSON(o.IO.Out, res)
		}
		return backupError(file, err)
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, res)
	}
	m := res.Manifest
	fmt.Fprintf(o.IO.Out, "OK %s: %d members' SHA-256 match; restored into %s; %d tables, %d rows equal to the manifest (%.1fs)\n",
		file, len(m.Members), res.Scratch, len(m.Tables), sumRows(m), res.Seconds)
	return nil
}

func newBackupKeygenCmd(f *Factory) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make an age key pair for backups: writes the identity (0600), prints the public recipient",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rec, err := archive.Keygen(out)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			fmt.Fprintf(f.IO.Err, "wrote the identity to %s (mode 0600): keep a copy OFF this host; without it the backups cannot be opened\n", out)
			fmt.Fprintln(f.IO.Out, rec)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "calctl-backup-identity.txt", "file to write the identity (secret key) to; never overwritten")
	return cmd
}

type restoreOptions struct {
	IO      IO
	Factory *Factory
	Dir     string
	Keys    keyFlags
	Yes     bool
	Output  string
}

func newRestoreCmd(f *Factory) *cobra.Command {
	opts := &restoreOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into an install: database and secrets, then start and verify",
		Long: `restore checks the whole backup first (every SHA-256), shows which secrets
differ from the install's (masked) and asks, stops the app, restores the
database (the bundled one into a new database swapped in only when its row
counts match the manifest; an external one in a single transaction), checks
for failed Prisma migrations, writes the backup's secrets, starts the app
and waits for it to be healthy. Connection settings (DATABASE_URL, db.env)
stay those of the install restored into.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRestore(cmd.Context(), opts, args[0]) },
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", installDirUsage)
	opts.Keys.bindDecrypt(cmd)
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "do not ask: replace the database and the differing secrets")
	outputFlag(cmd, &opts.Output, "text", textOrJSON)
	return cmd
}

func runRestore(ctx context.Context, o *restoreOptions, file string) error {
	ids, err := o.Keys.identities(o.Factory.getenv)
	if err != nil {
		return err
	}
	dir, err := installDir(o.Factory, o.Dir)
	if err != nil {
		return err
	}
	in, err := backup.OpenInstall(ctx, dir)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	defer in.Close()
	ro := backup.RestoreOptions{Identities: ids, Yes: o.Yes,
		Say:  func(string, ...any) {},
		Note: func(format string, a ...any) { fmt.Fprintf(o.IO.Err, "restore: "+format+"\n", a...) }}
	if o.IO.IsTerminal {
		ro.Say = ro.Note
	}
	if o.IO.IsTerminal && o.IO.In != nil {
		rd := bufio.NewReader(o.IO.In)
		ro.Confirm = func(q string) bool {
			fmt.Fprintf(o.IO.Err, "%s [y/N] ", q)
			line, _ := rd.ReadString('\n')
			a := strings.ToLower(strings.TrimSpace(line))
			return a == "y" || a == "yes"
		}
	}
	res, err := backup.Restore(ctx, in, file, ro)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return backupError(file, err)
	}
	if o.Output == "json" {
		return writeJSON(o.IO.Out, res)
	}
	replaced := 0
	for _, c := range res.Secrets {
		if c.Change != "only here" {
			replaced++
		}
	}
	fmt.Fprintf(o.IO.Out, "restored %s into %s: %d tables, %d rows; %d secret(s) replaced\n", file, in.Dir, len(res.Manifest.Tables), sumRows(res.Manifest), replaced)
	return nil
}
