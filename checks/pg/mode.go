package pg

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/calctl/calctl/checks"
)

// mode parses a PostgreSQL file-mode setting ("0600" in pg_settings).
func mode(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	base := 10
	if strings.HasPrefix(s, "0") {
		base = 8
	}
	n, err := strconv.ParseUint(s, base, 32)
	return uint32(n), err == nil
}

// modeFinding judges the file-mode setting key (PG-017, PG-019): SKIP when
// it was not read, FAIL when others have any access (others says what that
// exposes), WARN when the group has (group says so), else PASS.
func modeFinding(f *checks.Facts, key, others, group string) checks.Finding {
	s, _ := setting(f, key)
	m, ok := mode(s)
	r := checks.Finding{Resource: resource(f), Evidence: checks.Ev(key, s)}
	switch {
	case !ok:
		r.Status, r.Message = checks.Skip, key+" was not read"
	case m&0o007 != 0:
		r.Status, r.Message = checks.Fail, fmt.Sprintf("%s=%04o: %s", key, m, others)
	case m&0o070 != 0:
		r.Status, r.Message = checks.Warn, fmt.Sprintf("%s=%04o: %s", key, m, group)
	default:
		r.Status, r.Message = checks.Pass, fmt.Sprintf("%s=%04o", key, m)
	}
	return r
}
