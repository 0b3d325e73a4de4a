package collect

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/calctl/calctl/checks"
)

// auditRulesFiles are where auditd's rules live (auditd's augenrules
// compiles /etc/audit/rules.d/*.rules into /etc/audit/audit.rules);
// variables for tests.
var (
	auditRulesFile = "/etc/audit/audit.rules"
	auditRulesDir  = "/etc/audit/rules.d"
)

// collectAudit records the host's audit rules: the loaded ones from
// `auditctl -l` when it answers (root, auditd present), else the rules files.
func collectAudit(ctx context.Context, h *checks.HostFacts) {
	h.AuditdRunning = processRunning("auditd")
	if p, err := exec.LookPath("auditctl"); err == nil && auditRulesFile == "/etc/audit/audit.rules" {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, p, "-l").Output(); err == nil {
			h.AuditSource = "auditctl -l"
			h.AuditRules = ruleLines(string(out))
			return
		}
	}
	files := []string{auditRulesFile}
	if m, _ := filepath.Glob(filepath.Join(auditRulesDir, "*.rules")); m != nil {
		sort.Strings(m)
		files = append(files, m...)
	}
	var read []string
	for _, f := range files {
		b, err := readRegular(f, 4<<20)
		if err != nil {
			continue
		}
		read = append(read, f)
		h.AuditRules = append(h.AuditRules, ruleLines(string(b))...)
	}
	if len(read) > 0 {
		h.AuditSource = strings.Join(read, ", ")
	}
}

func ruleLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || l == "No rules" {
			continue
		}
		out = append(out, l)
	}
	return out
}

// processRunning reports whether a process with this comm name runs.
func processRunning(name string) bool {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "comm")); err == nil && strings.TrimSpace(string(b)) == name {
			return true
		}
	}
	return false
}
