package redact

import (
	"sort"
	"strings"

	"github.com/calctl/calctl/internal/secret"
)

// scrubbed is an error whose message has its secrets removed; it unwraps
// to the original so errors.Is and errors.As still see the cause.
type scrubbed struct {
	err error
	msg string
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// Error returns err with every secret (values of 4 characters or more, as
// secret.Mask) and every URL credential (see URL) removed from its message.
// The result unwraps to err: errors.Is(result, context.Canceled) holds when
// it held for err. It returns err itself when there was nothing to remove.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := String(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &scrubbed{err: err, msg: msg}
}

// String removes secrets (values of 4 characters or more, as secret.Mask)
// and URL credentials from s, for one-off messages.
func String(s string, secrets ...string) string {
	vals := make([]string, 0, len(secrets))
	for _, v := range secrets {
		if len(v) >= 4 {
			vals = append(vals, v)
		}
	}
	sort.SliceStable(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		s = strings.ReplaceAll(s, v, secret.Mask)
	}
	return URL(s)
}
