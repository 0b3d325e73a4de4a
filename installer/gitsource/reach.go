package gitsource

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// describeRemoteError turns a transport error into a short reason, e.g.
// "authentication required (HTTP 401)". It never includes credentials.
func describeRemoteError(err error, a *authSet, url string) string {
	var dnsErr *net.DNSError
	sentToken := false
	if auth, _ := a.forURL(url); auth != nil {
		sentToken = true
	}
	httpCode := func(code string) string {
		if urlKind(url) == kindHTTP {
			return " (HTTP " + code + ")"
		}
		return ""
	}
	var reason string
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired):
		reason = "authentication required" + httpCode("401")
		if sentToken {
			reason = "the token was not accepted" + httpCode("401")
		}
	case errors.Is(err, transport.ErrAuthorizationFailed):
		reason = "access denied" + httpCode("403")
		if sentToken {
			reason += ": the token does not grant access to this repository"
		}
	case errors.Is(err, transport.ErrRepositoryNotFound):
		reason = "repository not found" + httpCode("404")
	case errors.As(err, &dnsErr):
		reason = "host not found (DNS: " + dnsErr.Name + ")"
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		reason = "timed out"
	case errors.Is(err, context.Canceled):
		reason = "interrupted"
	default:
		reason = err.Error()
	}
	if tok := a.token.Reveal(); len(tok) >= 4 {
		reason = strings.ReplaceAll(reason, tok, "********")
	}
	for _, c := range a.embedded {
		if p := c.pass.Reveal(); len(p) >= 4 {
			reason = strings.ReplaceAll(reason, p, "********")
		}
	}
	return redactURL(reason)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// knownPrivate are Cal.com's private submodules over the years, with what
// a self-hoster should do when one cannot be reached.
var knownPrivate = map[string]string{
	"apps/api":        "apps/api is Cal.com's private API app: request API access for your deployment, then pass a token (CALCTL_GIT_TOKEN or GITHUB_TOKEN) or --ssh-key",
	"apps/website":    "apps/website is private to Cal.com and not needed for self-hosting",
	"apps/console":    "apps/console is private to Cal.com and not needed for self-hosting",
	"apps/admin":      "apps/admin is private to Cal.com and not needed for self-hosting",
	"apps/auth":       "apps/auth is private to Cal.com and not needed for self-hosting",
	"apps/platform":   "apps/platform is private to Cal.com and not needed for self-hosting",
	"packages/closed": "packages/closed is private to Cal.com and not needed for self-hosting",
}

// hintFor says what to do about an unreachable submodule.
func hintFor(path string, err error) string {
	if h, ok := knownPrivate[path]; ok {
		return h
	}
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return "ask the repository owner for access, then pass a token (CALCTL_GIT_TOKEN) or --ssh-key; or use --submodules skip"
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return "check the URL in .gitmodules; a private repository also answers 404 without access"
	}
	return "check the URL in .gitmodules and your network; or use --submodules skip"
}
