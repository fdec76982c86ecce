package safemap

import "testing"

// TestEmptyReadAmendsWithoutAllocating checks how a segment whose read map
// is empty takes its first new keys (see addDirtyLocked): its read pointer
// goes to the map's shared emptyAmended, which every table of the map
// shares and nothing writes, and Stats still shows the keys in dirty; every
// miss of the segment then takes the lock and still answers right; the
// fifth key brings a read map with a filter of its own, holding every key
// of dirty; Clear of keys that all wait in dirty empties the table in
// place; and after a Clear that replaces the table the new one uses the
// same shared map.
func TestEmptyReadAmendsWithoutAllocating(t *testing.T) {
	var m Map[int, int]
	keys := keysInSegment(&m, 3, 6, 0)
	others := keysInSegment(&m, 3, 4, 10000) // absent keys of the same segment
	m.Store(keys[0], keys[0])
	tb := m.t.Load()
	if r := tb.reads[3].Load(); r != tb.emptyAmended {
		t.Fatalf("after the first key the read map is %p, want the shared emptyAmended %p", r, tb.emptyAmended)
	}
	if st := m.Stats(); !st.Amended || st.DirtyKeys != 1 || st.ReadKeys != 0 {
		t.Fatalf("Stats() = %+v; want one key in dirty, amended", st)
	}
	m.mustCheck()
	for i, k := range keys[1:4] {
		m.Store(k, k)
		if r := tb.reads[3].Load(); r != tb.emptyAmended {
			t.Fatalf("after %d keys the read map left emptyAmended", i+2)
		}
	}
	for _, k := range others { // misses through the lock, which promote
		if v, ok := m.Load(k); ok {
			t.Fatalf("Load(%d) = %d, true for an absent key", k, v)
		}
	}
	for _, k := range keys[:4] {
		if v, ok := m.Load(k); !ok || v != k {
			t.Fatalf("Load(%d) = %d, %v", k, v, ok)
		}
	}
	m.mustCheck()

	// Without promotions: four keys in dirty, then a fifth.
	var m2 Map[int, int]
	keys = keysInSegment(&m2, 3, 5, 0) // m2 has its own seed
	for _, k := range keys[:4] {
		m2.Store(k, k)
	}
	tb2 := m2.t.Load()
	if r := tb2.reads[3].Load(); r != tb2.emptyAmended {
		t.Fatal("four new keys left the shared emptyAmended")
	}
	m2.Store(keys[4], keys[4])
	r := tb2.reads[3].Load()
	if r == tb2.emptyAmended || !r.amended() || len(r.filter) == 0 || &r.filter[0] == &fullFilter[0] {
		t.Fatal("the fifth key did not bring a read map with a filter of its own")
	}
	for _, k := range keys[:5] {
		if !r.mayHaveDirty(tb2.hasher.hash(k)) {
			t.Fatalf("key %d missing from the new filter", k)
		}
	}
	m2.mustCheck()

	// Every key waits in dirty: Clear empties the table in place, and
	// the segment goes back to the shared empty map.
	m2.Clear()
	if tb3 := m2.t.Load(); tb3 != tb2 || tb3.reads[3].Load() != tb2.empty {
		t.Fatal("Clear of a map whose keys all wait in dirty did not empty its table in place")
	}
	m2.mustCheck()
	m2.Store(keys[0], 1)
	if v, ok := m2.Load(keys[0]); !ok || v != 1 {
		t.Fatalf("Load(%d) = %d, %v after Clear and Store", keys[0], v, ok)
	}
	// A promoted key: Clear replaces the table, and the new one uses the
	// map's shared emptyAmended.
	for _, k := range others {
		m2.Load(k) // misses through the lock, which promote
	}
	if tb2.reads[3].Load().n == 0 {
		t.Fatal("the misses did not promote")
	}
	m2.Clear()
	m2.Store(keys[0], 1)
	if tb3 := m2.t.Load(); tb3 == tb2 || tb3.emptyAmended != tb2.emptyAmended || tb3.reads[3].Load() != tb2.emptyAmended {
		t.Fatal("after Clear the new table does not use the map's shared emptyAmended")
	}
	if v, ok := m2.Load(keys[0]); !ok || v != 1 {
		t.Fatalf("Load(%d) = %d, %v after Clear and Store", keys[0], v, ok)
	}
	m2.mustCheck()
	m.mustCheck() // neither map wrote into the shared map or fullFilter
}

