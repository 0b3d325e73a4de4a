package pg

import (
	"strings"

	"github.com/calctl/calctl/checks"
)

var riskyExtensions = map[string]bool{"adminpack": true, "dblink": true, "postgres_fdw": true, "file_fdw": true, "plpython3u": true, "plperlu": true, "pg_execute_server_program": true}

// Extensions is PG-012: risky extensions and untrusted languages.
var Extensions = checks.New(checks.Meta{
	ID: "PG-012", Title: "Risky extensions and untrusted languages", Severity: checks.Low, Needs: needPG,
	Remediation: "DROP EXTENSION / DROP LANGUAGE for anything Cal.com does not need.",
}, func(f *checks.Facts) []checks.Finding {
	var bad []string
	for _, e := range f.PG.Extensions {
		if riskyExtensions[e] {
			bad = append(bad, e)
		}
	}
	bad = append(bad, f.PG.UntrustedLangs...)
	ev := checks.Ev("extensions", strings.Join(f.PG.Extensions, ","))
	if len(bad) > 0 {
		return []checks.Finding{{Status: checks.Warn, Resource: resource(f), Evidence: ev, Message: "risky extensions or untrusted languages: " + strings.Join(bad, ", ")}}
	}
	return []checks.Finding{{Status: checks.Pass, Resource: resource(f), Evidence: ev, Message: "no risky extension or untrusted language"}}
})
