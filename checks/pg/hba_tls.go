package pg

import (
	"fmt"
	"strings"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/localhost"
)

// HBATLS is PG-003: TLS is enforced for remote clients. A plaintext
// session request from this host (with a made-up password) proves it; the
// pg_hba lines (host and hostnossl) and rds.force_ssl say why. It once
// passed a `hostnossl … 0.0.0.0/0` line while a plaintext login succeeded.
var HBATLS = checks.New(checks.Meta{
	ID: "PG-003", Title: "TLS enforced for remote clients", Severity: checks.High, Needs: needPG,
	Remediation: "Change `host`/`hostnossl` lines to `hostssl` and end pg_hba.conf with a `reject` line; on RDS set rds.force_ssl=1.",
}, func(f *checks.Facts) []checks.Finding {
	r := resource(f)
	p := f.PG
	ev := checks.Ev()
	var is checks.Issues
	if p.PlaintextAccepted != nil {
		ev["plaintext_probe"] = p.PlaintextProbe
		if *p.PlaintextAccepted {
			if p.RDS {
				fs, _ := setting(f, "rds.force_ssl")
				is.Add(checks.Fail, "a plaintext session request was accepted (rds.force_ssl=%s): %s", fs, p.PlaintextProbe)
			} else if p.Local {
				is.Add(checks.Warn, "plaintext TCP is accepted on this host's own path to the database (%s)", p.PlaintextProbe)
			} else {
				is.Add(checks.Fail, "plaintext TCP is accepted: %s", p.PlaintextProbe)
			}
		}
	}
	for _, a := range p.PlaintextSessions {
		if !localAddr(a) {
			is.Add(checks.Fail, "a plaintext session is open from %s", a)
		}
	}
	if p.RDS {
		fs, _ := setting(f, "rds.force_ssl")
		ev["rds.force_ssl"] = fs
		if !on(fs) {
			is.Add(checks.Fail, "rds.force_ssl is off: clients may connect without TLS")
		}
		if p.PlaintextAccepted == nil && is.Empty() {
			return []checks.Finding{{Status: checks.Warn, Resource: r, Evidence: ev,
				Message: "rds.force_ssl=1, but no plaintext attempt could confirm it: " + p.PlaintextProbe}}
		}
		return []checks.Finding{is.Finding(r, "a plaintext session request was refused (rds.force_ssl=1)", ev)}
	}
	if skip, ok := unreadable(f, "pg_hba_file_rules"); ok {
		if !is.Empty() {
			return []checks.Finding{is.Finding(r, "", ev)}
		}
		if p.PlaintextAccepted != nil {
			return []checks.Finding{{Status: checks.Pass, Resource: r, Evidence: ev,
				Message: "a plaintext session request was refused (pg_hba not readable: " + skip.Message + ")"}}
		}
		return []checks.Finding{skip}
	}
	hostLines := 0
	for _, h := range p.HBA {
		if (h.Type != "host" && h.Type != "hostnossl") || h.AuthMethod == "reject" {
			continue
		}
		hostLines++
		switch {
		case localAddr(h.Address):
			is.Add(checks.Warn, "line %d (%s) allows plaintext TCP from %s", h.Line, h.Type, h.Address)
		case p.Local && dockerNet(h.Address):
			is.Add(checks.Warn, "line %d (%s) allows plaintext TCP from %s (the Docker networks of this host)", h.Line, h.Type, addr(h))
		default:
			is.Add(checks.Fail, "line %d (%s) allows plaintext TCP from %s", h.Line, h.Type, addr(h))
		}
	}
	ev["plaintext_host_lines"] = fmt.Sprint(hostLines)
	if p.PlaintextAccepted == nil && is.Empty() {
		return []checks.Finding{{Status: checks.Pass, Resource: r, Evidence: ev,
			Message: "only hostssl/hostgssenc lines accept TCP clients (no plaintext attempt was possible: " + p.PlaintextProbe + ")"}}
	}
	return []checks.Finding{is.Finding(r, "a plaintext session request was refused; only hostssl/hostgssenc lines accept TCP clients", ev)}
})

// dockerNet: an address range inside Docker's default address pools
// (172.16.0.0/12, 192.168.0.0/16 as used by bridge networks).
func dockerNet(a string) bool {
	return strings.HasPrefix(a, "172.") || strings.HasPrefix(a, "192.168.")
}

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
