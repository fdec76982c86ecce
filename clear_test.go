package safemap

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestClearInPlace checks Clear of a map whose keys all wait in small dirty
// maps: it keeps the table, empties every segment, clears filled, and
// leaves no key or box in any dirty map. A segment of a few keys, under the
// shared emptyAmended, keeps it over its emptied dirty map until the first
// miss, which sets read back to unamended with the dirty map as its spare;
// one whose read map has a filter of its own gets that state at once. The
// map then works on as before, and Len, Range, Stats and the invariants
// agree (TestAllocs counts its allocations).
func TestClearInPlace(t *testing.T) {
	var m Map[int, int]
	var keys []int
	for i := range 5 { // segments 0..4, three keys each, all in dirty
		keys = append(keys, keysInSegment(&m, i, 3, 0)...)
	}
	// Segment 5: more keys than emptyAmended takes, so a filter of its own.
	keys = append(keys, keysInSegment(&m, 5, filterCapacity(fullFilter)+2, 0)...)
	for _, k := range keys {
		m.Store(k, k)
	}
	m.Delete(keys[0]) // a deleted key of dirty
	m.mustCheck()
	tb := m.t.Load()
	if tb.filled.Load() != 0b111111 {
		t.Fatalf("filled = %b, want 111111", tb.filled.Load())
	}
	for i := range 6 {
		if r := tb.segs[i].Load().loadRead(tb); (r == tb.emptyAmended) != (i < 5) {
			t.Fatalf("segment %d before Clear: read is emptyAmended: %v", i, r == tb.emptyAmended)
		}
	}
	m.Clear()
	if m.t.Load() != tb {
		t.Fatal("Clear replaced the table of a map whose keys all wait in dirty")
	}
	if f := tb.filled.Load(); f != 0 {
		t.Fatalf("filled = %b after Clear, want 0", f)
	}
	// emptied checks that segment i's dirty map d (or spare) holds nothing.
	emptied := func(i int, d *dirtyMap[int, int]) {
		t.Helper()
		if d == nil || d.len() != 0 {
			t.Fatalf("segment %d: dirty map %v, want an empty one", i, d)
		}
		for j, kv := range d.tab.kv {
			if kv != (dirtyKV[int, int]{}) || d.tab.ctrl[j] != 0 || d.tab.p != nil && d.tab.p[j] != nil {
				t.Fatalf("segment %d: the dirty map still holds key %d", i, kv.key)
			}
		}
	}
	for i := range 6 {
		s := tb.segs[i].Load()
		if i < 5 {
			if s.loadRead(tb) != tb.emptyAmended || s.spare != nil {
				t.Fatalf("segment %d after Clear: read emptyAmended %v, spare %v", i, s.loadRead(tb) == tb.emptyAmended, s.spare)
			}
			emptied(i, s.dirty)
			continue
		}
		if s.dirty != nil || s.loadRead(tb) != tb.empty {
			t.Fatalf("segment %d after Clear: dirty %v, read empty %v", i, s.dirty != nil, s.loadRead(tb) == tb.empty)
		}
		emptied(i, s.spare)
	}
	m.mustCheck()
	if n := m.Len(); n != 0 {
		t.Fatalf("Len() = %d after Clear", n)
	}
	if st := m.Stats(); st.Amended || st.AmendedSegments != 0 || st.DirtyKeys != 0 || st.ReadKeys != 0 {
		t.Fatalf("Stats after Clear: %+v", st)
	}
	m.Range(func(k, v int) bool { t.Fatalf("Range visited %d after Clear", k); return false })
	promotions := m.Stats().Promotions
	for _, k := range keys {
		if v, ok := m.Load(k); ok {
			t.Fatalf("Load(%d) = %d, true after Clear", k, v)
		}
	}
	// Each segment's first miss took the lock and set read back to
	// unamended, promoting nothing; the misses after it took no lock.
	if p := m.Stats().Promotions; p != promotions {
		t.Fatalf("the misses after Clear made %d promotions", p-promotions)
	}
	for i := range 6 {
		s := tb.segs[i].Load()
		if s.dirty != nil || s.loadRead(tb) != tb.empty || s.misses != 0 {
			t.Fatalf("segment %d after misses: dirty %v, read empty %v, misses %d", i, s.dirty != nil, s.loadRead(tb) == tb.empty, s.misses)
		}
		emptied(i, s.spare)
	}
	m.mustCheck()
	// The map works on: new keys, a Clear of an empty map, promotion.
	for _, k := range keys[:6] {
		if _, loaded := m.LoadOrStore(k, -k); loaded {
			t.Fatalf("LoadOrStore(%d) found a cleared key", k)
		}
	}
	if n := m.Len(); n != 6 {
		t.Fatalf("Len() = %d, want 6", n)
	}
	m.promoteAll()
	for _, k := range keys[:6] {
		if v, ok := m.Load(k); !ok || v != -k {
			t.Fatalf("Load(%d) = %d, %v; want %d, true", k, v, ok, -k)
		}
	}
	m.mustCheck()
}

