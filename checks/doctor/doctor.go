// Package doctor is calctl doctor's diagnosis of an install, on one screen:
// versions, connectivity (database, Docker, public URL, billing endpoint),
// containers and restarts, failed Prisma migrations, the usage outbox, the
// installer's host preflight and the most severe check findings, each with
// the command to run next. Build makes a Report from collected Facts and a
// check Report; WriteText draws it; a support bundle embeds it as it is.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/collect"
	"github.com/calctl/calctl/installer/preflight"
	"github.com/calctl/calctl/internal/buildinfo"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/reporter/outbox"
)

// Options say where doctor looks beyond the collected facts.
type Options struct {
	// StateDir is calctl's state directory, holding the usage outbox.
	StateDir string
	// BillingURL is the billing endpoint to probe; empty skips the probe.
	BillingURL string
	// Top is how many findings to keep, worst first; 0 keeps all.
	Top int
	// FromBundle names the bundle the facts came from: the outbox and the
	// preflight are not read then (the bundle has its own copies).
	FromBundle string
	// Usage, when set, is the usage outbox already summarized by the caller
	// (reporter/agent.Status: with what billing holds now and each period's
	// fix command); otherwise the outbox in StateDir is read as it is.
	Usage *outbox.Summary
}

// Report is what doctor prints; -o json encodes it and a support bundle
// embeds it (doctor.txt, versions.json, outbox.json, preflight.json).
type Report struct {
	// GeneratedAt is the facts' collection time.
	GeneratedAt time.Time `json:"generated_at"`
	// Versions maps a component (calctl, postgres, docker, cal.com image)
	// to its version.
	Versions map[string]string `json:"versions"`
	// Connectivity holds one probe per service doctor reaches.
	Connectivity []Probe `json:"connectivity"`
	// Containers are the install's containers, when Docker was inspected.
	Containers []Container `json:"containers"`
	// FailedMigrations are Prisma migrations that failed or never finished.
	FailedMigrations []checks.Migration `json:"failed_migrations"`
	// Preflight are the findings of the installer's host checks that apply
	// to a running install (docker, memory, disk, dns).
	Preflight []preflight.Finding `json:"preflight"`
	// PreflightRan names the preflight checks that ran.
	PreflightRan []string `json:"preflight_ran"`
	// PreflightNote says why preflight did not run, when it did not.
	PreflightNote string `json:"preflight_note,omitempty"`
	// Outbox is the usage outbox at a glance (nil when not read).
	Outbox *Outbox `json:"outbox"`
	// OutboxNote says why the outbox was not read, when it was not.
	OutboxNote string `json:"outbox_note,omitempty"`
	// OutboxSummary is the whole outbox summary behind Outbox, for the
	// bundle's outbox.json (nil when not read).
	OutboxSummary *outbox.Summary `json:"-"`
	// Summary counts the check results by status.
	Summary checks.Summary `json:"summary"`
	// Findings are the worst open check results, with what to run next.
	Findings []Finding `json:"findings"`
}

// Probe is one connectivity check.
type Probe struct {
	// Name is what was probed: database, docker, public URL, billing endpoint.
	Name string `json:"name"`
	// OK is true when it answered (or was deliberately not checked).
	OK bool `json:"ok"`
	// Detail says what it answered, or the error.
	Detail string `json:"detail"`
	// Next is the command to run next when it failed.
	Next string `json:"next,omitempty"`
}

// Container is one container of the install.
type Container struct {
	// Name is the container's name.
	Name string `json:"name"`
	// Image is the image reference it runs.
	Image string `json:"image"`
	// State is Docker's state: running, exited, restarting, ...
	State string `json:"state"`
	// Health is the healthcheck status, when the container has one.
	Health string `json:"health,omitempty"`
	// Restarts is Docker's restart count.
	Restarts int `json:"restarts"`
}

// Outbox counts the usage outbox's reports by state and lists its periods.
type Outbox struct {
	// Pending counts months whose newest report waits to be sent or retried.
	Pending int `json:"pending"`
	// Parked counts months whose newest report the endpoint refused (each
	// period says the command that sends it again).
	Parked int `json:"parked"`
	// Acked counts reports the endpoint accepted.
	Acked int `json:"acked"`
	// Superseded counts reports replaced by a newer revision before they
	// were accepted (never sent again).
	Superseded int `json:"superseded"`
	// Corrupt counts files that cannot be read back.
	Corrupt int `json:"corrupt"`
	// LastAck is when the billing endpoint last accepted a report.
	LastAck time.Time `json:"last_ack,omitempty"`
	// Periods are the months reported: the newest revision and its state,
	// the last accepted revision, what billing holds, superseded revisions
	// and the command that fixes a problem.
	Periods []outbox.PeriodStatus `json:"periods,omitempty"`
}

