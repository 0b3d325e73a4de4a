package gitsource

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/calctl/calctl/internal/redact"
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
	// embedded are credentials that were written into a URL (user:pass@),
	// by URL without them: they travel in memory only, never into
	// .git/config, output, the state file or a commit message.
	embedded map[string]embeddedCred
}

type embeddedCred struct {
	user string
	pass secret.Secret
}

// stripCredentials returns raw without the credentials a URL may carry
// (the password of user:password@ in any scheme; the whole user info of an
// http(s) URL, where a token may stand alone), and those credentials.
// Scp-like and local URLs are returned unchanged. ok is false when raw has
// a scheme but does not parse; its credentials cannot be told apart then.
func stripCredentials(raw string) (clean string, cred embeddedCred, has bool, ok bool) {
	switch urlKind(raw) {
	case kindHTTP, kindSSH, kindGit:
	default:
		return raw, cred, false, true
	}
	if !strings.Contains(raw, "://") {
		return raw, cred, false, true // scp-like user@host:path holds no password
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", cred, false, false
	}
	if u.User == nil {
		return raw, cred, false, true
	}
	pass, hasPass := u.User.Password()
	switch {
	case urlKind(raw) == kindHTTP && hasPass:
		cred = embeddedCred{user: u.User.Username(), pass: secret.Secret(pass)}
		u.User = nil
	case urlKind(raw) == kindHTTP: // https://TOKEN@host/...
		cred = embeddedCred{user: "x-access-token", pass: secret.Secret(u.User.Username())}
		u.User = nil
	case hasPass:
		cred = embeddedCred{user: u.User.Username(), pass: secret.Secret(pass)}
		u.User = url.User(u.User.Username())
	default:
		return raw, cred, false, true // ssh://git@host: a user name is no secret
	}
	return u.String(), cred, !cred.pass.IsZero() || cred.user != "", true
}

// addEmbedded strips the credentials of a submodule URL and keeps them in
// memory for that URL; it returns the URL to store and show.
func (a *authSet) addEmbedded(raw string) (string, error) {
	clean, cred, has, ok := stripCredentials(raw)
	if !ok {
		return "", fmt.Errorf("URL %q does not parse", redactURL(raw))
	}
	if has {
		if a.embedded == nil {
			a.embedded = map[string]embeddedCred{}
		}
		a.embedded[clean] = cred
	}
	return clean, nil
}

// newAuthSet returns the parent URL without credentials and the auth set.
// Credentials embedded in an http(s) URL are moved into the auth set.
func newAuthSet(o Options) (string, *authSet, error) {
	a := &authSet{user: o.TokenUser, token: o.Token, sshKey: o.SSHKeyPath, sshPass: o.SSHKeyPassphrase}
	if a.user == "" {
		a.user = "x-access-token"
	}
	raw := strings.TrimSpace(o.URL)
	if strings.HasPrefix(raw, "-") || redact.Controls(raw) != raw {
		return "", nil, fmt.Errorf("invalid repository URL %q", redactURL(raw))
	}
	if a.sshKey != "" {
		if _, err := os.Stat(a.sshKey); err != nil {
			return "", nil, fmt.Errorf("--ssh-key %s: %w", a.sshKey, err)
		}
	}
	switch urlKind(raw) {
	case kindUnsupported:
		return "", nil, fmt.Errorf("unsupported repository URL %q: use https://, ssh:// or git@host:path", redactURL(raw))
	case kindLocal:
		a.local = true
		return raw, a, nil
	}
	clean, cred, has, ok := stripCredentials(raw)
	if !ok {
		return "", nil, fmt.Errorf("invalid repository URL %q: expected https://host/owner/repo.git or ssh://host/path", redactURL(raw))
	}
	if urlKind(raw) == kindHTTP {
		u, _ := url.Parse(clean)
		if has && a.token.IsZero() {
			a.token, a.user = cred.pass, cred.user
		}
		a.tokenHost = u.Scheme + "://" + u.Host
	} else if has {
		if a.embedded == nil {
			a.embedded = map[string]embeddedCred{}
		}
		a.embedded[clean] = cred // an ssh password; git:// has no use for one
	}
	return clean, a, nil
}

// forURL returns the credentials to use for rawURL (nil = anonymous).
func (a *authSet) forURL(rawURL string) (transport.AuthMethod, error) {
	if cred, ok := a.embedded[rawURL]; ok {
		switch urlKind(rawURL) {
		case kindHTTP:
			return &githttp.BasicAuth{Username: cred.user, Password: cred.pass.Reveal()}, nil
		case kindSSH:
			if a.sshKey == "" && !cred.pass.IsZero() {
				return &gitssh.Password{User: cred.user, Password: cred.pass.Reveal()}, nil
			}
		}
	}
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

// redactURL is a URL (or text holding URLs) fit to print or store: any
// password and any http(s) user info replaced (internal/redact's one rule
// for URLs, which also finds them in URLs that do not parse), and control
// characters a server or a repository may have put there removed.
func redactURL(raw string) string {
	return redact.Controls(redact.URL(raw))
}
