package safemap

import (
	"math"
	"testing"
)

// TestRangeOrderSpreadsDeletes runs the writes of Go's AdversarialDelete
// benchmark (1,024 keys; again and again, a Range that deletes the first
// key it meets, then a Store of a new key) and checks that the keys left
// stay spread over the segments and over the buckets of each read map.
// When every Range began at segment 0 and each read map's first bucket,
// the deletes took the keys of the low segments and of the low buckets
// first: after 100,000 rounds every live key was in the last segment, its
// read map had a run of over a hundred full buckets, and a miss probed 27
// buckets on average (go test -v prints the figures).
func TestRangeOrderSpreadsDeletes(t *testing.T) {
	const n, rounds = 1024, 100_000
	m := new(Map[int, int])
	for k := range n {
		m.Store(k, k)
	}
	next := n
	for range rounds {
		m.Range(func(k, _ int) bool {
			m.Delete(k)
			return false
		})
		m.Store(next, next)
		next++
	}
	if got := m.Len(); got != n {
		t.Fatalf("Len() = %d after each round deleted a key and stored one; want %d", got, n)
	}
	m.promoteAll()
	tb := m.t.Load()

	// Live keys per segment: 64 each on average, but not binomially
	// spread: a Range that starts past an empty segment deletes from the
	// next one, so the segments after empty ones shrink faster. In 34
	// runs of 100,000 and 1,000,000 rounds the fullest segment held 139
	// to 334 keys; in a fixed order, all 1,024.
	perSeg := make([]int, segments)
	for k := range m.Keys() {
		perSeg[segmentOf(tb.hasher.hash(k))]++
	}
	for s, c := range perSeg {
		if c > n/2 {
			t.Errorf("segment %d holds %d of the %d live keys (per segment: %v)", s, c, n, perSeg)
		}
	}

	// Buckets probed by a miss, averaged over a million absent keys: about
	// 1.1 in a read map whose keys are spread (at 75% load about a tenth of
	// misses go on past their home bucket). A Range from a random bucket
	// still deletes the keys after runs of deleted ones more often than
	// the others, so the keys left cluster a little: 1.25 to 1.48 after
	// 1,000,000 rounds (four runs), the longest probe 13 to 22 buckets;
	// in a fixed order, 27 and 145 after 100,000.
	probes, misses, longest := 0, 0, 0
	for k := -1; k > -1_000_000; k-- {
		h := tb.hasher.hash(k)
		r := tb.loadRead(segmentOf(h))
		if len(r.buckets) == 0 {
			continue
		}
		c := 0
		for i := home(h, len(r.buckets)); ; {
			c++
			if !r.buckets[i].overflowed(h) {
				break
			}
			if i++; i == len(r.buckets) {
				i = 0
			}
		}
		probes, misses, longest = probes+c, misses+1, max(longest, c)
	}
	mean := float64(probes) / float64(misses)
	t.Logf("live keys per segment %v; a miss probes %.2f buckets on average, %d at most", perSeg, mean, longest)
	if mean > 2 || math.IsNaN(mean) {
		t.Errorf("a miss probes %.2f buckets on average (longest %d); want at most 2", mean, longest)
	}
	m.mustCheck()
}

// TestRangeOrderChanges checks what Range's doc comment promises: the
// order changes from one Range to the next, as with Go's maps. The first
// key of 200 Ranges over 1,000 keys takes many values (with a start drawn
// from 16 segments and their buckets, fewer than 20 distinct ones would
// take odds of far below one in a million), and every Range visits every
// key once.
func TestRangeOrderChanges(t *testing.T) {
	const n = 1000
	m := new(Map[int, int])
	for k := range n {
		m.Store(k, k)
	}
	firsts := map[int]int{}
	for range 200 {
		seen := make(map[int]bool, n)
		first := -1
		m.Range(func(k, v int) bool {
			if first < 0 {
				first = k
			}
			if seen[k] || v != k {
				t.Fatalf("Range visited %d twice, or with value %d", k, v)
			}
			seen[k] = true
			return true
		})
		if len(seen) != n {
			t.Fatalf("Range visited %d keys; want %d", len(seen), n)
		}
		firsts[first]++
	}
	if len(firsts) < 20 {
		t.Fatalf("200 Ranges began at only %d distinct keys: %v", len(firsts), firsts)
	}
}
