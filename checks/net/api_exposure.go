package net

import (
	"net/url"
	"strings"

	"github.com/calctl/calctl/checks"
)

// apiURLKeys are Cal.com's API base URLs (calcom-facts.md §3:
// NEXT_PUBLIC_API_V2_URL; API v1's own URL in newer trees).
var apiURLKeys = []string{"NEXT_PUBLIC_API_V2_URL", "API_V2_URL", "NEXT_PUBLIC_API_URL", "API_URL"}

// APIExposure is NET-009: the APIs (v1 on 3003, v2) are reached only through
// TLS — no API port published on all interfaces, no plain-http API URL on a
// public host. API v1 answers every request with the data of the key's
// owner; in production it needs CALCOM_LICENSE_KEY (calcom-facts.md §9).
var APIExposure = checks.New(checks.Meta{
	ID: "NET-009", Title: "API exposure", Severity: checks.High, Needs: []checks.Source{checks.SourceFiles},
	Remediation: "Publish API ports on 127.0.0.1 only and serve the API through the TLS proxy; set NEXT_PUBLIC_API_V2_URL to an https URL; remove the api service if nothing uses it.",
}, func(f *checks.Facts) []checks.Finding {
	var out []checks.Finding
	seen := false
	add := func(name string, ports []checks.PortBinding, loc *checks.Location) {
		seen = true
		var is checks.Issues
		for _, p := range ports {
			if p.HostIP == "unpublished" || p.HostPort == "" {
				continue
			}
			if p.HostIP == "" || p.HostIP == "0.0.0.0" || p.HostIP == "::" {
				is.Add(checks.Fail, "API port %s is published on all interfaces (host port %s): reachable without the proxy's TLS", p.ContainerPort, p.HostPort)
			}
		}
		r := is.Finding(name, "the API is published on loopback only (or not at all)", nil)
		r.Location = loc
		out = append(out, r)
	}
	if f.Docker != nil && f.Source(checks.SourceDocker).Collected && len(f.Docker.Containers) > 0 {
		for _, c := range f.Docker.Containers {
			if c.Role == "api" {
				add(c.Name, c.Ports, nil)
			}
		}
	} else if f.Files != nil && f.Files.Compose != nil {
		cf := f.Files.Compose
		for _, s := range cf.Services {
			if s.Role == "api" {
				add("compose:"+s.Name, s.Ports, &checks.Location{Path: cf.Path, Line: s.Line})
			}
		}
	}
	for _, k := range apiURLKeys {
		v, ok := f.Env(k)
		if !ok || v.Value == "" {
			continue
		}
		seen = true
		u, err := url.Parse(v.Value)
		r := checks.Finding{Resource: k, Location: v.Loc(), Evidence: checks.Ev("url", v.Value)}
		switch {
		case err != nil || u.Host == "":
			r.Status, r.Message = checks.Warn, k+" is not an absolute URL"
		case u.Scheme == "https":
			r.Status, r.Message = checks.Pass, k+" is https"
		case localHost(u.Hostname()):
			r.Status, r.Message = checks.Pass, k+" is plain http on a local host ("+u.Host+")"
		default:
			r.Status, r.Message = checks.Fail, k+" sends API traffic in plain http to "+u.Host
		}
		out = append(out, r)
	}
	if !seen {
		return []checks.Finding{{Status: checks.Pass, Resource: "api", Message: "no API is deployed: no api service or container and no API URL in the config"}}
	}
	return out
})

func localHost(h string) bool {
	h = strings.ToLower(h)
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}
