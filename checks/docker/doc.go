// Package docker holds the DK-* checks over containers: live ones from the
// Docker engine when it answered, otherwise the services of the compose file
// (with file locations). Each check is pure over checks.Facts.
package docker

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

// unit is a container or, without a daemon, a compose service.
type unit struct {
	name       string
	role       string
	live       bool
	running    bool
	c          *checks.Container
	s          *checks.ComposeService
	loc        *checks.Location
	image      string
	privileged bool
	user       string
	ports      []checks.PortBinding
	restart    string
	readonly   bool
	cmd        string
	healthy    bool // has a healthcheck
	capAdd     []string
	capDrop    []string
	secOpt     []string
	netMode    string
	pidMode    string
	ipcMode    string
	mounts     []checks.Mount
	limits     checks.Limits
	logDriver  string
	logOpts    map[string]string
}

// units returns what to judge, or a finding explaining why nothing can be:
// the install's containers (the compose project, by its labels) when the
// engine answered and runs some; else the compose file's services; else
// SKIP or ERROR with the cause.
func units(f *checks.Facts, liveOnly bool) ([]unit, *checks.Finding) {
	st := f.Source(checks.SourceDocker)
	var cf *checks.ComposeFacts
	if f.Files != nil {
		cf = f.Files.Compose
	}
	if st.Collected && f.Docker != nil && len(f.Docker.Containers) > 0 {
		var us []unit
		for i := range f.Docker.Containers {
			c := &f.Docker.Containers[i]
			us = append(us, unit{name: c.Name, role: c.Role, live: true, running: c.State == "running", c: c, image: c.Image,
				privileged: c.Privileged, user: c.User, ports: c.Ports, restart: c.RestartPolicy, readonly: c.ReadonlyRootfs,
				cmd: c.Cmd, healthy: c.Healthcheck, capAdd: c.CapAdd, capDrop: c.CapDrop, secOpt: c.SecurityOpt,
				netMode: c.NetworkMode, pidMode: c.PidMode, ipcMode: c.IpcMode, mounts: c.Mounts, limits: c.Limits,
				logDriver: c.LogDriver, logOpts: c.LogOpts, loc: serviceLoc(cf, c.Service)})
		}
		return us, nil
	}
	if !liveOnly && cf != nil && len(cf.Services) > 0 {
		var us []unit
		for i := range cf.Services {
			s := &cf.Services[i]
			us = append(us, unit{name: "compose:" + s.Name, role: s.Role, s: s, image: s.Image, privileged: s.Privileged,
				user: s.User, ports: s.Ports, restart: s.Restart, readonly: s.ReadOnly, cmd: s.Command, healthy: s.Healthcheck,
				capAdd: s.CapAdd, capDrop: s.CapDrop, secOpt: s.SecurityOpt, netMode: s.NetworkMode, pidMode: s.PID,
				ipcMode: s.IpcMode, mounts: s.Mounts, limits: s.Limits, logDriver: s.LogDriver, logOpts: s.LogOpts,
				loc: &checks.Location{Path: cf.Path, Line: s.Line}})
		}
		return us, nil
	}
	if st.Collected && f.Docker != nil {
		msg := "the Docker engine runs no containers"
		if f.Docker.Scope != "" && f.Docker.Scope != "all" {
			msg = "no container in scope (" + f.Docker.Scope + ")"
		}
		return nil, &checks.Finding{Status: checks.Skip, Message: msg}
	}
	why := st.Error
	status := checks.Error
	if why == "" {
		status = checks.Skip
		why = st.Skipped
		if why == "" {
			why = "not collected"
		}
	}
	return nil, &checks.Finding{Status: status, Message: "docker: " + why}
}

// serviceLoc points a container at its service in the compose file.
func serviceLoc(cf *checks.ComposeFacts, service string) *checks.Location {
	if cf == nil || service == "" {
		return nil
	}
	for _, s := range cf.Services {
		if s.Name == service {
			return &checks.Location{Path: cf.Path, Line: s.Line}
		}
	}
	return nil
}

func run(f *checks.Facts, liveOnly bool, judge func(u unit) checks.Finding) []checks.Finding {
	us, why := units(f, liveOnly)
	if why != nil {
		return []checks.Finding{*why}
	}
	out := make([]checks.Finding, 0, len(us))
	for _, u := range us {
		r := judge(u)
		if r.Resource == "" {
			r.Resource = u.name
		}
		if r.Location == nil {
			r.Location = u.loc
		}
		out = append(out, r)
	}
	return out
}

func hasFold(list []string, want string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), want) {
			return true
		}
	}
	return false
}

func isRootUser(u string) bool {
	u = strings.TrimSpace(u)
	return u == "" || u == "0" || u == "root" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:")
}

func wildcard(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" || ip == "[::]" }

func portNum(p string) string {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// needDocker is what the engine-level checks (DK-015, DK-016) need.
var needDocker = []checks.Source{checks.SourceDocker}
