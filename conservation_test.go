package safemap

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// auditChurner runs internal state changes on m until stop closes:
// promotions, near-promotions with misses, sweeps, and churn of keys of
// its own (which triggers purges and compactions). key(j) gives those keys
// for j in -2..99; no one else may use them.
func auditChurner[K comparable, V any](m *Map[K, V], stop chan struct{}, wg *sync.WaitGroup, key func(j int) K) {
	defer wg.Done()
	var zero V
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		switch i % 5 {
		case 0:
			m.promoteAll()
		case 1:
			m.nearPromotion()
			m.Load(key(-1))
			m.Load(key(-2))
		case 2:
			m.sweepAll()
		case 3:
			for j := range 100 {
				m.Store(key(j), zero)
			}
			for j := range 100 {
				m.Delete(key(j))
			}
		case 4:
			runtime.Gosched()
		}
	}
}

// auditChurnKey is auditChurner's key function over int keys from 1<<20.
func auditChurnKey(j int) int { return 1<<20 + j }

// TestTokenConservation moves unique tokens between keys with every
// taking operation (LoadAndDelete, CompareAndDelete, Compute DeleteOp, Swap
// onto an absent key) and every placing one (LoadOrStore, LoadOrCompute,
// Compute on an absent key, CompareAndSwap-free Store after a winning
// LoadAndDelete of the same key), while the segments are promoted, swept,
// purged and compacted: no token may be lost or duplicated.
func TestTokenConservation(t *testing.T) {
	const (
		keys    = 48
		tokens  = 20
		workers = 6
	)
	dur := 1500 * time.Millisecond
	if testing.Short() {
		dur = 300 * time.Millisecond
	}
	m := new(Map[int, int])
	for i := range tokens {
		m.Store(i, 1000+i)
	}
	stop := make(chan struct{})
	var wg, churn sync.WaitGroup
	churn.Add(1)
	go auditChurner(m, stop, &churn, auditChurnKey)
	deadline := time.Now().Add(dur)
	var moves atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for time.Now().Before(deadline) {
				k := rng.IntN(keys)
				var tok int
				var got bool
				switch rng.IntN(4) {
				case 0:
					tok, got = m.LoadAndDelete(k)
				case 1:
					if v, ok := m.Load(k); ok && m.CompareAndDelete(k, v) {
						tok, got = v, true
					}
				case 2:
					m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
						if !loaded {
							return 0, CancelOp
						}
						tok, got = old, true
						return 0, DeleteOp
					})
				case 3:
					// Swap a placeholder (-1) onto the key: if a token was
					// there we hold it. Then take the placeholder away again;
					// if another worker replaced it meanwhile, that is theirs.
					prev, loaded := m.Swap(k, -1)
					if loaded && prev >= 0 {
						tok, got = prev, true
					}
					m.CompareAndDelete(k, -1)
				}
				if !got || tok == -1 {
					continue // nothing, or another worker's placeholder
				}
				if tok < 1000 {
					t.Errorf("took a non-token %d from key %d", tok, k)
					return
				}
				// Place it on an absent key.
				for placed := false; !placed; {
					p := rng.IntN(keys)
					switch rng.IntN(3) {
					case 0:
						_, loaded := m.LoadOrStore(p, tok)
						placed = !loaded
					case 1:
						_, loaded := m.LoadOrCompute(p, func() int { return tok })
						placed = !loaded
					case 2:
						m.Compute(p, func(old int, loaded bool) (int, ComputeOp) {
							if loaded {
								return 0, CancelOp
							}
							placed = true
							return tok, UpdateOp
						})
					}
				}
				moves.Add(1)
			}
		}()
	}
	if !auditWithin(t, "workers", 20*time.Second, wg.Wait) {
		close(stop)
		return
	}
	close(stop)
	churn.Wait()
	seen := map[int]int{}
	for k, v := range m.All() {
		if k >= keys {
			t.Errorf("churn key %d=%d left over", k, v)
			continue
		}
		if v == -1 {
			continue // a placeholder whose delete lost to nobody? must not stay
		}
		if prev, dup := seen[v]; dup {
			t.Errorf("token %d at keys %d and %d", v, prev, k)
		}
		seen[v] = k
	}
	for i := range tokens {
		if _, ok := seen[1000+i]; !ok {
			t.Errorf("token %d lost", 1000+i)
		}
	}
	if err := m.checkInvariants(); err != nil {
		t.Error(err)
	}
	t.Logf("%d moves", moves.Load())
}

