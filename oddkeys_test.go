package safemap

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNaNKeysEveryMethod compares a Map with NaN keys (bare, in
// interface keys, inside arrays and structs) against a Go map, through
// every method, promotions, sweeps, purges and both kinds of Clear.
func TestNaNKeysEveryMethod(t *testing.T) {
	nan := math.NaN()
	type nanStruct struct {
		F float64
		S string
	}
	keys := []any{nan, [2]float64{nan, 1}, nanStruct{nan, "x"}, [1]any{nan}, struct{ A any }{nan}}
	for _, nk := range keys {
		for _, promote := range []bool{false, true} {
			name := fmt.Sprintf("%T/promote=%v", nk, promote)
			var m Map[any, any]
			goMap := map[any]any{}
			var sm sync.Map
			check := func(step string) {
				t.Helper()
				nans, smNans := 0, 0
				for k := range m.Keys() {
					if k != k {
						nans++
					}
				}
				sm.Range(func(k, _ any) bool {
					if k != k {
						smNans++
					}
					return true
				})
				goNans := 0
				for k := range goMap {
					if k != k {
						goNans++
					}
				}
				if nans != goNans || m.Len() != len(goMap) || smNans != goNans {
					t.Fatalf("%s %s: %d NaN keys, Len %d; Go map %d NaN keys, Len %d; sync.Map %d NaN keys",
						name, step, nans, m.Len(), goNans, len(goMap), smNans)
				}
				if err := m.checkInvariants(); err != nil {
					t.Fatalf("%s %s: %v", name, step, err)
				}
			}
			for i := range 40 {
				m.Store(nk, i)
				sm.Store(nk, i)
				goMap[nk] = i
				m.Store(i, i)
				sm.Store(i, i)
				goMap[i] = i
			}
			check("stores")
			if promote {
				m.promoteAll()
			}
			if _, ok := m.Load(nk); ok {
				t.Errorf("%s: Load(NaN key) found a value", name)
			}
			if v, l := m.LoadOrStore(nk, -1); l || v != -1 {
				t.Errorf("%s: LoadOrStore(NaN key) = %v, %v; want -1, false", name, v, l)
			}
			sm.LoadOrStore(nk, -1)
			goMap[nk] = -1
			if _, l := m.Swap(nk, -2); l {
				t.Errorf("%s: Swap(NaN key) loaded", name)
			}
			sm.Swap(nk, -2)
			goMap[nk] = -2
			if _, l := m.LoadAndDelete(nk); l {
				t.Errorf("%s: LoadAndDelete(NaN key) loaded", name)
			}
			m.Delete(nk)
			if m.CompareAndSwap(nk, -2, 0) || m.CompareAndDelete(nk, -2) {
				t.Errorf("%s: CompareAndSwap or CompareAndDelete matched a NaN key", name)
			}
			check("single ops")
			// Compute: every op, and a panic; each claims a new entry.
			for _, op := range []ComputeOp{UpdateOp, DeleteOp, CancelOp} {
				a, ok := m.Compute(nk, func(old any, loaded bool) (any, ComputeOp) {
					if loaded {
						t.Errorf("%s: Compute(NaN key) loaded %v", name, old)
					}
					return "c", op
				})
				if op == UpdateOp {
					goMap[nk] = "c"
					sm.Store(nk, "c")
					if !ok || a != "c" {
						t.Errorf("%s: Compute(NaN key, Update) = %v, %v", name, a, ok)
					}
				} else if ok || a != nil {
					t.Errorf("%s: Compute(NaN key, %v) = %v, %v; want nil, false", name, op, a, ok)
				}
			}
			if p, _ := docPanics(func() {
				m.Compute(nk, func(any, bool) (any, ComputeOp) { panic("x") })
			}); !p {
				t.Errorf("%s: Compute panic lost", name)
			}
			calls := 0
			for range 3 {
				if v, l := m.LoadOrCompute(nk, func() any { calls++; return "lc" }); l || v != "lc" {
					t.Errorf("%s: LoadOrCompute(NaN key) = %v, %v", name, v, l)
				}
				goMap[nk] = "lc"
				sm.Store(nk, "lc")
			}
			if calls != 3 {
				t.Errorf("%s: LoadOrCompute(NaN key) called valueFn %d times; want 3", name, calls)
			}
			if p, _ := docPanics(func() {
				m.LoadOrCompute(nk, func() any { panic("x") })
			}); !p {
				t.Errorf("%s: LoadOrCompute panic lost", name)
			}
			check("computes")
			m.promoteAll()
			check("promoted")
			m.sweepAll()
			m.sweepAll()
			check("swept")
			// Mass delete of the ordinary keys: purges and compactions.
			for i := range 40 {
				m.Delete(i)
				sm.Delete(i)
				delete(goMap, i)
			}
			check("deleted ordinary keys")
			m.sweepAll()
			m.sweepAll()
			check("swept again")
			// A Range whose body stores more NaN keys sees each key once.
			seen := 0
			m.Range(func(k, v any) bool {
				seen++
				if seen < 5 {
					m.Store(nk, "r")
				}
				return true
			})
			for range 4 {
				goMap[nk] = "r"
				sm.Store(nk, "r")
			}
			check("range-stores")
			m.Clear()
			sm.Clear()
			clear(goMap)
			check("cleared")
			m.Store(nk, 1)
			sm.Store(nk, 1)
			goMap[nk] = 1
			m.Clear() // in place
			sm.Clear()
			clear(goMap)
			check("cleared in place")
		}
	}
}

// TestNaNComputeAcrossRebuilds blocks a Compute on a NaN key while
// its segment is rebuilt twice (the mark moves from dirty to read, then
// between read maps, where NaN entries are copied, not moved), then lets
// it finish with each op.
func TestNaNComputeAcrossRebuilds(t *testing.T) {
	for _, op := range []ComputeOp{UpdateOp, DeleteOp, CancelOp, ComputeOp(9)} {
		var m Map[float64, int]
		for i := range 50 {
			m.Store(float64(i), i)
		}
		entered, release := make(chan struct{}), make(chan struct{})
		done := make(chan string)
		go func() {
			var s string
			p, _ := docPanics(func() {
				a, ok := m.Compute(math.NaN(), func(int, bool) (int, ComputeOp) {
					close(entered)
					<-release
					return 5, op
				})
				s = fmt.Sprint(a, ok)
			})
			if p {
				s = "panic"
			}
			done <- s
		}()
		<-entered
		m.promoteAll()
		m.Store(1000, 1)
		m.promoteAll()
		m.Store(1001, 1)
		seen := 0
		m.Range(func(k float64, v int) bool {
			if k != k {
				seen++
			}
			return true
		})
		if seen != 0 {
			t.Errorf("op %v: Range saw %d NaN keys during the compute; want 0", op, seen)
		}
		close(release)
		got := <-done
		want := map[ComputeOp]string{UpdateOp: "5 true", DeleteOp: "0 false", CancelOp: "0 false", 9: "panic"}[op]
		if got != want {
			t.Errorf("op %v: Compute = %s; want %s", op, got, want)
		}
		wantLen := 52
		if op == UpdateOp {
			wantLen = 53
		}
		if m.Len() != wantLen {
			t.Errorf("op %v: Len = %d; want %d", op, m.Len(), wantLen)
		}
		if err := m.checkInvariants(); err != nil {
			t.Errorf("op %v: %v", op, err)
		}
		m.sweepAll()
		m.sweepAll()
		if err := m.checkInvariants(); err != nil {
			t.Errorf("op %v, swept: %v", op, err)
		}
		if m.Len() != wantLen {
			t.Errorf("op %v: Len = %d after sweeps; want %d", op, m.Len(), wantLen)
		}
	}
}

// TestOddKeyTypes runs the whole API over key and value types that
// are easy to get wrong: zero-size keys and values, arrays, pointer keys,
// bools, floats with signed zeros, named integer and string types,
// interface types other than any.
func TestOddKeyTypes(t *testing.T) {
	t.Run("struct{}", func(t *testing.T) {
		auditGeneric(t, []struct{}{{}}, []struct{}{{}})
	})
	t.Run("[0]int", func(t *testing.T) {
		auditGeneric(t, [][0]int{{}}, []int{1, 2})
	})
	t.Run("bool", func(t *testing.T) {
		auditGeneric(t, []bool{false, true}, []struct{}{{}})
	})
	t.Run("[3]string", func(t *testing.T) {
		auditGeneric(t, [][3]string{{}, {"a"}, {"a", "b"}, {"", "", "c"}}, []string{"x", ""})
	})
	t.Run("pointers", func(t *testing.T) {
		ps := make([]*int, 40)
		for i := range ps {
			ps[i] = new(int)
		}
		ps = append(ps, nil)
		auditGeneric(t, ps, []*int{nil, ps[0]})
	})
	t.Run("float64", func(t *testing.T) {
		auditGeneric(t, []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), 1e300}, []float64{0, 1})
	})
	type myInt int
	type myString string
	t.Run("named int", func(t *testing.T) {
		ks := []myInt{}
		for i := range 100 {
			ks = append(ks, myInt(i-50))
		}
		auditGeneric(t, ks, []myString{"", "a"})
	})
	t.Run("named string", func(t *testing.T) {
		auditGeneric(t, []myString{"", "a", "bb", myString(strings.Repeat("x", 40))}, []int{0, 1})
	})
	t.Run("int8", func(t *testing.T) {
		ks := []int8{}
		for i := -128; i < 128; i++ {
			ks = append(ks, int8(i))
		}
		auditGeneric(t, ks, []uint64{0, math.MaxUint64})
	})
	t.Run("error interface", func(t *testing.T) {
		e1, e2 := fmt.Errorf("a"), fmt.Errorf("a")
		auditGeneric(t, []error{nil, e1, e2, json.Unmarshal([]byte("x"), new(int))}, []error{nil, e1})
	})
	t.Run("fmt.Stringer keys", func(t *testing.T) {
		auditGeneric(t, []fmt.Stringer{nil, time.Second, time.Minute, time.Duration(0), time.UTC}, []int{1})
	})
	t.Run("any mixed", func(t *testing.T) {
		auditGeneric(t, auditKeys, []any{1, nil, "a"})
	})
	t.Run("complex128", func(t *testing.T) {
		auditGeneric(t, []complex128{0, complex(math.Copysign(0, -1), 0), 1i, complex(1, 1)}, []int{0})
	})
}

