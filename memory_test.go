package safemap

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bigKey is large enough to get its own allocation: a cleanup attached to a
// tiny object may wait for its neighbours in the tiny allocator's block.
type bigKey struct {
	id int
	_  [56]byte
}

// bigValue is 4 KiB, so that retaining one shows in the heap.
type bigValue [4096]byte

// collected waits until done reports true, running the garbage collector:
// at most rounds GC cycles, with a short sleep between them so that timers
// (the sweep) can fire. Pass/fail depends only on whether the cleanup ran.
func collected(done *atomic.Bool, rounds int) bool {
	for range rounds {
		if done.Load() {
			return true
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	return done.Load()
}

// TestDeletedValueCollectable checks that Delete drops the map's reference
// to the value at once: the value is collected by the next GC cycles, with
// the key still in the read map.
func TestDeletedValueCollectable(t *testing.T) {
	for _, st := range []string{"dirty", "promoted"} {
		t.Run(st, func(t *testing.T) {
			var m Map[int, *bigValue]
			for i := range 100 {
				m.Store(i, new(bigValue))
			}
			if st == "promoted" {
				m.promoteAll()
			}
			var done atomic.Bool
			v := new(bigValue)
			runtime.AddCleanup(v, func(*atomic.Bool) { done.Store(true) }, &done)
			m.Store(7, v)
			v = nil
			m.Delete(7)
			// No sleep is needed for values: a few GC cycles suffice, long
			// before any sweep timer fires.
			for i := 0; i < 5 && !done.Load(); i++ {
				runtime.GC()
			}
			if !collected(&done, 5) {
				t.Fatal("deleted value still reachable after GC")
			}
		})
	}
}

// TestPromotedValueCollectable checks that a value stored with a new key,
// then promoted and deleted, is collected with no sweep. Its first box sat
// in a slot of dirty, which the promotion copied into read (see
// segment.dirty): nothing left behind may hold the box.
func TestPromotedValueCollectable(t *testing.T) {
	var m Map[int, *bigValue]
	for i := range 100 {
		m.Store(i, nil)
	}
	var done atomic.Bool
	v := new(bigValue)
	runtime.AddCleanup(v, func(*atomic.Bool) { done.Store(true) }, &done)
	m.Store(100, v)
	v = nil
	m.promoteAll()
	m.Delete(100)
	if !collected(&done, 5) {
		t.Fatal("deleted value still reachable after GC")
	}
}

// TestDeletedKeyCollectable checks that a deleted key becomes unreachable
// with no further call on the map: one key deleted from a large promoted
// segment (no tombstone-count rebuild) goes away with the sweep.
func TestDeletedKeyCollectable(t *testing.T) {
	for _, op := range []string{"Delete", "LoadAndDelete", "CompareAndDelete", "Compute"} {
		t.Run(op, func(t *testing.T) {
			var m Map[*bigKey, int]
			for i := range 1000 {
				m.Store(&bigKey{id: i}, i)
			}
			k := &bigKey{id: -1}
			m.Store(k, 1)
			m.promoteAll()
			var done atomic.Bool
			runtime.AddCleanup(k, func(*atomic.Bool) { done.Store(true) }, &done)
			switch op {
			case "Delete":
				m.Delete(k)
			case "LoadAndDelete":
				m.LoadAndDelete(k)
			case "CompareAndDelete":
				m.CompareAndDelete(k, 1)
			case "Compute":
				m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
			}
			k = nil
			// The sweep delay is at most 1s; allow several times that.
			if !collected(&done, 5000) {
				t.Fatalf("deleted key still reachable: %+v", m.Stats())
			}
			if m.Len() != 1000 {
				t.Fatalf("Len() = %d; want 1000", m.Len())
			}
		})
	}
}

// TestDeletedDirtyKeyCollectable checks keys that never left the dirty map:
// the value goes at once, the key within two sweep delays, with no further
// call on the map.
func TestDeletedDirtyKeyCollectable(t *testing.T) {
	var m Map[*bigKey, int]
	k := &bigKey{id: 1}
	m.Store(k, 1)
	var done atomic.Bool
	runtime.AddCleanup(k, func(*atomic.Bool) { done.Store(true) }, &done)
	m.Delete(k)
	k = nil
	// Two sweep delays are at most 2s; allow several times that.
	if !collected(&done, 5000) {
		t.Fatal("key deleted from the dirty map still reachable")
	}
}

// heapAlloc returns the bytes of live heap objects after two full
// collections (the second frees what the first one's cleanups released).
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryReleasedAfterDeletes stores 20,000 keys of 1 KiB with 4 KiB
// values, promotes them, deletes them all, and checks that the heap retains
// under 5% of the peak. (sync.Map of Go 1.23 and earlier keeps such deleted
// keys alive until new keys arrive: 21 MiB for 20,000 of them.)
func TestMemoryReleasedAfterDeletes(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 4000
	}
	base := heapAlloc()
	var m Map[string, *bigValue]
	for i := range n {
		k := fmt.Sprintf("%08d", i) + strings.Repeat("k", 1024-8)
		m.Store(k, new(bigValue))
	}
	for k := range m.Keys() { // promotes every segment
		m.Load(k)
	}
	peak := heapAlloc() - base
	for k := range m.Keys() {
		m.Delete(k)
	}
	if m.Len() != 0 {
		t.Fatalf("Len() = %d after deleting every key", m.Len())
	}
	var retained uint64
	for range 100 { // the last rebuilds may wait for a sweep
		retained = heapAlloc() - min(base, heapAlloc())
		if retained < peak/20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("peak %d KiB, retained %d KiB", peak>>10, retained>>10)
	if retained >= peak/20 {
		t.Fatalf("retained %d bytes after deleting every key; peak %d (limit 5%%)", retained, peak)
	}
	runtime.KeepAlive(&m)
}

// TestMemoryReleasedAfterDeletingNewKeys is TestMemoryReleasedAfterDeletes
// for keys that never left the dirty maps (stored, never read, so never
// promoted), and it allows no sweep: the purges that the deletes trigger
// must release the dirty maps' memory themselves, though a Go map never
// shrinks as keys leave it.
func TestMemoryReleasedAfterDeletingNewKeys(t *testing.T) {
	n := 400000
	if testing.Short() {
		n = 100000
	}
	base := heapAlloc()
	var m Map[int, int]
	for i := range n {
		m.Store(i, i)
	}
	peak := heapAlloc() - base
	if st := m.Stats(); st.ReadKeys != 0 || st.DirtyKeys != n {
		t.Fatalf("Stats() = %+v; want every key in the dirty maps", st)
	}
	for i := range n {
		m.Delete(i)
	}
	retained := heapAlloc() - min(base, heapAlloc())
	t.Logf("peak %d KiB, retained %d KiB", peak>>10, retained>>10)
	if retained >= peak/20 {
		t.Fatalf("retained %d bytes right after deleting every key; peak %d (limit 5%%)", retained, peak)
	}
	runtime.KeepAlive(&m)
}

// TestClearDropsSweepTargets checks that Clear leaves no sweep timer of
// the dropped table with a target: stopSweep clears it, so that the timer
// does not sweep the dropped table before the GC collects it (its weak
// pointers would not keep the table; see sweeper).
func TestClearDropsSweepTargets(t *testing.T) {
	var m Map[int, int]
	for i := range 1000 {
		m.Store(i, i)
	}
	m.promoteAll()
	for i := range 1000 {
		m.Delete(i) // arms a sweep timer in every segment
	}
	old := m.t.Load()
	m.Clear()
	armed := 0
	for i := range old.segs {
		s := old.segs[i].Load()
		if s == nil {
			continue
		}
		s.mu.Lock()
		if s.slow != nil && s.slow.sweep != nil {
			armed++
			if s.slow.sweep.target.Load() != nil {
				t.Errorf("segment %d: the dropped table's sweep timer still reaches it", i)
			}
		}
		s.mu.Unlock()
	}
	if armed == 0 {
		t.Fatal("no segment had a sweep timer; the test checks nothing")
	}
	// The map stays usable, and the new table's timers sweep as before.
	m.Store(1, 1)
	m.Delete(1)
	if _, ok := m.Load(1); ok {
		t.Fatal("Load(1) found a deleted key")
	}
}

// TestClearReleasesMemory checks that Clear drops every key and value at
// once: both the Clear that replaces the table (a key promoted) and the one
// that empties it in place (every key in dirty; see clearInPlace).
func TestClearReleasesMemory(t *testing.T) {
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "replaced", true: "in-place"}[inPlace], func(t *testing.T) {
			testClearReleasesMemory(t, inPlace)
		})
	}
}

