// Package checks holds the core types of calctl's hardening checks: Check,
// Result, Status, Severity, the serialisable Facts the collectors fill, the
// runner that judges Facts with a list of checks, waivers, and the HIPAA
// citation table. Checks live in the area packages (checks/pg, checks/docker,
// checks/config, checks/net, checks/backup, checks/kube); their order lives
// in checks/catalog.
package checks

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Status is the outcome of one check on one resource.
type Status string

// The statuses, after kube-bench and prowler.
const (
	// Pass means the safeguard is in place.
	Pass Status = "PASS"
	// Warn means a weakness that may be acceptable with a documented reason.
	Warn Status = "WARN"
	// Fail means the safeguard is missing.
	Fail Status = "FAIL"
	// Skip means the check does not apply or could not look (reason in Message).
	Skip Status = "SKIP"
	// Manual means a person must attest; the tool cannot see the evidence.
	Manual Status = "MANUAL"
	// Error means the check could not run because collection failed.
	Error Status = "ERROR"
)

// Statuses lists every status in report order.
var Statuses = []Status{Pass, Warn, Fail, Skip, Manual, Error}

// Severity ranks how bad a finding is.
type Severity string

// The severities, prowler/trivy vocabulary.
const (
	// Critical is the highest severity.
	Critical Severity = "critical"
	// High severity.
	High Severity = "high"
	// Medium severity.
	Medium Severity = "medium"
	// Low severity.
	Low Severity = "low"
	// Info is for findings that need no action.
	Info Severity = "info"
)

// Severities lists every severity from the highest down.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// Rank orders severities: critical is 4, info 0, unknown -1.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 4
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	case Info:
		return 0
	}
	return -1
}

// ParseSeverity reads a severity name (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	if v.Rank() < 0 {
		return "", fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", s)
	}
	return v, nil
}

// Source names a collector; a check declares the sources it needs so that a
// failed collector turns the check into ERROR or SKIP with the cause.
type Source string

// The collectors.
const (
	// SourceFiles is the .env / compose / pm2 file collector.
	SourceFiles Source = "files"
	// SourcePG is the Postgres collector.
	SourcePG Source = "postgres"
	// SourceDocker is the Docker engine collector.
	SourceDocker Source = "docker"
	// SourceNet is the TLS/HTTP collector for the public URL.
	SourceNet Source = "net"
	// SourceHost is the local host collector (/proc, sshd, sockets).
	SourceHost Source = "host"
	// SourceBackup is the backup-evidence collector.
	SourceBackup Source = "backup"
)

// Check is one hardening rule: a pure function over Facts.
type Check interface {
	ID() string
	Title() string
	Run(f *Facts) []Result
}

// Waiver is the accepted-risk record attached to a waived result.
type Waiver struct {
	// ID is the check ID the waiver covers, or a glob of IDs ("DK-*"),
	// matched case-insensitively.
	ID string `json:"id" yaml:"id"`
	// Resources are regular expressions matched against Result.Resource;
	// empty waives every resource of the check.
	Resources []string `json:"resources,omitempty" yaml:"resources,omitempty"`
	// Resource is a single regex, the same as a one-element Resources.
	Resource string `json:"resource,omitempty" yaml:"resource,omitempty"`
	// Reason is why the risk is accepted (required).
	Reason string `json:"reason" yaml:"reason"`
	// Expires is the last day the waiver applies, YYYY-MM-DD, through the
	// end of that day UTC; "" never expires.
	Expires string `json:"expires,omitempty" yaml:"expires,omitempty"`
	// ApprovedBy is who accepted the risk (free text, optional).
	ApprovedBy string `json:"approved_by,omitempty" yaml:"approved_by,omitempty"`
}

// Location points a file-based finding at a file and line (SARIF uses it).
type Location struct {
	// Path is the file as collected (EnvVar.File, ComposeFacts.Path, ...).
	Path string `json:"path"`
	// Line is the 1-based line; 0 when only the file is known.
	Line int `json:"line,omitempty"`
}

// Result is the outcome of a check on one resource.
type Result struct {
	// ID is the check's stable ID ("PG-001").
	ID string `json:"id"`
	// Title is the check's one-line title from its Meta.
	Title string `json:"title"`
	// Group is the ID's prefix (PG, DK, CF, NET, BK, K8S; see GroupNames).
	Group string `json:"group"`
	// Status is the outcome on this resource.
	Status Status `json:"status"`
	// Severity is the check's severity, whatever the Status.
	Severity Severity `json:"severity"`
	// HIPAA are the 45 CFR sections the check gives evidence for
	// ("164.312(e)(1)"), from HIPAATable; [] in JSON when none.
	HIPAA []string `json:"hipaa"`
	// HIPAAIDs are the same sections in machine form ("164_312_e_1").
	HIPAAIDs []string `json:"hipaa_ids"`
	// Resource names what was judged: a container, role, file, variable
	// or, for ERROR/SKIP, the collector; waiver regexes match it.
	Resource string `json:"resource"`
	// Message is the one-line finding.
	Message string `json:"message"`
	// Evidence are the observed values behind the finding (never secret
	// values); {} in JSON when none.
	Evidence map[string]string `json:"evidence"`
	// Remediation is the check's fix, from its Meta.
	Remediation string `json:"remediation"`
	// Location is the file and line the finding points at: the finding's
	// own, else where DATABASE_URL or NEXT_PUBLIC_WEBAPP_URL is set for
	// database and public-URL checks; nil when neither is known.
	Location *Location `json:"location,omitempty"`
	// Waiver is the waiver that accepted a WARN/FAIL result; null when
	// not waived.
	Waiver *Waiver `json:"waiver"`
}

