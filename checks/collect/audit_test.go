package collect

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/calctl/calctl/checks"
)

// The audit rules and daemon posture are read from real files laid out as
// on a host (rules.d, daemon.json, /proc/<pid>/cmdline).
func TestAuditRulesAndDaemonPosture(t *testing.T) {
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules.d")
	os.MkdirAll(rulesDir, 0o755)
	os.WriteFile(filepath.Join(rulesDir, "docker.rules"), []byte(`# CIS Docker 1.1.x
-w /usr/bin/dockerd -k docker
-w /var/lib/docker -k docker
-w /etc/docker -k docker
-w /lib/systemd/system/docker.service -k docker
-w /lib/systemd/system/docker.socket -k docker
-a always,exit -F path=/usr/bin/containerd -F perm=wa -k docker
-w /usr/bin/runc -k docker
`), 0o640)
	oldFile, oldDir, oldProc, oldJSON := auditRulesFile, auditRulesDir, procRoot, daemonJSON
	defer func() { auditRulesFile, auditRulesDir, procRoot, daemonJSON = oldFile, oldDir, oldProc, oldJSON }()
	auditRulesFile, auditRulesDir = filepath.Join(dir, "audit.rules"), rulesDir
	proc := filepath.Join(dir, "proc")
	os.MkdirAll(filepath.Join(proc, "42"), 0o755)
	os.WriteFile(filepath.Join(proc, "42", "comm"), []byte("auditd\n"), 0o644)
	os.MkdirAll(filepath.Join(proc, "77"), 0o755)
	cfg := filepath.Join(dir, "custom-daemon.json")
	os.WriteFile(filepath.Join(proc, "77", "cmdline"), []byte("/usr/bin/dockerd\x00-H\x00fd://\x00--config-file\x00"+cfg+"\x00"), 0o644)
	os.WriteFile(filepath.Join(proc, "77", "comm"), []byte("dockerd\n"), 0o644)
	procRoot, daemonJSON = proc, filepath.Join(dir, "absent.json")

	h := &checks.HostFacts{}
	collectAudit(context.Background(), h)
	if len(h.AuditRules) != 7 || !h.AuditdRunning || h.AuditSource == "" {
		t.Fatalf("audit facts: %+v", h)
	}
	d := &checks.DockerFacts{}
	os.WriteFile(cfg, []byte(`{"userland-proxy": false, "icc": false}`), 0o644)
	daemonPosture("unix:///var/run/docker.sock", d)
	if d.UserlandProxy == nil || *d.UserlandProxy || d.DaemonConfig != cfg {
		t.Errorf("daemon.json named by --config-file not read: %+v", d)
	}
	os.WriteFile(cfg, []byte(`{}`), 0o644)
	d = &checks.DockerFacts{}
	daemonPosture("unix:///var/run/docker.sock", d)
	if d.UserlandProxy == nil || !*d.UserlandProxy {
		t.Errorf("default userland-proxy not reported as on: %+v", d)
	}
	d = &checks.DockerFacts{}
	daemonPosture("tcp://10.0.0.1:2376", d)
	if d.UserlandProxy != nil {
		t.Errorf("a remote daemon's posture was guessed from this host: %+v", d)
	}
}