// TestMixedAtomicIncrements increments a few counters with Compute,
// with CompareAndSwap loops, and with LoadOrStore+CompareAndSwap from an
// absent start, on keys that are deleted (by CompareAndDelete of a known
// value, re-added with its count) while segments rebuild: every increment
// must land.
func TestMixedAtomicIncrements(t *testing.T) {
	const (
		counters = 4
		workers  = 6
		per      = 4000
	)
	m := new(Map[int, int])
	stop := make(chan struct{})
	var wg, churn sync.WaitGroup
	churn.Add(1)
	go auditChurner(m, stop, &churn, auditChurnKey)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 5))
			for range per {
				k := rng.IntN(counters)
				switch rng.IntN(3) {
				case 0:
					m.Compute(k, func(old int, _ bool) (int, ComputeOp) { return old + 1, UpdateOp })
				case 1:
					for {
						old, loaded := m.LoadOrStore(k, 1)
						if !loaded {
							break
						}
						if m.CompareAndSwap(k, old, old+1) {
							break
						}
					}
				case 2:
					// Take the counter out and put it back plus one.
					for {
						old, loaded := m.Load(k)
						if !loaded {
							if _, l := m.LoadOrStore(k, 1); !l {
								break
							}
							continue
						}
						if m.CompareAndDelete(k, old) {
							// k is absent now; put it back, merging with
							// whatever others started meanwhile.
							m.Compute(k, func(cur int, _ bool) (int, ComputeOp) { return cur + old + 1, UpdateOp })
							break
						}
					}
				}
			}
		}()
	}
	ok := auditWithin(t, "workers", 20*time.Second, wg.Wait)
	close(stop)
	churn.Wait()
	if !ok {
		return
	}
	total := 0
	for k := range counters {
		v, _ := m.Load(k)
		total += v
	}
	if total != workers*per {
		t.Errorf("counters sum to %d; want %d", total, workers*per)
	}
	if err := m.checkInvariants(); err != nil {
		t.Error(err)
	}
}

// TestIteratorsWithConcurrentClear runs Range, All, Keys and Values
// (with and without early break, with writes in their bodies) while other
// goroutines Store, Delete and Clear: no key visited twice in one loop, no
// key that was never stored, every value belonging to its key, no hang,
// and Len exact at the end.
func TestIteratorsWithConcurrentClear(t *testing.T) {
	m := new(Map[int, int])
	deadline := time.Now().Add(1200 * time.Millisecond)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			for time.Now().Before(deadline) {
				k := rng.IntN(200)
				switch rng.IntN(10) {
				case 0:
					m.Clear()
				case 1, 2:
					m.Delete(k)
				case 3:
					m.Compute(k, func(int, bool) (int, ComputeOp) { return -k, UpdateOp })
				default:
					m.Store(k, -k)
				}
			}
		}()
	}
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				seen := map[int]bool{}
				visit := func(k, v int) bool {
					if seen[k] {
						t.Errorf("key %d visited twice", k)
					}
					seen[k] = true
					if k < 0 || k >= 200 || v != -k {
						t.Errorf("visited %d=%d", k, v)
					}
					if i%7 == 0 {
						m.Store(k, -k) // body writes
					}
					if i%11 == 0 && len(seen) == 3 {
						m.Clear()
					}
					return i%3 != 0 || len(seen) < 10
				}
				switch (i + r) % 4 {
				case 0:
					m.Range(visit)
				case 1:
					for k, v := range m.All() {
						if !visit(k, v) {
							break
						}
					}
				case 2:
					for k := range m.Keys() {
						if !visit(k, -k) {
							break
						}
					}
				case 3:
					for v := range m.Values() {
						if v > 0 || v <= -200 {
							t.Errorf("value %d", v)
						}
					}
				}
			}
		}()
	}
	if !auditWithin(t, "iterators and Clears", 15*time.Second, wg.Wait) {
		return
	}
	n := 0
	for range m.All() {
		n++
	}
	if m.Len() != n {
		t.Errorf("Len %d, All visits %d", m.Len(), n)
	}
	if err := m.checkInvariants(); err != nil {
		t.Error(err)
	}
}

