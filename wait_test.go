package safemap_test

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// stuckTimeout bounds how long the soak and fault tests wait for their
// goroutines. It only detects a goroutine stuck on a lock or a waiter that
// is never released; no result depends on elapsed time.
const stuckTimeout = 2 * time.Minute

// awaitWorkers waits for wg; if it does not finish in stuckTimeout, it fails
// the test with the stacks of every goroutine, which show where one is stuck.
func awaitWorkers(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stuckTimeout):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("goroutines still running after %v: a lock is held or a waiter is never released\n%s", stuckTimeout, buf)
	}
}
