// Package localhost is calctl's one definition of "this host": which
// database, SMTP, inspector, billing and public URL hosts are reached
// without leaving the machine. The installer's TLS rules, the checks and
// the agent all ask it.
//
// It knows two scopes short of Remote:
//
//   - Loopback: a unix socket (an absolute path, "unix...", "[local]",
//     or "" — libpq's default host), a loopback address (127.0.0.0/8,
//     ::1), or a localhost name ("localhost", "*.localhost", RFC 6761).
//     Traffic never reaches a network interface.
//   - SameHost: a same-host docker network — a compose service name (one
//     label, no dots, such as "database"), an address of the default
//     docker bridge (172.17.0.0/16), or pg_hba's "samehost". Traffic stays
//     on this machine's bridges.
//
// Callers pick the scope their rule needs: plain HTTP with a token, or a
// public URL, must stay on Loopback (IsLoopback); Postgres without TLS is
// tolerated with a warning on the same host (IsLocal).
package localhost

import (
	"net"
	"strings"
)

// Scope says how far traffic to a host travels.
type Scope int

// Scopes, nearest first.
const (
	Loopback Scope = iota
	SameHost
	Remote
)

func (s Scope) String() string {
	switch s {
	case Loopback:
		return "loopback"
	case SameHost:
		return "same-host network"
	}
	return "remote"
}

// dockerBridge is the default docker bridge network.
var dockerBridge = &net.IPNet{IP: net.IPv4(172, 17, 0, 0), Mask: net.CIDRMask(16, 32)}

// Of returns the scope of host: a host name, an IP address (brackets
// allowed), or a unix socket directory.
func Of(host string) Scope {
	h := strings.ToLower(strings.TrimSpace(host))
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	switch {
	case h == "", strings.HasPrefix(h, "/"), strings.HasPrefix(h, "unix"), h == "local":
		return Loopback
	case h == "localhost", strings.HasSuffix(h, ".localhost"):
		return Loopback
	case h == "samehost":
		return SameHost
	}
	if ip := net.ParseIP(h); ip != nil {
		switch {
		case ip.IsLoopback():
			return Loopback
		case dockerBridge.Contains(ip):
			return SameHost
		}
		return Remote
	}
	if strings.HasPrefix(h, "127.") { // a loopback address net.ParseIP does not take (127.1)
		return Loopback
	}
	if !strings.ContainsAny(h, ".:") {
		return SameHost // a compose service name
	}
	return Remote
}

// IsLoopback reports whether host is reached without a network interface.
func IsLoopback(host string) bool { return Of(host) == Loopback }

// IsLocal reports whether host is on this machine: loopback or a same-host
// docker network.
func IsLocal(host string) bool { return Of(host) != Remote }
