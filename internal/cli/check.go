package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/bundle"
	"github.com/calctl/calctl/checks/catalog"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/output"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/internal/safefile"
	"github.com/calctl/calctl/internal/secret"
)

// targetOptions are the flags that say what to check; check, doctor and
// bundle share them.
type targetOptions struct {
	Dir, EnvFile, ComposeFile, PM2File string
	DatabaseURL, AdminDatabaseURL      string
	Docker, Host                       bool
	dockerSet                          bool
	ContainerLabel                     string
	AllContainers                      bool
	URL, HTTPURL, CAFile               string
	BackupDir, Contingency, Profile    string
	Timeout                            time.Duration
	// Kube names a Kubernetes namespace (--profile kubernetes); allowKube
	// is set by the commands that judge one (check, bundle).
	Kube      kubeFlags
	allowKube bool
}

func addTargetFlags(cmd *cobra.Command, t *targetOptions) {
	fs := cmd.Flags()
	fs.StringVar(&t.Dir, "dir", "", installDirUsage+"; finds .env, the compose file and the pm2 file")
	fs.StringVar(&t.EnvFile, "env-file", "", ".env file to check")
	fs.StringVar(&t.ComposeFile, "compose-file", "", "docker-compose file to check")
	fs.StringVar(&t.PM2File, "pm2-file", "", "pm2 ecosystem file to check")
	fs.StringVar(&t.DatabaseURL, "database-url", "", "Postgres URL (default: DATABASE_URL from the env file; or $CALCTL_DATABASE_URL)")
	fs.StringVar(&t.AdminDatabaseURL, "admin-database-url", "", "optional superuser URL for pg_hba/pg_authid (or $CALCTL_ADMIN_DATABASE_URL)")
	fs.BoolVar(&t.Docker, "docker", true, "inspect containers on the Docker engine (on when the daemon answers)")
	fs.StringVar(&t.ContainerLabel, "container-label", "", "judge the containers with this label (key or key=value) instead of the install's compose project")
	fs.BoolVar(&t.AllContainers, "all-containers", false, "judge every container on the engine, not only the install's compose project")
	fs.StringVar(&t.URL, "url", "", "public URL (default NEXT_PUBLIC_WEBAPP_URL)")
	fs.StringVar(&t.HTTPURL, "http-url", "", "plain-HTTP URL probed for a redirect (default http://<host>/)")
	fs.StringVar(&t.CAFile, "ca-file", "", "PEM CA bundle to verify the public certificate (default: system roots)")
	fs.BoolVar(&t.Host, "host", true, "inspect the local host (sockets, disks, clock, sshd)")
	fs.StringVar(&t.BackupDir, "backup-dir", "", "directory holding database backups")
	fs.StringVar(&t.Contingency, "contingency", "", "contingency.yaml recording restore tests (default <dir>/contingency.yaml)")
	enumFlag(cmd, &t.Profile, "profile", "", "", []string{"compose", "pm2", "rds", checks.ProfileKubernetes}, "deployment profile, detected when not given")
	fs.DurationVar(&t.Timeout, "timeout", 10*time.Second, "time limit for each collector")
	addKubeFlags(cmd, &t.Kube)
}

