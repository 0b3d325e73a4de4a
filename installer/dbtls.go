package installer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	"github.com/calctl/calctl/internal/secret"
)

// The bundled database's TLS (PG-001..PG-004; docs/checks.md "What the
// rendered install satisfies"). calctl makes a CA and one server
// certificate for the compose service name, signs the certificate and
// throws the CA's key away: no other certificate can ever chain to that CA,
// so a client that checks the chain against it (verify-ca) knows it talks
// to the database even where it dials an address instead of the name.
//
// All three are kept in db.env (mode 0600, like every other secret of the
// bundled database), base64 DER on one line each, and never regenerated
// while they are there, valid and matching. The key reaches the server
// through db.env too: the database container runs as `postgres` (uid 999
// on Debian, 70 on alpine) with every capability dropped, so it cannot read
// a 0600 root-owned bind mount, and PostgreSQL refuses a key that is not
// at most 0600 and owned by the server's user, or at most 0640 and owned by
// root (PostgreSQL 15 docs 19.9 "Secure TCP/IP Connections with SSL";
// src/backend/libpq/be-secure-common.c check_ssl_key_file_permissions:
// "must be owned by the database user or root"). A bind mount keeps the
// host file's owner and mode, and the image's uid differs by variant, so
// no host file can satisfy both rules. dbTLSWrapper writes it at start into the
// socket directory's tmpfs with umask 077, as the server's own user, and
// removes the variable before the entrypoint runs.

// Database TLS variables in db.env.
const (
	DBTLSKeyVar  = "CALCTL_DB_TLS_KEY"  // the server's private key, PKCS#8 DER, base64
	DBTLSCertVar = "CALCTL_DB_TLS_CERT" // the server's certificate, DER, base64
	DBTLSCAVar   = "CALCTL_DB_TLS_CA"   // the CA certificate, DER, base64
)

// Rendered files of the bundled database's TLS and client authentication.
const (
	// DBCAFile is the CA clients verify the bundled database with. It is
	// mounted at the same absolute path in the containers as on this host
	// (DBCAPath), so one URL serves the services and calctl on the host.
	DBCAFile = "db/tls/ca.pem"
	// DBCertFile is the server certificate (public, 0644).
	DBCertFile = "db/tls/server.crt"
	// DBHBAFile and DBIdentFile are the server's pg_hba.conf and
	// pg_ident.conf (hba_file, ident_file on its command line).
	DBHBAFile   = "db/pg_hba.conf"
	DBIdentFile = "db/pg_ident.conf"
)

// In the database container.
const (
	dbConfInContainer  = "/etc/calctl/db"
	dbCertInContainer  = dbConfInContainer + "/server.crt"
	dbHBAInContainer   = dbConfInContainer + "/pg_hba.conf"
	dbIdentInContainer = dbConfInContainer + "/pg_ident.conf"
	// dbKeyInContainer is in the socket directory's tmpfs (see
	// dbTLSWrapper): memory only, gone when the container stops.
	dbKeyInContainer = "/var/run/postgresql/calctl-server.key"
)

// DBServerName is the name in the server certificate: the compose
// service's, which every rendered URL uses.
const DBServerName = "database"

// dbTLSValidity is how long the CA and the certificate are valid. They are
// never renewed by a re-run while valid; one that expires within
// dbTLSRenewBefore is replaced (a new CA file is rendered with it).
const (
	dbTLSValidity    = 20 * 365 * 24 * time.Hour
	dbTLSRenewBefore = 30 * 24 * time.Hour
)

// DatabaseTLS is the bundled database's TLS material.
type DatabaseTLS struct {
	// Key is the server's private key (PKCS#8 DER, base64).
	Key secret.Secret
	// Cert is the server certificate (DER, base64).
	Cert string
	// CA is the CA certificate (DER, base64).
	CA string
}

// IsZero reports whether there is no TLS material.
func (t DatabaseTLS) IsZero() bool { return t.Key.IsZero() && t.Cert == "" && t.CA == "" }

