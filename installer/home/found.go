package home

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/secret"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/calctl/calctl/internal/composeload"
)

// caInContainer is where calctl render mounts the database CA file in
// the compose services (installer.CAInContainer; repeated to keep this
// package free of the installer's imports).
const caInContainer = "/etc/calcom/db-ca.pem"

// FromRender reads what `calctl render` (or an earlier install) left in dir
// — a .env and a docker-compose.yml or pm2 ecosystem file — back into
// answers and secrets, so the wizard starts from the install as it is
// instead of swapping its external database for a bundled one or dropping
// its e-mail settings. found says what was read, for the Welcome screen;
// it is "" (and a nil) when dir holds no .env.
//
// The compose file is read with compose-go (the Compose Specification's
// reference loader), so short and long volume syntax both work; the CA
// file is the source of the volume whose target is /etc/calcom/db-ca.pem.
// The .env names come from installer/render_env.go (calcom-facts.md §4,
// Cal.com's .env.example).
func FromRender(ctx context.Context, dir string) (*contract.Answers, contract.EnvSecrets, string, error) {
	var env contract.EnvSecrets
	f, err := dotenv.Read(filepath.Join(dir, ".env"))
	if err != nil {
		if dotenv.IsNotExist(err) {
			return nil, env, "", nil
		}
		return nil, env, "", fmt.Errorf("%s: %w", filepath.Join(dir, ".env"), err)
	}
	e := f.Map()
	a := &contract.Answers{InstallDir: dir}
	var what []string
	if v := e["NEXT_PUBLIC_WEBAPP_URL"]; v != "" {
		a.PublicURL = v
		what = append(what, "public URL")
	}
	if h := e["EMAIL_SERVER_HOST"]; h != "" {
		a.Email.Host, a.Email.User, a.Email.From, a.Email.FromName = h, e["EMAIL_SERVER_USER"], e["EMAIL_FROM"], e["EMAIL_FROM_NAME"]
		a.Email.Port, _ = strconv.Atoi(e["EMAIL_SERVER_PORT"])
		if p := e["EMAIL_SERVER_PASSWORD"]; p != "" && a.Email.User != "" {
			env.SMTPPassword = secret.Secret(p)
			a.Email.PasswordEnv = "SMTP_PASSWORD"
		}
		what = append(what, "e-mail settings")
	}
	files := []string{".env"}
	var p *types.Project
	for _, name := range []string{"docker-compose.yml", "compose.yml"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		files = append(files, name)
		a.Target = contract.TargetCompose
		details := types.ConfigDetails{WorkingDir: dir, ConfigFiles: []types.ConfigFile{{Filename: name, Content: b}}, Environment: types.Mapping{}}
		p, err = composeload.Load(ctx, details, func(o *loader.Options) {
			o.SkipResolveEnvironment = true
			o.SkipInterpolation = true
			o.SetProjectName("calcom", false)
		})
		if err != nil {
			return nil, env, "", fmt.Errorf("%s does not load with compose-go: %w", filepath.Join(dir, name), err)
		}
		break
	}
	for _, name := range []string{"ecosystem.config.js", "ecosystem.config.cjs"} {
		if a.Target == "" && exists(filepath.Join(dir, name)) {
			files = append(files, name)
			a.Target = contract.TargetPM2
		}
	}
	bundled := false
	if p != nil {
		if p.Name != "" {
			a.Start.Project = p.Name
		}
		// render names the web image <project>-web:local (installer/step_render.go)
		if w, ok := p.Services["web"]; ok && strings.HasSuffix(w.Image, "-web:local") {
			a.Start.Project = strings.TrimSuffix(w.Image, "-web:local")
		}
		if _, ok := p.Services["database"]; ok {
			bundled = true
		}
		a.Proxy = contract.ProxyNone
		if _, ok := p.Services["proxy"]; ok {
			a.Proxy = contract.ProxyCaddy
		}
		for _, s := range p.Services {
			for _, v := range s.Volumes {
				if v.Target == caInContainer && v.Source != "" {
					src := v.Source
					if !filepath.IsAbs(src) {
						src = filepath.Join(dir, src)
					}
					a.Database.CAFile = src
				}
			}
		}
	}
	if bundled {
		a.Database.Mode = contract.DBBundled
		what = append(what, "bundled database")
	} else if raw := firstOf(e, "DATABASE_DIRECT_URL", "DATABASE_URL"); raw != "" {
		a.Database.Mode = contract.DBExternal
		u, ca := userURL(raw)
		if a.Database.CAFile == "" && ca != "" && ca != caInContainer {
			a.Database.CAFile = ca // pm2: the CA at its host path
		}
		if strings.Contains(u, ".rds.amazonaws.com") {
			a.Database.Mode = contract.DBRDS
		}
		env.DatabaseURL = secret.Secret(u)
		a.Database.URLEnv = "DATABASE_URL"
		d := a.Database.Mode + " database (URL"
		if a.Database.CAFile != "" {
			d += " and CA file"
		}
		what = append(what, d+")")
	}
	if a.Proxy == contract.ProxyCaddy {
		what = append(what, "proxy caddy")
	}
	found := strings.Join(files, " and ") + " (as calctl render writes them)"
	if len(what) > 0 {
		found += ": " + strings.Join(what, ", ")
	}
	return a, env, found, nil
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// userURL turns a rendered database URL back into the URL a user gives:
// the CA file leaves the URL (the answers keep it as database.ca_file and
// render puts it back in each driver's form, installer/render_dburl.go).
// Only URL forms are rewritten; a libpq keyword string is returned as is.
func userURL(raw string) (u, ca string) {
	pu, err := url.Parse(raw)
	if err != nil || (pu.Scheme != "postgres" && pu.Scheme != "postgresql") {
		return raw, ""
	}
	q := pu.Query()
	ca = q.Get("sslrootcert")
	q.Del("sslrootcert")
	pu.RawQuery = q.Encode()
	return pu.String(), ca
}
