// Package preflight checks a host before calctl installs Cal.com on it:
// Docker and Compose versions, Node and yarn against the repository's
// engines, the Postgres server version and TLS, RAM, disk, free ports and
// the public URL. Every version requirement lives in the Constraints table.
package preflight

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	version "github.com/hashicorp/go-version"
)

// Constraint is one version requirement calctl enforces.
type Constraint struct {
	// Name is the preflight check that uses it (docker, compose, postgres, ...).
	Name string
	// Range is a hashicorp/go-version constraint.
	Range string
	// Why says where the requirement comes from.
	Why string
}

// Constraints is the ONE table of version requirements.
var Constraints = map[string]Constraint{
	"docker":     {"docker", ">= 20.10", "healthcheck start_period, depends_on conditions and BuildKit-free builds"},
	"compose-v1": {"compose", ">= 1.27.0", "Compose Specification files (no version: key, depends_on conditions) need docker-compose 1.27+"},
	"compose-v2": {"compose", ">= 2.0.0", "docker compose v2 plugin"},
	"postgres":   {"postgres", ">= 13, < 18", "Cal.com needs Postgres >= 13 (README); 18 is untested. Older Cal.com images broke on 17 (calcom/docker#387), so the bundled database defaults to 16"},
	"node":       {"node", ">= 16", "Cal.com has needed Node 16 or newer since 2022"},
	"yarn":       {"yarn", ">= 1.19", "Cal.com's workspaces need yarn >= 1.19"},
}

// Thresholds of the host resources, and how far below them is only a warning.
const (
	MinRAMBytes  = 4 << 30  // next build of Cal.com needs about 4 GiB
	MinDiskBytes = 10 << 30 // clone, node_modules, images, database
	// Slack is the fraction below a threshold that is a warning, not an error.
	Slack = 0.10
)

// Satisfies reports whether v satisfies the named constraint.
func Satisfies(name, v string) (bool, error) {
	c, ok := Constraints[name]
	if !ok {
		return false, fmt.Errorf("no constraint named %q", name)
	}
	cs, err := version.NewConstraint(c.Range)
	if err != nil {
		return false, err
	}
	ver, err := ParseVersion(v)
	if err != nil {
		return false, err
	}
	return cs.Check(ver), nil
}

var leadingVersion = regexp.MustCompile(`[0-9]+(\.[0-9]+){0,2}`)

// ParseVersion finds the first version number in s ("v20.11.1",
// "20.10.24+dfsg1", "docker-compose version 1.29.2, build") and parses it.
func ParseVersion(s string) (*version.Version, error) {
	m := leadingVersion.FindString(s)
	if m == "" {
		return nil, fmt.Errorf("no version number in %q", s)
	}
	return version.NewVersion(m)
}

// nodeCandidates are the latest releases of the Node majors calctl can
// pick, in order of preference: 18 first (Cal.com's docs "highly recommend
// Node.js version 18"), then newer, then older.
var nodeCandidates = []string{"18.20.4", "20.18.0", "22.12.0", "16.20.2", "14.21.3"}

// DefaultNodeMajor is used when the repository states no engines.node.
const DefaultNodeMajor = 18

// NodeMajorFor picks the Node major for a package.json engines.node range
// (npm semver syntax: ">=15.x <17", "^18", ">=18.x", "18.x || 20.x").
func NodeMajorFor(engine string) (int, error) {
	if strings.TrimSpace(engine) == "" {
		return DefaultNodeMajor, nil
	}
	alts, err := NpmRange(engine)
	if err != nil {
		return 0, err
	}
	for _, cand := range nodeCandidates {
		v := version.Must(version.NewVersion(cand))
		for _, cs := range alts {
			if cs.Check(v) {
				return v.Segments()[0], nil
			}
		}
	}
	return 0, fmt.Errorf("engines.node %q allows none of Node %s", engine, strings.Join(nodeCandidates, ", "))
}

// SatisfiesNpmRange reports whether version v satisfies an npm range.
func SatisfiesNpmRange(rng, v string) (bool, error) {
	alts, err := NpmRange(rng)
	if err != nil {
		return false, err
	}
	ver, err := ParseVersion(v)
	if err != nil {
		return false, err
	}
	for _, cs := range alts {
		if cs.Check(ver) {
			return true, nil
		}
	}
	return false, nil
}

// NpmRange translates an npm semver range into go-version constraints, one
// per "||" alternative.
func NpmRange(rng string) ([]version.Constraints, error) {
	var out []version.Constraints
	for _, alt := range strings.Split(rng, "||") {
		var parts []string
		toks := strings.Fields(alt)
		// join operators separated from their version: ">= 18" -> ">=18"
		for i := 0; i < len(toks); i++ {
			if strings.Trim(toks[i], "<>=~^") == "" && i+1 < len(toks) {
				toks[i+1] = toks[i] + toks[i+1]
				continue
			}
			p, err := npmComparator(toks[i])
			if err != nil {
				return nil, fmt.Errorf("engines range %q: %w", rng, err)
			}
			parts = append(parts, p...)
		}
		if len(parts) == 0 {
			parts = []string{">= 0"}
		}
		cs, err := version.NewConstraint(strings.Join(parts, ", "))
		if err != nil {
			return nil, fmt.Errorf("engines range %q: %w", rng, err)
		}
		out = append(out, cs)
	}
	return out, nil
}

func npmComparator(tok string) ([]string, error) {
	n := len(tok) - len(strings.TrimLeft(tok, "<>=~^"))
	op, v := tok[:n], strings.TrimPrefix(tok[n:], "v")
	if v == "" || v == "*" || strings.EqualFold(v, "x") {
		return nil, nil
	}
	segs := strings.Split(v, ".")
	var nums []int
	for _, s := range segs {
		if s == "x" || s == "X" || s == "*" {
			break
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("bad version %q", tok)
		}
		nums = append(nums, n)
	}
	if len(nums) == 0 {
		return nil, nil
	}
	full := func(ns []int) string {
		s := make([]string, 3)
		for i := range s {
			if i < len(ns) {
				s[i] = strconv.Itoa(ns[i])
			} else {
				s[i] = "0"
			}
		}
		return strings.Join(s, ".")
	}
	next := func(ns []int) string { // upper bound of a partial version
		up := append([]int(nil), ns...)
		up[len(up)-1]++
		return full(up)
	}
	partial := len(nums) < 3
	switch op {
	case "", "=":
		if partial {
			return []string{">= " + full(nums), "< " + next(nums)}, nil
		}
		return []string{"= " + full(nums)}, nil
	case ">=":
		return []string{">= " + full(nums)}, nil
	case ">":
		if partial {
			return []string{">= " + next(nums)}, nil
		}
		return []string{"> " + full(nums)}, nil
	case "<":
		return []string{"< " + full(nums)}, nil
	case "<=":
		if partial {
			return []string{"< " + next(nums)}, nil
		}
		return []string{"<= " + full(nums)}, nil
	case "^":
		hi := []int{nums[0] + 1}
		if nums[0] == 0 && len(nums) > 1 {
			hi = []int{0, nums[1] + 1}
		}
		return []string{">= " + full(nums), "< " + full(hi)}, nil
	case "~":
		if len(nums) == 1 {
			return []string{">= " + full(nums), "< " + next(nums)}, nil
		}
		return []string{">= " + full(nums), "< " + next(nums[:2])}, nil
	}
	return nil, fmt.Errorf("unsupported operator %q in %q", op, tok)
}