// TestClearInPlaceDeclines checks the maps that Clear empties by replacing
// the table instead: one with a key in a read map, one whose dirty map is
// big, and one with a compute in flight on a key of dirty. Each ends empty
// and consistent, and the compute's result, ordered before the Clear, is
// gone with it.
func TestClearInPlaceDeclines(t *testing.T) {
	t.Run("promoted", func(t *testing.T) {
		var m Map[int, int]
		a, b := keysInSegment(&m, 0, 1, 0)[0], keysInSegment(&m, 1, 1, 0)[0]
		m.Store(a, 1)
		m.promoteAll()
		m.Store(b, 2) // segment 1 could be emptied in place, segment 0 not
		tb := m.t.Load()
		m.Clear()
		if m.t.Load() == tb {
			t.Fatal("Clear kept a table with a key in a read map")
		}
		if _, ok := tb.segs[1].Load().dirty.get(tb.hasher.hash(b), b).load(); !ok {
			t.Fatal("Clear changed the old table's segment 1 before it declined")
		}
		mustBeEmpty(t, &m, a, b)
	})
	t.Run("big", func(t *testing.T) {
		var m Map[int, int]
		keys := keysInSegment(&m, 2, spareMax+1, 0)
		for _, k := range keys {
			m.Store(k, k)
		}
		tb := m.t.Load()
		m.Clear()
		if m.t.Load() == tb {
			t.Fatal("Clear emptied a big dirty map in place")
		}
		mustBeEmpty(t, &m, keys...)
	})
	// A presized first dirty map counts as big from its first key when
	// its segment's share of the capacity (n/16 + 1) is over spareMax:
	// from WithCapacity(1024) on, as Clear's doc says.
	t.Run("presized", func(t *testing.T) {
		for _, c := range []struct {
			capacity int
			inPlace  bool
		}{{1023, true}, {1024, false}} {
			m := New[int, int](WithCapacity(c.capacity))
			m.Store(1, 1)
			tb := m.t.Load()
			m.Clear()
			if kept := m.t.Load() == tb; kept != c.inPlace {
				t.Errorf("WithCapacity(%d), one key: Clear kept the table: %v, want %v", c.capacity, kept, c.inPlace)
			}
			mustBeEmpty(t, m, 1)
		}
	})
	t.Run("compute", func(t *testing.T) {
		var m Map[int, int]
		k := keysInSegment(&m, 3, 1, 0)[0]
		m.Store(k, 1)
		tb := m.t.Load()
		running, cleared, out := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(out)
			m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
				close(running)
				<-cleared
				return old + 1, UpdateOp
			})
		}()
		<-running
		m.Clear() // the compute's mark holds k's slot: no in-place Clear
		close(cleared)
		<-out
		if m.t.Load() == tb {
			t.Fatal("Clear emptied a segment in place under a compute's mark")
		}
		mustBeEmpty(t, &m, k)
	})
}

