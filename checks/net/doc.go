// Package net holds the NET-* checks: the public URL's TLS and HTTP
// behaviour and the host's sockets, disks, clock, sshd and Docker socket.
// Each check is pure over checks.Facts.
package net

import "github.com/calctl/calctl/checks"

var (
	needNet  = []checks.Source{checks.SourceNet}
	needHost = []checks.Source{checks.SourceHost}
)
