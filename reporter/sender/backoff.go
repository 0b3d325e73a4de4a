package sender

import (
	"math/rand/v2"
	"time"
)

// MaxRetryAfter bounds a Retry-After so a broken endpoint cannot silence
// the agent for longer than a day.
const MaxRetryAfter = 24 * time.Hour

// Backoff is full-jitter exponential backoff: the delay before retry n
// (n = 1 after the first failure) is uniform in [0, min(Cap, Base*2^(n-1))),
// raised to Retry-After when the endpoint asked for longer.
type Backoff struct {
	// Base is the ceiling of the first retry's delay; 0 or less means
	// DefaultBackoff.
	Base time.Duration
	// Cap is the largest ceiling however many attempts failed.
	Cap time.Duration
}

// DefaultBackoff starts at 2s and is capped at 15 minutes.
var DefaultBackoff = Backoff{Base: 2 * time.Second, Cap: 15 * time.Minute}

// Delay returns the wait before retry attempt n, given the endpoint's
// Retry-After (0 if none).
func (b Backoff) Delay(n int, retryAfter time.Duration) time.Duration {
	if b.Base <= 0 {
		b = DefaultBackoff
	}
	ceil := b.Cap
	if n < 1 {
		n = 1
	}
	if n < 63 {
		if d := b.Base << (n - 1); d > 0 && d < ceil {
			ceil = d
		}
	}
	d := time.Duration(rand.Int64N(int64(ceil) + 1))
	if retryAfter > MaxRetryAfter {
		retryAfter = MaxRetryAfter
	}
	if retryAfter > d {
		d = retryAfter
	}
	return d
}