// TestClearInPlaceKeepsPresize checks that an in-place Clear leaves a
// segment's next dirty map presized by WithCapacity, as a Clear that
// replaces the table does, where the segment had nothing to reuse: its
// keys promoted, deleted and dropped by two sweeps leave it an empty,
// unamended read map (the table's shared empty one), no dirty map and no
// spare. Clear must then store nil for read, not leave the empty map:
// addDirtyLocked presizes a segment's first dirty map only (see
// clearLocked).
func TestClearInPlaceKeepsPresize(t *testing.T) {
	const capacity = 16 * 30 // a share of 31 keys a segment: not big (spareMax)
	m := New[int, int](WithCapacity(capacity))
	keys := promotedKeys(m, 0, 40)
	for _, k := range keys {
		m.Delete(k)
	}
	m.sweepAll() // marks the tombstones the last rebuild left
	m.sweepAll() // drops them
	tb := m.t.Load()
	s := tb.segs[0].Load()
	if r := s.read.Load(); r != tb.empty || s.dirty != nil || s.spare != nil || tb.filled.Load()&1 == 0 {
		t.Fatalf("before Clear: read is the empty map %v (nil %v), dirty %v, spare %v, filled %b; want the empty map, no dirty, no spare, bit 0 set",
			r == tb.empty, r == nil, s.dirty != nil, s.spare != nil, tb.filled.Load())
	}
	m.Clear()
	if m.t.Load() != tb {
		t.Fatal("Clear replaced the table; this test needs it emptied in place")
	}
	m.Store(keys[0], 1)
	fresh := New[int, int](WithCapacity(capacity)) // its own seed
	fresh.Store(keysInSegment(fresh, 0, 1, 0)[0], 1)
	ft := fresh.t.Load()
	want := len(ft.segs[0].Load().dirty.tab.ctrl)
	if want <= dirtyInline {
		t.Fatalf("a fresh map's first dirty map has %d slots: not presized, the test proves nothing", want)
	}
	if got := len(s.dirty.tab.ctrl); got != want {
		t.Errorf("after an in-place Clear, the segment's next dirty map has %d slots, want %d as in a fresh map of capacity %d", got, want, capacity)
	}
	m.mustCheck()
}

// mustBeEmpty checks that m holds none of keys, and no key at all.
func mustBeEmpty(t *testing.T, m *Map[int, int], keys ...int) {
	t.Helper()
	for _, k := range keys {
		if v, ok := m.Load(k); ok {
			t.Fatalf("Load(%d) = %d, true after Clear", k, v)
		}
	}
	if n := m.Len(); n != 0 {
		t.Fatalf("Len() = %d after Clear", n)
	}
	m.mustCheck()
}

// TestClearInPlaceAtomic races an in-place Clear with goroutines whose
// calls would see a Clear that is not atomic across segments:
//
//   - a reader loads a key of one segment, then one of another, both
//     present before the Clear and never stored again: having found the
//     first absent, it must find the second absent too. A Clear that
//     emptied one segment, then the other, would let it see the second.
//   - a writer stores a new key in a segment that holds none, then loads
//     a key of another segment: if it finds that key present, its Store
//     came before the Clear, which must have removed the new key too. A
//     Clear that did not look at filled again after its locks were taken
//     would miss the segment (see clearInPlace).
func TestClearInPlaceAtomic(t *testing.T) {
	// a, b and c in three segments, or in one; d always in a fourth.
	t.Run("segments", func(t *testing.T) { testClearInPlaceAtomic(t, false) })
	t.Run("one-segment", func(t *testing.T) { testClearInPlaceAtomic(t, true) })
}

