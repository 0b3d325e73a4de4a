package sender

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/calctl/calctl/installer/contract"
	"github.com/calctl/calctl/internal/safefile"
)

// NewClient returns an HTTP client for the billing endpoint: TLS 1.2+ with
// certificate verification against the system roots plus caFile (PEM) when
// given, the proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, and a per-request
// timeout.
func NewClient(caFile string, timeout time.Duration) (*http.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := safefile.ReadFile(caFile, 4<<20)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", caFile)
		}
		tlsConf.RootCAs = pool
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        2,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// ValidateEndpoint accepts an https:// URL, or http:// to a loopback
// address (a local relay or a test); anything else would send the token in
// clear. It is contract.CheckBillingEndpoint: the answers file, the wizard
// and report share one rule.
func ValidateEndpoint(endpoint string) error { return contract.CheckBillingEndpoint(endpoint) }
