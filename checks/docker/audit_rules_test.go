package docker_test

import (
	"testing"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/checks/docker"
)

func TestAuditRulesCheck(t *testing.T) {
	full := []string{"-w /usr/bin/dockerd -k docker", "-w /var/lib/docker -k docker", "-w /etc/docker -k docker",
		"-w /lib/systemd/system/docker.service -k docker", "-w /lib/systemd/system/docker.socket -k docker",
		"-a always,exit -F path=/usr/bin/containerd -F perm=wa -k docker", "-w /usr/bin/runc -k docker"}
	for _, tt := range []struct {
		name    string
		rules   []string
		running bool
		sock    bool
		want    checks.Status
	}{
		{"all watched, auditd running", full, true, true, checks.Pass},
		{"runc missing", full[:6], true, true, checks.Warn},
		{"no rules", nil, false, true, checks.Warn},
		{"rules but no auditd", full, false, true, checks.Warn},
		{"no Docker on the host", nil, false, false, checks.Skip},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &checks.Facts{Host: &checks.HostFacts{AuditRules: tt.rules, AuditdRunning: tt.running, AuditSource: "rules files"}}
			if tt.sock {
				f.Host.DockerSock = &checks.FileStat{Path: "/var/run/docker.sock", Exists: true}
			}
			f.SetSource(checks.SourceHost, checks.SourceState{Collected: true})
			if r := docker.AuditRules.Run(f)[0]; r.Status != tt.want {
				t.Errorf("DK-014 = %s %q, want %s", r.Status, r.Message, tt.want)
			}
		})
	}
}
