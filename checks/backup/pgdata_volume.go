package backup

import (
	"path"
	"strings"

	"github.com/calctl/calctl/checks"
)

// PGDataVolume is BK-001: the db container keeps PGDATA on a volume or bind mount.
var PGDataVolume = checks.New(checks.Meta{
	ID: "BK-001", Title: "PGDATA on persistent storage", Severity: checks.High,
	Remediation: "Add a named volume for PGDATA (calcom/docker: `database-data:/var/lib/postgresql/data`).",
}, func(f *checks.Facts) []checks.Finding {
	if f.Target.Profile == "pm2" || rds(f) {
		return []checks.Finding{{Status: checks.Skip, Message: "profile " + f.Target.Profile + ": no database container"}}
	}
	var out []checks.Finding
	if f.Source(checks.SourceDocker).Collected && f.Docker != nil {
		for _, c := range f.Docker.Containers {
			if c.Role != "db" {
				continue
			}
			pgdata := c.PlainEnv["PGDATA"]
			if pgdata == "" {
				pgdata = "/var/lib/postgresql/data"
			}
			r := checks.Finding{Resource: c.Name, Evidence: checks.Ev("pgdata", pgdata)}
			r.Status, r.Message = checks.Fail, "PGDATA "+pgdata+" lives in the container layer: lost when the container is recreated"
			for _, m := range c.Mounts {
				if (m.Type == "volume" || m.Type == "bind") && under(pgdata, m.Destination) {
					r.Status, r.Message = checks.Pass, "PGDATA is on a "+m.Type+" mounted at "+m.Destination
					r.Evidence["mount"] = m.Destination
				}
			}
			out = append(out, r)
		}
	} else if f.Files != nil && f.Files.Compose != nil {
		for _, s := range f.Files.Compose.Services {
			if s.Role != "db" {
				continue
			}
			pgdata := s.Env["PGDATA"].Value
			if pgdata == "" {
				pgdata = "/var/lib/postgresql/data"
			}
			r := checks.Finding{Resource: "compose:" + s.Name, Location: &checks.Location{Path: f.Files.Compose.Path, Line: s.Line}}
			r.Status, r.Message = checks.Fail, "no volume for PGDATA "+pgdata
			for _, v := range s.Volumes {
				if under(pgdata, v) {
					r.Status, r.Message = checks.Pass, "PGDATA is on a volume at "+v
				}
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return []checks.Finding{{Status: checks.Skip, Message: "no database container found"}}
	}
	return out
})

func under(p, mount string) bool {
	p, mount = path.Clean(p), path.Clean(mount)
	return p == mount || strings.HasPrefix(p, mount+"/")
}