func testClearReleasesMemory(t *testing.T, inPlace bool) {
	var m Map[int, *bigValue]
	var done atomic.Bool
	v := new(bigValue)
	runtime.AddCleanup(v, func(*atomic.Bool) { done.Store(true) }, &done)
	m.Store(1, v)
	m.Store(2, new(bigValue))
	if !inPlace {
		m.promoteAll()
	}
	m.Delete(2) // arms a sweep timer; a Clear that drops the table must stop it
	// Every segment also gets the condition that writers waiting for a
	// compute use (see waitLocked): it points to the segment, and the
	// stopped timer must not reach it.
	for i := range segments {
		if s := m.t.Load().segs[i].Load(); s != nil {
			s.mu.Lock()
			s.slowLocked().cond = sync.NewCond(&s.mu)
			s.mu.Unlock()
		}
	}
	v = nil
	tb := m.t.Load()
	start := time.Now()
	m.Clear()
	if kept := m.t.Load() == tb; kept != inPlace {
		t.Fatalf("Clear kept the table: %v, want %v", kept, inPlace)
	}
	// GC cycles with 1ms pauses, so that the cleanup goroutine gets to run,
	// for up to 250ms: far less than the 500ms a sweep timer waits, so a
	// value kept by the dropped table's timer would still fail the test.
	// (A fixed 20 cycles failed once in CI, under -race on a loaded
	// machine.)
	for !done.Load() && time.Since(start) < 250*time.Millisecond {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if !done.Load() {
		t.Fatal("value still reachable after Clear")
	}
	runtime.KeepAlive(&m)
}

// storeInSegment0 stores n new keys of segment 0 of m, each with itself
// as its value, and returns them and the segment.
func storeInSegment0(m *Map[int, int], n int) ([]int, *segment[int, int]) {
	keys := keysInSegment(m, 0, n, 0)
	for _, k := range keys {
		m.Store(k, k)
	}
	return keys, m.t.Load().segs[0].Load()
}

// deleteToPurge deletes the first keys of dirty, up to the delete that
// makes more than three quarters of them dead, which purges dirty, checks
// the map's invariants, and returns how many it deleted.
func deleteToPurge(m *Map[int, int], keys []int) int {
	dead := len(keys)*3/4 + 1
	for _, k := range keys[:dead] {
		m.Delete(k)
	}
	m.mustCheck()
	return dead
}

// TestPurgeDirty checks the purge of a dirty map made mostly of deleted new
// keys (see purgeDirtyLocked), both ways: when every entry is deleted the
// dirty map empties, the read map is no longer amended, and the emptied map
// is kept, holding nothing, for the next new keys; when some stay live they
// keep their entries and values in dirty and only the deleted keys leave.
func TestPurgeDirty(t *testing.T) {
	t.Run("all deleted", func(t *testing.T) {
		var m Map[int, int]
		keys := keysInSegment(&m, 0, compactMin, 0)
		for _, k := range keys {
			m.Store(k, k)
		}
		s := m.t.Load().segs[0].Load()
		for _, k := range keys {
			m.Delete(k)
		}
		m.mustCheck()
		s.mu.Lock()
		dirty, spare, amended := s.dirty, s.spare, s.loadRead(m.t.Load()).amended()
		s.mu.Unlock()
		if dirty != nil || amended {
			t.Fatalf("after deleting every new key: dirty holds %d, amended = %v; want no dirty map", dirty.len(), amended)
		}
		if spare == nil || spare.len() != 0 {
			t.Fatalf("the emptied dirty map was not kept empty as the spare (nil = %v, %d keys)", spare == nil, spare.len())
		}
		m.Store(keys[0], 1)
		if v, ok := m.Load(keys[0]); !ok || v != 1 || spare.len() != 1 {
			t.Fatalf("Load(%d) = %d, %v after a new Store; the spare has %d keys (want it reused as dirty)", keys[0], v, ok, spare.len())
		}
		m.mustCheck()
	})
	t.Run("some live", func(t *testing.T) {
		var m Map[int, int]
		// With 2*compactMin new keys, the delete that makes more than
		// three quarters of them dead purges dirty: 49 deleted, 15 live.
		keys, s := storeInSegment0(&m, 2*compactMin)
		dead := deleteToPurge(&m, keys)
		s.mu.Lock()
		n := s.dirty.len()
		s.mu.Unlock()
		if want := len(keys) - dead; n != want {
			t.Fatalf("dirty holds %d keys after the purge, want the %d live ones", n, want)
		}
		for i, k := range keys {
			v, ok := m.Load(k)
			if live := i >= dead; ok != live || (live && v != k) {
				t.Fatalf("Load(%d) = %d, %v; want present = %v", k, v, ok, live)
			}
		}
	})
	t.Run("presized, all deleted", func(t *testing.T) {
		// A presized first dirty map (WithCapacity) is big from its
		// first key: when every key it took is deleted, the purge drops
		// the map, and does not keep its room as the spare.
		m := New[int, int](WithCapacity(1 << 16))
		keys := keysInSegment(m, 0, compactMin, 0)
		for _, k := range keys {
			m.Store(k, k)
		}
		tb := m.t.Load()
		s := tb.segs[0].Load()
		s.mu.Lock()
		big := s.dirtyBig
		s.mu.Unlock()
		if !big {
			t.Fatalf("the presized dirty map of %d keys is not big (hint %d)", len(keys), tb.counts.dirtyHint)
		}
		for _, k := range keys {
			m.Delete(k)
		}
		m.mustCheck()
		s.mu.Lock()
		dirty, spare, amended := s.dirty, s.spare, s.loadRead(tb).amended()
		s.mu.Unlock()
		if dirty != nil || spare != nil || amended {
			t.Fatalf("after deleting every key: dirty nil = %v (%d keys), spare nil = %v, amended = %v; want no dirty map and no spare",
				dirty == nil, dirty.len(), spare == nil, amended)
		}
		if st := m.Stats(); st.Amended || st.DirtyKeys != 0 || st.Tombstones != 0 || m.Len() != 0 {
			t.Fatalf("Stats() = %+v after the purge; want nothing left", st)
		}
		m.Store(keys[0], 1)
		if v, ok := m.Load(keys[0]); !ok || v != 1 {
			t.Fatalf("Load(%d) = %d, %v after a new Store; want 1, true", keys[0], v, ok)
		}
		m.mustCheck()
	})
	t.Run("big", func(t *testing.T) {
		// A dirty map that held more than spareMax keys: the purge moves
		// the survivors to a new map of their size, with a filter of
		// their size, so that the old map's memory goes.
		var m Map[int, int]
		keys, s := storeInSegment0(&m, 1000)
		tb := m.t.Load()
		s.mu.Lock()
		before := s.dirty
		s.mu.Unlock()
		dead := deleteToPurge(&m, keys)
		s.mu.Lock()
		n, words := s.dirty.len(), len(s.loadRead(tb).filter)
		s.mu.Unlock()
		if want := len(keys) - dead; n != want || before.len() != len(keys) {
			t.Fatalf("after the purge dirty holds %d keys (want %d) and the old map %d (want it untouched, %d)", n, want, before.len(), len(keys))
		}
		if want := len(newFilter(2 * n)); words != want {
			t.Fatalf("the filter has %d words after the purge, want %d for %d keys", words, want, n)
		}
		for i, k := range keys {
			if _, ok := m.Load(k); ok != (i >= dead) {
				t.Fatalf("Load(%d) present = %v, want %v", k, ok, i >= dead)
			}
		}
	})
	t.Run("big, few survivors", func(t *testing.T) {
		// A big dirty map whose purge leaves at most spareMax keys: the
		// survivors' map is small, and says so (dirtyBig), so that the
		// next purge empties it in place and a purge to empty keeps it
		// as the spare, as for any small map.
		var m Map[int, int]
		keys, s := storeInSegment0(&m, 4*spareMax)
		dead := deleteToPurge(&m, keys)
		s.mu.Lock()
		n, big := s.dirty.len(), s.dirtyBig
		s.mu.Unlock()
		if want := len(keys) - dead; n != want || want > spareMax || big {
			t.Fatalf("after the purge dirty holds %d keys (want %d, at most %d) and is big = %v; want not big", n, want, spareMax, big)
		}
	})
}

// TestClearInPlaceReleasesGrownDirty checks that an in-place Clear
// drops every value of a dirty map past its inline slots, including one
// caught mid-growth (old not yet moved: the 4th, 7th, 13th and 25th keys
// start a growth; at least one case must be caught), so that nothing
// stays reachable through the spare.
func TestClearInPlaceReleasesGrownDirty(t *testing.T) {
	sawGrowth := false
	defer func() {
		if !t.Failed() && !sawGrowth {
			t.Error("no case caught a growth in progress")
		}
	}()
	for _, n := range []int{4, 7, 13, 25, 40, spareMax} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var m Map[int, *bigValue]
			seg := m.segmentOf(0)
			var done atomic.Int64
			stored := 0
			for k := 0; stored < n; k++ {
				if m.segmentOf(k) != seg {
					continue
				}
				v := new(bigValue)
				runtime.AddCleanup(v, func(d *atomic.Int64) { d.Add(1) }, &done)
				m.Store(k, v)
				stored++
			}
			tb := m.t.Load()
			growing := dirtyGrowing(tb.segs[seg].Load())
			if growing {
				sawGrowth = true
			}
			m.Clear()
			if m.t.Load() != tb {
				t.Fatal("Clear replaced the table")
			}
			start := time.Now()
			for done.Load() < int64(n) && time.Since(start) < 250*time.Millisecond {
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
			if got := done.Load(); got != int64(n) {
				t.Fatalf("%d of %d values still reachable after an in-place Clear (growth in progress: %v)", int64(n)-got, n, growing)
			}
			m.mustCheck()
			runtime.KeepAlive(&m)
		})
	}
}

