package safemap

import (
	"fmt"
	"runtime"
	"testing"
)

// Allocation budgets. AllocsPerRun reports whole allocations per run, so a
// rare amortised allocation (a timer armed once) rounds to zero, as it
// should.
func TestAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	var m Map[int, int]
	for i := range 1024 {
		m.Store(i, i)
	}
	m.promoteAll()
	var ms Map[string, int]
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d-padding", i)
		ms.Store(keys[i], i)
	}
	ms.promoteAll()
	i := 0
	budgets := []struct {
		name string
		max  float64
		f    func()
	}{
		{"Load hit", 0, func() { m.Load(i & 1023); i++ }},
		{"Load miss", 0, func() { m.Load(5000 + i); i++ }},
		{"Load hit, string key", 0, func() { ms.Load(keys[i&1023]); i++ }},
		{"Load miss, string key", 0, func() { ms.Load("absent-key"); i++ }},
		{"LoadOrStore hit", 0, func() { m.LoadOrStore(i&1023, 0); i++ }},
		{"Delete absent", 0, func() { m.Delete(5000 + i); i++ }},
		{"Store over an existing key", 1, func() { m.Store(i&1023, i); i++ }},
		{"Swap over an existing key", 1, func() { m.Swap(i&1023, i); i++ }},
		{"CompareAndSwap miss", 0, func() { m.CompareAndSwap(i&1023, -1, 0); i++ }},
		{"Range", 0, func() { m.Range(func(k, v int) bool { return true }) }},
		{"All", 0, func() {
			for range m.All() {
			}
		}},
		{"Keys", 0, func() {
			for range m.Keys() {
			}
		}},
		{"Values", 0, func() {
			for range m.Values() {
			}
		}},
		{"Len", 0, func() { m.Len() }},
		// A compute reserves its key with a mark, one allocation even
		// when fn cancels (Compute's doc); an update adds the new box.
		{"LoadOrCompute hit", 0, func() { m.LoadOrCompute(i&1023, func() int { return 0 }); i++ }},
		{"Compute, CancelOp", 1, func() {
			m.Compute(i&1023, func(old int, _ bool) (int, ComputeOp) { return old, CancelOp })
			i++
		}},
		{"Compute, UpdateOp", 2, func() {
			m.Compute(i&1023, func(old int, _ bool) (int, ComputeOp) { return old, UpdateOp })
			i++
		}},
	}
	for _, b := range budgets {
		if got := testing.AllocsPerRun(200, b.f); got > b.max {
			t.Errorf("%s: %v allocations per call; budget %v", b.name, got, b.max)
		}
	}
	// Range over segments with new keys in small dirty maps, which it
	// copies instead of promoting.
	var md Map[int, int]
	for i := range 1024 {
		md.Store(i, i)
	}
	md.promoteAll()
	for i := range segments {
		md.Store(keysInSegment(&md, i, 1, 2000)[0], 0)
	}
	if got := testing.AllocsPerRun(200, func() { md.Range(func(k, v int) bool { return true }) }); got > 0 {
		t.Errorf("Range over small dirty maps: %v allocations per call; budget 0", got)
	}
	// Delete of present keys, then their re-Store (which pays for its box).
	j := 0
	if got := testing.AllocsPerRun(500, func() { m.Delete(j); j++ }); got > 0 {
		t.Errorf("Delete: %v allocations per call; budget 0", got)
	}
	// Clear, then a new key: the keys all wait in dirty, so Clear empties
	// the table in place (see clearInPlace), and the Store reuses the
	// segment and its emptied dirty map, whose slot holds an int value
	// itself: nothing (a boxed value would add its box). (A Clear that
	// replaces the table, and the writes after it, allocate the table,
	// the segment and the dirty map: below; TestClearInPlaceDeclines
	// covers when Clear takes that path.)
	var mc Map[int, int]
	mc.Store(0, 0)
	k := 0
	if got := testing.AllocsPerRun(200, func() { mc.Clear(); mc.Store(k, k); k++ }); got > 0 {
		t.Errorf("Clear and Store: %v allocations per call; budget 0", got)
	}
	// Clear of a promoted key replaces the table, and the Store after it
	// makes the key's segment and its first dirty map: three allocations
	// with int keys and values, which need no box in dirty (the README
	// gives them, and their bytes). Measured one call at a time with
	// MemStats: AllocsPerRun's warm-up would leave the keys in dirty.
	// MemStats counts every goroutine's allocations (a sweep timer of an
	// earlier test's map may fire meanwhile), so the fewest of five
	// rounds is held to the budget.
	var mp Map[int, int]
	var before, after runtime.MemStats
	fewest := uint64(1 << 62)
	for i := range 5 {
		mp.Store(i, i)
		mp.promoteAll()
		runtime.ReadMemStats(&before)
		mp.Clear()
		mp.Store(i, i)
		runtime.ReadMemStats(&after)
		fewest = min(fewest, after.Mallocs-before.Mallocs)
	}
	if fewest > 3 {
		t.Errorf("Clear of a promoted key and a Store: %d allocations; budget 3", fewest)
	}
	// A promotion's read map: one allocation for a segment's first five
	// keys (one bucket, see smallReadOnly), three past them (the map, its
	// buckets and its keys); its next link is in the map (see link).
	for _, c := range []struct{ n, budget int }{{1, 1}, {5, 1}, {6, 3}, {1000, 3}} {
		var r *readOnly[string, int]
		if got := testing.AllocsPerRun(100, func() { r = newReadOnly[string, int](c.n) }); got > float64(c.budget) {
			t.Errorf("newReadOnly(%d): %v allocations per call; budget %d", c.n, got, c.budget)
		}
		if r.next != &r.link || len(r.buckets) != bucketsFor(c.n) || len(r.keys) != len(r.buckets) {
			t.Errorf("newReadOnly(%d): next %p (link at %p), %d buckets and %d key arrays, want %d", c.n, r.next, &r.link, len(r.buckets), len(r.keys), bucketsFor(c.n))
		}
	}
}
