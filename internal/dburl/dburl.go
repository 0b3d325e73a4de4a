// Package dburl reads and writes PostgreSQL connection URLs the way each
// driver that reads Cal.com's .env does, so that TLS is really verified
// (calcom-facts.md §9 "Prisma and TLS — which code reads the URL decides"):
//
//   - Prisma's query engine (the runtime on trees before @prisma/adapter-pg,
//     and `prisma migrate deploy` on every tree; prisma-engines
//     quaint/src/connector/postgres/url.rs): sslmode is disable, prefer or
//     require — anything else silently becomes prefer; sslrootcert is
//     ignored; sslcert is the server CA; sslaccept defaults to
//     accept_invalid_certs. It verifies only with
//     sslmode=require&sslaccept=strict (sslcert=<CA> for a private CA).
//   - node-postgres (trees whose packages/prisma uses @prisma/adapter-pg):
//     sslmode=verify-full&sslrootcert=<CA> verifies; sslcert is a client
//     certificate.
//   - libpq / pgx (calctl's own connections): sslmode=verify-full verifies.
//
// Only the query string is ever rewritten, textually: the user name,
// password, host and database keep their exact bytes (a "%24" stays "%24").
// Nothing here returns or formats a password.
package dburl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Driver is what reads a URL.
type Driver int

// The drivers.
const (
	Engine Driver = iota // Prisma's Rust engine
	NodePG               // node-postgres via @prisma/adapter-pg
	Libpq                // libpq and pgx
)

func (d Driver) String() string {
	return [...]string{"Prisma's engine", "node-postgres", "libpq/pgx"}[d]
}

// TLS is how a driver would connect with a URL.
type TLS struct {
	Encrypted bool   // TLS is always used (no plaintext fallback)
	Verified  bool   // the server certificate is checked against a CA (and the host name)
	Why       string // in words, for messages
}

// params splits a URL into the part before "?" and its raw key=value pairs,
// in order, undecoded.
type params struct {
	base  string
	pairs [][2]string
}

func split(raw string) (*params, error) {
	if strings.ContainsAny(raw, "#\r\n") {
		return nil, errors.New("the URL holds #, CR or LF")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("scheme %q is not postgres or postgresql", u.Scheme)
	}
	base, q, _ := strings.Cut(raw, "?")
	p := &params{base: base}
	if q == "" {
		return p, nil
	}
	for _, kv := range strings.Split(q, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		p.pairs = append(p.pairs, [2]string{k, v})
	}
	return p, nil
}

func (p *params) get(k string) string {
	v := ""
	for _, kv := range p.pairs {
		if kv[0] == k {
			v = kv[1]
		}
	}
	d, err := url.QueryUnescape(v)
	if err != nil {
		return v
	}
	return d
}

