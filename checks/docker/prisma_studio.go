package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// PrismaStudio is DK-004: Prisma Studio is not deployed.
var PrismaStudio = checks.New(checks.Meta{
	ID: "DK-004", Title: "Prisma Studio deployed", Severity: checks.Critical,
	Remediation: "Remove the `studio` service; for break-glass access use `docker exec … psql`.",
}, func(f *checks.Facts) []checks.Finding {
	us, why := units(f, false)
	if why != nil {
		return []checks.Finding{*why}
	}
	var out []checks.Finding
	for _, u := range us {
		studio := strings.Contains(u.cmd, "prisma studio") || u.role == "studio"
		for _, p := range u.ports {
			if portNum(p.ContainerPort) == "5555" {
				studio = true
			}
		}
		if u.c != nil && hasFold(u.c.ExposedPorts, "5555/tcp") {
			studio = true
		}
		if !studio {
			continue
		}
		r := checks.Finding{Resource: u.name, Location: u.loc}
		if u.live && !u.running {
			r.Status, r.Message = checks.Warn, "Prisma Studio is defined but stopped"
		} else {
			r.Status, r.Message = checks.Fail, "Prisma Studio is deployed: unauthenticated read/write access to every table"
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return []checks.Finding{{Status: checks.Pass, Resource: "containers", Message: "no Prisma Studio container"}}
	}
	return out
})
