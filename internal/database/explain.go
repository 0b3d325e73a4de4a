package database

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Failure is the kind of a failed connection, as a person fixes it.
type Failure string

// The kinds Explain tells apart.
const (
	FailDNS      Failure = "dns"       // the host name does not resolve
	FailRefused  Failure = "refused"   // nothing listens on host:port
	FailTimeout  Failure = "timeout"   // no answer (firewall, security group, wrong host)
	FailTLS      Failure = "tls"       // certificate, CA file or sslmode
	FailAuth     Failure = "auth"      // user or password refused (SQLSTATE 28P01, 28000)
	FailDatabase Failure = "database"  // the database does not exist (SQLSTATE 3D000)
	FailCanceled Failure = "cancelled" // the caller gave up
	FailOther    Failure = "other"
)

// Explained is one connection failure in one line: what failed and what to
// do. It wraps the original error, so errors.Is/As still see the driver's.
type Explained struct {
	// Kind is the class of the failure, one of the Fail constants (FailOther
	// when none fits).
	Kind Failure
	// What is what failed, e.g. "db.internal does not resolve (DNS)".
	What string
	// Fix is what to do about it.
	Fix string
	// Err is the original error, returned by Unwrap for errors.Is/As; Error()
	// does not repeat its text.
	Err error
}

func (e *Explained) Error() string {
	if e.Fix == "" {
		return e.What
	}
	return e.What + "; " + e.Fix
}

func (e *Explained) Unwrap() error { return e.Err }

// Explain classifies err, a failed Connect (or query) to host:port/db, as
// one of the Failure kinds, with what to do. The driver's text is not
// repeated: pgx's "failed to connect to `user=… database=…`: …: …" is
// read with errors.As (net.DNSError, net.OpError with ECONNREFUSED,
// tls and x509 errors, pgconn.PgError SQLSTATE 28P01/28000/3D000; a
// 28000 "no encryption" is a server that takes this client only over TLS)
// and said once. host, port and db may be empty; err must already be free of
// secrets (Connect's errors are).
//
// SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
// (28P01 invalid_password, 28000 invalid_authorization_specification,
// 3D000 invalid_catalog_name).
func Explain(err error, host, port, db string) *Explained {
	if err == nil {
		return nil
	}
	var ex *Explained
	if errors.As(err, &ex) {
		return ex
	}
	at := host
	if port != "" {
		at = net.JoinHostPort(host, port)
	}
	if at == "" {
		at = "the server"
	}
	e := &Explained{Err: err}
	var dnsErr *net.DNSError
	var pgErr *pgconn.PgError
	var certErr *tls.CertificateVerificationError
	var unk x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.Canceled):
		e.Kind, e.What = FailCanceled, "connecting to "+at+" was cancelled"
	case errors.As(err, &dnsErr):
		e.Kind = FailDNS
		e.What = fmt.Sprintf("the database host %s does not resolve (DNS)", cmpOr(dnsErr.Name, host))
		e.Fix = "check the host name in the database URL, or the DNS of this host (/etc/resolv.conf)"
	case errors.As(err, &pgErr) && pgErr.Code == "28000" && strings.Contains(pgErr.Message, "no encryption"):
		// pg_hba.conf has only hostssl lines for this client, and the URL
		// asked for no TLS (sslmode=disable)
		e.Kind = FailTLS
		e.What = fmt.Sprintf("%s accepts this client only over TLS (SQLSTATE 28000: %s)", at, firstLine(pgErr.Message))
		e.Fix = "set sslmode=require (or verify-full with the server's CA file) in the database URL instead of sslmode=disable"
	case errors.As(err, &pgErr) && pgErr.Code == "28000" && strings.Contains(pgErr.Message, "pg_hba.conf"):
		e.Kind = FailAuth
		e.What = fmt.Sprintf("%s has no pg_hba.conf entry that lets this client in (SQLSTATE 28000: %s)", at, firstLine(pgErr.Message))
		e.Fix = "add a pg_hba.conf line for this host, user and database (hostssl for TLS), then reload Postgres (SELECT pg_reload_conf())"
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"):
		e.Kind = FailAuth
		e.What = fmt.Sprintf("%s refused the login (SQLSTATE %s: %s)", at, pgErr.Code, firstLine(pgErr.Message))
		e.Fix = "check the user and password in the database URL (URL-encode special characters, e.g. @ as %40), and pg_hba.conf for this client"
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		e.Kind = FailDatabase
		e.What = fmt.Sprintf("the database %s does not exist on %s (SQLSTATE 3D000)", quoteOr(db, "named in the URL"), at)
		e.Fix = "create it (CREATE DATABASE " + cmpOr(db, "calcom") + " OWNER <user>;) or fix the database name at the end of the URL"
	case errors.As(err, &pgErr):
		e.Kind = FailOther
		e.What = fmt.Sprintf("%s answered with an error (SQLSTATE %s: %s)", at, pgErr.Code, firstLine(pgErr.Message))
	case errors.As(err, &certErr), errors.As(err, &unk), errors.As(err, &hostErr), errors.As(err, &recErr), isTLSText(err):
		e.Kind = FailTLS
		e.What = "TLS to " + at + " failed: " + tlsReason(err)
		e.Fix = "give the CA file that signed the server certificate (for RDS the global bundle, https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), connect by the name in the certificate, or check sslmode"
		if noServerTLS(err) {
			e.Fix = "turn on ssl on the server (RDS has it on by default: check rds.force_ssl and the parameter group), or, for a server on this host only, use sslmode=disable"
		}
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused"):
		e.Kind = FailRefused
		e.What = "nothing accepts connections on " + at + " (connection refused)"
		e.Fix = "check the host and port in the URL, that Postgres runs, and listen_addresses in postgresql.conf"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Kind = FailTimeout
		e.What = at + " did not answer in time"
		e.Fix = "check the host and port, and that a firewall or security group lets this host reach port " + cmpOr(port, "5432")
	default:
		e.Kind = FailOther
		e.What = "cannot connect to " + at + ": " + lastPart(err.Error())
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSText(err error) bool {
	s := err.Error()
	return strings.Contains(s, "tls:") || strings.Contains(s, "x509:") || strings.Contains(s, "server refused TLS") ||
		strings.Contains(s, "SSL is not enabled") || strings.Contains(s, "certificate")
}

// noServerTLS reports whether the server has no TLS at all (pgx: "server
// refused TLS connection"; libpq: "SSL is not enabled on the server").
func noServerTLS(err error) bool {
	s := err.Error()
	return strings.Contains(s, "server refused TLS") || strings.Contains(s, "SSL is not enabled")
}

// tlsReason is the last, most specific part of a TLS error.
func tlsReason(err error) string {
	var unk x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &unk):
		return "the server certificate is signed by an unknown CA"
	case errors.As(err, &hostErr):
		return "the certificate is not for " + hostErr.Host
	}
	return lastPart(err.Error())
}

// lastPart drops pgx's "failed to connect to `…`:" prefixes and keeps the
// innermost cause.
func lastPart(s string) string {
	s = firstLine(s)
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func quoteOr(s, def string) string {
	if s == "" {
		return def
	}
	return fmt.Sprintf("%q", s)
}

// ExplainURL is Explain with host, port and database read from raw (a
// database URL in any form Parse takes); raw is never put in the text.
func ExplainURL(err error, raw string) *Explained {
	host, port, db := "", "", ""
	if u, perr := Parse(raw); perr == nil {
		host, db = u.Host, u.Database
		if u.Port != 0 {
			port = fmt.Sprint(u.Port)
		}
	}
	return Explain(err, host, port, db)
}