// TestOwnedKeysExactModel: each worker owns keys (of a couple of
// segments, so that workers share segments and their locks) and checks
// every result against an exact model of its own keys, with every
// operation, panicking ones included, while a churner promotes, sweeps,
// purges and compacts, a reader ranges, and Clears run under a write lock
// that the workers' operations take for reading (so the models stay
// exact).
func TestOwnedKeysExactModel(t *testing.T) {
	const workers = 4
	dur := 1500 * time.Millisecond
	if testing.Short() {
		dur = 300 * time.Millisecond
	}
	m := new(Map[any, any])
	// Keys of segments 0 and 1, of three dynamic types.
	var pool []any
	for i := 0; len(pool) < workers*24; i++ {
		var k any
		switch i % 3 {
		case 0:
			k = i
		case 1:
			k = fmt.Sprint("s", i)
		case 2:
			k = int64(i)
		}
		if s := m.segmentOf(k); s == 0 || s == 1 {
			pool = append(pool, k)
		}
	}
	var clearMu sync.RWMutex
	models := make([]map[any]any, workers)
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	// churner: internal state changes on the shared map, with keys from
	// 1<<30 that no worker owns
	go auditChurner(m, stop, &bg, func(j int) any { return 1<<30 + j })
	go func() { // reader: Range sees only values of their keys
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			seen := map[any]bool{}
			m.Range(func(k, v any) bool {
				if seen[k] {
					t.Errorf("Range visited %v twice", k)
				}
				seen[k] = true
				if s, ok := v.(string); ok && !strings.HasPrefix(s, fmt.Sprint(k)+"/") {
					t.Errorf("Range: key %v has value %q of another key", k, s)
				}
				return true
			})
			_ = m.Len()
			_ = m.Stats()
		}
	}()
	for w := range workers {
		models[w] = map[any]any{}
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := pool[w*24 : (w+1)*24]
			model := models[w]
			rng := rand.New(rand.NewPCG(uint64(w), 17))
			n := 0
			for time.Now().Before(deadline) && !t.Failed() {
				k := mine[rng.IntN(len(mine))]
				n++
				v := fmt.Sprint(k, "/", n)
				clearMu.RLock()
				var got, want string
				switch rng.IntN(13) {
				case 0:
					x, ok := model[k]
					y, yok := m.Load(k)
					got, want = fmt.Sprint(y, yok), fmt.Sprint(x, ok)
				case 1:
					m.Store(k, v)
					model[k] = v
				case 2:
					x, ok := model[k]
					if !ok {
						model[k], x = v, v
					}
					y, l := m.LoadOrStore(k, v)
					got, want = fmt.Sprint(y, l), fmt.Sprint(x, ok)
				case 3:
					x, ok := model[k]
					delete(model, k)
					y, l := m.LoadAndDelete(k)
					got, want = fmt.Sprint(y, l), fmt.Sprint(x, ok)
				case 4:
					x, ok := model[k]
					model[k] = v
					y, l := m.Swap(k, v)
					got, want = fmt.Sprint(y, l), fmt.Sprint(x, ok)
				case 5:
					x, ok := model[k]
					if ok {
						model[k] = v
					}
					got, want = fmt.Sprint(m.CompareAndSwap(k, x, v)), fmt.Sprint(ok)
				case 6:
					x, ok := model[k]
					delete(model, k)
					got, want = fmt.Sprint(m.CompareAndDelete(k, x)), fmt.Sprint(ok)
				case 7:
					// A non-comparable old of the same type as a value: store
					// one first.
					m.Store(k, []string{v})
					model[k] = []string{v}
					p, _ := docPanics(func() { m.CompareAndSwap(k, []string{"x"}, v) })
					p2, _ := docPanics(func() { m.CompareAndDelete(k, []string{"x"}) })
					got, want = fmt.Sprint(p, p2), "true true"
					m.Store(k, v)
					model[k] = v
				case 8:
					x, ok := model[k]
					op := ComputeOp(rng.IntN(3))
					var seen string
					y, yok := m.Compute(k, func(old any, loaded bool) (any, ComputeOp) {
						seen = fmt.Sprint(old, loaded)
						return v, op
					})
					switch op {
					case UpdateOp:
						model[k] = v
					case DeleteOp:
						delete(model, k)
					}
					z, zok := model[k]
					got, want = seen+fmt.Sprint(y, yok), fmt.Sprint(x, ok)+fmt.Sprint(z, zok)
				case 9:
					p, _ := docPanics(func() {
						m.Compute(k, func(any, bool) (any, ComputeOp) { panic("boom") })
					})
					got, want = fmt.Sprint(p), "true"
				case 10:
					x, ok := model[k]
					boom := rng.IntN(2) == 0
					p, _ := docPanics(func() {
						y, l := m.LoadOrCompute(k, func() any {
							if boom {
								panic("boom")
							}
							return v
						})
						got = fmt.Sprint(y, l)
					})
					switch {
					case ok:
						want = fmt.Sprint(x, true)
					case boom:
						got, want = fmt.Sprint(p), "true"
					default:
						model[k] = v
						want = fmt.Sprint(v, false)
					}
				case 11:
					m.Delete(k)
					delete(model, k)
				case 12:
					if p, _ := docPanics(func() { m.Load([]any{k}) }); !p {
						got = "no panic on an unhashable key"
					}
				}
				clearMu.RUnlock()
				if got != want {
					t.Errorf("worker %d key %v: got %s; want %s", w, k, got, want)
					return
				}
				if n%500 == 0 && w == 0 {
					clearMu.Lock()
					m.Clear()
					for i := range models {
						// Models of other workers are only touched under
						// clearMu held for writing.
						clear(models[i])
					}
					clearMu.Unlock()
				}
			}
		}()
	}
	ok := auditWithin(t, "workers", 20*time.Second, wg.Wait)
	close(stop)
	bg.Wait()
	if !ok {
		return
	}
	total := 0
	for w := range workers {
		for k, x := range models[w] {
			if y, ok := m.Load(k); !ok || fmt.Sprint(y) != fmt.Sprint(x) {
				t.Errorf("final: Load(%v) = %v, %v; want %v", k, y, ok, x)
			}
		}
		total += len(models[w])
	}
	if m.Len() != total {
		t.Errorf("final Len %d; want %d", m.Len(), total)
	}
	if err := m.checkInvariants(); err != nil {
		t.Error(err)
	}
}

