package safemap

import "testing"

// keysInSegment returns n keys, starting from from, that fall in segment i
// of m.
func keysInSegment[V any](m *Map[int, V], i, n, from int) []int {
	var keys []int
	for k := from; len(keys) < n; k++ {
		if m.segmentOf(k) == i {
			keys = append(keys, k)
		}
	}
	return keys
}

// promotedKeys stores n keys of segment i of m, each with itself as its
// value, promotes them into the segment's read map, and returns them.
func promotedKeys(m *Map[int, int], i, n int) []int {
	keys := keysInSegment(m, i, n, 0)
	for _, k := range keys {
		m.Store(k, k)
	}
	m.promoteAll()
	return keys
}

// TestRangeSmallDirtyIsCopied checks both ways Range handles a segment with
// new keys in its dirty map: up to dirtyCopyMax keys are visited from a
// copy, with no promotion, so a Range after each new key costs no rebuild;
// more are promoted first. Either way every key is visited once, with its
// value, and deleted dirty keys are not visited.
func TestRangeSmallDirtyIsCopied(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dirty     int // live new keys in segment 0's dirty map
		promotion bool
	}{
		// With the deleted key, dirty holds dirtyCopyMax entries here, and
		// one more in the promoted case.
		{"copied", dirtyCopyMax - 1, false},
		{"promoted", dirtyCopyMax, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Map[int, int]
			old := keysInSegment(&m, 0, 100, 0)
			for _, k := range old {
				m.Store(k, -k)
			}
			m.promoteAll()
			// Live new keys, and one more, deleted.
			fresh := keysInSegment(&m, 0, tc.dirty+1, old[len(old)-1]+1)
			for _, k := range fresh {
				m.Store(k, -k)
			}
			gone := fresh[len(fresh)-1]
			m.Delete(gone) // stays in dirty, deleted
			before := m.Stats().Promotions
			seen := map[int]int{}
			m.Range(func(k, v int) bool {
				if _, dup := seen[k]; dup {
					t.Fatalf("Range visited %d twice", k)
				}
				seen[k] = v
				return true
			})
			if want := len(old) + tc.dirty; len(seen) != want {
				t.Fatalf("Range visited %d keys; want %d", len(seen), want)
			}
			for k, v := range seen {
				if v != -k || k == gone {
					t.Fatalf("Range visited %d with %d", k, v)
				}
			}
			if promoted := m.Stats().Promotions > before; promoted != tc.promotion {
				t.Fatalf("Range promoted: %v; want %v", promoted, tc.promotion)
			}
			if err := m.checkInvariants(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRangeCopyStops checks that f returning false stops the copied part
// of a segment too.
func TestRangeCopyStops(t *testing.T) {
	var m Map[int, int]
	keys := keysInSegment(&m, 0, 3, 0)
	for _, k := range keys {
		m.Store(k, k) // all three in dirty
	}
	n := 0
	m.Range(func(int, int) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("f ran %d times after returning false at the 2nd call", n)
	}
}