// Finding is one open check result and what to run next.
type Finding struct {
	// ID is the check's ID (PG-001, ...).
	ID string `json:"id"`
	// Status is FAIL, WARN or ERROR.
	Status string `json:"status"`
	// Severity is the check's severity: critical, high, medium, low, info.
	Severity string `json:"severity"`
	// Resource is what the result is about (a container, a key, a host).
	Resource string `json:"resource"`
	// Message says what the check found.
	Message string `json:"message"`
	// Next is the remedy's first sentence and the command that re-checks.
	Next string `json:"next"`
}

// Build makes the report from collected facts and the check report rep.
func Build(ctx context.Context, facts *checks.Facts, rep *checks.Report, opts Options) *Report {
	d := &Report{GeneratedAt: facts.Now(), Versions: map[string]string{"calctl": buildinfo.Version}, Summary: rep.Summary,
		Containers: []Container{}, FailedMigrations: []checks.Migration{}, Findings: []Finding{}}
	// Connectivity.
	pgState := facts.Source(checks.SourcePG)
	switch {
	case pgState.Collected && facts.PG != nil:
		d.Versions["postgres"] = facts.PG.ServerVersion
		detail := "connected to " + facts.Target.Database
		if facts.PG.Via != "" {
			detail += " (via " + facts.PG.Via + ")"
		}
		d.Connectivity = append(d.Connectivity, Probe{Name: "database", OK: true, Detail: detail})
		d.FailedMigrations = append(d.FailedMigrations, facts.PG.FailedMigrations...)
	default:
		d.Connectivity = append(d.Connectivity, probeFromState("database", pgState,
			"check DATABASE_URL in .env, then `docker compose ps` / `pg_isready -h <host>`"))
	}
	dkState := facts.Source(checks.SourceDocker)
	if dkState.Collected && facts.Docker != nil {
		d.Versions["docker"] = facts.Docker.EngineVersion
		d.Connectivity = append(d.Connectivity, Probe{Name: "docker", OK: true, Detail: fmt.Sprintf("engine %s, %d containers", facts.Docker.EngineVersion, len(facts.Docker.Containers))})
		for _, c := range facts.Docker.Containers {
			d.Containers = append(d.Containers, Container{c.Name, c.Image, c.State, c.Health, c.RestartCount})
			if c.Role == "app" {
				d.Versions["cal.com image"] = c.Image
			}
		}
	} else {
		d.Connectivity = append(d.Connectivity, probeFromState("docker", dkState, "`systemctl status docker`; is your user allowed on /var/run/docker.sock?"))
	}
	netState := facts.Source(checks.SourceNet)
	if netState.Collected && facts.Net != nil {
		p := Probe{Name: "public URL", OK: true, Detail: facts.Net.URL}
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
	} else if s, err := usage(opts); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			d.OutboxNote = "no outbox in " + opts.StateDir + " (usage reporting not set up)"
		} else {
			d.OutboxNote = "cannot read the outbox: " + err.Error()
		}
	} else {
		d.Outbox = &Outbox{Pending: s.Pending, Parked: s.Parked, Acked: s.Acked, Superseded: s.Superseded, Corrupt: s.Corrupt, LastAck: s.LastAck, Periods: s.Periods}
		d.OutboxSummary = &s
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
		d.Findings = append(d.Findings, Finding{ID: r.ID, Status: string(r.Status), Severity: string(r.Severity),
			Resource: r.Resource, Message: r.Message, Next: nextCommand(r)})
	}
	d.scrub()
	return d
}

// RunPreflight runs the installer's preflight checks that make sense on
// an existing install: Docker engine, memory, disk and DNS of the public URL
// (not ports or the install dir, which the running install itself holds).
func (d *Report) RunPreflight(ctx context.Context, facts *checks.Facts, co collect.Options, getenv func(string) string) {
	in := &preflight.Input{Target: facts.Target.Profile, InstallDir: co.Dir, PublicURL: facts.Target.PublicURL, Getenv: getenv}
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
	d.scrub()
}

