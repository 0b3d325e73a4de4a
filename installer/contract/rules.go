package contract

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/calctl/calctl/internal/localhost"
)

// The rules below are the one set of value rules shared by every entry
// point: Answers.Validate (the answers file, flags, --set and the wizard,
// which asks Validate about each field) and the usage reporter
// (reporter/sender.ValidateEndpoint, used by `calctl report` and the
// agent). A value one of them accepts, the others accept; TestRules in
// internal/cli runs one table through all three.

// CheckBillingEndpoint accepts the billing endpoint the reporter will send
// to: an absolute https:// URL, or http:// to a loopback address (a local
// relay or a test). Anything else would send the billing token in clear
// (usage-protocol.md: the endpoint is HTTPS).
func CheckBillingEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("endpoint %q is not an absolute URL (want https://billing.example.com)", s)
	}
	if err := checkHost(u.Hostname()); err != nil {
		return fmt.Errorf("endpoint %q: %w", s, err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if localhost.IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("endpoint %q uses plain http; use https (plain http is allowed only to a loopback address)", s)
	default:
		return fmt.Errorf("endpoint %q: scheme must be https", s)
	}
}

// CheckPublicURL accepts public_url: an absolute http(s) URL without path,
// query, fragment or user, with a valid host and port.
func CheckPublicURL(s string) error { return checkPublicURL(s) }

// CheckPort accepts a TCP port, 1-65535, written as a plain decimal
// number ("" is not a port; callers that allow "unset" check that first).
func CheckPort(s string) error {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || strconv.Itoa(n) != s {
		return fmt.Errorf("%q is not a number", s)
	}
	if n < 1 || n > 65535 {
		return errors.New(s + " is not a port (1-65535)")
	}
	return nil
}
