package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces a credential inside a URL.
const Redacted = "REDACTED"

var (
	schemeRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://`)
	// passwordParamRE is libpq's password= and sslpassword= in key=value
	// strings (quoted or not) and in URL query strings.
	passwordParamRE = regexp.MustCompile(`(?i)(^|[\s?&;])((?:ssl)?password=)('(?:[^'\\]|\\.)*'|[^\s&'";]+)`)
)

// URL removes credentials from s, which may be one URL or free text holding
// URLs: the password of user:password@ in any scheme (the URL need not
// parse), the user name of an http(s) URL (a token goes there), and libpq's
// password= / sslpassword= values. Each becomes REDACTED. User names of
// other schemes (ssh://git@, postgresql://calcom@) are kept: they are not
// secrets. A password holding "/", "?", "#" or "@" is found; so a URL with
// a port and an "@" later (https://h:8443/p@x) loses its port and path: in
// doubt, too much goes rather than a password. The exception is a
// loopback or IP-literal host with a port (http://127.0.0.1:8080/x.git@main,
// a clone URL and its ref): no user name looks like that.
func URL(s string) string {
	if strings.Contains(s, "://") {
		s = urlCredentials(s)
	}
	if strings.Contains(strings.ToLower(s), "password=") {
		s = passwordParamRE.ReplaceAllStringFunc(s, func(m string) string {
			sm := passwordParamRE.FindStringSubmatch(m)
			if strings.Trim(sm[3], "'") == Redacted {
				return m
			}
			return sm[1] + sm[2] + Redacted
		})
	}
	return s
}

func urlCredentials(s string) string {
	var b strings.Builder
	i := 0
	for {
		loc := schemeRE.FindStringIndex(s[i:])
		if loc == nil {
			break
		}
		scheme := strings.ToLower(s[i+loc[0] : i+loc[1]-3])
		start := i + loc[1] // after "://"
		b.WriteString(s[i:start])
		end := start + strings.IndexFunc(s[start:], endOfURL)
		if end < start {
			end = len(s)
		}
		tok := s[start:end]
		user, pass, hasPass, rest, ok := splitUserinfo(tok)
		switch {
		case !ok:
			b.WriteString(tok)
		case hasPass && pass != Redacted:
			b.WriteString(user + ":" + Redacted + "@" + rest)
		case !hasPass && (scheme == "http" || scheme == "https") && user != "" && user != Redacted:
			b.WriteString(Redacted + "@" + rest)
		default:
			b.WriteString(tok)
		}
		i = end
	}
	b.WriteString(s[i:])
	return b.String()
}

// endOfURL ends a URL in free text.
func endOfURL(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>':
		return true
	}
	return false
}

// splitUserinfo splits what follows "://" into user, password and the rest
// (host and beyond); ok is false when there is no user info. A password
// may hold "/", "?", "#", ":" or "@", so the user info runs to the last "@"
// whenever a ":" comes before it: an ambiguous URL (https://h:8443/p@x)
// loses its port and path rather than keep a password.
func splitUserinfo(tok string) (user, pass string, hasPass bool, rest string, ok bool) {
	if at := strings.LastIndex(tok, "@"); at >= 0 && strings.Contains(tok[:at], ":") && !localHostPort(tok[:at]) {
		user, pass, _ = strings.Cut(tok[:at], ":")
		return user, pass, true, tok[at+1:], true
	}
	authEnd := strings.IndexAny(tok, "/?#")
	if authEnd < 0 {
		authEnd = len(tok)
	}
	if at := strings.LastIndex(tok[:authEnd], "@"); at >= 0 {
		return tok[:at], "", false, tok[at+1:], true
	}
	return "", "", false, "", false
}

// localHostPortRE is an authority of a loopback or IP-literal host with a
// port, followed by a path: 127.0.0.1:8080/x, localhost:3000/x, [::1]:80/x.
var localHostPortRE = regexp.MustCompile(`^(?:localhost|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}[/?#]`)

// localHostPort reports whether what comes before the last "@" of a URL is
// such an authority and path, so the "@" is in the path, not after user
// info: the display string http://127.0.0.1:8080/calcom.git@main (a URL and
// its ref) keeps its port and path. A user name is never an IP literal or
// "localhost", so no password is kept this way; any other host with a port
// and an "@" later still fails closed.
func localHostPort(s string) bool {
	return localHostPortRE.MatchString(s)
}

// URLPasswords lists the secrets a connection string holds — the password
// of its user info, its password= parameter (URL query or libpq key=value),
// each also query- and path-escaped — for Error and Options.Known. It never
// returns the whole URL: URL keeps its host and database readable.
func URLPasswords(raw string) []string {
	var out []string
	seen := map[string]bool{"": true}
	add1 := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	add := func(p string) {
		add1(p)
		if p != "" {
			add1(url.QueryEscape(p))
			add1(url.PathEscape(p))
		}
	}
	raw = strings.TrimSpace(raw)
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			p, _ := u.User.Password()
			add(p)
		}
		add(u.Query().Get("password"))
		add(u.Query().Get("sslpassword"))
	} else if i := strings.Index(raw, "://"); i >= 0 {
		if _, pass, hasPass, _, ok := splitUserinfo(raw[i+3:]); ok && hasPass {
			add(pass)
			if p, err := url.PathUnescape(pass); err == nil && p != pass {
				add(p)
			}
		}
	}
	for _, m := range passwordParamRE.FindAllStringSubmatch(raw, -1) {
		v := m[3]
		if strings.HasPrefix(v, "'") {
			v = strings.ReplaceAll(strings.Trim(v, "'"), `\'`, `'`)
		}
		add(v)
	}
	return out
}
