package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/calctl/calctl/internal/shutdown"
)

// InterruptGrace is how long calctl may take to wind down after SIGINT or
// SIGTERM (ctx cancelled) before it exits with ExitInterrupted anyway.
// Every read of a file from an install is non-blocking (internal/safefile)
// and every network call takes ctx, so a command normally ends well within
// a second; this is the backstop for a call that does not (issue 11 item 6:
// a FIFO named .env once held check for 611 s, ignoring SIGINT and
// SIGTERM). The agent's graceful stop (under a second) fits inside it, and
// a critical section held through internal/shutdown delays it.
const InterruptGrace = 3 * time.Second

// exitAfterGrace starts the backstop: once ctx is done, calctl gets
// InterruptGrace to return from Main, then exits with ExitInterrupted.
// The returned func disarms it (Main returned).
func exitAfterGrace(ctx context.Context, stderr io.Writer, grace time.Duration, exit func(int)) (disarm func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
			return
		case <-t.C:
		}
		shutdown.WaitUnheld() // a move that must finish (internal/shutdown)
		select {
		case <-done:
		default:
			fmt.Fprintf(stderr, "calctl: interrupted (still busy %s after the signal; stopped)\n", grace)
			exit(ExitInterrupted)
		}
	}()
	return func() { close(done) }
}

// osExit is os.Exit; tests replace it.
var osExit = os.Exit
