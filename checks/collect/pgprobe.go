package collect

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/redact"
	"github.com/calctl/calctl/internal/secret"
)

// weakSuites are the TLS 1.2 suites a server should refuse: Go's insecure
// list (RC4, 3DES, CBC-SHA256) and every RSA-key-exchange suite (no
// forward secrecy: a stolen server key decrypts recorded traffic). NET-002
// and PG-002 offer exactly these, so both judge the same suite the same way.
func weakSuites() ([]uint16, map[uint16]string) {
	names := map[uint16]string{}
	var ids []uint16
	add := func(cs *tls.CipherSuite) {
		for _, v := range cs.SupportedVersions {
			if v == tls.VersionTLS12 && names[cs.ID] == "" {
				ids = append(ids, cs.ID)
				names[cs.ID] = cs.Name
			}
		}
	}
	for _, cs := range tls.InsecureCipherSuites() {
		add(cs)
	}
	for _, cs := range tls.CipherSuites() {
		if strings.HasPrefix(cs.Name, "TLS_RSA_") {
			add(cs)
		}
	}
	return ids, names
}

// ForwardSecret reports whether a TLS 1.2 suite name has an ephemeral key
// exchange (ECDHE/DHE); TLS 1.3 suites always do.
func ForwardSecret(suite string) bool {
	return strings.Contains(suite, "ECDHE") || strings.Contains(suite, "DHE") || strings.HasPrefix(suite, "TLS_AES") || strings.HasPrefix(suite, "TLS_CHACHA20")
}

// sslRequest is the startup packet asking a Postgres server for TLS
// (PostgreSQL protocol docs, "SSLRequest": length 8, code 80877103).
var sslRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// pgTLSDial opens a TCP connection to a Postgres server, asks for TLS and
// runs the handshake with cfg. It reports errNoTLS when the server answers
// 'N' (ssl=off).
func pgTLSDial(ctx context.Context, addr string, cfg *tls.Config) (*tls.Conn, error) {
	d := net.Dialer{Timeout: 3 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write(sslRequest); err != nil {
		c.Close()
		return nil, err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return nil, err
	}
	if b[0] != 'S' {
		c.Close()
		return nil, errNoTLS
	}
	cfg.InsecureSkipVerify = true // only the protocol and suite are judged here
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

var errNoTLS = errors.New("the server does not offer TLS")

// probePGTLS records which TLS versions the server accepts and whether it
// takes a weak TLS 1.2 suite — what a client can really negotiate, not
// what the settings claim (PG-002).
func probePGTLS(ctx context.Context, addr string, p *checks.PGFacts) {
	p.TLSVersions = map[string]bool{}
	for _, tv := range tlsVersions {
		c, err := pgTLSDial(ctx, addr, &tls.Config{MinVersion: tv.v, MaxVersion: tv.v})
		if errors.Is(err, errNoTLS) {
			p.TLSVersions = nil
			return
		}
		p.TLSVersions[tv.name] = err == nil
		if c != nil {
			c.Close()
		}
	}
	ids, names := weakSuites()
	if c, err := pgTLSDial(ctx, addr, &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: ids}); err == nil {
		p.WeakSuite = names[c.ConnectionState().CipherSuite]
		c.Close()
	}
}

// probePlaintext asks the server for a session without TLS, as the app's
// user but with a made-up password (a real password never crosses the wire
// in the clear): "password authentication failed" means a host/hostnossl
// line accepted the plaintext connection; "no pg_hba.conf entry … no
// encryption" means TLS is enforced (on RDS: rds.force_ssl=1).
func probePlaintext(ctx context.Context, url secret.Secret, addr string) (*bool, string) {
	cfg, err := pgx.ParseConfig(url.Reveal())
	if err != nil {
		return nil, ""
	}
	host, port, _ := net.SplitHostPort(addr)
	cfg.Host, cfg.Port = host, uint16(atoiPort(port))
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	cfg.Password = "calctl-plaintext-probe-not-a-password"
	cfg.ConnectTimeout = 3 * time.Second
	conn, err := pgx.ConnectConfig(ctx, cfg)
	yes, no := true, false
	switch {
	case err == nil:
		conn.Close(context.Background())
		return &yes, "a plaintext session was opened without the password (trust)"
	case pgCode(err) == "28P01" || strings.Contains(err.Error(), "password authentication failed"):
		return &yes, "the server asked for a password over plaintext TCP"
	case pgCode(err) == "28000" && (strings.Contains(err.Error(), "no encryption") || strings.Contains(err.Error(), "SSL off")):
		return &no, "refused without TLS (no pg_hba.conf entry for an unencrypted connection)"
	case pgCode(err) == "28000":
		return &no, "refused without TLS: " + oneLine(pgMessage(err))
	}
	return nil, oneLine(redact.Error(err, redact.URLPasswords(url.Reveal())...).Error())
}

func atoiPort(s string) int {
	n := 0
	fmt.Sscanf(s, "%d", &n)
	if n == 0 {
		n = 5432
	}
	return n
}

func pgMessage(err error) string {
	s := err.Error()
	if i := strings.Index(s, "FATAL: "); i >= 0 {
		return s[i+7:]
	}
	return s
}
