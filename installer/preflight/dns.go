package preflight

import (
	"context"
	"fmt"
	"net"
	"net/url"
)

// dnsCheck: public_url's host resolves. With a proxy that must get a TLS
// certificate it is an error; otherwise a warning.
var dnsCheck = Check{
	Name: "dns",
	Run: func(ctx context.Context, in *Input) []Finding {
		u, err := url.Parse(in.PublicURL)
		if err != nil {
			return []Finding{{Severity: Error, Message: "public_url: " + err.Error()}}
		}
		host := u.Hostname()
		if net.ParseIP(host) != nil || host == "localhost" {
			return nil
		}
		addrs, err := net.DefaultResolver.LookupHost(ctx, host)
		if err == nil && len(addrs) > 0 {
			return nil
		}
		sev := Warning
		if in.Proxy && u.Scheme == "https" {
			sev = Error
		}
		return []Finding{{Severity: sev, Message: fmt.Sprintf("public_url host %s does not resolve: %v", host, err),
			Remedy: fmt.Sprintf("create a DNS A/AAAA record for %s pointing at this host (Caddy needs it for the TLS certificate)", host)}}
	},
}
