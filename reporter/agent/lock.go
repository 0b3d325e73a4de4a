package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockState takes an exclusive flock on state_dir/lock so that an agent and
// a one-shot `calctl report` never count or send at the same time. The
// kernel drops the lock when the process dies, kill -9 included.
func lockState(ctx context.Context, stateDir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(stateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock state dir: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock state dir: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("state dir %s is in use by another calctl agent or report: %w", stateDir, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
