package safemap

import "testing"

// TestFindBoxAgreesWithFind checks readOnly.findBox, loadSlow's probe,
// against find, which compares every slot's key: for every key stored and
// many never stored, in every state an entry can hold (live, deleted,
// swept, a compute's mark over a present and over an absent key, and
// moved, in a read map that a promotion replaced), findBox reports the key
// found exactly when find does, with the box that the key's entry holds.
// Keys past their home bucket and tag twins, which findBox decides by
// their boxes, come with every map of this size.
func TestFindBoxAgreesWithFind(t *testing.T) {
	const n = 20_000
	m := promotedIntMap(n)
	tb := m.t.Load()
	check := func(stage string, r *readOnly[int, int], k int) {
		t.Helper()
		h := tb.hasher.hash(k)
		e := r.find(h, k)
		p, found := r.findBox(h, k)
		switch {
		case found != (e != nil):
			t.Fatalf("%s: findBox(%d) found %v; find returned %v", stage, k, found, e)
		case found && p != e.p.Load():
			t.Fatalf("%s: findBox(%d) = %p; the key's entry holds %p", stage, k, p, e.p.Load())
		}
	}
	checkAll := func(stage string) {
		t.Helper()
		for k := range 3 * n {
			check(stage, tb.loadRead(segmentOf(tb.hasher.hash(k))), k)
		}
	}
	checkAll("live")

	for k := 0; k < n; k += 3 {
		m.Delete(k)
	}
	m.sweepAll() // every third key: swept
	for k := 1; k < n; k += 5 {
		m.Delete(k) // deleted (nil)
	}
	checkAll("deleted and swept")

	// A compute's mark: over a present key (2, 8, ...) and over a deleted
	// one (0, 6, ...), checked while the compute runs.
	for k := 0; k < 600; k += 2 {
		m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
			check("a compute's mark", tb.loadRead(segmentOf(tb.hasher.hash(k))), k)
			return old, CancelOp
		})
	}

	// Moved: the read maps that a promotion replaced.
	old := make([]*readOnly[int, int], len(tb.reads))
	for i := range tb.reads {
		old[i] = tb.loadRead(i)
	}
	m.Store(3*n, 1) // a new key, so that the promotion has dirty to merge
	m.promoteAll()
	if m.t.Load() != tb {
		t.Fatal("the map grew a new table")
	}
	moved := 0
	for k := range 3 * n {
		h := tb.hasher.hash(k)
		r := old[segmentOf(h)]
		check("moved", r, k)
		if p, _ := r.findBox(h, k); p == tb.moved {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no entry of the replaced read maps is moved")
	}
	checkAll("after the promotion")
	m.mustCheck()
}
