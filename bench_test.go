package safemap_test

// Benchmarks: safemap against sync.Map, xsync v3 MapOf, xsync v4 Map and a
// map behind a sync.RWMutex, all through internal/mapimpl. Names are built
// for benchstat: the implementation is always the last element, impl=NAME,
// so that
//
//	go test -run '^$' -bench . -count 6 -cpu 1,2 > new.txt
//	benchstat -col /impl new.txt
//
// puts the implementations side by side. BENCHMARKS.md has the figures.

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	xsyncv3 "github.com/puzpuzpuz/xsync/v3"
	xsyncv4 "github.com/puzpuzpuz/xsync/v4"
	"github.com/safemap-go/safemap"
	"github.com/safemap-go/safemap/internal/mapimpl"
)

// runParallel runs w's steps on m from GOMAXPROCS goroutines, giving
// goroutine id the counter start id*b.N, as Go's sync.Map benchmarks do.
func runParallel[K comparable](b *testing.B, m mapimpl.Map[K], w mapimpl.Workload[K]) {
	var ids atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		step := w.Worker(m, int(ids.Add(1)-1)*b.N)
		for pb.Next() {
			step()
		}
	})
}

// BenchmarkGoSet runs the workloads of Go's own sync.Map benchmarks
// (src/sync/map_bench_test.go). Like Go's, each round starts from a fresh
// map: the setups are small.
func BenchmarkGoSet(b *testing.B) {
	for _, w := range mapimpl.GoSet() {
		for _, impl := range mapimpl.Impls[int]() {
			b.Run(fmt.Sprintf("workload=%s/impl=%s", w.Name, impl.Name), func(b *testing.B) {
				m := impl.New(0)
				if w.Setup != nil {
					w.Setup(m)
				}
				runParallel(b, m, w)
			})
		}
	}
}

// BenchmarkClearLoaded is Go's Clear workload with reads: a Clear, a Store
// of a key and two Loads of it. In safemap the Loads promote the key to
// its segment's read map (each Load of a key that waits in dirty counts a
// miss), so the next Clear cannot empty the table in place and replaces
// it, as every Clear did before c385f4b: Go's Clear row, which never
// reads, measures the in-place path only.
func BenchmarkClearLoaded(b *testing.B) {
	w := mapimpl.Workload[int]{Name: "ClearLoaded", Worker: func(m mapimpl.Map[int], start int) func() {
		i := start
		return func() {
			k := i % 256
			m.Clear()
			m.Store(k, k)
			m.Load(k)
			m.Load(k)
			i++
		}
	}}
	for _, impl := range mapimpl.Impls[int]() {
		b.Run("impl="+impl.Name, func(b *testing.B) { runParallel(b, impl.New(0), w) })
	}
}

// Key sets of the mixed benchmarks, built once: 100,000 strings take a
// while, and a step must not allocate.
var (
	intKeys    = map[int][]int{}
	stringKeys = map[int][]string{}
)

// BenchmarkMixed runs random Loads, Stores and Deletes on a warmed map:
// reads% Loads, the rest half Stores and half Deletes of keys drawn
// uniformly from size keys.
func BenchmarkMixed(b *testing.B) {
	sizes := []int{1000, 100_000}
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, size := range sizes {
		if intKeys[size] == nil {
			intKeys[size] = mapimpl.IntKeys(size)
			stringKeys[size] = mapimpl.StringKeys(size)
		}
		benchMixed(b, "int", intKeys[size])
		benchMixed(b, "string", stringKeys[size])
	}
}

func benchMixed[K comparable](b *testing.B, keyType string, keys []K) {
	for _, reads := range []int{100, 99, 90, 75, 50} {
		w := mapimpl.Mixed(keys, reads)
		for _, impl := range mapimpl.Impls[K]() {
			// The map is built once per sub-benchmark and reused by the
			// rounds that find b.N: filling 100,000 keys per round would
			// take longer than the measurement. The workload keeps the map
			// in a steady state, so a reused map measures the same thing.
			var m mapimpl.Map[K]
			name := fmt.Sprintf("keys=%s/size=%d/reads=%d/impl=%s", keyType, len(keys), reads, impl.Name)
			b.Run(name, func(b *testing.B) {
				if m == nil {
					m = impl.New(w.Capacity)
					w.Setup(m)
				}
				runParallel(b, m, w)
			})
		}
	}
}