// auditGeneric runs a random sequence of operations on a Map[K, V] and a
// Go map, with keys from ks and values from vs, through promotions,
// sweeps, churn and Clears, comparing after each step.
func auditGeneric[K comparable, V comparable](t *testing.T, ks []K, vs []V) {
	t.Helper()
	for seed := range 8 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		m := new(Map[K, V])
		if seed%2 == 1 {
			m = New[K, V](WithCapacity(len(ks)))
		}
		model := map[K]V{}
		for step := range 300 {
			k, v := ks[rng.IntN(len(ks))], vs[rng.IntN(len(vs))]
			desc := fmt.Sprintf("seed %d step %d key %v", seed, step, k)
			switch rng.IntN(14) {
			case 0, 1:
				m.Store(k, v)
				model[k] = v
			case 2:
				x, ok := model[k]
				if !ok {
					model[k], x = v, v
				}
				if a, l := m.LoadOrStore(k, v); a != x || l != ok {
					t.Fatalf("%s: LoadOrStore = %v, %v; want %v, %v", desc, a, l, x, ok)
				}
			case 3:
				x, ok := model[k]
				delete(model, k)
				if a, l := m.LoadAndDelete(k); a != x || l != ok {
					t.Fatalf("%s: LoadAndDelete = %v, %v; want %v, %v", desc, a, l, x, ok)
				}
			case 4:
				x, ok := model[k]
				model[k] = v
				if a, l := m.Swap(k, v); a != x || l != ok {
					t.Fatalf("%s: Swap = %v, %v; want %v, %v", desc, a, l, x, ok)
				}
			case 5:
				x, ok := model[k]
				if ok {
					model[k] = v
				}
				if m.CompareAndSwap(k, x, v) != ok {
					t.Fatalf("%s: CompareAndSwap(present %v) wrong", desc, ok)
				}
			case 6:
				x, ok := model[k]
				delete(model, k)
				if m.CompareAndDelete(k, x) != ok {
					t.Fatalf("%s: CompareAndDelete(present %v) wrong", desc, ok)
				}
			case 7:
				x, ok := model[k]
				op := ComputeOp(rng.IntN(3))
				a, aok := m.Compute(k, func(old V, loaded bool) (V, ComputeOp) {
					if old != x || loaded != ok {
						t.Fatalf("%s: Compute saw %v, %v; want %v, %v", desc, old, loaded, x, ok)
					}
					return v, op
				})
				switch op {
				case UpdateOp:
					model[k] = v
				case DeleteOp:
					delete(model, k)
				}
				if y, yok := model[k]; a != y || aok != yok {
					t.Fatalf("%s: Compute(%v) = %v, %v; want %v, %v", desc, op, a, aok, y, yok)
				}
			case 8:
				x, ok := model[k]
				if !ok {
					model[k], x = v, v
				}
				if a, l := m.LoadOrCompute(k, func() V { return v }); a != x || l != ok {
					t.Fatalf("%s: LoadOrCompute = %v, %v; want %v, %v", desc, a, l, x, ok)
				}
			case 9:
				m.Delete(k)
				delete(model, k)
			case 10:
				m.promoteAll()
			case 11:
				m.sweepAll()
			case 12:
				if rng.IntN(4) == 0 {
					m.Clear()
					clear(model)
				}
			case 13:
				x, ok := model[k]
				if a, l := m.Load(k); a != x || l != ok {
					t.Fatalf("%s: Load = %v, %v; want %v, %v", desc, a, l, x, ok)
				}
			}
			got := docSnap(t, m)
			if len(got) != len(model) || m.Len() != len(model) {
				t.Fatalf("%s: Range %d keys, Len %d; model %d", desc, len(got), m.Len(), len(model))
			}
			for mk, mv := range model {
				if gv, ok := got[mk]; !ok || gv != mv {
					t.Fatalf("%s: Range %v=%v (%v); model %v", desc, mk, gv, ok, mv)
				}
				if lv, ok := m.Load(mk); !ok || lv != mv {
					t.Fatalf("%s: Load(%v) = %v, %v; model %v", desc, mk, lv, ok, mv)
				}
			}
			if err := m.checkInvariants(); err != nil {
				t.Fatalf("%s: %v", desc, err)
			}
		}
	}
}

