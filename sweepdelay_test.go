package safemap

import (
	"testing"
	"time"
)

// TestSweepArmedForEntries checks the entry count that each arming of a
// segment's sweep timer gives sweepDelay (500ms plus 100µs per entry, at
// most 1s; TestSweepDelay): a delete of a dirty key, and a sweep that
// leaves marked entries to drop, count the segment's read map and its
// dirty map; a delete of a read key, lock-free or a compute's, counts the
// read map it deleted from. Found by the mutation tester: a sweep that re-armed for
// the read map's entries minus the dirty map's, a shorter delay that drops
// churning keys' tombstones sooner (see TestSweepDelay), failed no test.
func TestSweepArmedForEntries(t *testing.T) {
	// delay returns the delay segment s's timer was last armed with, and
	// zeroes it, so that the next reading shows a new arming.
	delay := func(s *segment[int, int]) time.Duration {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.slow == nil || s.slow.sweep == nil {
			t.Fatal("no sweep timer was armed")
		}
		d := s.slow.sweepDelay
		s.slow.sweepDelay = 0
		return d
	}
	const inRead, inDirty = 5, 200
	for try := 0; ; try++ {
		var m Map[int, int]
		read := promotedKeys(&m, 0, inRead)
		fresh := keysInSegment(&m, 0, inDirty, read[inRead-1]+1)
		for _, k := range fresh {
			m.Store(k, k)
		}
		tb := m.t.Load()
		s := tb.segs[0].Load()
		s.mu.Lock()
		nr, nd := s.loadRead(tb).n, s.dirty.len()
		s.mu.Unlock()
		if nr != inRead || nd != inDirty {
			t.Fatalf("read holds %d keys and dirty %d, want %d and %d: the test's premise is wrong", nr, nd, inRead, inDirty)
		}
		m.Delete(fresh[0]) // a key of dirty: deletedDirtyLocked arms the timer
		if got, want := delay(s), sweepDelay(inRead+inDirty); got != want {
			t.Errorf("a delete in dirty armed the sweep for %v, want %v (%d entries)", got, want, inRead+inDirty)
		}
		// Stop the timer, so that the sweep below is the first: it marks
		// the deleted key, and arms again for the marked entry's drop.
		// Should the timer have fired already (over 500ms on a loaded
		// machine), start again with a fresh map.
		s.mu.Lock()
		stopped := s.slow.sweep.timer.Stop()
		s.mu.Unlock()
		if !stopped {
			if try == 3 {
				t.Fatal("the sweep timer fired before the test could stop it, four times")
			}
			continue
		}
		s.sweepNow(tb)
		if got, want := delay(s), sweepDelay(inRead+inDirty); got != want {
			t.Errorf("a sweep that left a marked entry armed the next for %v, want %v (%d entries)", got, want, inRead+inDirty)
		}
		m.mustCheck()
		break
	}
	// Deletes in read, in segments that hold nothing else: a lock-free
	// Delete, and a Compute's, which counts its tombstone under the lock.
	var m Map[int, int]
	read := promotedKeys(&m, 1, inRead)
	m.Delete(read[0])
	if got, want := delay(m.t.Load().segs[1].Load()), sweepDelay(inRead); got != want {
		t.Errorf("a delete in read armed the sweep for %v, want %v (%d entries)", got, want, inRead)
	}
	read = promotedKeys(&m, 2, inRead)
	m.Compute(read[0], func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
	if got, want := delay(m.t.Load().segs[2].Load()), sweepDelay(inRead); got != want {
		t.Errorf("a compute's delete in read armed the sweep for %v, want %v (%d entries)", got, want, inRead)
	}
	m.mustCheck()
}