// Finding is what a check function returns; the runner adds the metadata.
type Finding struct {
	// Status is the outcome on Resource.
	Status Status
	// Resource names what was judged (see Result.Resource).
	Resource string
	// Message is the one-line finding.
	Message string
	// Evidence are the observed values behind it (build with Ev).
	Evidence map[string]string
	// Location is where the finding points; nil lets the runner use the
	// check's default (the DATABASE_URL or NEXT_PUBLIC_WEBAPP_URL line).
	Location *Location
}

// Meta describes a check: its stable ID, title, severity, the sources it
// needs and how to fix it. HIPAA citations come from the HIPAA table.
type Meta struct {
	// ID is the stable check ID, group prefix and number ("DK-004").
	ID string
	// Title is the one-line title shown in reports.
	Title string
	// Severity is how bad a WARN or FAIL of the check is.
	Severity Severity
	// Needs are the collectors the check reads; if one failed the check
	// reports ERROR, if one did not run SKIP, without being called.
	Needs []Source
	// Remediation is how to fix a finding, copied into every Result.
	Remediation string
}

// Group returns the group prefix of a check ID ("PG" for "PG-001").
func Group(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}

// GroupNames maps a group prefix to its catalog section.
var GroupNames = map[string]string{
	"PG":  "PostgreSQL",
	"DK":  "Docker",
	"CF":  "App config",
	"NET": "Host and network",
	"BK":  "Backups and contingency",
	"K8S": "Kubernetes",
}

type funcCheck struct {
	meta Meta
	fn   func(f *Facts) []Finding
}

// New makes a Check from its metadata and a pure function over Facts.
func New(m Meta, fn func(f *Facts) []Finding) Check { return &funcCheck{meta: m, fn: fn} }

func (c *funcCheck) ID() string    { return c.meta.ID }
func (c *funcCheck) Title() string { return c.meta.Title }

// Meta returns the check's metadata.
func (c *funcCheck) Meta() Meta { return c.meta }

// Run judges f. A source the check needs that failed gives ERROR, one that
// was not collected gives SKIP, both with the cause.
func (c *funcCheck) Run(f *Facts) []Result {
	for _, s := range c.meta.Needs {
		st := f.Source(s)
		switch {
		case st.Error != "":
			return []Result{c.result(Finding{Status: Error, Resource: string(s), Message: fmt.Sprintf("%s collector failed: %s", s, st.Error)})}
		case !st.Collected:
			why := st.Skipped
			if why == "" {
				why = "not collected"
			}
			return []Result{c.result(Finding{Status: Skip, Resource: string(s), Message: fmt.Sprintf("%s: %s", s, why)})}
		}
	}
	fs := c.fn(f)
	out := make([]Result, 0, len(fs))
	def := c.defaultLoc(f)
	for _, x := range fs {
		if x.Location == nil {
			x.Location = def
		}
		out = append(out, c.result(x))
	}
	return out
}

// defaultLoc points a finding without a file location at the setting that
// names its subject — DATABASE_URL for the database, NEXT_PUBLIC_WEBAPP_URL
// for the public URL — so SARIF shows each where it is configured instead
// of every runtime finding at line 1 of one file.
func (c *funcCheck) defaultLoc(f *Facts) *Location {
	for _, s := range c.meta.Needs {
		key := map[Source]string{SourcePG: "DATABASE_URL", SourceNet: "NEXT_PUBLIC_WEBAPP_URL"}[s]
		if key == "" {
			continue
		}
		if v, ok := f.Env(key); ok {
			return v.Loc()
		}
	}
	return nil
}

func (c *funcCheck) result(x Finding) Result {
	cites := HIPAAFor(c.meta.ID)
	return Result{
		ID: c.meta.ID, Title: c.meta.Title, Group: Group(c.meta.ID), Status: x.Status,
		Severity: c.meta.Severity, HIPAA: cites, HIPAAIDs: HIPAAIDs(cites), Resource: x.Resource,
		Message: x.Message, Evidence: x.Evidence, Remediation: c.meta.Remediation, Location: x.Location,
	}
}

// MetaOf returns a check's metadata when it has any.
func MetaOf(c Check) (Meta, bool) {
	if m, ok := c.(interface{ Meta() Meta }); ok {
		return m.Meta(), true
	}
	return Meta{ID: c.ID(), Title: c.Title()}, false
}

// MarshalJSON keeps a nil waiver as null and nil slices as [].
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	p := plain(r)
	if p.HIPAA == nil {
		p.HIPAA = []string{}
	}
	if p.HIPAAIDs == nil {
		p.HIPAAIDs = []string{}
	}
	if p.Evidence == nil {
		p.Evidence = map[string]string{}
	}
	return json.Marshal(p)
}

// Ev builds an evidence map from alternating keys and values.
func Ev(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
