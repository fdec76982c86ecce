package safemap

import (
	"testing"
	"time"
)

// slotOfKey returns the state of key's dirty slot in segment s of m's
// table, as an entry would hold it, and whether the key is in dirty: for
// a present key, a box with its value, made from the slot's inline value
// (a Map[int, int] holds its dirty values inline: see dirtySlot); else the
// slot's sentinel or mark. A present key whose value is not inline, or
// a slot that keeps a value it should not, comes back as a state that no
// caller accepts. It takes and releases s's lock.
func slotOfKey(m *Map[int, int], s *segment[int, int], key int) (p *box[int, int], ok bool) {
	t := m.t.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, sl := s.findLocked(t, t.hasher.hash(key), key, nil)
	if e != nil || !sl.ok() {
		return nil, false
	}
	if sl.code() == dirtyCodeInline {
		return &box[int, int]{value: sl.value(), key: sl.key()}, true
	}
	if sl.p().kind == kindValue || sl.value() != 0 {
		// An impossible state, which the callers' checks then report.
		return &box[int, int]{kind: kindDeleted, value: sl.value(), key: -1}, true
	}
	return sl.p(), true
}

// newDirtySegment returns a map whose segment seg holds 64 new keys, in
// dirty, each stored with its index in keys as its value. 64 keys: a
// test's few misses (lock trips of reads and writes of dirty keys) stay
// far from the 64 that would promote dirty.
func newDirtySegment(seg int) (m *Map[int, int], keys []int, tb *table[int, int], s *segment[int, int]) {
	m = new(Map[int, int])
	keys = keysInSegment(m, seg, 64, 0)
	for i, k := range keys {
		m.Store(k, i)
	}
	tb = m.t.Load()
	return m, keys, tb, tb.segs[seg].Load()
}

// TestDirtySlots follows new keys through their dirty slots (see
// segment.dirty): a slot holds its key's value inline, deleted keys hold the
// deleted sentinel, revivals and deletes change the slot in place, and a
// sweep ages deleted slots and then drops them.
func TestDirtySlots(t *testing.T) {
	m, keys, tb, s := newDirtySegment(3)
	for i, k := range keys {
		p, ok := slotOfKey(m, s, k)
		if !ok || p == nil || p.kind != kindValue || p.value != i || p.key != k {
			t.Fatalf("key %d: slot holds %+v (in dirty: %v), want its value", k, p, ok)
		}
	}
	// Deletes and revivals change the slots in place: dirty keeps every
	// key (a purge needs three quarters of them deleted).
	for _, k := range keys[:len(keys)/2] {
		m.Delete(k)
	}
	for i, k := range keys {
		p, ok := slotOfKey(m, s, k)
		deleted := i < len(keys)/2
		if !ok || (p == tb.deleted) != deleted {
			t.Fatalf("key %d: slot holds %p (in dirty: %v), deleted sentinel %p, want deleted = %v", k, p, ok, tb.deleted, deleted)
		}
		// A few loads only: each is a miss that takes the lock, and
		// len(keys) of them would promote dirty.
		if i%16 != 0 {
			continue
		}
		if v, ok := m.Load(k); ok == deleted || ok && v != i {
			t.Fatalf("Load(%d) = %d, %v", k, v, ok)
		}
	}
	m.Store(keys[0], -1)
	if p, ok := slotOfKey(m, s, keys[0]); !ok || p.value != -1 {
		t.Fatalf("a revived key's slot holds %+v (in dirty: %v)", p, ok)
	}
	if got := m.Len(); got != len(keys)/2+1 {
		t.Fatalf("Len = %d, want %d", got, len(keys)/2+1)
	}
	if st := m.Stats(); st.DirtyKeys != len(keys)/2+1 || st.Tombstones != len(keys)/2-1 {
		t.Fatalf("Stats: %d dirty keys, %d tombstones; want %d and %d", st.DirtyKeys, st.Tombstones, len(keys)/2+1, len(keys)/2-1)
	}
	m.mustCheck()
	// The first sweep marks the deleted slots swept; the second drops them
	// (and promotes the rest, as every rebuild does).
	s.sweepNow(tb)
	for _, k := range keys[1 : len(keys)/2] {
		if p, ok := slotOfKey(m, s, k); !ok || p != tb.swept {
			t.Fatalf("key %d after one sweep: slot holds %p (in dirty: %v), want swept", k, p, ok)
		}
	}
	m.mustCheck()
	reclaimed := m.Stats().Reclaimed
	s.sweepNow(tb)
	if st := m.Stats(); st.Tombstones != 0 || st.DirtyKeys != 0 || st.ReadKeys != len(keys)/2+1 || st.Reclaimed-reclaimed != uint64(len(keys)/2-1) {
		t.Fatalf("after two sweeps: %+v (reclaimed %d before)", st, reclaimed)
	}
	m.mustCheck()
}

