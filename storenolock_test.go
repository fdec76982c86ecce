package safemap

import (
	"testing"
	"time"
)

// TestStoreOverPresentKeyTakesNoLock checks Store's doc: storing over
// a key that its read map holds, present or recently deleted, takes no
// lock. It holds the key's segment lock and stores over the key; a Store
// that wanted the lock would never finish, so the deadline only bounds a
// failing run and decides nothing about speed. (A key in the dirty map is
// documented to take the lock.)
func TestStoreOverPresentKeyTakesNoLock(t *testing.T) {
	for _, place := range []string{"read", "read tombstone"} {
		t.Run(place, func(t *testing.T) {
			m := new(Map[int, int])
			seg := m.segmentOf(0)
			ks := keysInSegment(m, seg, 10, 0)
			for _, k := range ks[1:] {
				m.Store(k, k)
			}
			k := ks[0]
			m.Store(k, 1)
			m.promoteAll()
			if place == "read tombstone" {
				m.Delete(k)
			}
			tb := m.t.Load()
			s := tb.segs[seg].Load()
			s.mu.Lock()
			done := make(chan struct{})
			go func() {
				m.Store(k, 2)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("Store over a %s key waited for the segment lock", place)
			}
			s.mu.Unlock()
			<-done
			if v, ok := m.Load(k); !ok || v != 2 {
				t.Errorf("Load = %d, %v", v, ok)
			}
		})
	}
}