func (t *targetOptions) collectOptions(f *Factory) (collect.Options, error) {
	o := collect.Options{Dir: t.Dir, EnvFile: t.EnvFile, ComposeFile: t.ComposeFile, PM2File: t.PM2File,
		DatabaseURL: secret.Secret(t.DatabaseURL), AdminDatabaseURL: secret.Secret(t.AdminDatabaseURL),
		Docker: t.Docker, DockerOptional: !t.dockerSet, ContainerLabel: t.ContainerLabel, AllContainers: t.AllContainers, URL: t.URL, HTTPURL: t.HTTPURL,
		Host: t.Host, BackupDir: t.BackupDir, ContingencyFile: t.Contingency, Profile: t.Profile, Timeout: t.Timeout}
	if o.DatabaseURL == "" && f.Getenv != nil {
		o.DatabaseURL = secret.Secret(f.Getenv("CALCTL_DATABASE_URL"))
	}
	if o.AdminDatabaseURL == "" && f.Getenv != nil {
		o.AdminDatabaseURL = secret.Secret(f.Getenv("CALCTL_ADMIN_DATABASE_URL"))
	}
	if t.CAFile != "" {
		pem, err := safefile.ReadFile(t.CAFile, 4<<20)
		if err != nil {
			return o, fmt.Errorf("read --ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return o, usageErrorf("--ca-file %s holds no PEM certificate", t.CAFile)
		}
		o.RootCAs = pool
	}
	if o.Dir == "" && !o.HasInstall() {
		in, err := locateInstall(f.getenv, "--dir DIR", "", nil)
		if err != nil {
			return o, around(err, "", " (or give the files or services themselves: --env-file, --compose-file, --database-url, --url)")
		}
		in.announce(f.IO.Err, "--dir DIR")
		o.Dir = in.Dir
	}
	if err := o.Resolve(); err != nil {
		return o, usageErrorf("%v", err)
	}
	if !o.HasInstall() {
		where := "the current directory"
		if o.Dir != "" {
			where = o.Dir
		}
		return o, &ExitError{Code: ExitFailure, Err: fmt.Errorf("no Cal.com install in %s: no %s; pass --dir /path/to/install (or --env-file, --compose-file, --database-url, --url)",
			where, strings.Join(collect.InstallFiles[:2], ", ")+" or ecosystem.config.js")}
	}
	return o, nil
}

type checkOptions struct {
	IO         IO
	Factory    *Factory
	Target     targetOptions
	Output     string
	Out        string
	Only, Skip []string
	Waivers    string
	FailOn     string
	FromBundle string
	// AllowErrors keeps ERROR results from deciding the exit code.
	AllowErrors bool
	// All shows PASS results in the table too.
	All bool
}

func newCheckCmd(f *Factory) *cobra.Command {
	opts := &checkOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check a Cal.com install against HIPAA-relevant hardening rules",
		Long: `check collects facts from the config files, Postgres (read-only), the Docker
engine, the public URL and the host, then judges them with the hardening
catalog (PG, DK, CF, NET, BK). Every result, PASS included, is reported.
With --profile kubernetes (or --kubeconfig/--context/--namespace, or an
install whose answers say target: kubernetes) it reads one namespace
through the API server and judges it with the K8S checks instead.

Exit codes (docs/checks.md has the table):
  0  every selected check ran and no unwaived FAIL is at or above --fail-on
  1  calctl itself failed (bad waivers file, unwritable --out, ...)
  2  command-line mistake, including --only/--skip selecting no check
  3  unwaived findings at or above --fail-on
  4  the audit did not run in full: a selected check is ERROR (its
     collector failed); --allow-errors turns this into 0 (findings still 3)`,
		Example: `  calctl check --dir /opt/calcom
  calctl check --dir /opt/calcom --only 'PG-*' -o sarif --out calctl.sarif
  calctl check --from-bundle support.tar.gz --waivers waivers.yaml
  calctl check --profile kubernetes --context prod --namespace calcom -o sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Target.dockerSet = cmd.Flags().Changed("docker")
			return runCheck(cmd.Context(), opts)
		},
	}
	addTargetFlags(cmd, &opts.Target)
	outputFlag(cmd, &opts.Output, "table", output.Formats)
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the report to this file instead of stdout (a regular file is replaced atomically; a device or pipe is written directly)")
	cmd.Flags().BoolVar(&opts.AllowErrors, "allow-errors", false, "exit 0 even when a check is ERROR (its collector failed); findings still exit 3")
	cmd.Flags().BoolVar(&opts.All, "all", false, "table: show PASS results too")
	cmd.Flags().StringSliceVar(&opts.Only, "only", nil, "run only checks matching these globs (e.g. 'PG-*,NET-001')")
	cmd.Flags().StringSliceVar(&opts.Skip, "skip", nil, "skip checks matching these globs")
	cmd.Flags().StringVar(&opts.Waivers, "waivers", "", "waivers.yaml of accepted risks")
	enumFlag(cmd, &opts.FailOn, "fail-on", "", "high", severityNames(), "lowest severity of an unwaived FAIL that exits 3")
	cmd.Flags().StringVar(&opts.FromBundle, "from-bundle", "", "judge the facts in a support bundle instead of a live install")
	return cmd
}

// loadFacts collects live facts or reads them from a bundle.
func loadFacts(ctx context.Context, f *Factory, t *targetOptions, fromBundle string, only ...checks.Source) (*checks.Facts, collect.Options, error) {
	if fromBundle != "" {
		facts, err := bundle.ReadFacts(fromBundle)
		if err != nil {
			return nil, collect.Options{}, err
		}
		return facts, collect.Options{}, nil
	}
	if kt, kube, err := t.kubeTarget(f); err != nil {
		return nil, collect.Options{}, err
	} else if kube {
		if Kube == nil || Kube.KubeFacts == nil {
			return nil, collect.Options{}, errKubeSibling
		}
		return Kube.KubeFacts(ctx, kt), collect.Options{Profile: checks.ProfileKubernetes}, nil
	}
	o, err := t.collectOptions(f)
	if err != nil {
		return nil, o, err
	}
	o.Only = only
	facts, err := collect.Collect(ctx, o)
	if err != nil {
		return nil, o, err
	}
	if err := ctx.Err(); err != nil {
		// SIGINT/SIGTERM during collection: facts cut short are no audit;
		// stop with ExitInterrupted rather than judge them.
		return nil, o, err
	}
	return facts, o, nil
}

// judge runs the catalog over facts.
func judge(facts *checks.Facts, sel checks.Selection, w *checks.Waivers) *checks.Report {
	rep := checks.Run(facts, catalog.For(facts.Target.Profile), sel, w)
	rep.Tool = checks.Tool{Name: "calctl", Version: buildinfo.Version}
	return rep
}

func runCheck(ctx context.Context, opts *checkOptions) error {
	failOn, err := checks.ParseSeverity(opts.FailOn)
	if err != nil {
		return usageErrorf("--fail-on: %v", err)
	}
	sel := checks.Selection{Only: checks.SplitList(opts.Only), Skip: checks.SplitList(opts.Skip)}
	if err := sel.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	if len(checkSelected(sel)) == 0 {
		return usageErrorf("--only %q and --skip %q select no check (IDs look like PG-001, DK-*, NET-00[1-3]; see docs/checks.md)",
			strings.Join(sel.Only, ","), strings.Join(sel.Skip, ","))
	}
	var w *checks.Waivers
	if opts.Waivers != "" {
		if w, err = checks.LoadWaivers(opts.Waivers); err != nil {
			return err
		}
	}
	opts.Target.allowKube = true
	facts, _, err := loadFacts(ctx, opts.Factory, &opts.Target, opts.FromBundle, checkSources(sel)...)
	if errors.Is(err, errKubeSibling) {
		return runKubernetesSibling(ctx, opts.IO)
	}
	if err != nil {
		return err
	}
	for _, s := range checks.SortedKeys(facts.Sources) {
		if st := facts.Sources[s]; st.Error != "" {
			fmt.Fprintf(opts.IO.Err, "calctl: %s collector failed: %s (its checks report ERROR)\n", s, st.Error)
		}
	}
	rep := judge(facts, sel, w)
	var buf bytes.Buffer
	if err := output.Write(&buf, opts.Output, rep, forProfile(checkSelected(sel), facts.Target.Profile), output.Options{ShowPass: opts.All}); err != nil {
		return err
	}
	if opts.Out != "" {
		if err := writeOut(opts.Out, buf.Bytes()); err != nil {
			return err
		}
	} else if _, err := opts.IO.Out.Write(buf.Bytes()); err != nil {
		return err
	}
	for _, e := range rep.ExpiredWaivers {
		fmt.Fprintf(opts.IO.Err, "calctl: waiver for %s expired on %s and was ignored\n", e.ID, e.Expires)
	}
	return checkExit(rep, failOn, opts.AllowErrors)
}

// checkExit turns a report into check's exit code (the table in
// docs/checks.md): findings at or above failOn exit 3; otherwise any ERROR
// result exits 4 (the audit did not run in full) unless allowErrors.
func checkExit(rep *checks.Report, failOn checks.Severity, allowErrors bool) error {
	if fs := checks.Findings(rep.Results, failOn, false); len(fs) > 0 {
		return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%d unwaived finding(s) at or above %s (first: %s %s)", len(fs), failOn, fs[0].ID, fs[0].Resource)}
	}
	if allowErrors {
		return nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, r := range rep.Results {
		if r.Status == checks.Error && !seen[r.ID] {
			seen[r.ID] = true
			ids = append(ids, r.ID)
		}
	}
	if len(ids) > 0 {
		more := ""
		if len(ids) > 6 {
			ids, more = ids[:6], fmt.Sprintf(" and %d more", len(seen)-6)
		}
		return &ExitError{Code: ExitIncomplete, Err: fmt.Errorf("the audit did not run in full: %s%s could not observe their subject (ERROR); fix the cause above or pass --allow-errors",
			strings.Join(ids, ", "), more)}
	}
	return nil
}

// checkSources returns the collectors the selected checks need, or nil
// (all) when a selected check reads several sources (DK, BK).
func checkSources(sel checks.Selection) []checks.Source {
	// Files always: they supply DATABASE_URL and the public URL.
	seen := map[checks.Source]bool{checks.SourceFiles: true}
	out := []checks.Source{checks.SourceFiles}
	for _, c := range checkSelected(sel) {
		m, _ := checks.MetaOf(c)
		if len(m.Needs) == 0 {
			return nil
		}
		for _, s := range m.Needs {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func checkSelected(sel checks.Selection) []checks.Check {
	var out []checks.Check
	for _, c := range catalog.All() {
		if sel.Match(c.ID()) {
			out = append(out, c)
		}
	}
	return out
}

// severityNames lists checks.Severities, highest first, for --fail-on.
func severityNames() []string {
	var out []string
	for _, s := range checks.Severities {
		out = append(out, string(s))
	}
	return out
}
