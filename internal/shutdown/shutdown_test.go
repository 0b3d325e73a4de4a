package shutdown

import (
	"testing"
	"time"
)

// TestWaitUnheld: WaitUnheld returns only after every Hold is released,
// and a release called twice counts once.
func TestWaitUnheld(t *testing.T) {
	WaitUnheld() // nothing held: returns at once
	r1, r2 := Hold(), Hold()
	done := make(chan struct{})
	go func() { WaitUnheld(); close(done) }()
	r1()
	r1()
	select {
	case <-done:
		t.Fatal("returned while a section was still held")
	case <-time.After(50 * time.Millisecond):
	}
	r2()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("did not return after the last release")
	}
}
