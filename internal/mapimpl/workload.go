package mapimpl

import (
	"fmt"
	"math/bits"
)

// A Workload is one benchmark scenario. Setup fills a fresh map once; then
// every goroutine asks Worker for its own step function and calls it in a
// loop, one call per counted operation. A step may make more than one map
// call (AdversarialDelete's occasional Range, say), as in Go's own sync.Map
// benchmarks, whose per-iteration bodies these reproduce.
type Workload[K comparable] struct {
	Name string
	// Capacity is the size hint for presizing maps, 0 for none.
	Capacity int
	// Setup prepares a fresh map, nil when the workload starts empty.
	Setup func(m Map[K])
	// Worker returns the step function of one goroutine. start is the
	// goroutine's first counter value: goroutines get ranges far apart, so
	// that workloads that need unique keys get them.
	Worker func(m Map[K], start int) func()
}

// storeRange stores keys 0..n-1 with themselves as values and primes the
// map with loads, as Go's benchmarks do, so that it starts in its steady
// state.
func storeRange(m Map[int], n int) { Warm(m, IntKeys(n)) }

// own holds state that one goroutine's step writes at every call, padded
// to 128 bytes and more (two cache lines, the pair that adjacent-line
// prefetchers fetch together), so that no two goroutines' state share a
// line. Unpadded, the 8-byte counters of workers made one after another
// (as cmd/mapbench makes them) sat 8 bytes apart, and every step of one
// goroutine took the line from the others: with 2 goroutines, mapbench
// measured safemap's LoadMostlyHits at 21-22 ns per operation, against
// 10.3-10.5 with the state padded (BENCHMARKS.md, "mapbench").
type own[T any] struct {
	v T
	_ [128]byte
}

// counting returns a step that calls op with start, start+1, ... .
func counting(start int, op func(i int)) func() {
	c := &own[int]{v: start - 1}
	return func() { c.v++; op(c.v) }
}

// simple builds a workload whose goroutines have no state but the counter.
func simple(name string, setup func(Map[int]), op func(m Map[int], i int)) Workload[int] {
	return Workload[int]{Name: name, Setup: setup, Worker: func(m Map[int], start int) func() {
		return counting(start, func(i int) { op(m, i) })
	}}
}

// storeZero stores key 0, the key the Collision workloads fight over.
func storeZero(m Map[int]) { m.LoadOrStore(0, 0) }

// hitsOrMisses returns the key a MostlyHits/MostlyMisses step uses: one of
// the hits stored keys, or for the other steps i itself, a key never stored.
func hitsOrMisses(i, hits, misses int) (key int, hit bool) {
	if j := i % (hits + misses); j < hits {
		return j, true
	}
	return i, false
}

// GoSet returns the workloads of Go's own sync.Map benchmark set
// (src/sync/map_bench_test.go), rewritten for this interface: the same key
// patterns and the same calls per step.
func GoSet() []Workload[int] {
	return []Workload[int]{
		loadMostly("LoadMostlyHits", 1023, 1),
		loadMostly("LoadMostlyMisses", 1, 1023),
		simple("LoadOrStoreBalanced", func(m Map[int]) { storeRange(m, 128) }, func(m Map[int], i int) {
			if j := i % 256; j < 128 {
				m.LoadOrStore(j, i)
			} else {
				m.LoadOrStore(i, i)
			}
		}),
		simple("LoadOrStoreUnique", nil, func(m Map[int], i int) { m.LoadOrStore(i, i) }),
		simple("LoadOrStoreCollision", storeZero, func(m Map[int], _ int) { m.LoadOrStore(0, 0) }),
		simple("LoadAndDeleteBalanced", func(m Map[int]) { storeRange(m, 128) }, func(m Map[int], i int) {
			if j := i % 256; j < 128 {
				m.LoadAndDelete(j)
			} else {
				m.LoadAndDelete(i)
			}
		}),
		simple("LoadAndDeleteUnique", nil, func(m Map[int], i int) { m.LoadAndDelete(i) }),
		simple("LoadAndDeleteCollision", storeZero, func(m Map[int], _ int) {
			if _, loaded := m.LoadAndDelete(0); loaded {
				m.Store(0, 0)
			}
		}),
		simple("Range", func(m Map[int]) { storeRange(m, 1024) }, func(m Map[int], _ int) {
			m.Range(func(int, int) bool { return true })
		}),
		{Name: "AdversarialAlloc", Worker: adversarialAlloc},
		simple("AdversarialDelete", func(m Map[int]) { storeRange(m, 1024) }, func(m Map[int], i int) {
			m.Load(i)
			if i%1024 == 0 {
				m.Range(func(k, _ int) bool { m.Delete(k); return false })
				m.Store(i, i)
			}
		}),
		simple("DeleteCollision", storeZero, func(m Map[int], _ int) { m.Delete(0) }),
		simple("SwapCollision", storeZero, func(m Map[int], _ int) { m.Swap(0, 0) }),
		swapMostly("SwapMostlyHits", 1023, 1),
		swapMostly("SwapMostlyMisses", 1, 1023),
		simple("CompareAndSwapCollision", storeZero, func(m Map[int], _ int) {
			if m.CompareAndSwap(0, 0, 42) {
				m.CompareAndSwap(0, 42, 0)
			}
		}),
		compareAndSwapMostly("CompareAndSwapMostlyHits", 1023, 1),
		compareAndSwapMostly("CompareAndSwapMostlyMisses", 1, 1023),
		simple("CompareAndDeleteCollision", storeZero, func(m Map[int], _ int) {
			if m.CompareAndDelete(0, 0) {
				m.Store(0, 0)
			}
		}),
		compareAndDeleteMostly("CompareAndDeleteMostlyHits", 1023, 1),
		compareAndDeleteMostly("CompareAndDeleteMostlyMisses", 1, 1023),
		simple("Clear", nil, func(m Map[int], i int) {
			m.Clear()
			m.Store(i%256, i%256)
		}),
	}
}

