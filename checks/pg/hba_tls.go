package pg

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/localhost"
)

// HBATLS is PG-003: TLS is enforced for remote clients (hostssl only).
var HBATLS = checks.New(checks.Meta{
	ID: "PG-003", Title: "TLS enforced for remote clients", Severity: checks.High, Needs: needPG,
	Remediation: "Change `host` lines to `hostssl` and end pg_hba.conf with a `reject` line; on RDS set rds.force_ssl=1.",
}, func(f *checks.Facts) []checks.Finding {
	r := resource(f)
	if f.PG.RDS {
		fs, _ := setting(f, "rds.force_ssl")
		if on(fs) {
			return []checks.Finding{{Status: checks.Pass, Resource: r, Message: "rds.force_ssl=1", Evidence: checks.Ev("rds.force_ssl", fs)}}
		}
		return []checks.Finding{{Status: checks.Fail, Resource: r, Message: "rds.force_ssl is off: clients may connect without TLS", Evidence: checks.Ev("rds.force_ssl", fs)}}
	}
	var is checks.Issues
	for _, a := range f.PG.PlaintextSessions {
		if !localAddr(a) {
			is.Add(checks.Fail, "a plaintext session is open from %s", a)
		}
	}
	if skip, ok := unreadable(f, "pg_hba_file_rules"); ok {
		if !is.Empty() {
			return []checks.Finding{is.Finding(r, "", nil)}
		}
		return []checks.Finding{skip}
	}
	hostLines := 0
	for _, h := range f.PG.HBA {
		if h.Type != "host" || h.AuthMethod == "reject" {
			continue
		}
		hostLines++
		if localAddr(h.Address) {
			is.Add(checks.Warn, "line %d allows plaintext TCP from %s", h.Line, h.Address)
		} else {
			is.Add(checks.Fail, "line %d allows plaintext TCP from %s", h.Line, addr(h))
		}
	}
	return []checks.Finding{is.Finding(r, "only hostssl/hostgssenc lines accept TCP clients", checks.Ev("plaintext_host_lines", fmt.Sprint(hostLines)))}
})

func addr(h checks.HBARule) string {
	if h.Address == "" {
		return "any address"
	}
	if h.Netmask != "" {
		return h.Address + "/" + h.Netmask
	}
	return h.Address
}

// localAddr reports whether a pg_hba address or a client address is on
// this host (internal/localhost: loopback, unix sockets, the same-host
// docker network). pg_hba's "all", "samenet" and an empty address (any)
// are not.
func localAddr(a string) bool {
	switch a = strings.TrimSpace(a); a {
	case "", "all", "samenet":
		return false
	}
	return localhost.IsLocal(a)
}