// scrub removes URL credentials from every string doctor prints, encodes
// or hands to a bundle (internal/redact): a public URL, an image reference
// or a probe's error may hold one.
func (d *Report) scrub() {
	for k, v := range d.Versions {
		d.Versions[k] = redact.URL(v)
	}
	for i := range d.Connectivity {
		p := &d.Connectivity[i]
		p.Detail, p.Next = redact.URL(p.Detail), redact.URL(p.Next)
	}
	for i := range d.Containers {
		d.Containers[i].Image = redact.URL(d.Containers[i].Image)
	}
	for i := range d.Preflight {
		f := &d.Preflight[i]
		f.Message, f.Remedy = redact.URL(f.Message), redact.URL(f.Remedy)
	}
	for i := range d.Findings {
		f := &d.Findings[i]
		f.Resource, f.Message, f.Next = redact.URL(f.Resource), redact.URL(f.Message), redact.URL(f.Next)
	}
	d.PreflightNote, d.OutboxNote = redact.URL(d.PreflightNote), redact.URL(d.OutboxNote)
}

func probeFromState(name string, st checks.SourceState, next string) Probe {
	switch {
	case st.Error != "":
		return Probe{Name: name, Detail: st.Error, Next: next}
	case st.Skipped != "":
		return Probe{Name: name, OK: true, Detail: "not checked: " + st.Skipped}
	}
	return Probe{Name: name, Detail: "not collected", Next: next}
}

func probeBilling(ctx context.Context, raw string) Probe {
	if raw == "" {
		return Probe{Name: "billing endpoint", OK: true, Detail: "not checked (pass --billing-url)"}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, raw, nil)
	if err != nil {
		return Probe{Name: "billing endpoint", Detail: redact.String(err.Error()), Next: "fix --billing-url"}
	}
	u := redact.URL(raw) // what doctor prints
	req.Header.Set("User-Agent", buildinfo.UserAgent())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Probe{Name: "billing endpoint", Detail: redact.String(err.Error()), Next: "check outbound HTTPS from this host: curl -I " + u}
	}
	resp.Body.Close()
	return Probe{Name: "billing endpoint", OK: resp.StatusCode < 500, Detail: fmt.Sprintf("%s answers %d", u, resp.StatusCode)}
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

// WriteText draws the report as doctor's one screen of text.
func (d *Report) WriteText(w io.Writer) error {
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
		fmt.Fprintf(&b, "%d pending, %d parked, %d acked, %d superseded, last ack %s\n", d.Outbox.Pending, d.Outbox.Parked, d.Outbox.Acked, d.Outbox.Superseded, last)
		for _, p := range d.Outbox.Periods {
			writeUsagePeriod(&b, p)
		}
		if d.Outbox.Corrupt > 0 {
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
		ls[i] = redact.Controls(l)
	}
	return strings.Join(ls, "\n")
}

// usage is the outbox summary: the caller's (with billing's view and fix
// commands) or the outbox as it is on disk.
func usage(opts Options) (outbox.Summary, error) {
	if opts.Usage != nil {
		return *opts.Usage, nil
	}
	return outbox.Summarize(opts.StateDir)
}

// writeUsagePeriod prints one reported month: newest revision and state,
// the last accepted revision, what billing holds, superseded revisions and,
// for a problem, the command that fixes it.
func writeUsagePeriod(b *strings.Builder, p outbox.PeriodStatus) {
	latest := "-"
	if p.Revision > 0 {
		kind := ""
		if p.Final {
			kind = " final"
		}
		latest = fmt.Sprintf("r%d %s%s %d", p.Revision, p.State, kind, p.Total)
	}
	accepted := "none"
	if p.Accepted != nil {
		accepted = fmt.Sprintf("r%d %d", p.Accepted.Revision, p.Accepted.Total)
	}
	billing := "unknown"
	if v := p.Billing; v != nil && !v.Found {
		billing = "nothing"
	} else if v != nil {
		billing = fmt.Sprintf("r%d %d", v.LatestRevision, v.Total)
		if v.Final {
			billing += " final"
		}
	}
	fmt.Fprintf(b, "  %s  latest %-24s accepted %-10s billing holds %s\n", p.Period, latest, accepted, billing)
	if p.State == outbox.StateParked {
		fmt.Fprintf(b, "        parked: %s\n", redact.String(oneLine(p.LastError)))
	}
	for _, s := range p.Superseded {
		fmt.Fprintf(b, "        superseded r%d by r%d: %s\n", s.Revision, s.By, oneLine(s.Note))
	}
	if p.Fix != "" {
		fmt.Fprintf(b, "        next: %s\n", p.Fix)
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
