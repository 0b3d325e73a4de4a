package net

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
)

// DockerSocket is NET-008: who controls Docker.
var DockerSocket = checks.New(checks.Meta{
	ID: "NET-008", Title: "Who controls Docker", Severity: checks.Medium, Needs: needHost,
	Remediation: "`chmod 660 /var/run/docker.sock`; prune the docker group (it equals root); admins use personal accounts with sudo for the audit trail.",
}, func(f *checks.Facts) []checks.Finding {
	h := f.Host
	if h.DockerSock == nil || !h.DockerSock.Exists {
		return []checks.Finding{{Status: checks.Skip, Resource: "/var/run/docker.sock", Message: "no Docker socket on this host"}}
	}
	m := h.DockerSock.Mode & 0o777
	var is checks.Issues
	if m&0o002 != 0 {
		is.Add(checks.Fail, "docker.sock is world-writable (%04o)", m)
	}
	if len(h.DockerGroupMembers) > 0 {
		is.Add(checks.Warn, "docker group members (root-equivalent): %s; waive with the approved list", strings.Join(h.DockerGroupMembers, ", "))
	}
	return []checks.Finding{is.Finding(h.DockerSock.Path, fmt.Sprintf("docker.sock %04o and the docker group is empty", m),
		checks.Ev("mode", fmt.Sprintf("%04o", m), "members", strings.Join(h.DockerGroupMembers, ",")))}
})
