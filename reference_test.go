package safemap

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// model is the reference: a plain map behind a mutex, with Map's methods and
// their documented results.
type model[K comparable, V comparable] struct {
	mu sync.Mutex
	m  map[K]V
}

func newModel[K comparable, V comparable]() *model[K, V] {
	return &model[K, V]{m: make(map[K]V)}
}

func (m *model[K, V]) Load(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

func (m *model[K, V]) Store(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[k] = v
}

func (m *model[K, V]) LoadOrStore(k K, v V) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.m[k]; ok {
		return old, true
	}
	m.m[k] = v
	return v, false
}

func (m *model[K, V]) LoadAndDelete(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	delete(m.m, k)
	return v, ok
}

func (m *model[K, V]) Delete(k K) { m.LoadAndDelete(k) }

func (m *model[K, V]) Swap(k K, v V) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.m[k]
	m.m[k] = v
	return old, ok
}

func (m *model[K, V]) CompareAndSwap(k K, old, new V) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.m[k]; ok && cur == old {
		m.m[k] = new
		return true
	}
	return false
}

func (m *model[K, V]) CompareAndDelete(k K, old V) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.m[k]; ok && cur == old {
		delete(m.m, k)
		return true
	}
	return false
}

func (m *model[K, V]) Compute(k K, fn func(V, bool) (V, ComputeOp)) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.m[k]
	nv, op := fn(old, ok)
	switch op {
	case UpdateOp:
		m.m[k] = nv
		return nv, true
	case DeleteOp:
		delete(m.m, k)
		var zero V
		return zero, false
	}
	return old, ok
}

func (m *model[K, V]) LoadOrCompute(k K, fn func() V) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.m[k]; ok {
		return v, true
	}
	v := fn()
	m.m[k] = v
	return v, false
}

func (m *model[K, V]) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.m)
}

