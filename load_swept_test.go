package safemap

import (
	"strconv"
	"testing"
)

// TestLoadSweptEntries checks Load on swept entries, which its look at
// the home bucket answers without loadSlow: in read maps big enough that
// Load decides deleted entries without reading their keys (coldKeyBuckets),
// and small ones where it compares the key; with the read map clean and
// amended by new keys in dirty; and after the swept keys are stored again,
// lock-free. Every answer is compared with a plain map's.
func TestLoadSweptEntries(t *testing.T) {
	for _, n := range []int{200, 60_000} {
		t.Run("keys=int/size="+strconv.Itoa(n), func(t *testing.T) {
			testLoadSwept(t, n, func(i int) int { return i })
		})
		t.Run("keys=string/size="+strconv.Itoa(n), func(t *testing.T) {
			testLoadSwept(t, n, func(i int) string { return "k" + strconv.Itoa(i) })
		})
	}
}

func testLoadSwept[K comparable](t *testing.T, n int, key func(int) K) {
	m := new(Map[K, int])
	model := make(map[K]int)
	check := func(stage string, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			k := key(i)
			want, wantOK := model[k]
			if v, ok := m.Load(k); v != want || ok != wantOK {
				t.Fatalf("%s: Load(%v) = %d, %v; want %d, %v", stage, k, v, ok, want, wantOK)
			}
		}
	}
	for i := range n {
		m.Store(key(i), i)
		model[key(i)] = i
	}
	for range 2 {
		check("promoting", 0, n) // the misses promote every segment
	}
	for i := 1; i < n; i += 2 {
		m.Delete(key(i))
		delete(model, key(i))
	}
	m.sweepAll() // the odd keys' entries: deleted -> swept

	tb := m.t.Load()
	swept, big := 0, 0
	for i := range tb.reads {
		r := tb.reads[i].Load()
		if r == nil {
			continue
		}
		if r.amended() {
			t.Fatalf("segment %d: read map amended before any new key", i)
		}
		if len(r.keys) > coldKeyBuckets {
			big++
		}
		r.each(func(_ K, e *entry[K, int]) bool {
			if e.p.Load() == tb.swept {
				swept++
			}
			return true
		})
	}
	if swept != n/2 {
		t.Fatalf("%d swept entries in the read maps, want the %d deleted keys", swept, n/2)
	}
	if n > 10_000 && big == 0 {
		t.Fatalf("no read map of %d keys has more than %d buckets", n, coldKeyBuckets)
	}
	check("clean read maps", 0, 2*n) // keys 0..n-1, then keys never stored

	// New keys amend the read maps; the swept keys stay in them.
	for i := 2 * n; i < 2*n+n/8; i++ {
		m.Store(key(i), i)
		model[key(i)] = i
	}
	if m.t.Load() != tb {
		t.Fatal("the map grew a new table")
	}
	check("amended read maps: swept keys", 0, n)
	check("amended read maps: new keys", 2*n, 2*n+n/8)

	// Stores revive swept entries where they are still in read.
	for i := 1; i < n; i += 4 {
		m.Store(key(i), -i)
		model[key(i)] = -i
	}
	check("revived", 0, 2*n+n/8)
	m.mustCheck()
}

// BenchmarkLoadSwept loads deleted keys whose entries a sweep has marked
// swept, in a fixed random order: the state of a key deleted between one
// and two sweep delays ago (see sweepDelay), before the next sweep drops
// its entry. The next sweep fires a sweep delay (0.5-1s) after sweepAll,
// so keep -benchtime under that; BenchmarkLoadDeleted measures the
// deleted (nil) entries of the keys deleted since the last sweep.
func BenchmarkLoadSwept(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 17} {
		b.Run("keys=int/size="+strconv.Itoa(n)+"/impl=safemap", func(b *testing.B) {
			m := promotedIntMap(n)
			for i := 1; i < n; i += 2 {
				m.Delete(i)
			}
			m.sweepAll()
			const mask = 1<<16 - 1
			seq := make([]int, mask+1)
			x := uint64(0x9e3779b97f4a7c15)
			for i := range seq {
				x ^= x << 13 // xorshift64
				x ^= x >> 7
				x ^= x << 17
				seq[i] = 2*int(x%uint64(n/2)) + 1 // an odd key: swept
			}
			b.ReportAllocs()
			found := 0
			for i := 0; b.Loop(); i++ {
				if _, ok := m.Load(seq[i&mask]); ok {
					found++
				}
			}
			if found != 0 {
				b.Fatalf("%d loads of deleted keys found them", found)
			}
		})
	}
}