// DBCAPath is the CA file's absolute path, on this host and in the
// containers that connect to the bundled database.
func DBCAPath(a *Answers) string { return filepath.Join(a.InstallDir, filepath.FromSlash(DBCAFile)) }

// NewDatabaseTLS makes a CA (ECDSA P-256, crypto/rand) and a server
// certificate for DBServerName signed by it, then forgets the CA's key.
func NewDatabaseTLS(now time.Time) (DatabaseTLS, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return DatabaseTLS{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return DatabaseTLS{}, err
	}
	serial := func() (*big.Int, error) { return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)) }
	caSerial, err := serial()
	if err != nil {
		return DatabaseTLS{}, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: caSerial, Subject: pkix.Name{CommonName: "calctl bundled database CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(dbTLSValidity),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
		// it signs one certificate, this one's, and its key is gone
		MaxPathLen: 0, MaxPathLenZero: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return DatabaseTLS{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return DatabaseTLS{}, err
	}
	leafSerial, err := serial()
	if err != nil {
		return DatabaseTLS{}, err
	}
	leaf := &x509.Certificate{
		SerialNumber: leafSerial, Subject: pkix.Name{CommonName: DBServerName},
		DNSNames:  []string{DBServerName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(dbTLSValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return DatabaseTLS{}, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return DatabaseTLS{}, err
	}
	enc := base64.StdEncoding.EncodeToString
	return DatabaseTLS{Key: secret.Secret(enc(pk)), Cert: enc(der), CA: enc(caDER)}, nil
}

// Check reports why t cannot serve (missing, unparsable, a key that is not
// the certificate's, a certificate the CA did not sign or not for
// DBServerName, expiring within dbTLSRenewBefore), or nil.
func (t DatabaseTLS) Check(now time.Time) error {
	if t.Key.IsZero() || t.Cert == "" || t.CA == "" {
		return errors.New("not all of " + DBTLSKeyVar + ", " + DBTLSCertVar + " and " + DBTLSCAVar + " are in db.env")
	}
	dec := func(name, s string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%s is not base64: %w", name, err)
		}
		return b, nil
	}
	kb, err := dec(DBTLSKeyVar, t.Key.Reveal())
	if err != nil {
		return err
	}
	key, err := x509.ParsePKCS8PrivateKey(kb)
	if err != nil {
		return fmt.Errorf("%s: %w", DBTLSKeyVar, err)
	}
	var certs [2]*x509.Certificate
	for i, v := range []struct{ name, val string }{{DBTLSCertVar, t.Cert}, {DBTLSCAVar, t.CA}} {
		b, err := dec(v.name, v.val)
		if err != nil {
			return err
		}
		if certs[i], err = x509.ParseCertificate(b); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
	}
	cert, ca := certs[0], certs[1]
	signer, ok := key.(crypto.Signer)
	if !ok {
		return fmt.Errorf("%s: not a signing key", DBTLSKeyVar)
	}
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return err
	}
	if !bytes.Equal(pub, cert.RawSubjectPublicKeyInfo) {
		return fmt.Errorf("%s is not the key of %s", DBTLSKeyVar, DBTLSCertVar)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: DBServerName, Roots: roots, CurrentTime: now.Add(dbTLSRenewBefore)}); err != nil {
		return fmt.Errorf("%s does not verify against %s for %q until %s: %w", DBTLSCertVar, DBTLSCAVar, DBServerName, now.Add(dbTLSRenewBefore).Format("2006-01-02"), err)
	}
	return nil
}