// dirtyGrowing reports whether the segment's dirty map is growing. It is a
// function of its own, not inlined, so that nothing it reads stays in its
// caller's frame: read inline, under GOARCH=386, the old table's pointer
// stayed there and kept the table, and the values in it, reachable after
// Clear had dropped it (the values were not collected even once the map
// itself was gone).
//
//go:noinline
func dirtyGrowing[K comparable, V any](s *segment[K, V]) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirty.growing()
}

// fillMidGrowth stores 50 new keys in segment 0 of m, each with a value
// whose collection sets its flag in done: the 49th key starts a growth of
// the dirty map from 64 slots to 128 and the 50th moves the first 32 old
// slots (dirtyMoveStep). It returns the keys whose old slot has been moved:
// they live in slots now, and old still holds a copy of their slot.
func fillMidGrowth(t *testing.T, m *Map[int, *bigValue], done map[int]*atomic.Bool) (moved []int) {
	t.Helper()
	for _, k := range keysInSegment(m, 0, 50, 0) {
		v := new(bigValue)
		f := new(atomic.Bool)
		done[k] = f
		runtime.AddCleanup(v, func(f *atomic.Bool) { f.Store(true) }, f)
		m.Store(k, v)
	}
	s := m.t.Load().segs[0].Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dirty
	if d == nil || !d.growing() || d.moved == 0 {
		t.Fatalf("no growth caught mid-move")
	}
	for i := range d.old.kv[:d.moved] {
		if d.old.ctrl[i] != 0 {
			moved = append(moved, d.old.kv[i].key)
		}
	}
	if len(moved) == 0 {
		t.Fatal("no key moved yet")
	}
	return moved
}

// TestDirtyGrowthReleasesValues: Delete drops the map's reference to the
// value at once, and Swap and Store to the value they replace, for a key
// of a dirty map that is growing, whose slot the growth has copied to the
// new table. The old table, whose probes must stay whole until the move
// ends, held the copied slot's box until the growth ended (more inserts),
// a purge or a promotion: for a Swap, with no further call, for good.
func TestDirtyGrowthReleasesValues(t *testing.T) {
	for _, op := range []string{"Delete", "Swap"} {
		t.Run(op, func(t *testing.T) {
			var m Map[int, *bigValue]
			done := map[int]*atomic.Bool{}
			moved := fillMidGrowth(t, &m, done)
			for _, k := range moved {
				if op == "Delete" {
					m.Delete(k)
				} else {
					m.Swap(k, nil)
				}
			}
			for i := 0; i < 5 && !done[moved[len(moved)-1]].Load(); i++ {
				runtime.GC()
			}
			kept := 0
			for _, k := range moved {
				if !collected(done[k], 5) {
					kept++
				}
			}
			if kept > 0 {
				t.Errorf("%d of %d values still reachable after GC", kept, len(moved))
			}
			m.mustCheck()
			runtime.KeepAlive(&m)
		})
	}
}
