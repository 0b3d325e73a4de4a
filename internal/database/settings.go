package database

import (
	"errors"
	"net/url"
	"strings"
)

// settings are the few connection settings describe needs, read without
// touching the file system (a CA path may exist only inside a container).
type settings struct {
	host, port, database, user, sslmode, sslrootcert string
}

// parseSettings reads a URL (libpq's rules: '@' before the first '/' ends
// the user info; %XX decoding) or a keyword/value string.
func parseSettings(dsn string) (settings, error) {
	var s settings
	rest, ok := strings.CutPrefix(dsn, "postgresql://")
	if !ok {
		rest, ok = strings.CutPrefix(dsn, "postgres://")
	}
	if !ok {
		return parseKeywordValue(dsn)
	}
	rest, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
		user, _, _ := strings.Cut(rest[:i], ":")
		s.user = unescape(user)
		rest = rest[i+1:]
	}
	netloc, path, _ := strings.Cut(rest, "/")
	s.database = unescape(path)
	first, _, _ := strings.Cut(netloc, ",")
	if strings.HasPrefix(first, "[") {
		end := strings.IndexByte(first, ']')
		if end < 0 {
			return s, errors.New(`missing "]" after an IPv6 host`)
		}
		s.host = first[1:end]
		s.port = strings.TrimPrefix(first[end+1:], ":")
	} else {
		h, p, _ := strings.Cut(first, ":")
		s.host, s.port = unescape(h), p
	}
	for _, p := range splitQuery(query) {
		v := p.libpqValue()
		switch p.key {
		case "host":
			s.host = v
		case "port":
			s.port = v
		case "dbname":
			s.database = v
		case "user":
			s.user = v
		case "sslmode":
			s.sslmode = v
		case "ssl":
			if v == "true" && s.sslmode == "" {
				s.sslmode = "require" // pgx's alias
			}
		case "sslrootcert":
			s.sslrootcert = v
		}
	}
	return s, nil
}

func unescape(s string) string {
	if v, err := url.PathUnescape(s); err == nil {
		return v
	}
	return s
}

// parseKeywordValue reads libpq's "key=value key='quoted value'" form.
func parseKeywordValue(dsn string) (settings, error) {
	var s settings
	r := strings.TrimSpace(dsn)
	for r != "" {
		k, v, ok := strings.Cut(r, "=")
		if !ok {
			return s, errors.New("keyword/value connection string: missing '=' after " + strings.TrimSpace(k))
		}
		k = strings.TrimSpace(k)
		v = strings.TrimLeft(v, " \t\n")
		var val strings.Builder
		if strings.HasPrefix(v, "'") {
			i := 1
			for ; i < len(v); i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
					val.WriteByte(v[i])
					continue
				}
				if v[i] == '\'' {
					break
				}
				val.WriteByte(v[i])
			}
			if i >= len(v) {
				return s, errors.New("keyword/value connection string: unterminated quoted value")
			}
			r = strings.TrimSpace(v[i+1:])
		} else {
			end := strings.IndexAny(v, " \t\n")
			if end < 0 {
				end = len(v)
			}
			val.WriteString(v[:end])
			r = strings.TrimSpace(v[end:])
		}
		switch k {
		case "host":
			s.host, _, _ = strings.Cut(val.String(), ",")
		case "port":
			s.port, _, _ = strings.Cut(val.String(), ",")
		case "dbname":
			s.database = val.String()
		case "user":
			s.user = val.String()
		case "sslmode":
			s.sslmode = val.String()
		case "sslrootcert":
			s.sslrootcert = val.String()
		}
	}
	return s, nil
}
