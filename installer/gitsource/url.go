package gitsource

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// resolveURL resolves a submodule URL against the parent's URL the way git
// does: "./x" and "../x" are relative to the parent's URL taken as a
// directory, so "../api.git" next to https://h/calcom/cal.com.git is
// https://h/calcom/api.git. Absolute URLs are returned unchanged.
func resolveURL(parent, sub string) (string, error) {
	if !strings.HasPrefix(sub, "./") && !strings.HasPrefix(sub, "../") {
		return sub, nil
	}
	parent = strings.TrimRight(parent, "/")
	ups := 0
	for _, seg := range strings.Split(sub, "/") {
		if seg == ".." {
			ups++
		}
	}
	switch urlKind(parent) {
	case kindHTTP, kindGit:
		u, err := url.Parse(parent)
		if err != nil {
			return "", err
		}
		if ups > strings.Count(strings.Trim(u.Path, "/"), "/")+1 {
			return "", fmt.Errorf("relative URL %q climbs above %s", redactURL(sub), redactURL(parent))
		}
		u.Path = path.Join(u.Path, sub)
		return u.String(), nil
	case kindSSH:
		if strings.Contains(parent, "://") {
			u, err := url.Parse(parent)
			if err != nil {
				return "", err
			}
			u.Path = path.Join(u.Path, sub)
			return u.String(), nil
		}
		i := strings.Index(parent, ":")
		host, p := parent[:i], parent[i+1:]
		if ups > strings.Count(strings.Trim(p, "/"), "/")+1 {
			return "", fmt.Errorf("relative URL %q climbs above %s", redactURL(sub), redactURL(parent))
		}
		return host + ":" + strings.TrimPrefix(path.Join(p, sub), "/"), nil
	case kindLocal:
		p := strings.TrimPrefix(parent, "file://")
		return filepath.Join(p, filepath.FromSlash(sub)), nil
	}
	return "", fmt.Errorf("cannot resolve relative URL %q against %s", redactURL(sub), redactURL(parent))
}
