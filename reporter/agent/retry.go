package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/reporter"
	"github.com/calctl/calctl/reporter/outbox"
)

// Credentials reload the deployment token and signing secret from where the
// config says they are.
type Credentials struct {
	// Files are the token and signing-secret files ("" entries and secrets
	// from the environment are not watched).
	Files []string
	// Load reads the token and the signing secret afresh.
	Load func() (token, signing secret.Secret, err error)
}

// fingerprint identifies the endpoint and the credential files as they are
// now, without reading or holding a secret: each file's path, size,
// modification time (ns) and inode. A parked entry records it; when it
// changes, parked entries are retried.
func (a *Agent) fingerprint() string {
	h := sha256.New()
	if a.Sender != nil {
		fmt.Fprintln(h, a.Sender.Endpoint)
	}
	if a.Credentials != nil {
		for _, f := range a.Credentials.Files {
			if f == "" {
				continue
			}
			st, err := os.Stat(f)
			if err != nil {
				fmt.Fprintf(h, "%s missing\n", f)
				continue
			}
			var ino uint64
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				ino = sys.Ino
			}
			fmt.Fprintf(h, "%s %d %d %d\n", f, st.Size(), st.ModTime().UnixNano(), ino)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// reloadCredentials reads the token and signing secret again into the
// sender.
func (a *Agent) reloadCredentials() error {
	if a.Credentials == nil || a.Credentials.Load == nil || a.Sender == nil {
		return nil
	}
	tok, sig, err := a.Credentials.Load()
	if err != nil {
		return err
	}
	a.Sender.Token, a.Sender.SigningSecret = tok, sig
	return nil
}

// requeue makes the newest revision of each period that is parked or
// pending, and that keep accepts, pending and due now. It returns how many
// it requeued.
func (a *Agent) requeue(ctx context.Context, keep func(outbox.Entry) bool, why string) (int, error) {
	if err := os.MkdirAll(a.StateDir, 0o700); err != nil {
		return 0, fmt.Errorf("state_dir: %w", err)
	}
	unlock, err := lockState(ctx, a.StateDir)
	if err != nil {
		return 0, err
	}
	defer unlock()
	box, entries, err := a.openOutbox()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range outbox.Newest(entries) {
		if (e.State != outbox.StateParked && e.State != outbox.StatePending) || !keep(e) {
			continue
		}
		if e.State == outbox.StateParked {
			a.log().Info("retrying parked report", "key", e.Key, "period", e.Period, "revision", e.Revision, "why", why, "parked_for", e.LastError)
		}
		e.State, e.NextRetry = outbox.StatePending, time.Time{}
		if err := box.Put(e); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Retry makes the newest revision of each of periods (every period when
// empty) that is parked or waiting for a retry pending and due now; the
// next Deliver sends it. This is `calctl report retry`.
func (a *Agent) Retry(ctx context.Context, periods []reporter.Period) (int, error) {
	want := map[string]bool{}
	for _, p := range periods {
		want[p.String()] = true
	}
	return a.requeue(ctx, func(e outbox.Entry) bool { return len(want) == 0 || want[e.Period] }, "calctl report retry")
}

// retryParked requeues parked entries that were parked with other
// credentials than now (all of them when all is set).
func (a *Agent) retryParked(ctx context.Context, all bool, why string) (int, error) {
	fp := a.fingerprint()
	return a.requeue(ctx, func(e outbox.Entry) bool {
		return e.State == outbox.StateParked && (all || e.ParkedWith != fp)
	}, why)
}

// Status is the outbox summary of the state dir; when live is set and the
// agent is online, each period's billing view is what the endpoint holds
// now (asked with the resync GET; not saved). Read-only.
func (a *Agent) Status(ctx context.Context, live bool) (outbox.Summary, []error, error) {
	sum, err := outbox.Summarize(a.StateDir)
	if err != nil || !live || !a.online() {
		return sum, nil, err
	}
	var errs []error
	for i := range sum.Periods {
		ps := &sum.Periods[i]
		b, err := a.Sender.Lookup(ctx, a.DeploymentID, ps.Period)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v := outbox.BillingView{Period: ps.Period, CheckedAt: a.now().UTC(), Found: b.Found, LatestRevision: b.LatestRevision,
			Final: b.Final, Total: b.Total, BodySHA256: b.BodySHA256}
		if ps.Billing != nil && ps.Billing.AdoptedFinal && v.Found && v.Final && v.Total == ps.Billing.Total {
			v.AdoptedFinal = true
		}
		ps.Billing = &v
	}
	return sum, errs, nil
}