func loadMostly(name string, hits, misses int) Workload[int] {
	return simple(name, func(m Map[int]) { storeRange(m, hits) }, func(m Map[int], i int) {
		m.Load(i % (hits + misses))
	})
}

func swapMostly(name string, hits, misses int) Workload[int] {
	return simple(name, func(m Map[int]) { storeRange(m, hits) }, func(m Map[int], i int) {
		if k, hit := hitsOrMisses(i, hits, misses); hit {
			m.Swap(k, k)
		} else {
			m.Swap(k, k)
			m.Delete(k)
		}
	})
}

func compareAndSwapMostly(name string, hits, misses int) Workload[int] {
	return simple(name, func(m Map[int]) { storeRange(m, hits) }, func(m Map[int], i int) {
		k, _ := hitsOrMisses(i, hits, misses)
		m.CompareAndSwap(k, k, k)
	})
}

func compareAndDeleteMostly(name string, hits, misses int) Workload[int] {
	return simple(name, func(m Map[int]) { storeRange(m, hits) }, func(m Map[int], i int) {
		k, _ := hitsOrMisses(i, hits, misses)
		if m.CompareAndDelete(k, k) {
			m.Store(k, k)
		}
	})
}

// adversarialAlloc loads new keys and stores one more each time the loads
// since the last store outnumber the stores so far: the pattern that makes
// the classic design copy its read map again and again.
func adversarialAlloc(m Map[int], start int) func() {
	st := new(own[struct{ stores, loadsSinceStore int }])
	return counting(start, func(i int) {
		m.Load(i)
		if st.v.loadsSinceStore++; st.v.loadsSinceStore > st.v.stores {
			m.LoadOrStore(i, st.v.stores)
			st.v.loadsSinceStore = 0
			st.v.stores++
		}
	})
}

// Mixed returns a workload on a warmed map holding keys: each step picks a
// key at random and loads it with probability reads/100; otherwise it
// stores or deletes it, half and half. reads must be in 0..100.
func Mixed[K comparable](keys []K, reads int) Workload[K] {
	if reads < 0 || reads > 100 {
		panic(fmt.Sprintf("mapimpl.Mixed: reads = %d, want 0..100", reads))
	}
	n := uint64(len(keys))
	return Workload[K]{
		Name:     fmt.Sprintf("Mixed/reads=%d", reads),
		Capacity: len(keys),
		Setup:    func(m Map[K]) { Warm(m, keys) },
		Worker: func(m Map[K], start int) func() {
			r := rng(uint64(start)*0x9e3779b97f4a7c15 + 1)
			return func() {
				x := r.next()
				hi, _ := bits.Mul64(x, n) // uniform key index in 0..n-1
				k := keys[hi]
				switch op := x % 200; {
				case op < uint64(2*reads):
					m.Load(k)
				case op&1 == 0:
					m.Store(k, int(x>>32))
				default:
					m.Delete(k)
				}
			}
		},
	}
}

// Warm stores every key and then loads each twice, so that maps that
// promote after misses (sync.Map, safemap) start from their read-optimised
// state, as a long-running program's map would be.
func Warm[K comparable](m Map[K], keys []K) {
	for i, k := range keys {
		m.Store(k, i)
	}
	for range 2 {
		for _, k := range keys {
			m.Load(k)
		}
	}
}

// IntKeys returns the keys 0..n-1.
func IntKeys(n int) []int {
	keys := make([]int, n)
	for i := range keys {
		keys[i] = i
	}
	return keys
}

// StringKeys returns n distinct strings of 16 to 24 bytes, the length of
// typical identifiers, built once so that a step does not allocate.
func StringKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user:%08x:%d", uint32(i)*0x9e3779b9, i)
	}
	return keys
}

// rng is a xorshift64* generator: a few nanoseconds a number, no locks, and
// each goroutine has its own, on lines of its own (see own).
type rngState struct{ own[uint64] }

func rng(seed uint64) *rngState {
	if seed == 0 {
		seed = 1
	}
	r := new(rngState)
	r.v = seed
	return r
}

func (r *rngState) next() uint64 {
	r.v ^= r.v >> 12
	r.v ^= r.v << 25
	r.v ^= r.v >> 27
	return r.v * 0x2545f4914f6cdd1d
}