// BenchmarkLoadHitSerial measures one goroutine's Load of a present key,
// against a plain Go map lookup, the physical floor. Each implementation
// is called directly, with no interface in between, so that the figures
// compare the maps and nothing else. The any-int and any-string keys are
// the same keys in interface keys (every map keyed by any): sync.Map's
// keys, and those of a Map[any, V] that replaces one.
func BenchmarkLoadHitSerial(b *testing.B) {
	const n = 1024 // a power of two: i&(n-1) picks the key
	ints, strs := mapimpl.IntKeys(n), mapimpl.StringKeys(n)
	b.Run("keys=int", func(b *testing.B) { loadSerial(b, ints, nil, ints) })
	b.Run("keys=string", func(b *testing.B) { loadSerial(b, strs, nil, strs) })
	anyInts, anyStrs := toAny(ints), toAny(strs)
	b.Run("keys=any-int", func(b *testing.B) { loadSerial(b, anyInts, nil, anyInts) })
	b.Run("keys=any-string", func(b *testing.B) { loadSerial(b, anyStrs, nil, anyStrs) })
}

// BenchmarkLoadMissSerial is BenchmarkLoadHitSerial for keys that the
// maps never held: each map holds 1,024 keys, and the loop loads 1,024
// others. For safemap, whose read maps then hold every key with nothing
// waiting in dirty, it is a clean miss, the fastest a miss can be; against
// Go's AdversarialAlloc row, whose loads miss while new keys wait in dirty,
// it gives what ruling out the dirty map costs there.
func BenchmarkLoadMissSerial(b *testing.B) {
	const n = 1024
	ints, strs := mapimpl.IntKeys(2*n), mapimpl.StringKeys(2*n)
	b.Run("keys=int", func(b *testing.B) { loadSerial(b, ints[:n], nil, ints[n:]) })
	b.Run("keys=string", func(b *testing.B) { loadSerial(b, strs[:n], nil, strs[n:]) })
}

// toAny returns keys as interface values.
func toAny[K any](keys []K) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// BenchmarkLoadHitRandom is BenchmarkLoadHitSerial over 131,072 keys, far
// more than the caches hold, loaded in a fixed random order: the cost of a
// hit is then the cache lines it touches. The loads are independent, so the
// processor overlaps several; a figure is a throughput, not a latency.
func BenchmarkLoadHitRandom(b *testing.B) {
	const n = 1 << 17
	ints, strs := mapimpl.IntKeys(n), mapimpl.StringKeys(n)
	order := randomOrder(1<<20, n)
	b.Run("keys=int", func(b *testing.B) { loadSerial(b, ints, nil, pick(ints, order)) })
	b.Run("keys=string", func(b *testing.B) { loadSerial(b, strs, nil, pick(strs, order)) })
}

// BenchmarkLoadDeleted is BenchmarkLoadHitRandom for keys that were
// deleted: the maps hold n keys, every other one is then deleted, and the
// loop loads the deleted ones in a fixed random order. Loads of recently
// deleted keys are about half the loads of the write mixes. A safemap read
// map keeps a deleted key's slot (a tombstone) until a sweep marks it, at
// least one sweep delay after the deletes (500 ms for 1,024 keys, 1 s for
// 131,072); at -benchtime 200ms, as BENCHMARKS.md runs it, the loop ends
// before that and measures loads of tombstones. Longer runs measure a mix
// of tombstones, swept entries (a slower path) and, after two delays,
// absent keys.
func BenchmarkLoadDeleted(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 17} {
		ints, strs := mapimpl.IntKeys(n), mapimpl.StringKeys(n)
		order := randomOrder(1<<16, n/2)
		for i := range order {
			order[i] = 2*order[i] + 1 // the odd keys, which are deleted
		}
		b.Run(fmt.Sprintf("keys=int/size=%d", n), func(b *testing.B) {
			loadSerial(b, ints, pick(ints, odd(n)), pick(ints, order))
		})
		b.Run(fmt.Sprintf("keys=string/size=%d", n), func(b *testing.B) {
			loadSerial(b, strs, pick(strs, odd(n)), pick(strs, order))
		})
	}
}

// BenchmarkLoadHalfDeleted loads the keys of BenchmarkLoadDeleted's maps,
// every other one deleted, all n of them in a fixed random order: a hit
// and a miss of a deleted key in random turns, as in the write mixes,
// where about half the keys are deleted at any time. Its time per load
// against the mean of BenchmarkLoadHitRandom's and BenchmarkLoadDeleted's
// is what the mix of the two costs beyond each alone (mispredicted
// branches: the outcome is known only once the bucket's line arrives).
func BenchmarkLoadHalfDeleted(b *testing.B) {
	const n = 1 << 17
	ints, strs := mapimpl.IntKeys(n), mapimpl.StringKeys(n)
	order := randomOrder(1<<20, n)
	b.Run("keys=int", func(b *testing.B) { loadSerial(b, ints, pick(ints, odd(n)), pick(ints, order)) })
	b.Run("keys=string", func(b *testing.B) { loadSerial(b, strs, pick(strs, odd(n)), pick(strs, order)) })
}

