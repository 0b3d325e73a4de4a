package collect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/calctl/calctl/checks"
	"github.com/calctl/calctl/internal/buildinfo"
)

var tlsVersions = []struct {
	name string
	v    uint16
}{{"TLS1.0", tls.VersionTLS10}, {"TLS1.1", tls.VersionTLS11}, {"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}}

func collectNet(ctx context.Context, f *checks.Facts, pub string, o Options) error {
	u, err := url.Parse(pub)
	if err != nil || u.Host == "" {
		return fmt.Errorf("public URL %q is not an absolute URL", pub)
	}
	n := &checks.NetFacts{URL: pub}
	f.Net = n
	host := u.Hostname()
	if u.Scheme == "https" {
		addr := u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(host, "443")
		}
		n.TLS = probeCert(ctx, addr, host, o.RootCAs, f.Now())
		n.Versions = map[string]bool{}
		var errs []string
		for _, tv := range tlsVersions {
			err := handshake(ctx, addr, host, &tls.Config{MinVersion: tv.v, MaxVersion: tv.v})
			n.Versions[tv.name] = err == nil
			if err != nil {
				errs = append(errs, tv.name+": "+shortNetErr(err))
			}
		}
		if len(errs) == len(tlsVersions) {
			n.HandshakeError = strings.Join(errs, "; ")
		}
		ids, names := weakSuites()
		if c, err := dialTLS(ctx, addr, host, &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: ids}); err == nil {
			n.InsecureSuite = names[c.ConnectionState().CipherSuite]
			c.Close()
		}
	}
	// Headers and cookies are read whatever the certificate: whether it is
	// trusted is NET-001's finding, and an untrusted one once turned a
	// missing HSTS header into ERROR and dropped the cookie check.
	cl := httpClient(o.RootCAs, true)
	if u.Scheme == "https" {
		n.HTTPS = probeHTTP(ctx, cl, pub)
	}
	plain := o.HTTPURL
	if plain == "" {
		pu := *u
		pu.Scheme, pu.Host, pu.Path, pu.RawQuery = "http", host, "/", ""
		if strings.Contains(host, ":") {
			pu.Host = "[" + host + "]"
		}
		plain = pu.String()
	}
	n.HTTP = probeHTTP(ctx, cl, plain)
	csrf := strings.TrimRight(pub, "/") + "/api/auth/csrf"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, csrf, nil)
	req.Header.Set("User-Agent", buildinfo.UserAgent())
	if resp, err := cl.Do(req); err != nil {
		n.CookiesError = err.Error()
	} else {
		for _, c := range resp.Cookies() {
			n.Cookies = append(n.Cookies, checks.Cookie{Name: c.Name, Secure: c.Secure, HTTPOnly: c.HttpOnly, SameSite: sameSite(c.SameSite)})
		}
		resp.Body.Close()
	}
	return nil
}

func sameSite(s http.SameSite) string {
	switch s {
	case http.SameSiteLaxMode:
		return "Lax"
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return ""
}

func httpClient(roots *x509.CertPool, anyCert bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, InsecureSkipVerify: anyCert}, DisableKeepAlives: true, Proxy: nil}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func probeHTTP(ctx context.Context, cl *http.Client, u string) *checks.HTTPProbe {
	p := &checks.HTTPProbe{URL: u}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	req.Header.Set("User-Agent", buildinfo.UserAgent())
	resp, err := cl.Do(req)
	if err != nil {
		p.Error = shortNetErr(err)
		return p
	}
	resp.Body.Close()
	p.Status, p.Location, p.HSTS = resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Strict-Transport-Security")
	return p
}

func shortNetErr(err error) string {
	s := err.Error()
	if strings.Contains(s, "connection refused") {
		return "connection refused"
	}
	return s
}

func dialTLS(ctx context.Context, addr, host string, cfg *tls.Config) (*tls.Conn, error) {
	cfg.ServerName = host
	cfg.InsecureSkipVerify = true // verification is done separately, so every version can be probed
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 3 * time.Second}, Config: cfg}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

func handshake(ctx context.Context, addr, host string, cfg *tls.Config) error {
	c, err := dialTLS(ctx, addr, host, cfg)
	if err == nil {
		c.Close()
	}
	return err
}

func probeCert(ctx context.Context, addr, host string, roots *x509.CertPool, now time.Time) *checks.TLSFacts {
	t := &checks.TLSFacts{}
	c, err := dialTLS(ctx, addr, host, &tls.Config{})
	if err != nil {
		t.Error = err.Error()
		return t
	}
	defer c.Close()
	st := c.ConnectionState()
	t.Version = tls.VersionName(st.Version)
	if len(st.PeerCertificates) == 0 {
		t.Error = "no certificate presented"
		return t
	}
	leaf := st.PeerCertificates[0]
	t.Subject, t.Issuer, t.NotAfter = leaf.Subject.String(), leaf.Issuer.String(), leaf.NotAfter.UTC()
	inter := x509.NewCertPool()
	for _, ic := range st.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter, CurrentTime: now}); err != nil {
		t.VerifyError = err.Error()
	}
	return t
}