// TestUnhashableLeavesNoTrace: an unhashable key panics in every
// method before anything changes, in every state: no callback runs, and
// Stats (not only Len and contents) is as before.
func TestUnhashableLeavesNoTrace(t *testing.T) {
	for _, st := range auditStates() {
		mi, _ := st.make()
		// Move the contents into a Map[any, any] in the same state shape.
		m := new(Map[any, any])
		for k, v := range mi.All() {
			m.Store(k, v)
		}
		if st.name != "zero" {
			m.promoteAll()
			m.Store("new", 1)
			m.Delete(0)
		}
		before := m.Stats()
		beforeLen := m.Len()
		for _, bad := range auditUnhashable {
			calls := 0
			for name, f := range map[string]func(){
				"Load":             func() { m.Load(bad) },
				"Store":            func() { m.Store(bad, 1) },
				"LoadOrStore":      func() { m.LoadOrStore(bad, 1) },
				"LoadAndDelete":    func() { m.LoadAndDelete(bad) },
				"Delete":           func() { m.Delete(bad) },
				"Swap":             func() { m.Swap(bad, 1) },
				"CompareAndSwap":   func() { m.CompareAndSwap(bad, 1, 2) },
				"CompareAndDelete": func() { m.CompareAndDelete(bad, 1) },
				"Compute": func() {
					m.Compute(bad, func(any, bool) (any, ComputeOp) { calls++; return 1, UpdateOp })
				},
				"LoadOrCompute": func() { m.LoadOrCompute(bad, func() any { calls++; return 1 }) },
			} {
				p, v := docPanics(f)
				if !p || !strings.Contains(fmt.Sprint(v), "unhashable") {
					t.Errorf("%s: %s(%T) panicked %v with %v; want a hash of unhashable type panic", st.name, name, bad, p, v)
				}
			}
			if calls != 0 {
				t.Errorf("%s: a callback ran %d times for an unhashable key", st.name, calls)
			}
		}
		if after := m.Stats(); after != before || m.Len() != beforeLen {
			t.Errorf("%s: unhashable keys changed the map: Stats %+v -> %+v, Len %d -> %d", st.name, before, after, beforeLen, m.Len())
		}
		if err := m.checkInvariants(); err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
	}
}