// TestHugeMap runs the API over a map big enough for the paths small
// maps never take: dirty maps past the filter cap (saturated filters),
// big purges with survivors, read maps past coldKeyBuckets (Load's cold
// shortcuts), compactions and sweeps, comparing with a Go map throughout.
func TestHugeMap(t *testing.T) {
	n := 40_000
	if testing.Short() {
		n = 10_000
	}
	for _, keyKind := range []string{"int", "string", "any"} {
		t.Run(keyKind, func(t *testing.T) {
			switch keyKind {
			case "int":
				auditHuge(t, n, func(i int) int { return i })
			case "string":
				auditHuge(t, n/2, func(i int) string { return fmt.Sprint("k", i) })
			case "any":
				auditHuge(t, n/2, func(i int) any {
					if i%2 == 0 {
						return i
					}
					return int64(i)
				})
			}
		})
	}
}

func auditHuge[K comparable](t *testing.T, n int, key func(int) K) {
	m := New[K, int](WithCapacity(n / 4))
	model := map[K]int{}
	verify := func(step string) {
		t.Helper()
		if m.Len() != len(model) {
			t.Fatalf("%s: Len %d; want %d", step, m.Len(), len(model))
		}
		for i := range n + n/10 {
			k := key(i)
			x, ok := model[k]
			if y, yok := m.Load(k); y != x || yok != ok {
				t.Fatalf("%s: Load(%v) = %d, %v; want %d, %v", step, k, y, yok, x, ok)
			}
		}
		c := 0
		for k, v := range m.All() {
			c++
			if x, ok := model[k]; !ok || x != v {
				t.Fatalf("%s: All gave %v=%d; model %d, %v", step, k, v, x, ok)
			}
		}
		if c != len(model) {
			t.Fatalf("%s: All visited %d; want %d", step, c, len(model))
		}
		if err := m.checkInvariants(); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	for i := range n {
		m.Store(key(i), i)
		model[key(i)] = i
	}
	verify("stored (all in dirty, saturated filters)")
	// Delete 80% from the dirty maps: big purges with survivors.
	for i := range n {
		if i%5 != 0 {
			if i%2 == 0 {
				m.Delete(key(i))
			} else {
				m.LoadAndDelete(key(i))
			}
			delete(model, key(i))
		}
	}
	verify("purged")
	for i := range n {
		m.Store(key(i), -i)
		model[key(i)] = -i
	}
	m.promoteAll()
	verify("promoted")
	// Tombstones in big read maps: Load's cold shortcuts.
	for i := 0; i < n; i += 3 {
		m.Delete(key(i))
		delete(model, key(i))
	}
	verify("tombstones in big read maps")
	// New keys beside the tombstones: amended big read maps.
	for i := n; i < n+n/10; i++ {
		m.Store(key(i), i)
		model[key(i)] = i
	}
	verify("amended")
	// Revive some tombstones lock-free, CompareAndSwap others.
	for i := 0; i < n; i += 6 {
		m.Store(key(i), 1)
		model[key(i)] = 1
		if m.CompareAndSwap(key(i+1), -(i + 1), 2) {
			model[key(i+1)] = 2
		}
	}
	verify("revived")
	m.sweepAll()
	m.sweepAll()
	verify("swept")
	// Mass delete: compactions.
	for i := range n + n/10 {
		if i%10 != 0 {
			m.Delete(key(i))
			delete(model, key(i))
		}
	}
	verify("compacted")
	m.Clear()
	clear(model)
	verify("cleared")
}
