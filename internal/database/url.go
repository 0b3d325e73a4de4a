package database

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/calctl/calctl/internal/redact"
)

// Form says which reader a database URL was written for. Cal.com's .env
// carries two: DATABASE_DIRECT_URL is read by Prisma's own engine (migrations
// on every tree), DATABASE_URL by the runtime driver (calcom-facts.md §9).
type Form string

// URL forms.
const (
	// FormDriver is a libpq / node-postgres URL: sslmode=verify-full with
	// sslrootcert=<CA> verifies, sslcert/sslkey are a client certificate.
	FormDriver Form = "driver"
	// FormPrismaEngine is Prisma's engine form: sslcert is the server's CA,
	// sslaccept=strict turns verification on, sslidentity is a PKCS#12
	// client identity (prisma-engines quaint/src/connector/postgres/url.rs).
	FormPrismaEngine Form = "prisma-engine"
	// FormKeywordValue is libpq's "host=... dbname=..." form.
	FormKeywordValue Form = "keyword-value"
)

// TLSMode is how calctl's connection uses TLS, in libpq's sslmode terms.
type TLSMode string

// TLS modes.
const (
	TLSDisable    TLSMode = "disable"
	TLSAllow      TLSMode = "allow"
	TLSPrefer     TLSMode = "prefer"
	TLSRequire    TLSMode = "require"
	TLSVerifyCA   TLSMode = "verify-ca"
	TLSVerifyFull TLSMode = "verify-full"
)

// Verified reports whether the server certificate is checked (the CA; with
// verify-full also the host name).
func (m TLSMode) Verified() bool { return m == TLSVerifyCA || m == TLSVerifyFull }

// prismaOnly are the query parameters Prisma's engine reads that are not
// libpq parameters (pgx would send them to the server as settings, which
// refuses them). Source: prisma-engines
// quaint/src/connector/postgres/url.rs, parse_query_params. Parameters both
// understand (sslmode, host, connect_timeout, application_name,
// channel_binding, options) are kept.
var prismaOnly = map[string]bool{
	"schema": true, "connection_limit": true, "pool_timeout": true, "pgbouncer": true,
	"socket_timeout": true, "statement_cache_size": true, "sslaccept": true, "sslidentity": true,
	"max_connection_lifetime": true, "max_idle_connection_lifetime": true,
}

// URL is a parsed Cal.com database URL. It holds the password only inside
// (for connecting and for scrubbing errors); its exported fields are safe
// to print.
type URL struct {
	// Form is the form the URL was recognised as.
	Form Form
	// Host and Port are the first host (a unix socket directory for
	// ?host=/path) and its port (0 = default 5432).
	Host string
	// Port is the first host's port; 0 means the default 5432.
	Port uint16
	// Database and User name the database and role ("" = libpq defaults).
	Database, User string
	// TLS is the mode calctl connects with; CAFile the CA it verifies
	// against ("" = system roots, or no verification).
	TLS TLSMode
	// CAFile is the CA file path from sslrootcert (or Prisma's sslcert);
	// "" = system roots, or no verification.
	CAFile string
	// Schema is Prisma's ?schema=, sent as the session's search_path.
	Schema string
	// PgBouncer is Prisma's ?pgbouncer=true: no server-side prepared
	// statements (transaction pooling).
	PgBouncer bool
	// Dropped lists the Prisma-only parameters left out, sorted.
	Dropped []string

	dsn     string   // what pgx parses (holds the password)
	secrets []string // password forms and the raw URL, for Scrub
}

