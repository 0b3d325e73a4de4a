package gitsource

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// Probe checks that url answers with the credentials Clone would send it
// under o (the token goes only to o.URL's host). It returns nil when the
// repository can be read, or an error with the reason and what to do. The
// install wizard uses it for its live access check.
func Probe(ctx context.Context, o Options, url string) error {
	if url == "" {
		url = o.URL
	}
	if o.URL == "" {
		o.URL = url
	}
	_, auth, err := newAuthSet(o)
	if err != nil {
		return err
	}
	if err := checkURL(url); err != nil {
		return err
	}
	if _, err := auth.listRemote(ctx, url); err != nil {
		return fmt.Errorf("%w: %s: %s; %s", ErrRemote, redactURL(url), describeRemoteError(err, auth, url), hintFor(apiPathFor(url), err))
	}
	return nil
}

// apiPathFor maps Cal.com's known private repositories (by the last path
// element of their URL, e.g. ".../calcom/api.git") to their paths in the
// monorepo, so Probe gives the same hints as Clone.
func apiPathFor(url string) string {
	base := strings.TrimSuffix(path.Base(strings.TrimRight(url, "/")), ".git")
	for p := range knownPrivate {
		if path.Base(p) == base {
			return p
		}
	}
	return ""
}
