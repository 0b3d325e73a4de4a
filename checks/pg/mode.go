package pg

import (
	"strconv"
	"strings"
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
