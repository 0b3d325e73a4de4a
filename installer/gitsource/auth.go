package gitsource

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/calctl/calctl/internal/secret"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// authSet chooses credentials per URL. An HTTPS token goes only to the
// parent repository's host (scheme, host and port): a hostile .gitmodules
// cannot make calctl send the customer's token anywhere else.
type authSet struct {
	tokenHost string // host:port of the parent, for https/http
	user      string
	token     secret.Secret
	sshKey    string
	sshPass   secret.Secret
	local     bool // the parent is a local path or file:// URL
}

// newAuthSet returns the parent URL without credentials and the auth set.
// Credentials embedded in an http(s) URL are moved into the auth set.
func newAuthSet(o Options) (string, *authSet, error) {
	a := &authSet{user: o.TokenUser, token: o.Token, sshKey: o.SSHKeyPath, sshPass: o.SSHKeyPassphrase}
	if a.user == "" {
		a.user = "x-access-token"
	}
	raw := strings.TrimSpace(o.URL)
	if strings.HasPrefix(raw, "-") || strings.ContainsAny(raw, "\n\r\x00") {
		return "", nil, fmt.Errorf("invalid repository URL %q", raw)
	}
	if a.sshKey != "" {
		if _, err := os.Stat(a.sshKey); err != nil {
			return "", nil, fmt.Errorf("--ssh-key %s: %w", a.sshKey, err)
		}
	}
	clean := raw
	switch kind := urlKind(raw); kind {
	case kindHTTP:
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", nil, fmt.Errorf("invalid repository URL %q: expected https://host/owner/repo.git", redactURL(raw))
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" {
				if a.token.IsZero() {
					a.token = secret.Secret(p)
					a.user = u.User.Username()
				}
			} else if a.token.IsZero() {
				// https://TOKEN@host/... form
				a.token = secret.Secret(u.User.Username())
			}
			u.User = nil
		}
		a.tokenHost = u.Scheme + "://" + u.Host
		clean = u.String()
	case kindLocal:
		a.local = true
	case kindUnsupported:
		return "", nil, fmt.Errorf("unsupported repository URL %q: use https://, ssh:// or git@host:path", redactURL(raw))
	}
	return clean, a, nil
}

// forURL returns the credentials to use for rawURL (nil = anonymous).
func (a *authSet) forURL(rawURL string) (transport.AuthMethod, error) {
	switch urlKind(rawURL) {
	case kindHTTP:
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, err
		}
		if a.token.IsZero() || u.Scheme+"://"+u.Host != a.tokenHost {
			return nil, nil
		}
		return &githttp.BasicAuth{Username: a.user, Password: a.token.Reveal()}, nil
	case kindSSH:
		if a.sshKey == "" {
			return nil, nil // go-git falls back to the SSH agent
		}
		ep, err := transport.NewEndpoint(rawURL)
		if err != nil {
			return nil, err
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		keys, err := gitssh.NewPublicKeysFromFile(user, a.sshKey, a.sshPass.Reveal())
		if err != nil {
			return nil, fmt.Errorf("load --ssh-key %s: %w (set CALCTL_SSH_KEY_PASSPHRASE for an encrypted key)", a.sshKey, err)
		}
		return keys, nil
	}
	return nil, nil
}

type kind int

const (
	kindUnsupported kind = iota
	kindHTTP
	kindSSH
	kindGit
	kindLocal
)

// urlKind classifies a git URL the way git does: scheme URLs, scp-like
// user@host:path, or local paths.
func urlKind(raw string) kind {
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "https://"), strings.HasPrefix(lower, "http://"):
		return kindHTTP
	case strings.HasPrefix(lower, "ssh://"), strings.HasPrefix(lower, "git+ssh://"), strings.HasPrefix(lower, "ssh+git://"):
		return kindSSH
	case strings.HasPrefix(lower, "git://"):
		return kindGit
	case strings.HasPrefix(lower, "file://"):
		return kindLocal
	case strings.Contains(lower, "://"):
		return kindUnsupported
	case strings.Contains(raw, "::"):
		return kindUnsupported // ext::, fd:: and other remote helpers
	}
	// scp-like: [user@]host:path where the colon comes before any slash.
	if i := strings.Index(raw, ":"); i > 0 {
		if j := strings.Index(raw, "/"); j < 0 || i < j {
			return kindSSH
		}
	}
	return kindLocal
}

// redactURL removes any password or token from a URL for messages. An
// ssh user name ("git@") is kept: it is not a secret. For http(s) the
// whole user info goes, since https://TOKEN@host puts the token there.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, hasPass := u.User.Password(); urlKind(raw) == kindSSH && !hasPass {
		return raw
	}
	if urlKind(raw) == kindSSH {
		u.User = url.User(u.User.Username())
	} else {
		u.User = nil
	}
	return u.String()
}