// pemOf is the PEM file of a base64 DER certificate.
func pemOf(b64 string) ([]byte, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// dbTLSWrapper is the database service's command: /bin/sh -c this script,
// then the entrypoint with the server's arguments. It writes the key from
// db.env into the socket directory's tmpfs, 0600 and owned by the user the
// container runs as (the server's: PostgreSQL's key file rule above),
// takes the variable out of the environment and execs the image's
// entrypoint, which sees the arguments as if they were the command
// (docker-library/postgres@2c1a455:15/trixie/Dockerfile: `COPY
// docker-entrypoint.sh … /usr/local/bin/`, ENTRYPOINT
// ["docker-entrypoint.sh"]; @10b4b38:15/trixie/docker-entrypoint.sh _main:
// the init and then `exec "$@"` when $1 is postgres, any other command
// exec'd as it is, so `sh -c` here runs first and postgres ends as PID 1,
// where the image's STOPSIGNAL SIGINT reaches it; the entrypoint likewise
// unsets POSTGRES_* before its exec). The PEM body is one base64 line, which
// OpenSSL's PEM reader accepts. A missing key stops the start with a
// message, before the server fails on an empty file.
const dbTLSWrapper = `set -e
: "${` + DBTLSKeyVar + `:?db.env has no ` + DBTLSKeyVar + `: run calctl install (or render) again}"
(umask 077 && printf '%s\n' '-----BEGIN PRIVATE KEY-----' "$` + DBTLSKeyVar + `" '-----END PRIVATE KEY-----' >` + dbKeyInContainer + `)
unset ` + DBTLSKeyVar + `
exec docker-entrypoint.sh "$@"`

// dbServerTLSArgs are the server's TLS and client-authentication settings,
// on its command line so that an existing data directory gets them too and
// the entrypoint's temporary init server starts with them
// (docker_temp_server_start "$@"). TLS 1.2 at least, forward-secret suites
// only (PG-002's remedy: OpenSSL's HIGH still has RSA key exchange; TLS 1.3
// suites are all forward-secret and not governed by ssl_ciphers), and the
// calctl-rendered pg_hba.conf and pg_ident.conf (PostgreSQL 15 docs 20.2
// "Configuration File Settings": hba_file, ident_file).
func dbServerTLSArgs() []string {
	return []string{
		"-c", "ssl=on",
		"-c", "ssl_cert_file=" + dbCertInContainer,
		"-c", "ssl_key_file=" + dbKeyInContainer,
		"-c", "ssl_min_protocol_version=TLSv1.2",
		"-c", "ssl_ciphers=ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL",
		"-c", "hba_file=" + dbHBAInContainer,
		"-c", "ident_file=" + dbIdentInContainer,
	}
}

// dbHBA is the bundled server's pg_hba.conf (PostgreSQL 15 docs 21.1 "The
// pg_hba.conf File"; first match wins):
//   - the socket only for the container's OS user postgres (peer through
//     the calctl map: the entrypoint's init psql as POSTGRES_USER, and
//     calctl's and the operator's `docker exec … psql`, which run as the
//     container's user);
//   - TCP only over TLS (hostssl), with scram-sha-256, from the container's
//     loopback (the healthcheck; backups through docker exec) and
//     `samenet`, the subnets the server's interfaces are on: the compose
//     network, where the app, the agent, a build and calctl on this host
//     (the network's gateway) come from (PG-003, PG-004: no address "all"
//     that is not reject);
//   - everything else, and any TCP without TLS, rejected.
const dbHBA = `# Generated by calctl for the bundled Postgres (hba_file on its command line).
# TYPE    DATABASE USER ADDRESS       METHOD
local     all      all                peer map=calctl
hostssl   all      all  127.0.0.1/32  scram-sha-256
hostssl   all      all  ::1/128       scram-sha-256
hostssl   all      all  samenet       scram-sha-256
hostnossl all      all  all           reject
host      all      all  all           reject
`

// dbIdent is pg_ident.conf: the container's OS user postgres may log in
// over the socket as the database superuser (POSTGRES_USER: postgres, or
// the one role of an install made before the two-role layout,
// render_dbroles.go). Nothing else maps.
func dbIdent(superuser string) []byte {
	var b strings.Builder
	b.WriteString("# Generated by calctl for the bundled Postgres (ident_file on its command line).\n")
	b.WriteString("# MAPNAME SYSTEM-USERNAME PG-USERNAME\n")
	users := []string{SuperuserName}
	if superuser != "" && superuser != SuperuserName {
		users = append(users, superuser)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "calctl   postgres        %s\n", u)
	}
	return []byte(b.String())
}