func (p *params) del(keys ...string) {
	out := p.pairs[:0]
	for _, kv := range p.pairs {
		drop := false
		for _, k := range keys {
			if kv[0] == k {
				drop = true
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	p.pairs = out
}

// escapeValue percent-encodes a query value, keeping "/" readable (every
// driver decodes %2F and / alike) and writing a space as %20: libpq decodes
// only %XX, not the form encoding's "+".
func escapeValue(v string) string {
	e := strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
	return strings.ReplaceAll(e, "%2F", "/")
}

func (p *params) set(k, v string) { p.pairs = append(p.pairs, [2]string{k, escapeValue(v)}) }

func (p *params) String() string {
	if len(p.pairs) == 0 {
		return p.base
	}
	parts := make([]string, len(p.pairs))
	for i, kv := range p.pairs {
		parts[i] = kv[0] + "=" + kv[1]
	}
	return p.base + "?" + strings.Join(parts, "&")
}

// Host returns the URL's host name (no port), for messages and locality.
func Host(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a URL")
	}
	return u.Hostname(), nil
}

// Analyze says how driver d would use TLS with raw. pgsslmode is the
// PGSSLMODE environment variable the driver would see ("" if unset; only
// libpq and node-postgres read it).
func Analyze(raw string, d Driver, pgsslmode string) (TLS, error) {
	p, err := split(raw)
	if err != nil {
		return TLS{}, err
	}
	mode := strings.ToLower(p.get("sslmode"))
	switch d {
	case Engine:
		switch mode {
		case "disable":
			return TLS{Why: "sslmode=disable: no TLS"}, nil
		case "require":
		default:
			if mode == "" {
				return TLS{Why: "no sslmode: Prisma's engine uses prefer (TLS if offered, plaintext otherwise) without checking the certificate"}, nil
			}
			if mode != "prefer" {
				return TLS{Why: "sslmode=" + mode + " is not one of Prisma's engine modes (disable, prefer, require): it silently becomes prefer, without certificate checks"}, nil
			}
			return TLS{Why: "sslmode=prefer falls back to plaintext and does not check the certificate"}, nil
		}
		if strings.ToLower(p.get("sslaccept")) != "strict" {
			return TLS{Encrypted: true, Why: "sslmode=require without sslaccept=strict: Prisma's engine accepts any certificate (sslaccept defaults to accept_invalid_certs)"}, nil
		}
		return TLS{Encrypted: true, Verified: true, Why: "sslmode=require&sslaccept=strict: the certificate is verified"}, nil
	case NodePG, Libpq:
		if mode == "" {
			mode = strings.ToLower(pgsslmode)
		}
		if d == NodePG && p.get("sslcert") != "" && p.get("sslkey") == "" {
			return TLS{Why: "sslcert without sslkey: node-postgres reads sslcert as a client certificate (this is Prisma's engine form; use sslmode=verify-full&sslrootcert=<CA>)"}, nil
		}
		switch mode {
		case "verify-full":
			return TLS{Encrypted: true, Verified: true, Why: "sslmode=verify-full: certificate and host name are verified"}, nil
		case "verify-ca":
			return TLS{Encrypted: true, Why: "sslmode=verify-ca checks the CA but not the host name"}, nil
		case "require", "no-verify":
			return TLS{Encrypted: true, Why: "sslmode=" + mode + " encrypts without verifying the certificate"}, nil
		case "disable":
			return TLS{Why: "sslmode=disable: no TLS"}, nil
		case "", "prefer", "allow":
			return TLS{Why: "sslmode=" + orNone(mode) + " may connect in plaintext"}, nil
		}
		return TLS{Why: "unknown sslmode " + mode}, nil
	}
	return TLS{}, errors.New("unknown driver")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Form rewrites raw so that driver d verifies TLS: ca is the CA file as
// that driver will see it ("" to trust the system's CAs). Every other
// parameter and every byte before "?" are kept.
func Form(raw string, d Driver, ca string) (string, error) {
	p, err := split(raw)
	if err != nil {
		return "", err
	}
	p.del("sslmode", "sslrootcert", "sslaccept", "sslcert", "sslkey", "sslpassword")
	switch d {
	case Engine:
		p.set("sslmode", "require")
		if ca != "" {
			p.set("sslcert", ca)
		}
		p.set("sslaccept", "strict")
	default:
		p.set("sslmode", "verify-full")
		if ca != "" {
			p.set("sslrootcert", ca)
		}
	}
	return p.String(), nil
}

// Mode returns the sslmode parameter of raw ("" when absent).
func Mode(raw string) string {
	p, err := split(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.get("sslmode"))
}

// WantsVerify reports whether the URL asks for a verified connection in
// any driver's words (verify-full, verify-ca, or sslaccept=strict).
func WantsVerify(raw string) bool {
	p, err := split(raw)
	if err != nil {
		return false
	}
	m := strings.ToLower(p.get("sslmode"))
	return m == "verify-full" || m == "verify-ca" || strings.ToLower(p.get("sslaccept")) == "strict"
}