// TestNeverStoredKeyReleased: a key that was never stored, but that a
// Compute or LoadOrCompute claimed (Cancel, Delete, a panic), must become
// unreachable within the documented bound with no further call, whether
// the claim added it to a fresh map, to an amended segment, or to one with
// a promoted read map.
func TestNeverStoredKeyReleased(t *testing.T) {
	ops := map[string]func(m *Map[*bigKey, int], k *bigKey){
		"ComputeCancel": func(m *Map[*bigKey, int], k *bigKey) {
			m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, CancelOp })
		},
		"ComputeDelete": func(m *Map[*bigKey, int], k *bigKey) {
			m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
		},
		"ComputePanic": func(m *Map[*bigKey, int], k *bigKey) {
			docPanics(func() { m.Compute(k, func(int, bool) (int, ComputeOp) { panic("x") }) })
		},
		"LoadOrComputePanic": func(m *Map[*bigKey, int], k *bigKey) {
			docPanics(func() { m.LoadOrCompute(k, func() int { panic("x") }) })
		},
		"ComputeInvalidOp": func(m *Map[*bigKey, int], k *bigKey) {
			docPanics(func() { m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, 42 }) })
		},
	}
	states := map[string]func(m *Map[*bigKey, int]){
		"fresh":    func(m *Map[*bigKey, int]) {},
		"dirty":    func(m *Map[*bigKey, int]) { fillKeys(m, 10) },
		"promoted": func(m *Map[*bigKey, int]) { fillKeys(m, 100); m.promoteAll() },
	}
	for sn, st := range states {
		for on, op := range ops {
			t.Run(sn+"/"+on, func(t *testing.T) {
				t.Parallel()
				var m Map[*bigKey, int]
				done := new(atomic.Bool)
				auditNeverStored(&m, done, st, op)
				if el, ok := collectedWithin(done, keyReleaseWait); !ok {
					t.Errorf("key still reachable %v after %s (%s): %+v", el, on, sn, m.Stats())
				}
				if m.Len() != len(docSnap(t, &m)) {
					t.Errorf("Len %d", m.Len())
				}
				runtime.KeepAlive(&m)
			})
		}
	}
}

//go:noinline
func auditNeverStored(m *Map[*bigKey, int], done *atomic.Bool, st func(*Map[*bigKey, int]), op func(*Map[*bigKey, int], *bigKey)) {
	st(m)
	var k *bigKey
	for i := 0; ; i++ {
		if k = (&bigKey{id: -1 - i}); m.segmentOf(k) == 0 {
			break
		}
	}
	runtime.AddCleanup(k, func(d *atomic.Bool) { d.Store(true) }, done)
	op(m, k)
}
