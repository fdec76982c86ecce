package safemap

import "testing"

// TestEmptyReadAmendsWithoutAllocating checks how a segment whose read map
// is empty takes its first new keys (see addDirtyLocked): its read pointer
// goes to the map's shared emptyAmended, which every table of the map
// shares and nothing writes, and Stats still shows the keys in dirty; every
// miss of the segment then takes the lock and still answers right; the
// fifth key brings a read map with a filter of its own, holding every key
// of dirty; and after Clear the new table uses the same shared map.
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
	if r == tb2.emptyAmended || !r.amended || len(r.filter) == 0 || &r.filter[0] == &fullFilter[0] {
		t.Fatal("the fifth key did not bring a read map with a filter of its own")
	}
	for _, k := range keys[:5] {
		if !r.mayHaveDirty(tb2.hasher.hash(k)) {
			t.Fatalf("key %d missing from the new filter", k)
		}
	}
	m2.mustCheck()

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
