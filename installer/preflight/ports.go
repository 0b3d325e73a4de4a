package preflight

import (
	"context"
	"fmt"
	"net"
	"sort"
)

// portsCheck: the ports the install will listen on are free (ports held by
// this install's own containers, on a re-run, are fine).
var portsCheck = Check{
	Name: "ports",
	Run: func(ctx context.Context, in *Input) []Finding {
		ports := make([]int, 0, len(in.Ports))
		for p := range in.Ports {
			ports = append(ports, p)
		}
		sort.Ints(ports)
		var fs []Finding
		for _, p := range ports {
			if in.OwnPorts[p] {
				continue
			}
			if err := portFree(p); err != nil {
				fs = append(fs, Finding{Severity: Error, Message: fmt.Sprintf("port %d (%s) is in use: %v", p, in.Ports[p], err),
					Remedy: fmt.Sprintf("stop what listens there (ss -ltnp 'sport = :%d' shows it) or change the port in the answers", p)})
			}
		}
		return fs
	},
}

// portFree tries to listen on the port on all interfaces.
func portFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	return l.Close()
}
