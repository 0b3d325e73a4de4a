// Package buildinfo holds the version information stamped into calctl at build time.
//
// The variables are set with -ldflags "-X github.com/calctl/calctl/internal/buildinfo.Version=..."
// by goreleaser and the Makefile-free `go build` line in README.md.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version is the release version, e.g. "1.2.3"; "dev" for an unstamped build.
var Version = "dev"

// Commit is the git commit the binary was built from.
var Commit = ""

// Date is the UTC build date in RFC 3339 form.
var Date = ""

// Info is the version information printed by `calctl version`.
type Info struct {
	// Version is the stamped Version ("dev" when unstamped).
	Version string `json:"version"`
	// Commit is the stamped Commit, else the toolchain's vcs.revision;
	// "" when neither is known.
	Commit string `json:"commit"`
	// Date is the stamped build Date, else vcs.time (the commit's time,
	// RFC 3339); "" when neither is known.
	Date string `json:"date"`
	// GoVersion is runtime.Version(), e.g. "go1.24.1".
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH, e.g. "linux/amd64".
	Platform string `json:"platform"`
}

// Get returns the stamped build information, falling back to what the Go
// toolchain recorded (VCS revision and time) for builds without ldflags.
func Get() Info {
	in := Info{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Commit == "" {
					in.Commit = s.Value
				}
			case "vcs.time":
				if in.Date == "" {
					in.Date = s.Value
				}
			}
		}
	}
	return in
}

// UserAgent is the User-Agent calctl sends on HTTP requests.
func UserAgent() string { return "calctl/" + Version }
