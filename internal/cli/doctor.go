package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/checks/output"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/reporter/agentconfig"
	"github.com/calctl/calctl/reporter/outbox"
)

type doctorOptions struct {
	IO         IO
	Factory    *Factory
	Target     targetOptions
	Output     string
	FromBundle string
	StateDir   string
	BillingURL string
	Top        int
}

func newDoctorCmd(f *Factory) *cobra.Command {
	opts := &doctorOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "One-screen diagnosis of a Cal.com install, with the next command for each problem",
		Long: `doctor shows versions, connectivity (database, Docker, public URL, billing
endpoint), containers and restarts, failed Prisma migrations, the usage
outbox and the most severe check findings, each with the command to run next.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Target.dockerSet = cmd.Flags().Changed("docker")
			return runDoctor(cmd.Context(), opts)
		},
	}
	addTargetFlags(cmd.Flags(), &opts.Target)
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&opts.FromBundle, "from-bundle", "", "diagnose from a support bundle")
	cmd.Flags().StringVar(&opts.StateDir, "state-dir", agentconfig.DefaultStateDir, "calctl state directory (usage outbox)")
	cmd.Flags().StringVar(&opts.BillingURL, "billing-url", "", "billing endpoint to probe (optional)")
	cmd.Flags().IntVar(&opts.Top, "top", 8, "how many findings to show")
	return cmd
}

// doctorReport is what doctor prints; -o json encodes it.
type doctorReport struct {
	GeneratedAt      time.Time           `json:"generated_at"`
	Versions         map[string]string   `json:"versions"`
	Connectivity     []doctorProbe       `json:"connectivity"`
	Containers       []doctorContainer   `json:"containers"`
	FailedMigrations []checks.Migration  `json:"failed_migrations"`
	Preflight        []preflight.Finding `json:"preflight"`
	PreflightRan     []string            `json:"preflight_ran"`
	PreflightNote    string              `json:"preflight_note,omitempty"`
	Outbox           *doctorOutbox       `json:"outbox"`
	OutboxNote       string              `json:"outbox_note,omitempty"`
	Summary          checks.Summary      `json:"summary"`
	Findings         []doctorFinding     `json:"findings"`
}

type doctorProbe struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Next   string `json:"next,omitempty"`
}

type doctorContainer struct {
	Name     string `json:"name"`
	Image    string `json:"image"`
	State    string `json:"state"`
	Health   string `json:"health,omitempty"`
	Restarts int    `json:"restarts"`
}

type doctorOutbox struct {
	Pending int       `json:"pending"`
	Parked  int       `json:"parked"`
	Acked   int       `json:"acked"`
	Corrupt int       `json:"corrupt"`
	LastAck time.Time `json:"last_ack,omitempty"`
}

type doctorFinding struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Severity string `json:"severity"`
	Resource string `json:"resource"`
	Message  string `json:"message"`
	Next     string `json:"next"`
}

func runDoctor(ctx context.Context, opts *doctorOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return usageErrorf("unknown --output %q: use text or json", opts.Output)
	}
	facts, co, err := loadFacts(ctx, opts.Factory, &opts.Target, opts.FromBundle)
	if err != nil {
		return err
	}
	rep := judge(facts, checks.Selection{}, nil)
	d := buildDoctor(ctx, facts, rep, opts)
	if opts.FromBundle == "" {
		doctorPreflight(ctx, d, facts, co, opts.Factory)
	} else {
		d.PreflightNote = "not run on a bundle (see doctor.txt in the bundle)"
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	return writeDoctorText(opts.IO.Out, d)
}

func buildDoctor(ctx context.Context, facts *checks.Facts, rep *checks.Report, opts *doctorOptions) *doctorReport {
	d := &doctorReport{GeneratedAt: facts.Now(), Versions: map[string]string{"calctl": buildinfo.Version}, Summary: rep.Summary,
		Containers: []doctorContainer{}, FailedMigrations: []checks.Migration{}, Findings: []doctorFinding{}}
	// Connectivity.
	pgState := facts.Source(checks.SourcePG)
	switch {
	case pgState.Collected && facts.PG != nil:
		d.Versions["postgres"] = facts.PG.ServerVersion
		detail := "connected to " + facts.Target.Database
		if facts.PG.Via != "" {
			detail += " (via " + facts.PG.Via + ")"
		}
		d.Connectivity = append(d.Connectivity, doctorProbe{Name: "database", OK: true, Detail: detail})
		d.FailedMigrations = append(d.FailedMigrations, facts.PG.FailedMigrations...)
	default:
		d.Connectivity = append(d.Connectivity, probeFromState("database", pgState,
			"check DATABASE_URL in .env, then `docker compose ps` / `pg_isready -h <host>`"))
	}
	dkState := facts.Source(checks.SourceDocker)
	if dkState.Collected && facts.Docker != nil {
		d.Versions["docker"] = facts.Docker.EngineVersion
		d.Connectivity = append(d.Connectivity, doctorProbe{Name: "docker", OK: true, Detail: fmt.Sprintf("engine %s, %d containers", facts.Docker.EngineVersion, len(facts.Docker.Containers))})
		for _, c := range facts.Docker.Containers {
			d.Containers = append(d.Containers, doctorContainer{c.Name, c.Image, c.State, c.Health, c.RestartCount})
			if c.Role == "app" {
				d.Versions["cal.com image"] = c.Image
			}
		}
	} else {
		d.Connectivity = append(d.Connectivity, probeFromState("docker", dkState, "`systemctl status docker`; is your user allowed on /var/run/docker.sock?"))
	}
	netState := facts.Source(checks.SourceNet)
	if netState.Collected && facts.Net != nil {
		p := doctorProbe{Name: "public URL", OK: true, Detail: facts.Net.URL}
		if h := facts.Net.HTTPS; h != nil {
			if h.Error != "" {
				p.OK, p.Detail, p.Next = false, facts.Net.URL+": "+h.Error, "curl -v "+facts.Net.URL
			} else {
				p.Detail = fmt.Sprintf("%s answers %d", facts.Net.URL, h.Status)
			}
		} else if h := facts.Net.HTTP; h != nil && h.Error != "" {
			p.OK, p.Detail, p.Next = false, h.URL+": "+h.Error, "curl -v "+h.URL
		}
		d.Connectivity = append(d.Connectivity, p)
	} else {
		d.Connectivity = append(d.Connectivity, probeFromState("public URL", netState, "pass --url https://cal.example.com"))
	}
	d.Connectivity = append(d.Connectivity, probeBilling(ctx, opts.BillingURL))
	// Outbox (reporter/outbox).
	if opts.FromBundle != "" {
		d.OutboxNote = "not read from a bundle (see outbox.json in the bundle)"
	} else if s, err := outbox.Summarize(opts.StateDir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			d.OutboxNote = "no outbox in " + opts.StateDir + " (usage reporting not set up)"
		} else {
			d.OutboxNote = "cannot read the outbox: " + err.Error()
		}
	} else {
		d.Outbox = &doctorOutbox{Pending: s.Pending, Parked: s.Parked, Acked: s.Acked, Corrupt: s.Corrupt, LastAck: s.LastAck}
	}
	// Findings, worst first.
	var fs []checks.Result
	for _, r := range rep.Results {
		if r.Waiver == nil && (r.Status == checks.Fail || r.Status == checks.Warn || r.Status == checks.Error) {
			fs = append(fs, r)
		}
	}
	rank := map[checks.Status]int{checks.Fail: 2, checks.Error: 1, checks.Warn: 0}
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Severity.Rank() != fs[j].Severity.Rank() {
			return fs[i].Severity.Rank() > fs[j].Severity.Rank()
		}
		return rank[fs[i].Status] > rank[fs[j].Status]
	})
	if opts.Top > 0 && len(fs) > opts.Top {
		fs = fs[:opts.Top]
	}
	for _, r := range fs {
		d.Findings = append(d.Findings, doctorFinding{ID: r.ID, Status: string(r.Status), Severity: string(r.Severity),
			Resource: r.Resource, Message: r.Message, Next: nextCommand(r)})
	}
	return d
}

// doctorPreflight runs the installer's preflight checks that make sense on
// an existing install: Docker engine, memory, disk and DNS of the public URL
// (not ports or the install dir, which the running install itself holds).
func doctorPreflight(ctx context.Context, d *doctorReport, facts *checks.Facts, co collect.Options, f *Factory) {
	in := &preflight.Input{Target: facts.Target.Profile, InstallDir: co.Dir, PublicURL: facts.Target.PublicURL, Getenv: f.Getenv}
	if in.InstallDir == "" {
		in.InstallDir = "."
	}
	if facts.Source(checks.SourceDocker).Collected {
		if cli, owned, err := collect.DockerClient(co); err == nil {
			if owned {
				defer cli.Close()
			}
			in.Docker, in.DockerHost = cli, cli.DaemonHost()
		}
	}
	var list []preflight.Check
	for _, c := range preflight.All {
		switch c.Name {
		case "docker", "memory", "disk", "dns":
			if c.Name == "dns" && in.PublicURL == "" {
				continue
			}
			list = append(list, c)
		}
	}
	r, err := preflight.Run(ctx, in, list, nil)
	if err != nil {
		d.PreflightNote = err.Error()
		return
	}
	d.Preflight, d.PreflightRan = r.Findings, r.Ran
	if d.Preflight == nil {
		d.Preflight = []preflight.Finding{}
	}
}

func probeFromState(name string, st checks.SourceState, next string) doctorProbe {
	switch {
	case st.Error != "":
		return doctorProbe{Name: name, Detail: st.Error, Next: next}
	case st.Skipped != "":
		return doctorProbe{Name: name, OK: true, Detail: "not checked: " + st.Skipped}
	}
	return doctorProbe{Name: name, Detail: "not collected", Next: next}
}

func probeBilling(ctx context.Context, u string) doctorProbe {
	if u == "" {
		return doctorProbe{Name: "billing endpoint", OK: true, Detail: "not checked (pass --billing-url)"}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return doctorProbe{Name: "billing endpoint", Detail: err.Error(), Next: "fix --billing-url"}
	}
	req.Header.Set("User-Agent", buildinfo.UserAgent())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return doctorProbe{Name: "billing endpoint", Detail: err.Error(), Next: "check outbound HTTPS from this host: curl -I " + u}
	}
	resp.Body.Close()
	return doctorProbe{Name: "billing endpoint", OK: resp.StatusCode < 500, Detail: fmt.Sprintf("%s answers %d", u, resp.StatusCode)}
}

// nextCommand says what to run next for a finding.
func nextCommand(r checks.Result) string {
	if r.Status == checks.Error {
		return "calctl check --only " + r.ID + " -o json  # see the collector error"
	}
	rem := r.Remediation
	if i := strings.Index(rem, ". "); i > 0 {
		rem = rem[:i+1]
	}
	return rem + "  → then: calctl check --only " + r.ID
}

func writeDoctorText(w io.Writer, d *doctorReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "calctl doctor — %s\n\n", d.GeneratedAt.Format(time.RFC3339))
	b.WriteString("Versions:   ")
	for i, k := range checks.SortedKeys(d.Versions) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", k, d.Versions[k])
	}
	b.WriteString("\nPreflight:  ")
	switch {
	case d.PreflightNote != "":
		b.WriteString(d.PreflightNote + "\n")
	case len(d.Preflight) == 0 && len(d.PreflightRan) > 0:
		fmt.Fprintf(&b, "ok (%s)\n", strings.Join(d.PreflightRan, ", "))
	case len(d.PreflightRan) == 0:
		b.WriteString("not run\n")
	default:
		fmt.Fprintf(&b, "ran %s\n", strings.Join(d.PreflightRan, ", "))
		for _, p := range d.Preflight {
			fmt.Fprintf(&b, "  %-7s %-7s %s\n", p.Severity, p.Check, p.Message)
			if p.Remedy != "" {
				fmt.Fprintf(&b, "        next: %s\n", p.Remedy)
			}
		}
	}
	b.WriteString("\nConnectivity:\n")
	for _, p := range d.Connectivity {
		mark := "ok "
		if !p.OK {
			mark = "ERR"
		}
		fmt.Fprintf(&b, "  [%s] %-17s %s\n", mark, p.Name, p.Detail)
		if p.Next != "" {
			fmt.Fprintf(&b, "        next: %s\n", p.Next)
		}
	}
	if len(d.Containers) > 0 {
		b.WriteString("\nContainers:\n")
		for _, c := range d.Containers {
			h := ""
			if c.Health != "" {
				h = " (" + c.Health + ")"
			}
			fmt.Fprintf(&b, "  %-24s %-10s restarts %-3d %s%s\n", c.Name, c.State, c.Restarts, c.Image, h)
			if c.Restarts > 3 {
				fmt.Fprintf(&b, "        next: docker logs --tail 100 %s\n", c.Name)
			}
		}
	}
	b.WriteString("\nMigrations: ")
	if len(d.FailedMigrations) == 0 {
		b.WriteString("no failed Prisma migration\n")
	} else {
		for _, m := range d.FailedMigrations {
			fmt.Fprintf(&b, "\n  FAILED %s (started %s)", m.Name, m.StartedAt.Format(time.RFC3339))
		}
		b.WriteString("\n        next: npx prisma migrate resolve --rolled-back <name>, then re-run the migration\n")
	}
	b.WriteString("Outbox:     ")
	if d.Outbox != nil {
		last := "never"
		if !d.Outbox.LastAck.IsZero() {
			last = d.Outbox.LastAck.Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "%d pending, %d parked, %d acked, last ack %s\n", d.Outbox.Pending, d.Outbox.Parked, d.Outbox.Acked, last)
		if d.Outbox.Parked > 0 || d.Outbox.Corrupt > 0 {
			b.WriteString("        next: calctl report status\n")
		}
	} else {
		b.WriteString(d.OutboxNote + "\n")
	}
	s := d.Summary
	fmt.Fprintf(&b, "\nChecks:     %d fail, %d warn, %d error, %d pass, %d manual, %d skip\n", s.Fail, s.Warn, s.Error, s.Pass, s.Manual, s.Skip)
	for _, f := range d.Findings {
		fmt.Fprintf(&b, "  %-4s %-8s %-7s %s: %s\n", f.Status, f.Severity, f.ID, f.Resource, f.Message)
		fmt.Fprintf(&b, "        next: %s\n", f.Next)
	}
	if len(d.Findings) == 0 {
		b.WriteString("  no open findings\n")
	}
	// Everything above may come from a bundle or a collected system:
	// control characters (escape sequences) never reach the terminal.
	_, err := io.WriteString(w, cleanLines(b.String()))
	return err
}

// cleanLines strips control characters from each line of s.
func cleanLines(s string) string {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = output.Clean(l)
	}
	return strings.Join(ls, "\n")
}
