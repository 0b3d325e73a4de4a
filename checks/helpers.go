package checks

import (
	"fmt"
	"sort"
	"strings"
)

// Env returns the merged app variable key when it is set.
func (f *Facts) Env(key string) (EnvVar, bool) {
	if f.Files == nil || f.Files.AppEnv == nil {
		return EnvVar{}, false
	}
	v, ok := f.Files.AppEnv[key]
	return v, ok
}

// EnvValue returns the plain value of a non-secret variable ("" otherwise).
func (f *Facts) EnvValue(key string) string {
	v, ok := f.Env(key)
	if !ok || v.Secret {
		return ""
	}
	return v.Value
}

// Loc returns the file location of a variable.
func (v EnvVar) Loc() *Location {
	if v.File == "" {
		return nil
	}
	return &Location{Path: v.File, Line: v.Line}
}

// Worst returns the most serious status of ss (FAIL > WARN > ERROR > MANUAL > SKIP > PASS).
func Worst(ss ...Status) Status {
	rank := map[Status]int{Pass: 0, Skip: 1, Manual: 2, Error: 3, Warn: 4, Fail: 5}
	w := Pass
	for _, s := range ss {
		if rank[s] > rank[w] {
			w = s
		}
	}
	return w
}

// Issues collects problems found by one check and folds them into a Finding.
type Issues struct {
	status Status
	msgs   []string
}

// Add records a problem with its status.
func (is *Issues) Add(s Status, format string, a ...any) {
	if is.status == "" {
		is.status = Pass
	}
	is.status = Worst(is.status, s)
	is.msgs = append(is.msgs, fmt.Sprintf(format, a...))
}

// Empty reports whether nothing was added.
func (is *Issues) Empty() bool { return len(is.msgs) == 0 }

// Finding returns the folded finding, or ok as a PASS when nothing was added.
func (is *Issues) Finding(resource, ok string, ev map[string]string) Finding {
	if is.Empty() {
		return Finding{Status: Pass, Resource: resource, Message: ok, Evidence: ev}
	}
	return Finding{Status: is.status, Resource: resource, Message: strings.Join(is.msgs, "; "), Evidence: ev}
}

// SortedKeys returns a map's keys in order.
func SortedKeys[K ~string, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// Truthy reports whether an env value means "on".
func Truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "y":
		return true
	}
	return false
}
