package installer

import (
	"fmt"
	"net/url"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/dburl"
)

// CAInContainer is where the database CA file is mounted in containers.
const CAInContainer = "/etc/calcom/db-ca.pem"

// DatabaseURLs are the database URLs of an install, each in the form of
// the driver that reads it (calcom-facts.md §9 "Prisma and TLS"; package
// internal/dburl).
type DatabaseURLs struct {
	// App is DATABASE_URL: read at run time by Prisma's engine, or by
	// node-postgres on trees that use @prisma/adapter-pg.
	App string
	// Direct is DATABASE_DIRECT_URL: read by `prisma migrate deploy`, which
	// is Prisma's engine on every tree.
	Direct string
	// Calctl is CALCTL_DATABASE_URL: calctl's own pgx connections (the usage
	// agent) in the target's file system, libpq form.
	Calctl string
	// Host is what calctl connects with from this host (libpq form, the CA
	// at its host path). It is written nowhere.
	Host string
}

// caFor returns the CA file as the target's processes see it.
func caFor(a *Answers) (target, host string) {
	if a.Database.CAFile == "" {
		return "", ""
	}
	if a.Target == TargetCompose {
		return CAInContainer, a.Database.CAFile
	}
	return a.Database.CAFile, a.Database.CAFile
}

// DatabaseURLsFor builds the install's database URLs. For the bundled
// database they point at the database service on the compose network, TLS
// verified in each driver's form against the CA calctl made (dbtls.go;
// its path is the same in the containers and on this host). For external and RDS
// databases that ask for verification (a CA file, RDS, or verify-full /
// verify-ca / sslaccept=strict in the URL) each URL is rewritten into the
// form its driver verifies; otherwise the URL is used as given (preflight
// warns when that is plaintext or unverified to a remote host).
func DatabaseURLsFor(a *Answers, env EnvSecrets, repo Repo, sec Secrets) (DatabaseURLs, error) {
	if a.Database.Mode == DBBundled {
		u := url.URL{Scheme: "postgresql", User: url.UserPassword(a.Database.User, sec.DatabasePassword.Reveal()),
			Host: DBServerName + ":5432", Path: "/" + a.Database.Name}
		raw := u.String()
		if a.Target != TargetCompose {
			return DatabaseURLs{App: raw, Direct: raw, Calctl: raw, Host: raw}, nil
		}
		// TLS verified against the CA calctl made for the server
		// (dbtls.go), mounted at the same path in every service
		runtime := dburl.Engine
		if repo.AdapterPG {
			runtime = dburl.NodePG
		}
		ca := DBCAPath(a)
		var out DatabaseURLs
		var err error
		for _, f := range []struct {
			dst *string
			d   dburl.Driver
		}{{&out.App, runtime}, {&out.Direct, dburl.Engine}, {&out.Calctl, dburl.Libpq}, {&out.Host, dburl.Libpq}} {
			if *f.dst, err = dburl.Form(raw, f.d, ca); err != nil {
				return DatabaseURLs{}, err
			}
		}
		return out, nil
	}
	raw := env.DatabaseURL.Reveal()
	if raw == "" {
		return DatabaseURLs{}, WithRemedy(fmt.Errorf("database.url_env: %s is empty", a.Database.URLEnv), "export %s=postgresql://USER:PASSWORD@HOST:5432/DB", a.Database.URLEnv)
	}
	if err := contract.CheckDatabaseURL(a.Database.Mode, raw); err != nil {
		return DatabaseURLs{}, WithRemedy(fmt.Errorf("database.url_env: %s: %w", a.Database.URLEnv, err), "use TLS to the database: sslmode=verify-full with database.ca_file")
	}
	caT, caH := caFor(a)
	if caT == "" && a.Database.Mode != DBRDS && !dburl.WantsVerify(raw) {
		return DatabaseURLs{App: raw, Direct: raw, Calctl: raw, Host: raw}, nil
	}
	runtime := dburl.Engine
	if repo.AdapterPG {
		runtime = dburl.NodePG
	}
	var u DatabaseURLs
	var err error
	for _, f := range []struct {
		dst *string
		d   dburl.Driver
		ca  string
	}{{&u.App, runtime, caT}, {&u.Direct, dburl.Engine, caT}, {&u.Calctl, dburl.Libpq, caT}, {&u.Host, dburl.Libpq, caH}} {
		if *f.dst, err = dburl.Form(raw, f.d, f.ca); err != nil {
			return DatabaseURLs{}, fmt.Errorf("database.url_env: %s: %w", a.Database.URLEnv, err)
		}
	}
	return u, nil
}

// DatabaseURL is the URL calctl itself connects with from this host (the
// wizard's probe, preflight): libpq form, CA at its host path.
func DatabaseURL(a *Answers, env EnvSecrets, sec Secrets) (string, error) {
	u, err := DatabaseURLsFor(a, env, Repo{}, sec)
	if err != nil {
		return "", err
	}
	if a.Database.Mode == DBBundled {
		return u.App, nil
	}
	return u.Host, nil
}