func (m *model[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

func (m *model[K, V]) snapshot() map[K]V {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.m)
}

// An op is one decoded operation of a random or fuzzed sequence.
type op struct {
	kind  byte
	key   int
	value int
	old   int
}

const numOps = 16

var opNames = [numOps]string{
	"Load", "Store", "LoadOrStore", "LoadAndDelete", "Delete", "Swap",
	"CompareAndSwap", "CompareAndDelete", "Range", "Clear", "Compute",
	"LoadOrCompute", "Len", "All", "Keys", "Values",
}

func (o op) String() string {
	return fmt.Sprintf("%s(k=%d v=%d old=%d)", opNames[o.kind], o.key, o.value, o.old)
}

// computeFn is the deterministic Compute callback of op o: its choice of
// UpdateOp, DeleteOp or CancelOp depends on the op's value and the old value.
func computeFn(o op) func(int, bool) (int, ComputeOp) {
	return func(old int, loaded bool) (int, ComputeOp) {
		switch o.value % 3 {
		case 0:
			return old + o.value, UpdateOp
		case 1:
			if loaded {
				return 0, DeleteOp
			}
			return o.value, UpdateOp
		}
		return -1, CancelOp
	}
}

// apply runs o on the Map and the model and returns an error if they differ.
func apply(m *Map[int, int], ref *model[int, int], o op) error {
	var got, want string
	switch o.kind {
	case 0:
		got, want = pair(m.Load(o.key)), pair(ref.Load(o.key))
	case 1:
		m.Store(o.key, o.value)
		ref.Store(o.key, o.value)
	case 2:
		got, want = pair(m.LoadOrStore(o.key, o.value)), pair(ref.LoadOrStore(o.key, o.value))
	case 3:
		got, want = pair(m.LoadAndDelete(o.key)), pair(ref.LoadAndDelete(o.key))
	case 4:
		m.Delete(o.key)
		ref.Delete(o.key)
	case 5:
		got, want = pair(m.Swap(o.key, o.value)), pair(ref.Swap(o.key, o.value))
	case 6:
		got, want = fmt.Sprint(m.CompareAndSwap(o.key, o.old, o.value)), fmt.Sprint(ref.CompareAndSwap(o.key, o.old, o.value))
	case 7:
		got, want = fmt.Sprint(m.CompareAndDelete(o.key, o.old)), fmt.Sprint(ref.CompareAndDelete(o.key, o.old))
	case 8:
		seen := map[int]int{}
		m.Range(func(k, v int) bool { seen[k] = v; return true })
		got, want = fmt.Sprint(seen), fmt.Sprint(ref.snapshot())
	case 9:
		m.Clear()
		ref.Clear()
	case 10:
		got, want = pair(m.Compute(o.key, computeFn(o))), pair(ref.Compute(o.key, computeFn(o)))
	case 11:
		fn := func() int { return o.value }
		got, want = pair(m.LoadOrCompute(o.key, fn)), pair(ref.LoadOrCompute(o.key, fn))
	case 12:
		got, want = fmt.Sprint(m.Len()), fmt.Sprint(ref.Len())
	case 13:
		got, want = fmt.Sprint(maps.Collect(m.All())), fmt.Sprint(ref.snapshot())
	case 14:
		got, want = fmt.Sprint(slices.Sorted(m.Keys())), fmt.Sprint(slices.Sorted(maps.Keys(ref.snapshot())))
	case 15:
		got, want = fmt.Sprint(slices.Sorted(m.Values())), fmt.Sprint(slices.Sorted(maps.Values(ref.snapshot())))
	}
	if got != want {
		return fmt.Errorf("%v = %s; want %s", o, got, want)
	}
	if err := m.checkInvariants(); err != nil {
		return err
	}
	// One goroutine writes, but the sweeps' timers rebuild beside it.
	return m.checkTombCounts(1)
}

func pair[V any](v V, ok bool) string { return fmt.Sprint(v, ok) }

// randomOp draws an op over keys [0, keys) and small values, so that compare
// operations often match.
func randomOp(rng *rand.Rand, keys int) op {
	kind := byte(rng.IntN(numOps))
	if kind == 9 && rng.IntN(8) != 0 {
		kind = 1 // Clear is rare, or maps would stay small
	}
	return op{kind: kind, key: rng.IntN(keys), value: rng.IntN(8), old: rng.IntN(8)}
}

// TestReferenceModel runs seeded random sequences of every operation against
// the Map and the model; results, contents and invariants must agree after
// every step. A failure prints its seed and the ops that led to it.
func TestReferenceModel(t *testing.T) {
	t.Parallel() // a pure test: see parallel_test.go
	seeds := 200
	if testing.Short() {
		seeds = 20
	}
	for seed := range seeds {
		keys := []int{4, 32, 300}[seed%3]
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		m, ref := new(Map[int, int]), newModel[int, int]()
		var history []op
		for range 2000 {
			o := randomOp(rng, keys)
			history = append(history, o)
			if err := apply(m, ref, o); err != nil {
				t.Fatalf("seed %d, step %d: %v\nlast ops: %v", seed, len(history), err, history[max(0, len(history)-10):])
			}
		}
		if got, want := maps.Collect(m.All()), ref.snapshot(); !maps.Equal(got, want) {
			t.Fatalf("seed %d: final contents %v; want %v", seed, got, want)
		}
	}
}

// decodeOps turns fuzz input into ops, four bytes each.
func decodeOps(data []byte) []op {
	var ops []op
	for ; len(data) >= 4; data = data[4:] {
		ops = append(ops, op{kind: data[0] % numOps, key: int(data[1] % 64), value: int(data[2] % 16), old: int(data[3] % 16)})
	}
	return ops
}

// FuzzMap decodes bytes into a sequence of operations, interleaved with the
// internal events a sequence can cause (promotion, sweeps), and checks them
// against the model. Its seed corpus is in testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	f.Add([]byte{1, 1, 1, 0, 0, 1, 0, 0, 4, 1, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{11, 3, 5, 0, 10, 3, 2, 0, 10, 3, 1, 0, 0, 3, 0, 0, 9, 0, 0, 0, 12, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, ref := new(Map[int, int]), newModel[int, int]()
		for i, o := range decodeOps(data) {
			switch o.key % 16 {
			case 15:
				m.promoteAll()
			case 14:
				m.sweepAll()
			}
			if err := apply(m, ref, o); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
	})
}
