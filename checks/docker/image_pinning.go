package docker

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/calctl/calctl/checks"
)

// nodeEOL holds Node.js end-of-life dates by major.
var nodeEOL = map[int]string{14: "2023-04-30", 16: "2023-09-11", 18: "2025-04-30", 20: "2026-04-30", 22: "2027-04-30", 24: "2028-04-30"}

// ImagePinning is DK-009: images pinned by tag or digest; Node not EOL.
var ImagePinning = checks.New(checks.Meta{
	ID: "DK-009", Title: "Mutable or EOL images", Severity: checks.Medium,
	Remediation: "Pin `postgres:17.x`, `calcom/cal.com:vX.Y.Z` or a digest; rebuild on patch releases; move off EOL Node.",
}, func(f *checks.Facts) []checks.Finding {
	return run(f, false, func(u unit) checks.Finding {
		var is checks.Issues
		if u.s != nil && u.image == "" && u.s.Build {
			return checks.Finding{Status: checks.Pass, Message: "built locally from a Dockerfile"}
		}
		if !pinned(u.image) {
			is.Add(checks.Warn, "image %q is not pinned to a version tag or digest", u.image)
		}
		if u.c != nil {
			if nv := u.c.PlainEnv["NODE_VERSION"]; nv != "" {
				major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(nv, "v"), ".", 2)[0])
				if d, ok := nodeEOL[major]; ok {
					if eol, _ := time.Parse("2006-01-02", d); !f.Now().Before(eol) {
						is.Add(checks.Warn, "Node %d reached end-of-life on %s", major, d)
					}
				}
			}
		}
		return is.Finding(u.name, fmt.Sprintf("image %s is pinned", u.image), checks.Ev("image", u.image))
	})
})

// pinned: has a digest, or a tag other than latest.
func pinned(img string) bool {
	if strings.Contains(img, "@sha256:") {
		return true
	}
	last := img
	if i := strings.LastIndex(img, "/"); i >= 0 {
		last = img[i+1:]
	}
	i := strings.LastIndex(last, ":")
	if i < 0 {
		return false
	}
	tag := last[i+1:]
	return tag != "" && tag != "latest"
}