// Parse reads a Cal.com database URL: postgres:// or postgresql:// in the
// driver or the Prisma engine form, or libpq's keyword/value form. It never
// decodes and re-encodes a parameter it keeps: pgx and libpq do not read '+'
// as a space, so "%20" must reach them as "%20". The error never holds the
// password.
func Parse(raw string) (*URL, error) {
	raw = strings.TrimSpace(raw)
	u := &URL{secrets: secretsOf(raw)}
	if raw == "" {
		return nil, errors.New("database URL is empty (expected postgresql://USER:PASSWORD@HOST:5432/DB)")
	}
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		if !strings.Contains(raw, "=") {
			return nil, errors.New("database URL must start with postgresql:// (or be libpq's host=... dbname=... form)")
		}
		u.Form, u.dsn = FormKeywordValue, raw
		if err := u.describe(); err != nil {
			return nil, err
		}
		return u, nil
	}
	base, query, _ := strings.Cut(raw, "?")
	base = escapeUserInfoAts(base)
	params := splitQuery(query)
	has := map[string]bool{}
	for _, p := range params {
		has[p.key] = true
	}
	u.Form = FormDriver
	if has["sslaccept"] || has["sslidentity"] || (has["sslcert"] && !has["sslkey"]) {
		u.Form = FormPrismaEngine
	}

	var kept []string
	sslmode, sslrootcert, strict := "", "", false
	dropped := map[string]bool{}
	for _, p := range params {
		switch {
		case p.key == "sslmode":
			sslmode = p.libpqValue()
			continue // written back below, possibly mapped
		case p.key == "sslrootcert":
			sslrootcert = p.libpqValue()
			continue
		case u.Form == FormPrismaEngine && p.key == "sslcert":
			// Prisma's sslcert is the server CA, read the way Prisma reads
			// query values (form decoding: '+' is a space).
			u.CAFile = p.formValue()
			dropped["sslcert"] = true
			continue
		case u.Form == FormPrismaEngine && p.key == "sslpassword":
			dropped["sslpassword"] = true // the PKCS#12 identity's password
			continue
		case !prismaOnly[p.key]:
			kept = append(kept, p.raw)
			continue
		}
		dropped[p.key] = true
		switch p.key {
		case "schema":
			u.Schema = p.formValue()
		case "pgbouncer":
			u.PgBouncer = p.formValue() == "true"
		case "sslaccept":
			// quaint: "strict" verifies, "accept_invalid_certs" (the
			// default) does not; any other value means strict.
			strict = p.formValue() != "accept_invalid_certs"
		}
	}
	for k := range dropped {
		u.Dropped = append(u.Dropped, k)
	}
	sort.Strings(u.Dropped)

	switch sslmode {
	case "no-verify":
		// node-postgres' spelling (Cal.com's .env.example suggests
		// PGSSLMODE=no-verify): TLS without verification.
		sslmode = string(TLSRequire)
	}
	if u.Form == FormPrismaEngine {
		if sslrootcert == "" && u.CAFile != "" {
			sslrootcert = u.CAFile
		}
		if strict && sslmode != string(TLSDisable) {
			// Prisma's engine knows only disable|prefer|require and, with
			// sslaccept=strict, checks the chain and the host name. pgx has
			// no "prefer, but verified": verify-full is the faithful and
			// the safe reading.
			sslmode = string(TLSVerifyFull)
		} else if sslrootcert != "" && sslmode != string(TLSVerifyFull) && sslmode != string(TLSVerifyCA) {
			// Without sslaccept=strict Prisma accepts any certificate: do
			// not let libpq's "require + root cert = verify-ca" turn it into
			// a check Prisma would not make.
			sslrootcert = ""
		}
	}
	if sslmode != "" {
		kept = append(kept, "sslmode="+escape(sslmode))
	}
	if sslrootcert != "" {
		kept = append(kept, "sslrootcert="+escape(sslrootcert))
		if u.CAFile == "" {
			u.CAFile = sslrootcert
		}
	}
	u.dsn = base
	if len(kept) > 0 {
		u.dsn += "?" + strings.Join(kept, "&")
	}
	if err := u.describe(); err != nil {
		return nil, err
	}
	return u, nil
}

// describe fills Host, Port, Database, User and TLS from what pgx makes of
// the DSN, without connecting or reading files.
func (u *URL) describe() error {
	cfg, err := parseSettings(u.dsn)
	if err != nil {
		return u.Scrub(fmt.Errorf("database URL cannot be parsed: %w", err))
	}
	u.Host, u.Database, u.User = cfg.host, cfg.database, cfg.user
	if cfg.port != "" {
		n, err := strconv.ParseUint(cfg.port, 10, 16)
		if err != nil {
			// Do not echo it: a "port" that is not a number is usually part
			// of a password holding '/', '?' or '#'.
			return errors.New("database URL: the port is not a number; if the password contains / ? # % or :, percent-encode it (/ is %2F)")
		}
		u.Port = uint16(n)
	}
	u.TLS = TLSMode(cfg.sslmode)
	if u.TLS == "" {
		u.TLS = TLSPrefer // libpq's default
	}
	if cfg.sslmode == "require" && cfg.sslrootcert != "" {
		u.TLS = TLSVerifyCA // libpq: require with a root certificate verifies the chain
	}
	if cfg.sslrootcert != "" {
		u.CAFile = cfg.sslrootcert
	}
	switch u.TLS {
	case TLSDisable, TLSAllow, TLSPrefer, TLSRequire, TLSVerifyCA, TLSVerifyFull:
	default:
		return fmt.Errorf("database URL: sslmode %q is not one of disable, allow, prefer, require, verify-ca, verify-full", u.TLS)
	}
	return nil
}

// Redacted returns the URL as calctl uses it with the password masked, for
// messages and reports.
func (u *URL) Redacted() string { return redact.String(u.dsn, u.secrets...) }

// escapeUserInfoAts makes a password with an unescaped '@' mean what it
// means to Prisma's engine (WHATWG URL parsing: the user info ends at the
// LAST '@' of the authority), where libpq and pgx would end it at the first.
func escapeUserInfoAts(base string) string {
	scheme, rest, _ := strings.Cut(base, "://")
	end := strings.IndexAny(rest, "/#")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	last := strings.LastIndexByte(auth, '@')
	if last < 0 || strings.Count(auth, "@") < 2 {
		return base
	}
	return scheme + "://" + strings.ReplaceAll(auth[:last], "@", "%40") + auth[last:] + rest[end:]
}

// param is one key=value of a query string, as written.
type param struct {
	raw, key, value string // raw "k=v"; key decoded; value as written
}

func splitQuery(q string) []param {
	var out []param
	for _, s := range strings.Split(q, "&") {
		if s == "" {
			continue
		}
		k, v, _ := strings.Cut(s, "=")
		key, err := url.PathUnescape(k)
		if err != nil {
			key = k
		}
		out = append(out, param{raw: s, key: key, value: v})
	}
	return out
}

// libpqValue decodes the value as libpq does (%XX only; '+' stays '+').
func (p param) libpqValue() string {
	v, err := url.PathUnescape(p.value)
	if err != nil {
		return p.value
	}
	return v
}

// formValue decodes the value as Prisma's engine does (Rust url's
// query_pairs: application/x-www-form-urlencoded, '+' is a space).
func (p param) formValue() string {
	v, err := url.QueryUnescape(p.value)
	if err != nil {
		return p.value
	}
	return v
}

// escape percent-encodes a value for a libpq URI query: everything but
// unreserved characters and '/', so that '+' and ' ' survive libpq's decoding.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