// TestDirtySlotComputes runs computes on keys whose state is in a dirty
// slot: the slot holds the compute's mark while the callback runs (Load
// sees the old value, a writer waits), and the compute stores its result
// under the lock, in the slot or, if a promotion moved the key meanwhile,
// in its new entry.
func TestDirtySlotComputes(t *testing.T) {
	m, keys, tb, s := newDirtySegment(5)

	// A compute over a live dirty key, with a Store waiting for it.
	stored := make(chan struct{})
	m.Compute(keys[0], func(old int, loaded bool) (int, ComputeOp) {
		if p, ok := slotOfKey(m, s, keys[0]); !ok || !p.kind.computing() {
			t.Errorf("during the compute the slot holds %+v (in dirty: %v), want a mark", p, ok)
		}
		if v, ok := m.Load(keys[0]); !ok || v != 0 {
			t.Errorf("Load during the compute = %d, %v; want the old 0, true", v, ok)
		}
		go func() { m.Store(keys[0], 100); close(stored) }()
		select {
		case <-stored:
			t.Error("a Store of the key did not wait for the compute")
		case <-time.After(20 * time.Millisecond):
		}
		return old + 10, UpdateOp
	})
	<-stored
	if v, _ := m.Load(keys[0]); v != 100 {
		t.Fatalf("after the compute and the Store: %d, want 100", v)
	}
	m.mustCheck()

	// A compute that deletes a dirty key, and one that revives it.
	m.Compute(keys[1], func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
	if p, ok := slotOfKey(m, s, keys[1]); !ok || p != tb.deleted {
		t.Fatalf("a key a compute deleted: slot holds %p (in dirty: %v)", p, ok)
	}
	m.mustCheck()
	m.Compute(keys[1], func(old int, loaded bool) (int, ComputeOp) {
		if loaded {
			t.Error("a deleted key reads as loaded in its compute")
		}
		return 11, UpdateOp
	})
	if v, ok := m.Load(keys[1]); !ok || v != 11 {
		t.Fatalf("a key a compute revived: %d, %v", v, ok)
	}
	m.mustCheck()

	// A compute during which the key is promoted: its result lands in the
	// key's new entry in read.
	m.Compute(keys[2], func(old int, loaded bool) (int, ComputeOp) {
		m.promoteAll()
		if _, ok := slotOfKey(m, s, keys[2]); ok {
			t.Error("the key is still in dirty after the promotion")
		}
		if v, ok := m.Load(keys[2]); !ok || v != 2 {
			t.Errorf("Load of the promoted key during its compute = %d, %v; want 2, true", v, ok)
		}
		return old + 20, UpdateOp
	})
	if v, ok := m.Load(keys[2]); !ok || v != 22 {
		t.Fatalf("after a compute across a promotion: %d, %v; want 22, true", v, ok)
	}
	m.mustCheck()

	// LoadOrCompute of a new key, which it adds to dirty, and whose
	// callback panics: the key stays absent, and the map usable.
	newKey := keysInSegment(m, 5, 1, 1<<20)[0] // past keys, which start at 0
	func() {
		defer func() { _ = recover() }()
		m.LoadOrCompute(newKey, func() int { panic("no") })
	}()
	if _, ok := m.Load(newKey); ok {
		t.Fatal("a key whose LoadOrCompute panicked is present")
	}
	m.mustCheck()
	if v, loaded := m.LoadOrCompute(newKey, func() int { return 7 }); loaded || v != 7 {
		t.Fatalf("LoadOrCompute of a new key = %d, %v", v, loaded)
	}
	if p, ok := slotOfKey(m, s, newKey); !ok || p.value != 7 {
		t.Fatalf("a key LoadOrCompute added: slot holds %+v (in dirty: %v)", p, ok)
	}
	m.mustCheck()
}
