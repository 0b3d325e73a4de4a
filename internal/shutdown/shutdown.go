// Package shutdown lets work that must not be cut short after SIGINT or
// SIGTERM say so. calctl's main gives a command InterruptGrace to return
// once its context is cancelled and then exits anyway (internal/cli); a
// critical section — a work-tree move that is finished even when
// interrupted, because stopping half-way would leave a tree matching
// neither commit (installer/gitsource) — holds that exit off until it ends.
package shutdown

import "sync"

var (
	mu    sync.Mutex
	held  int
	freed = sync.NewCond(&mu)
)

// Hold marks a critical section; the returned func ends it (call it once).
func Hold() (release func()) {
	mu.Lock()
	held++
	mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			held--
			mu.Unlock()
			freed.Broadcast()
		})
	}
}

// WaitUnheld blocks until no critical section is held.
func WaitUnheld() {
	mu.Lock()
	for held > 0 {
		freed.Wait()
	}
	mu.Unlock()
}
