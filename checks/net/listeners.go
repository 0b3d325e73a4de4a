package net

import (
	"fmt"
	"sort"
	"strings"

	"github.com/calctl/calctl/checks"
)

var riskyListen = map[int]string{5432: "Postgres", 5555: "Prisma Studio", 6379: "Redis", 2375: "Docker API", 2376: "Docker API", 3000: "Cal.com app", 9229: "Node inspector"}

// Listeners is NET-004: no sensitive service listens on all interfaces.
var Listeners = checks.New(checks.Meta{
	ID: "NET-004", Title: "Listening sockets", Severity: checks.Critical, Needs: needHost,
	Remediation: "Bind services to loopback or a private address; filter with the cloud security group or nftables (docker ports in DOCKER-USER).",
}, func(f *checks.Facts) []checks.Finding {
	h := f.Host
	if h == nil || h.ListenersError != "" {
		msg := "listening sockets were not read"
		if h != nil {
			msg += ": " + h.ListenersError
		}
		return []checks.Finding{{Status: checks.Skip, Message: msg}}
	}
	var is checks.Issues
	var all []string
	seen := map[int]bool{}
	for _, l := range h.Listeners {
		if l.Addr != "0.0.0.0" && l.Addr != "::" {
			continue
		}
		if seen[l.Port] {
			continue
		}
		seen[l.Port] = true
		all = append(all, fmt.Sprint(l.Port))
		switch {
		case riskyListen[l.Port] != "":
			is.Add(checks.Fail, "%s port %d listens on all interfaces%s", riskyListen[l.Port], l.Port, proc(l))
		case l.Port == 22 || l.Port == 80 || l.Port == 443:
		default:
			is.Add(checks.Warn, "port %d listens on all interfaces%s", l.Port, proc(l))
		}
	}
	sort.Strings(all)
	return []checks.Finding{is.Finding("host", "only 22, 80 and 443 listen on all interfaces", checks.Ev("wildcard_ports", strings.Join(all, ",")))}
})

func proc(l checks.Listener) string {
	if l.Process == "" {
		return ""
	}
	return " (" + l.Process + ")"
}
