package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

var dangerousPorts = map[string]string{"5432": "Postgres", "5555": "Prisma Studio", "6379": "Redis", "2375": "Docker API", "2376": "Docker API", "9229": "Node inspector"}

// PublishedPorts is DK-003: no database or admin port published on all interfaces.
var PublishedPorts = checks.New(checks.Meta{
	ID: "DK-003", Title: "Ports published on all interfaces", Severity: checks.Critical,
	Remediation: "Drop `ports:` or bind `127.0.0.1:…`; Docker's iptables rules bypass ufw, so filter in DOCKER-USER.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		var is checks.Issues
		var pub []string
		for _, p := range u.ports {
			cp := portNum(p.ContainerPort)
			pub = append(pub, p.HostIP+":"+p.HostPort+"->"+cp)
			if !wildcard(p.HostIP) {
				continue
			}
			if what, bad := dangerousPorts[cp]; bad {
				is.Add(checks.Fail, "%s port %s is published on all interfaces (host port %s)", what, cp, p.HostPort)
			} else if cp == "3000" || (cp == "80" && u.role == "api") {
				is.Add(checks.Warn, "app port %s is published on all interfaces: a plaintext bypass of the TLS proxy", cp)
			}
			if u.s != nil && p.Line > 0 && u.loc != nil {
				u.loc = &checks.Location{Path: u.loc.Path, Line: p.Line}
			}
		}
		r := is.Finding(u.name, "no sensitive port published on all interfaces", checks.Ev("published", strings.Join(pub, ",")))
		r.Location = u.loc
		return r
	})
})
