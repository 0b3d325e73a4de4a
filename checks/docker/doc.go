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
}

// units returns what to judge, or a finding explaining why nothing can be.
func units(f *checks.Facts, liveOnly bool) ([]unit, *checks.Finding) {
	st := f.Source(checks.SourceDocker)
	if st.Collected && f.Docker != nil {
		var us []unit
		for i := range f.Docker.Containers {
			c := &f.Docker.Containers[i]
			us = append(us, unit{name: c.Name, role: c.Role, live: true, running: c.State == "running", c: c, image: c.Image,
				privileged: c.Privileged, user: c.User, ports: c.Ports, restart: c.RestartPolicy, readonly: c.ReadonlyRootfs,
				cmd: c.Cmd, healthy: c.Healthcheck, capAdd: c.CapAdd, capDrop: c.CapDrop, secOpt: c.SecurityOpt,
				netMode: c.NetworkMode, pidMode: c.PidMode, ipcMode: c.IpcMode})
		}
		if len(us) == 0 {
			return nil, &checks.Finding{Status: checks.Skip, Message: "the Docker engine runs no containers"}
		}
		return us, nil
	}
	if !liveOnly && f.Files != nil && f.Files.Compose != nil && len(f.Files.Compose.Services) > 0 {
		var us []unit
		cf := f.Files.Compose
		for i := range cf.Services {
			s := &cf.Services[i]
			us = append(us, unit{name: "compose:" + s.Name, role: s.Role, s: s, image: s.Image, privileged: s.Privileged,
				user: s.User, ports: s.Ports, restart: s.Restart, readonly: s.ReadOnly, cmd: s.Command, healthy: s.Healthcheck,
				capAdd: s.CapAdd, capDrop: s.CapDrop, secOpt: s.SecurityOpt, netMode: s.NetworkMode, pidMode: s.PID,
				loc: &checks.Location{Path: cf.Path, Line: s.Line}})
		}
		return us, nil
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