// randomOrder returns n indexes in [0, limit), in a fixed pseudo-random
// order, the same in every run.
func randomOrder(n, limit int) []int {
	order := make([]int, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range order {
		x ^= x << 13 // xorshift64
		x ^= x >> 7
		x ^= x << 17
		order[i] = int(x % uint64(limit))
	}
	return order
}

// odd returns the odd numbers below n.
func odd(n int) []int {
	out := make([]int, 0, n/2)
	for i := 1; i < n; i += 2 {
		out = append(out, i)
	}
	return out
}

// pick returns keys[order[0]], keys[order[1]], ...
func pick[K any](keys []K, order []int) []K {
	out := make([]K, len(order))
	for i, j := range order {
		out[i] = keys[j]
	}
	return out
}

// sink keeps the loaded values alive, so that the compiler cannot drop the
// loads.
var sink int

// loadSerial runs the serial Load benchmarks: the maps hold keys, less
// deleted, which are stored and then deleted, and the loop loads seq[0],
// seq[1], ... (len(seq) a power of two), round and round. The loops repeat
// for each implementation so that each one calls its map's own method.
func loadSerial[K comparable](b *testing.B, keys, deleted, seq []K) {
	mask := len(seq) - 1
	b.Run("impl=gomap", func(b *testing.B) {
		m := make(map[K]int, len(keys))
		for i, k := range keys {
			m[k] = i
		}
		for _, k := range deleted {
			delete(m, k)
		}
		b.ReportAllocs()
		s := 0
		for i := 0; b.Loop(); i++ {
			s += m[seq[i&mask]]
		}
		sink = s
	})
	b.Run("impl=safemap", func(b *testing.B) {
		m := new(safemap.Map[K, int])
		mapimpl.Warm(m, keys)
		for _, k := range deleted {
			m.Delete(k)
		}
		b.ReportAllocs()
		s := 0
		for i := 0; b.Loop(); i++ {
			v, _ := m.Load(seq[i&mask])
			s += v
		}
		sink = s
	})
	b.Run("impl=syncmap", func(b *testing.B) {
		var m sync.Map
		for i, k := range keys {
			m.Store(k, i)
		}
		for _, k := range keys {
			m.Load(k) // promote
		}
		for _, k := range deleted {
			m.Delete(k)
		}
		b.ReportAllocs()
		s := 0
		for i := 0; b.Loop(); i++ {
			v, _ := m.Load(seq[i&mask])
			x, _ := v.(int) // nil, not an int, for a miss
			s += x
		}
		sink = s
	})
	b.Run("impl=xsyncv3", func(b *testing.B) {
		m := xsyncv3.NewMapOf[K, int]()
		for i, k := range keys {
			m.Store(k, i)
		}
		for _, k := range deleted {
			m.Delete(k)
		}
		b.ReportAllocs()
		s := 0
		for i := 0; b.Loop(); i++ {
			v, _ := m.Load(seq[i&mask])
			s += v
		}
		sink = s
	})
	b.Run("impl=xsyncv4", func(b *testing.B) {
		m := xsyncv4.NewMap[K, int]()
		for i, k := range keys {
			m.Store(k, i)
		}
		for _, k := range deleted {
			m.Delete(k)
		}
		b.ReportAllocs()
		s := 0
		for i := 0; b.Loop(); i++ {
			v, _ := m.Load(seq[i&mask])
			s += v
		}
		sink = s
	})
}

// BenchmarkMemory stores 1,000,000 int->int entries, lets the maps that
// promote on misses promote them, and reports the live heap per entry
// (bytes/entry); then it deletes every key and reports the live heap the
// map still holds (retained-B), right away and once the map's background
// cleanup had time to run (retained-later-B: safemap drops deleted keys
// within two sweep delays, at most 2 s). ns/op is the time to fill the map.
func BenchmarkMemory(b *testing.B) {
	n, label := 1_000_000, "1e6"
	if testing.Short() {
		n, label = 10_000, "1e4"
	}
	keys := mapimpl.IntKeys(n)
	for _, impl := range mapimpl.Impls[int]() {
		b.Run("entries="+label+"/impl="+impl.Name, func(b *testing.B) {
			var perEntry, retained, later float64
			b.ReportAllocs()
			for range b.N {
				base := safemap.HeapAlloc()
				m := impl.New(0)
				mapimpl.Warm(m, keys)
				full := safemap.HeapAlloc()
				for _, k := range keys {
					m.Delete(k)
				}
				empty := safemap.HeapAlloc()
				time.Sleep(2500 * time.Millisecond)
				emptyLater := safemap.HeapAlloc()
				runtime.KeepAlive(m)
				perEntry += float64(full-base) / float64(n)
				retained += float64(empty) - float64(base)
				later += float64(emptyLater) - float64(base)
			}
			b.ReportMetric(perEntry/float64(b.N), "bytes/entry")
			b.ReportMetric(max(0, retained/float64(b.N)), "retained-B")
			b.ReportMetric(max(0, later/float64(b.N)), "retained-later-B")
		})
	}
}