// TestPurgeToEmptyUsesSharedEmpty checks that a segment left with no key
// goes back to the table's shared empty read map, not to a new one, and
// works on from there: both when its dirty map empties through a purge
// (new keys, all deleted, never promoted) and when a compaction rebuilds
// its read map without an entry.
func TestPurgeToEmptyUsesSharedEmpty(t *testing.T) {
	var m Map[int, int]
	keys := keysInSegment(&m, 5, compactMin, 0) // the last delete purges them all
	for _, k := range keys {
		m.Store(k, k)
	}
	tb := m.t.Load()
	if r := tb.reads[5].Load(); r == tb.emptyAmended || len(r.buckets) != 0 || !r.amended() {
		t.Fatalf("%d new keys never read: want an amended read map without buckets", len(keys))
	}
	for _, k := range keys {
		m.Delete(k)
	}
	if r := tb.reads[5].Load(); r != tb.empty {
		t.Fatalf("after the purge the read map is %p (amended %v), want the shared empty %p", r, r.amended(), tb.empty)
	}
	if st := m.Stats(); st.Amended || st.DirtyKeys != 0 || st.Tombstones != 0 {
		t.Fatalf("Stats() = %+v after the purge; want nothing left", st)
	}
	m.mustCheck()
	// The next new key reuses the purged map (the spare), and gets a filter
	// sized for as many keys as the spare held: refilling it as far takes
	// no new filter on the way (see addDirtyLocked).
	m.Store(keys[0], 7)
	r := tb.reads[5].Load()
	if r == tb.emptyAmended || !r.amended() || filterCapacity(r.filter) < len(keys) {
		t.Fatalf("the next new key amended the read map with a filter for %d keys (emptyAmended %v), want one for %d",
			filterCapacity(r.filter), r == tb.emptyAmended, len(keys))
	}
	m.mustCheck()
	more := keysInSegment(&m, 5, len(keys)-1, keys[len(keys)-1]+1)
	for _, k := range more {
		m.Store(k, k)
	}
	if tb.reads[5].Load() != r {
		t.Fatalf("refilling the spare with %d keys published a new read map", 1+len(more))
	}
	for _, k := range more {
		m.Delete(k)
	}
	if v, ok := m.Load(keys[0]); !ok || v != 7 {
		t.Fatalf("Load(%d) = %d, %v", keys[0], v, ok)
	}
	if _, ok := m.Load(keys[1]); ok {
		t.Fatalf("Load(%d) found a purged key", keys[1])
	}
	m.mustCheck()

	// Likewise a rebuild that keeps no entry: keys promoted to read, then
	// all deleted, the last delete compacting the segment.
	for _, k := range keys {
		m.Store(k, k)
	}
	m.promoteAll()
	if r := tb.reads[5].Load(); r.amended() || r.n != len(keys) {
		t.Fatalf("after promoteAll the read map holds %d keys (amended %v), want %d", r.n, r.amended(), len(keys))
	}
	for _, k := range keys {
		m.Delete(k)
	}
	if r := tb.reads[5].Load(); r != tb.empty {
		t.Fatalf("after the compaction the read map is %p with %d entries, want the shared empty %p", r, r.n, tb.empty)
	}
	m.mustCheck()
	m.Store(keys[3], 3)
	if v, ok := m.Load(keys[3]); !ok || v != 3 {
		t.Fatalf("Load(%d) = %d, %v after the compaction", keys[3], v, ok)
	}
	m.mustCheck()
}