func testClearInPlaceAtomic(t *testing.T, oneSegment bool) {
	rounds := 20000
	if testing.Short() {
		rounds = 4000
	}
	var m Map[int, int]
	segOf := []int{0, 1, 2}
	if oneSegment {
		segOf = []int{0, 0, 0}
	}
	var abc, more []int
	for j, i := range segOf {
		keys := keysInSegment(&m, i, 4, 0)
		abc = append(abc, keys[j])
		// Three more keys in each segment: a Load of a key of dirty
		// counts a miss, and a segment promotes (and so is emptied by
		// replacing the table) once its misses reach its keys.
		more = append(more, keysInSegment(&m, i, 3, 1000*(j+1))...)
	}
	a, b, c, d := abc[0], abc[1], abc[2], keysInSegment(&m, 3, 1, 0)[0]
	for range rounds {
		for _, k := range append([]int{a, b, c}, more...) {
			m.Store(k, 1)
		}
		tb := m.t.Load()
		var wg sync.WaitGroup
		var firstGone, secondHere, cHere, dStored bool
		start := make(chan struct{})
		wg.Add(3)
		go func() { defer wg.Done(); <-start; m.Clear() }()
		go func() {
			defer wg.Done()
			<-start
			_, okA := m.Load(a)
			_, okB := m.Load(b)
			firstGone, secondHere = !okA, okB
		}()
		go func() {
			defer wg.Done()
			<-start
			m.Store(d, 1)
			dStored = true
			_, cHere = m.Load(c)
		}()
		close(start)
		wg.Wait()
		if m.t.Load() != tb {
			t.Fatal("Clear replaced the table; the test checks nothing")
		}
		if firstGone && secondHere {
			t.Fatal("a reader found one segment cleared, then another not")
		}
		if _, okD := m.Load(d); dStored && cHere && okD {
			t.Fatal("a Store ordered before the Clear survived it")
		}
		m.mustCheck()
		m.Clear()
	}
}

// TestClearFromCallbacks calls Clear from inside a Compute callback, a
// LoadOrCompute value function and a Range callback, on a map whose keys
// wait in dirty (where Clear may empty the table in place) and on one
// whose keys were promoted. Clear waits for no compute's mark (it declines
// the in-place path instead) and runs with no segment lock held by the
// callback's caller, so none of them may wedge; each leaves an empty,
// consistent map, the compute's write ordered before the Clear.
func TestClearFromCallbacks(t *testing.T) {
	for _, promoted := range []bool{false, true} {
		fill := func(m *Map[int, int]) {
			for k := range 8 {
				m.Store(k, k)
			}
			if promoted {
				m.promoteAll()
			}
		}
		// A wedge would hang the test goroutine: a watchdog reports it.
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(wedgeTimeout):
				buf := make([]byte, 1<<20)
				panic(fmt.Sprintf("Clear from a callback wedged:\n%s", buf[:runtime.Stack(buf, true)]))
			}
		}()
		var m Map[int, int]
		fill(&m)
		if v, ok := m.Compute(3, func(old int, loaded bool) (int, ComputeOp) {
			m.Clear()
			return old + 1, UpdateOp
		}); !ok || v != 4 {
			t.Errorf("promoted %v: Compute returned %d, %v; want 4, true", promoted, v, ok)
		}
		mustBeEmpty(t, &m, 3)

		fill(&m)
		m.LoadOrCompute(100, func() int { m.Clear(); return 1 })
		mustBeEmpty(t, &m, 3, 100)

		fill(&m)
		m.Range(func(k, v int) bool { m.Clear(); return true })
		mustBeEmpty(t, &m, 3)
		close(done)
	}
}

// TestConcurrentClears runs Go's Clear workload (a Clear, then a Store of
// a new key) from several goroutines, so that Clears race each other and
// the Stores that set bits in filled. None may wedge (a build whose Clear
// of a single segment took no initMu once left another Clear looping for a
// bit that it had cleared; see benchmarks/JOURNAL.md), and the map ends
// consistent.
func TestConcurrentClears(t *testing.T) {
	var m Map[int, int]
	n := iterations(20000)
	runWorkers(t, func(g int) {
		for i := range n {
			m.Clear()
			m.Store(g*n+i%64, i)
		}
	})
	m.mustCheck()
	m.Clear()
	mustBeEmpty(t, &m)
}
