package safemap

import (
	"testing"
	"time"
)

// writeHoldingLock stores every key but the first of ten keys of one
// segment, stores 1 over the first (k), promotes them all to the read map,
// and deletes k if place is "read tombstone". Then it holds the segment's
// lock while op(m, k) runs in another goroutine, and reports whether op
// finished without it. A write that wanted the lock would never finish, so
// the deadline only bounds a failing run and decides nothing about speed.
func writeHoldingLock(t *testing.T, place string, op func(m *Map[int, int], k int)) (m *Map[int, int], k int, lockFree bool) {
	t.Helper()
	m = new(Map[int, int])
	seg := m.segmentOf(0)
	ks := keysInSegment(m, seg, 10, 0)
	for _, k := range ks[1:] {
		m.Store(k, k)
	}
	k = ks[0]
	m.Store(k, 1)
	m.promoteAll()
	if place == "read tombstone" {
		m.Delete(k)
	}
	s := m.t.Load().segs[seg].Load()
	s.mu.Lock()
	done := make(chan struct{})
	go func() {
		op(m, k)
		close(done)
	}()
	select {
	case <-done:
		lockFree = true
	case <-time.After(10 * time.Second):
	}
	s.mu.Unlock()
	<-done
	return m, k, lockFree
}

// TestStoreOverPresentKeyTakesNoLock checks Store's doc: storing over
// a key that its read map holds, present or recently deleted, takes no
// lock. (A key in the dirty map is documented to take the lock.)
func TestStoreOverPresentKeyTakesNoLock(t *testing.T) {
	for _, place := range []string{"read", "read tombstone"} {
		t.Run(place, func(t *testing.T) {
			m, k, lockFree := writeHoldingLock(t, place, func(m *Map[int, int], k int) { m.Store(k, 2) })
			if !lockFree {
				t.Errorf("Store over a %s key waited for the segment lock", place)
			}
			if v, ok := m.Load(k); !ok || v != 2 {
				t.Errorf("Load = %d, %v", v, ok)
			}
		})
	}
}

// TestUpdatesOfReadKeysTakeNoLock checks the docs of Swap, CompareAndSwap
// and Compute: like Store, each takes no lock for a key that its read map
// holds, present or recently deleted, unless the key ends absent (a
// Compute's DeleteOp, or its CancelOp of a deleted key). A Compute of a read key reserves and releases the
// key's entry with compare-and-swaps; a mutant that sent every claim
// through the lock passed every other test.
func TestUpdatesOfReadKeysTakeNoLock(t *testing.T) {
	both := []string{"read", "read tombstone"}
	compute := func(op ComputeOp) func(m *Map[int, int], k int) {
		return func(m *Map[int, int], k int) {
			m.Compute(k, func(old int, loaded bool) (int, ComputeOp) { return old + 2, op })
		}
	}
	ops := []struct {
		name string
		op   func(m *Map[int, int], k int)
		// want: the value after the op over a present key holding 1, and
		// whether the key is present after the op over a tombstone.
		want           int
		revivesDeleted bool
		places         []string
	}{
		{"Swap", func(m *Map[int, int], k int) { m.Swap(k, 3) }, 3, true, both},
		{"CompareAndSwap", func(m *Map[int, int], k int) { m.CompareAndSwap(k, 1, 3) }, 3, false, both},
		{"Compute/UpdateOp", compute(UpdateOp), 3, true, both},
		{"Compute/CancelOp", compute(CancelOp), 1, false, []string{"read"}},
	}
	for _, tc := range ops {
		for _, place := range tc.places {
			t.Run(tc.name+"/"+place, func(t *testing.T) {
				m, k, lockFree := writeHoldingLock(t, place, tc.op)
				if !lockFree {
					t.Errorf("%s of a %s key waited for the segment lock", tc.name, place)
				}
				v, ok := m.Load(k)
				wantOK, wantV := place == "read" || tc.revivesDeleted, tc.want
				if place != "read" && tc.name == "Compute/UpdateOp" {
					wantV = 2 // old is 0 for an absent key
				}
				if !wantOK {
					wantV = 0
				}
				if v != wantV || ok != wantOK {
					t.Errorf("Load = %d, %v; want %d, %v", v, ok, wantV, wantOK)
				}
				m.mustCheck()
			})
		}
	}
}