// TestFilterCapped checks that a dirty filter stops growing at
// maxFilterWords however many new keys come, and that past its designed
// capacity it still holds every key of dirty, so that loads stay right:
// present keys found, absent ones reported absent.
func TestFilterCapped(t *testing.T) {
	var m Map[int, int]
	capKeys := maxFilterWords * 64 / filterBitsPerKey
	keys := keysInSegment(&m, 5, 3*capKeys, 0)
	for _, k := range keys {
		m.Store(k, k) // no loads: no misses, no promotion
	}
	tb := m.t.Load()
	r := tb.reads[5].Load()
	if st := m.Stats(); !r.amended() || st.DirtyKeys != len(keys) {
		t.Fatalf("Stats() = %+v, amended %v; want all %d keys in dirty", st, r.amended(), len(keys))
	}
	if len(r.filter) != maxFilterWords {
		t.Fatalf("the filter of a dirty map of %d keys has %d words, want the cap, %d", len(keys), len(r.filter), maxFilterWords)
	}
	m.mustCheck() // every key of dirty has its bits in the filter
	for _, k := range keysInSegment(&m, 5, 1000, 1<<24) {
		if v, ok := m.Load(k); ok {
			t.Fatalf("Load(%d) = %d, true for an absent key", k, v)
		}
	}
	for _, k := range keys {
		if v, ok := m.Load(k); !ok || v != k {
			t.Fatalf("Load(%d) = %d, %v", k, v, ok)
		}
	}
	m.mustCheck()
}

// TestPurgeKeepsComputeRevival checks that a dirty entry that a compute
// revives is not purged as deleted: the compute's claim takes it out of
// dirtyDead, which must never count more deleted entries than dirty holds,
// since a purge that finds dirtyDead equal to len(dirty) drops every entry
// unseen.
func TestPurgeKeepsComputeRevival(t *testing.T) {
	var m Map[int, int]
	keys := keysInSegment(&m, 2, compactMin, 0)
	for _, k := range keys {
		m.Store(k, k) // new keys, never read: all in dirty
	}
	m.Delete(keys[0])
	if v, loaded := m.LoadOrCompute(keys[0], func() int { return -1 }); loaded || v != -1 {
		t.Fatalf("LoadOrCompute(%d) = %d, %v; want -1, false", keys[0], v, loaded)
	}
	for _, k := range keys[1:] {
		m.Delete(k) // the last one would purge, if keys[0] still counted as deleted
	}
	if v, ok := m.Load(keys[0]); !ok || v != -1 {
		t.Fatalf("Load(%d) = %d, %v after deleting the other keys; want -1, true", keys[0], v, ok)
	}
	m.mustCheck()
}

// TestAbsentWritesCountMisses checks that a write that finds its key
// absent under the lock, because its segment's read map is amended and the
// filter could not rule the key out, counts a miss toward promotion as a
// Load of it does (and as sync.Map's LoadAndDelete does): otherwise a
// stream of deletes or compare-and-swaps of absent keys would take the
// lock forever and never promote. Under the shared emptyAmended read map,
// whose filter rules nothing out, the segment's four keys of dirty promote
// after four misses.
func TestAbsentWritesCountMisses(t *testing.T) {
	ops := map[string]func(m *Map[int, int], k int){
		"Delete":           func(m *Map[int, int], k int) { m.Delete(k) },
		"LoadAndDelete":    func(m *Map[int, int], k int) { m.LoadAndDelete(k) },
		"CompareAndDelete": func(m *Map[int, int], k int) { m.CompareAndDelete(k, k) },
		"CompareAndSwap":   func(m *Map[int, int], k int) { m.CompareAndSwap(k, k, k+1) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			var m Map[int, int]
			keys := keysInSegment(&m, 3, 4, 0)
			others := keysInSegment(&m, 3, 4, 10000) // absent keys of the same segment
			for _, k := range keys {
				m.Store(k, k)
			}
			if tb := m.t.Load(); tb.reads[3].Load() != tb.emptyAmended {
				t.Fatal("four new keys left the shared emptyAmended")
			}
			for _, k := range others {
				op(&m, k)
			}
			if st := m.Stats(); st.Amended || st.ReadKeys != len(keys) || st.Promotions != 1 {
				t.Fatalf("after %d %ss of absent keys: %+v; want the segment promoted", len(others), name, st)
			}
			for _, k := range others {
				if v, ok := m.Load(k); ok {
					t.Fatalf("Load(%d) = %d, true: %s of an absent key stored it", k, v, name)
				}
			}
			for _, k := range keys {
				if v, ok := m.Load(k); !ok || v != k {
					t.Fatalf("Load(%d) = %d, %v; want %d, true", k, v, ok, k)
				}
			}
			m.mustCheck()
		})
	}
}

