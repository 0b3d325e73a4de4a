package preflight

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/secret"
	"github.com/docker/docker/client"
)

// Severity of a finding (installer/contract's, so the engine's events carry
// findings as they are).
type Severity = contract.Severity

// Severities: an error stops the install, a warning does not.
const (
	Error   = contract.SeverityError
	Warning = contract.SeverityWarning
)

// Finding is one problem a check found, with what to do about it.
type Finding = contract.Finding

// Input is what the checks look at.
type Input struct {
	Target string // compose | pm2
	DBMode string // bundled | external | rds
	// InstallDir is where the install goes (must be creatable and writable).
	InstallDir string
	// PublicURL is public_url, whose host must resolve.
	PublicURL string
	// Proxy is true with the Caddy proxy (ports 80 and 443 must be free).
	Proxy bool
	// Ports that must be free (each with what uses it).
	Ports map[int]string
	// OwnPorts are ports held by this install's own containers (a re-run).
	OwnPorts map[int]bool
	// DatabaseURL is the URL the app will use (external/rds), TLS settings included.
	DatabaseURL secret.Secret
	// NodeEngine and YarnEngine are the repo's package.json engines.
	NodeEngine, YarnEngine string
	// NodeBin is the node pm2 will use.
	NodeBin string
	// Docker is a client for the engine (compose target).
	Docker *client.Client
	// DockerHost names the engine for messages.
	DockerHost string
	// Getenv reads the environment.
	Getenv func(string) string

	// Compose is filled by the compose check for the start step.
	Compose *Compose
}

// Check is one preflight check.
type Check struct {
	// Name is what --ignore-preflight and findings call the check.
	Name string
	// Applies reports whether the check is relevant for in.
	Applies func(in *Input) bool
	// Run checks in and returns what it found (nothing: all is well).
	Run func(ctx context.Context, in *Input) []Finding
}

// All is the ordered list of preflight checks, one per file.
var All = []Check{
	installDirCheck, // install_dir can be created and written
	dockerCheck,     // Docker engine answers and is recent enough
	composeCheck,    // docker compose v2 plugin or docker-compose v1
	nodeCheck,       // node and yarn for pm2 against the repo's engines
	postgresCheck,   // external/RDS Postgres: version range and TLS
	memoryCheck,     // RAM for next build
	diskCheck,       // disk for clone, node_modules, images, data
	portsCheck,      // 3000 (+3003), 5432 bundled, 80/443 with a proxy
	dnsCheck,        // public_url resolves
}

// Names lists the check names (for --ignore-preflight help and validation).
func Names() []string {
	var n []string
	for _, c := range All {
		n = append(n, c.Name)
	}
	return n
}

// Report is the outcome of a preflight run.
type Report struct {
	// Findings are every check's findings, in check order.
	Findings []Finding
	// Ran names the checks that applied and ran.
	Ran []string
}

// Errors counts findings that stop the install.
func (r Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Error && !f.Ignored {
			n++
		}
	}
	return n
}

// Run runs every applicable check; findings of checks named in ignore are
// kept but marked Ignored ("all" ignores every check).
func Run(ctx context.Context, in *Input, checks []Check, ignore []string) (Report, error) {
	ig := map[string]bool{}
	for _, n := range ignore {
		ig[strings.TrimSpace(n)] = true
	}
	known := map[string]bool{"all": true}
	for _, c := range checks {
		known[c.Name] = true
	}
	var unknown []string
	for n := range ig {
		if !known[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Report{}, fmt.Errorf("--ignore-preflight: unknown check(s) %s; known: %s", strings.Join(unknown, ", "), strings.Join(Names(), ", "))
	}
	var r Report
	for _, c := range checks {
		if c.Applies != nil && !c.Applies(in) {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		fs := c.Run(cctx, in)
		cancel()
		r.Ran = append(r.Ran, c.Name)
		for _, f := range fs {
			f.Check = c.Name
			if f.Severity == Error && (ig[c.Name] || ig["all"]) {
				f.Ignored = true
			}
			r.Findings = append(r.Findings, f)
		}
	}
	return r, nil
}

// belowThreshold grades have against need: an error when more than Slack
// short, a warning when short by less.
func belowThreshold(have, need uint64) (Severity, bool) {
	if have >= need {
		return "", false
	}
	if float64(have) >= float64(need)*(1-Slack) {
		return Warning, true
	}
	return Error, true
}

func gib(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }
