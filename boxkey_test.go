package safemap

import "testing"

// tagTwins returns, from every read map of m, the pairs of keys that share
// a bucket and a tag: a probe for the second key matches the first key's
// slot first (see bucket.match).
func tagTwins(m *Map[int, int]) (pairs [][2]int) {
	t := m.t.Load()
	for i := range t.reads {
		r := t.loadRead(i)
		bs := r.buckets
		for bi := range bs {
			b := &bs[bi]
			for x := range slotsPerBucket {
				for y := x + 1; y < slotsPerBucket; y++ {
					tx, ty := byte(b.tags>>(8*x)), byte(b.tags>>(8*y))
					if tx != 0 && tx == ty {
						pairs = append(pairs, [2]int{r.keys[bi][x], r.keys[bi][y]})
					}
				}
			}
		}
	}
	return pairs
}

// TestLoadTagTwins checks Load's hit path, which trusts the key held in a
// value box, where a key's first tag match is another key's slot: live,
// deleted and stored again. A Load that took the first live box with a
// matching tag would return the other key's value.
func TestLoadTagTwins(t *testing.T) {
	var m Map[int, int]
	const n = 20_000
	for k := range n {
		m.Store(k, 3*k+1)
	}
	m.promoteAll()
	pairs := tagTwins(&m)
	if len(pairs) < 10 {
		t.Fatalf("only %d keys share a bucket and a tag with another among %d keys", len(pairs), n)
	}
	deleted := map[int]bool{} // a key may be in several pairs
	check := func(k int) {
		t.Helper()
		v, ok := m.Load(k)
		if ok == deleted[k] || (ok && v != 3*k+1) {
			t.Fatalf("Load(%d) = %d, %v; want %d, %v", k, v, ok, 3*k+1, !deleted[k])
		}
	}
	for _, p := range pairs {
		check(p[0])
		check(p[1])
	}
	// The first key deleted: the second's probe meets a deleted entry first.
	for _, p := range pairs {
		m.Delete(p[0])
		deleted[p[0]] = true
		check(p[0])
		check(p[1])
	}
	// Stored again, lock-free, in the same entries: new boxes, same keys.
	for _, p := range pairs {
		m.Store(p[0], 3*p[0]+1)
		deleted[p[0]] = false
		check(p[0])
		check(p[1])
	}
	m.mustCheck()
}
