package config

import (
	"fmt"

	"github.com/calctl/calctl/checks"
)

// FileModes is CF-006: config files holding secrets are 0600 and not in git.
var FileModes = checks.New(checks.Meta{
	ID: "CF-006", Title: "Config file permissions; secrets in VCS", Severity: checks.High, Needs: needFiles,
	Remediation: "`chmod 600` the file (owner root or the service user); if it is tracked, `git rm --cached` it and rotate every secret it held.",
}, func(f *checks.Facts) []checks.Finding {
	var out []checks.Finding
	if f.Files == nil {
		return nil
	}
	for _, st := range f.Files.Stats {
		if !st.Exists || !st.Secrets {
			continue
		}
		perm := st.Mode & 0o777
		r := checks.Finding{Resource: st.Path, Location: &checks.Location{Path: st.Path, Line: 1},
			Evidence: checks.Ev("mode", fmt.Sprintf("%04o", perm), "uid", fmt.Sprint(st.UID), "kind", st.Kind)}
		switch {
		case st.GitTracked != nil && *st.GitTracked:
			r.Status, r.Message = checks.Fail, "the file is tracked in git: its secrets are in the repository history"
		case perm&0o007 != 0:
			r.Status, r.Message = checks.Fail, fmt.Sprintf("mode %04o: readable by every user on the host", perm)
		case perm&0o070 != 0:
			r.Status, r.Message = checks.Warn, fmt.Sprintf("mode %04o: group-readable", perm)
		default:
			r.Status, r.Message = checks.Pass, fmt.Sprintf("mode %04o", perm)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return []checks.Finding{{Status: checks.Skip, Message: "no config file holding secrets was found"}}
	}
	return out
})
