package dotenv

import (
	"fmt"
	"strings"
)

// NodeAssignment returns `KEY=<value>` quoted for Node's dotenv (what Cal.com's
// next.config.js loads; its Kubernetes Secret's .env is read by nothing
// else), which reads it back byte for byte: the value is wrapped in a quote
// character it does not contain, tried in the order ' ` " — single quotes
// and backticks are literal in dotenv, double quotes would expand \n. A
// value holding a line break, all three quote characters, or ' and ` and a
// backslash (inside double quotes dotenv would read "\n" as a newline) is
// refused with the reason. Source: motdotla/dotenv lib/main.js LINE and
// its `if (maybeQuote === '"')` expansion of \n and \r.
func NodeAssignment(key, value string) (string, error) {
	if !keyName.MatchString(key) {
		return "", fmt.Errorf("%q is not an environment variable name (letters, digits and _, not starting with a digit)", key)
	}
	if strings.ContainsAny(value, "\r\n") {
		return "", fmt.Errorf("%s contains a line break; it cannot go in a .env file", key)
	}
	q := ""
	for _, c := range []string{"'", "`", `"`} {
		if !strings.Contains(value, c) {
			q = c
			break
		}
	}
	if q == "" {
		return "", fmt.Errorf("%s contains ', ` and \"; it cannot be quoted in a .env file", key)
	}
	if q == `"` && strings.Contains(value, `\`) {
		return "", fmt.Errorf("%s contains ', `, and a backslash; it cannot be written literally in a .env file", key)
	}
	return key + "=" + q + value + q, nil
}