// TestDirtyKeyWritesCountMisses checks that a write that finds its key
// live in dirty, under the lock, counts a miss toward promotion: the lock
// trip is one that promotion would save, as a Load of the key counts one.
// Otherwise keys that are only ever written, never loaded, would keep
// their writes under the lock for good. Each op is applied once to each of
// a segment's four keys of dirty (under the shared emptyAmended read map,
// four misses promote them), and must leave the value the op says.
func TestDirtyKeyWritesCountMisses(t *testing.T) {
	ops := map[string]struct {
		op   func(m *Map[int, int], k int)
		want func(k int) int
	}{
		"Store":          {func(m *Map[int, int], k int) { m.Store(k, k+1) }, func(k int) int { return k + 1 }},
		"Swap":           {func(m *Map[int, int], k int) { m.Swap(k, k+1) }, func(k int) int { return k + 1 }},
		"CompareAndSwap": {func(m *Map[int, int], k int) { m.CompareAndSwap(k, k, k+1) }, func(k int) int { return k + 1 }},
		"LoadOrStore":    {func(m *Map[int, int], k int) { m.LoadOrStore(k, k+1) }, func(k int) int { return k }},
		"ComputeUpdate": {func(m *Map[int, int], k int) {
			m.Compute(k, func(old int, _ bool) (int, ComputeOp) { return old + 1, UpdateOp })
		}, func(k int) int { return k + 1 }},
		"ComputeCancel": {func(m *Map[int, int], k int) {
			m.Compute(k, func(old int, _ bool) (int, ComputeOp) { return 0, CancelOp })
		}, func(k int) int { return k }},
		"LoadOrCompute": {func(m *Map[int, int], k int) {
			m.LoadOrCompute(k, func() int { return -1 })
		}, func(k int) int { return k }},
	}
	for name, tc := range ops {
		t.Run(name, func(t *testing.T) {
			var m Map[int, int]
			keys := keysInSegment(&m, 3, 4, 0)
			for _, k := range keys {
				m.Store(k, k)
			}
			if tb := m.t.Load(); tb.reads[3].Load() != tb.emptyAmended {
				t.Fatal("four new keys left the shared emptyAmended")
			}
			for _, k := range keys {
				tc.op(&m, k)
			}
			if st := m.Stats(); st.Amended || st.ReadKeys != len(keys) || st.Promotions != 1 {
				t.Fatalf("after a %s of each of the %d keys of dirty: %+v; want the segment promoted", name, len(keys), st)
			}
			for _, k := range keys {
				if v, ok := m.Load(k); !ok || v != tc.want(k) {
					t.Fatalf("Load(%d) = %d, %v; want %d, true", k, v, ok, tc.want(k))
				}
			}
			m.mustCheck()
		})
	}
}

// TestFilterSize checks that newFilter makes the smallest filter that holds
// its keys at the designed rate, a power of two of words between 8 and
// maxFilterWords, and that a segment amended by one new key gets the
// smallest. A filter bigger than its keys need costs memory in each of a
// map's amended segments and spreads each new key's bits over more lines.
func TestFilterSize(t *testing.T) {
	perWord := 64 / filterBitsPerKey // keys a word holds at the designed rate
	for keys := 0; keys <= 3*maxFilterWords*perWord; keys++ {
		n := len(newFilter(keys))
		switch {
		case n&(n-1) != 0 || n < 8 || n > maxFilterWords:
			t.Fatalf("newFilter(%d) has %d words, want a power of two from 8 to %d", keys, n, maxFilterWords)
		case n < maxFilterWords && n*perWord < keys:
			t.Fatalf("newFilter(%d) has %d words, too few for its keys", keys, n)
		case n > 8 && n/2*perWord >= keys:
			t.Fatalf("newFilter(%d) has %d words where %d hold its keys", keys, n, n/2)
		}
	}

	var m Map[int, int]
	keys := keysInSegment(&m, 5, 100, 0)
	for _, k := range keys[:99] {
		m.Store(k, k)
	}
	m.promoteAll()
	m.Store(keys[99], 99) // one new key amends the read map
	r := m.t.Load().reads[5].Load()
	if !r.amended() || len(r.filter) != 8 {
		t.Fatalf("one new key over a read map of 99 amended it (%v) with a filter of %d words, want 8", r.amended(), len(r.filter))
	}
	m.mustCheck()
}
