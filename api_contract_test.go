package safemap

// Tests of the API contracts and bad input: unhashable keys,
// non-comparable values, callbacks that panic, exit or re-enter the map,
// iterators, options, JSON and interface keys, each checked against the
// documentation and, where safemap claims to match it, against sync.Map.

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// rvTimeout bounds every call that a lock left held would block.
const rvTimeout = 10 * time.Second

// rvPanic calls f and returns whether it panicked, and the panic's message.
func rvPanic(f func()) (panicked bool, msg string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return false, ""
}

// rvWithin runs f in a goroutine and stops the test if it does not return
// in time (a lock left held, a waiter never woken).
func rvWithin(t *testing.T, what string, f func()) {
	t.Helper()
	if !auditWithin(t, what, rvTimeout, f) {
		t.FailNow()
	}
}

// rvContents returns the map's contents as Range sees them, failing on a
// key visited twice.
func rvContents(t *testing.T, m *Map[any, any]) map[any]any {
	t.Helper()
	got := map[any]any{}
	m.Range(func(k, v any) bool {
		if _, dup := got[k]; dup {
			t.Errorf("Range visited %v twice", k)
		}
		got[k] = v
		return true
	})
	return got
}

// rvHealthy checks that m holds exactly want (Load, Range, All, Len,
// invariants), then that every segment takes writes, loads and deletes with
// no lock left held, and leaves m as it found it.
func rvHealthy(t *testing.T, m *Map[any, any], want map[any]any) {
	t.Helper()
	rvWithin(t, "the health check", func() {
		if got := rvContents(t, m); len(got) != len(want) {
			t.Errorf("Range saw %d keys %v; want %d %v", len(got), got, len(want), want)
		}
		n := 0
		for k, v := range m.All() {
			n++
			if w, ok := want[k]; !ok || fmt.Sprint(w) != fmt.Sprint(v) {
				t.Errorf("All visited %v=%v; want %v (present %v)", k, v, w, ok)
			}
		}
		if n != len(want) || m.Len() != len(want) {
			t.Errorf("All saw %d keys, Len() = %d; want %d", n, m.Len(), len(want))
		}
		for k, w := range want {
			if v, ok := m.Load(k); !ok || fmt.Sprint(v) != fmt.Sprint(w) {
				t.Errorf("Load(%v) = %v, %v; want %v, true", k, v, ok, w)
			}
		}
		if err := m.checkInvariants(); err != nil {
			t.Error(err)
		}
		// 256 int keys reach every segment, under every lock.
		const base = 1 << 28
		for k := range 256 {
			m.Store(base+k, k)
		}
		for k := range 256 {
			if v, ok := m.Load(base + k); !ok || v != k {
				t.Errorf("Load(%d) = %v, %v after Store", base+k, v, ok)
			}
			m.Compute(base+k, func(old any, _ bool) (any, ComputeOp) { return old, DeleteOp })
		}
		if m.Len() != len(want) {
			t.Errorf("Len() = %d after storing and deleting 256 keys; want %d", m.Len(), len(want))
		}
		if err := m.checkInvariants(); err != nil {
			t.Error(err)
		}
	})
}

// rvStates are the internal states each bad-input test starts from.
var rvStates = []struct {
	name string
	fill func(m *Map[any, any]) map[any]any
}{
	{"zero", func(m *Map[any, any]) map[any]any { return map[any]any{} }},
	{"dirty", func(m *Map[any, any]) map[any]any {
		m.Store("x", 1)
		m.Store(2, "two")
		return map[any]any{"x": 1, 2: "two"}
	}},
	{"promoted", func(m *Map[any, any]) map[any]any {
		want := map[any]any{}
		for k := range 100 {
			m.Store(k, k)
			want[k] = k
		}
		m.promoteAll()
		return want
	}},
	{"amended+computed", func(m *Map[any, any]) map[any]any {
		want := map[any]any{}
		for k := range 100 {
			m.Store(k, k)
			want[k] = k
		}
		m.promoteAll()
		for k := 100; k < 140; k++ {
			m.Compute(k, func(any, bool) (any, ComputeOp) { return k, UpdateOp })
			want[k] = k
		}
		m.Delete(5)
		delete(want, 5)
		return want
	}},
	{"cleared", func(m *Map[any, any]) map[any]any {
		for k := range 100 {
			m.Store(k, k)
		}
		m.promoteAll()
		m.Clear()
		m.Store("y", 1)
		return map[any]any{"y": 1}
	}},
}

// rvUnhashable are keys that a Go map rejects, each with the type name the
// panic should give.
var rvUnhashable = []struct {
	key  any
	name string
}{
	{[]int{1}, "[]int"},
	{[]byte("ab"), "[]uint8"},
	{map[string]int{"a": 1}, "map[string]int"},
	{func() {}, "func()"},
	{struct{ S []int }{[]int{1}}, "[]int"},
	{struct {
		N int
		A any
	}{1, map[int]int{}}, "map[int]int"},
	{[2]any{1, []string{"x"}}, "[]string"},
	{struct{ A [1]any }{[1]any{func() {}}}, "func()"},
}

// TestAPIUnhashableKeyEveryMethod calls every method that takes a key
// with each unhashable key, in every state: each must panic as a Go map
// (and sync.Map) does, naming the type, and leave the map as it was, with
// no lock held and no key half-inserted.
func TestAPIUnhashableKeyEveryMethod(t *testing.T) {
	for _, st := range rvStates {
		t.Run(st.name, func(t *testing.T) {
			var m Map[any, any]
			want := st.fill(&m)
			for _, bad := range rvUnhashable {
				key := bad.key
				calls := map[string]func(){
					"Load":             func() { m.Load(key) },
					"Store":            func() { m.Store(key, 1) },
					"LoadOrStore":      func() { m.LoadOrStore(key, 1) },
					"LoadAndDelete":    func() { m.LoadAndDelete(key) },
					"Delete":           func() { m.Delete(key) },
					"Swap":             func() { m.Swap(key, 1) },
					"CompareAndSwap":   func() { m.CompareAndSwap(key, 1, 2) },
					"CompareAndDelete": func() { m.CompareAndDelete(key, 1) },
					"Compute": func() {
						m.Compute(key, func(any, bool) (any, ComputeOp) {
							t.Errorf("Compute called fn for an unhashable key %T", key)
							return 1, UpdateOp
						})
					},
					"LoadOrCompute": func() {
						m.LoadOrCompute(key, func() any {
							t.Errorf("LoadOrCompute called valueFn for an unhashable key %T", key)
							return 1
						})
					},
				}
				for name, call := range calls {
					rvWithin(t, name, func() {
						panicked, msg := rvPanic(call)
						if !panicked {
							t.Errorf("%s(%T) did not panic", name, key)
							return
						}
						if !strings.Contains(msg, "unhashable") || !strings.Contains(msg, bad.name) {
							t.Errorf("%s(%T) panicked with %q; want it to say unhashable type %s", name, key, msg, bad.name)
						}
					})
					// sync.Map panics too (a sanity check of the claim).
					var sm sync.Map
					sm.Store("x", 1)
					smCalls := map[string]func(){
						"Load": func() { sm.Load(key) }, "Store": func() { sm.Store(key, 1) },
						"LoadOrStore": func() { sm.LoadOrStore(key, 1) }, "LoadAndDelete": func() { sm.LoadAndDelete(key) },
						"Delete": func() { sm.Delete(key) }, "Swap": func() { sm.Swap(key, 1) },
						"CompareAndSwap": func() { sm.CompareAndSwap(key, 1, 2) }, "CompareAndDelete": func() { sm.CompareAndDelete(key, 1) },
					}
					if f := smCalls[name]; f != nil {
						if p, _ := rvPanic(f); !p {
							t.Errorf("sync.Map.%s(%T) did not panic", name, key)
						}
					}
				}
			}
			rvHealthy(t, &m, want)
		})
	}
}

// TestAPIUnhashableKeyTyped checks keys of a concrete comparable type
// that holds an interface: K is comparable at compile time, the key value
// is not hashable at run time.
func TestAPIUnhashableKeyTyped(t *testing.T) {
	type key struct {
		N int
		A any
	}
	var m Map[key, int]
	for _, fill := range []bool{false, true} {
		if fill {
			for n := range 50 {
				m.Store(key{n, n}, n)
			}
		}
		bad := key{1, []int{1}}
		for name, call := range map[string]func(){
			"Load":          func() { m.Load(bad) },
			"Store":         func() { m.Store(bad, 1) },
			"Delete":        func() { m.Delete(bad) },
			"Compute":       func() { m.Compute(bad, func(int, bool) (int, ComputeOp) { return 1, UpdateOp }) },
			"LoadOrCompute": func() { m.LoadOrCompute(bad, func() int { return 1 }) },
			"CAS":           func() { m.CompareAndSwap(bad, 0, 1) },
		} {
			if p, msg := rvPanic(call); !p || !strings.Contains(msg, "unhashable") {
				t.Errorf("%s(key holding a slice): panicked %v, %q", name, p, msg)
			}
		}
		rvWithin(t, "writes after the panics", func() {
			m.Store(key{1000, "ok"}, 1)
			m.Delete(key{1000, "ok"})
		})
		if want := map[bool]int{false: 0, true: 50}[fill]; m.Len() != want {
			t.Errorf("Len() = %d; want %d", m.Len(), want)
		}
		if err := m.checkInvariants(); err != nil {
			t.Fatal(err)
		}
	}
}

// rvCompareCase is one call of CompareAndSwap or CompareAndDelete with an
// old value that may not be comparable.
type rvCompareCase struct {
	name   string
	stored any // nil: the key is absent
	old    any
}

type rvWrap struct{ V any }

var rvCompareCases = []rvCompareCase{
	{"absent key, old []int", nil, []int{1}},
	{"absent key, old map", nil, map[int]int{}},
	{"int stored, old []int", 1, []int{1}},
	{"string stored, old func", "s", func() {}},
	{"wrapper{1} stored, old wrapper{[]int}", rvWrap{1}, rvWrap{[]int{1}}},
	{"[]int stored, old 1", []int{1}, 1},
	{"[]int stored, old []int", []int{1}, []int{1}},
	{"wrapper{[]int} stored, old wrapper{[]int}", rvWrap{[]int{1}}, rvWrap{[]int{1}}},
	{"wrapper{[]int} stored, old wrapper{1}", rvWrap{[]int{1}}, rvWrap{1}},
}

// rvCompareOutcome runs one compare operation and reports what happened:
// "panic" or the result.
func rvCompareOutcome(f func() bool) string {
	var res bool
	if p, _ := rvPanic(func() { res = f() }); p {
		return "panic"
	}
	return fmt.Sprint(res)
}

// TestAPICompareNonComparableMatchesSyncMap runs CompareAndSwap and
// CompareAndDelete with non-comparable old values against sync.Map, which
// safemap matches. sync.Map (Go 1.24-1.26, and the older read/dirty one
// alike) compares old with the stored value with ==, so it panics only
// when the key is present and the stored value has the same non-comparable
// dynamic type somewhere; an absent key, or a stored value of another
// type, gives false. safemap panicked in all these cases until it dropped
// its check of old ahead of the comparison.
func TestAPICompareNonComparableMatchesSyncMap(t *testing.T) {
	for _, tc := range rvCompareCases {
		for _, op := range []string{"CompareAndSwap", "CompareAndDelete"} {
			var sm sync.Map
			var m Map[any, any]
			if tc.stored != nil {
				sm.Store("k", tc.stored)
				m.Store("k", tc.stored)
			} else {
				m.Store("other", 0) // a table, so that the test covers the usual path
			}
			var want, got string
			if op == "CompareAndSwap" {
				want = rvCompareOutcome(func() bool { return sm.CompareAndSwap("k", tc.old, 2) })
				rvWithin(t, op, func() { got = rvCompareOutcome(func() bool { return m.CompareAndSwap("k", tc.old, 2) }) })
			} else {
				// sync.Map's CompareAndDelete stays locked after its panic;
				// sm is thrown away.
				want = rvCompareOutcome(func() bool { return sm.CompareAndDelete("k", tc.old) })
				rvWithin(t, op, func() { got = rvCompareOutcome(func() bool { return m.CompareAndDelete("k", tc.old) }) })
			}
			if got != want {
				t.Errorf("%s, %s: safemap %s; sync.Map %s", op, tc.name, got, want)
			}
			wantContents := map[any]any{"other": 0}
			if tc.stored != nil {
				wantContents = map[any]any{"k": tc.stored}
			}
			rvHealthy(t, &m, wantContents)
		}
	}
}

// TestAPICompareNonComparablePanicsLeaveMapUsable: wherever safemap panics
// on a non-comparable old value (zero map included), the map is unchanged
// and every lock free.
func TestAPICompareNonComparablePanicsLeaveMapUsable(t *testing.T) {
	for _, st := range rvStates {
		t.Run(st.name, func(t *testing.T) {
			var m Map[any, any]
			want := st.fill(&m)
			m.Store("s", []int{1})
			m.Store("w", rvWrap{[]int{1}})
			want["s"], want["w"] = []int{1}, rvWrap{[]int{1}}
			for _, key := range []any{"s", "w", 3, "absent"} {
				for _, old := range []any{[]int{1}, rvWrap{[]int{1}}, map[int]int{}, [1]any{func() {}}} {
					rvWithin(t, "CompareAndSwap", func() {
						if p, msg := rvPanic(func() { m.CompareAndSwap(key, old, 9) }); p && !strings.Contains(msg, "comparable") {
							t.Errorf("CompareAndSwap(%v, %T) panicked with %q", key, old, msg)
						}
					})
					rvWithin(t, "CompareAndDelete", func() {
						if p, msg := rvPanic(func() { m.CompareAndDelete(key, old) }); p && !strings.Contains(msg, "comparable") {
							t.Errorf("CompareAndDelete(%v, %T) panicked with %q", key, old, msg)
						}
					})
				}
			}
			// A comparable old never panics, whatever the stored value.
			for _, key := range []any{"s", "w"} {
				if m.CompareAndSwap(key, 1, 2) || m.CompareAndDelete(key, rvWrap{1}) || m.CompareAndDelete(key, nil) {
					t.Errorf("a compare with a comparable old changed %v", key)
				}
			}
			rvHealthy(t, &m, want)
		})
	}
}

// TestAPICompareNilOld checks the documented nil-interface case against
// sync.Map: an absent key gives false; a key stored with a nil value
// compares equal to nil.
func TestAPICompareNilOld(t *testing.T) {
	var sm sync.Map
	var m Map[any, any]
	if m.CompareAndDelete("k", nil) || sm.CompareAndDelete("k", nil) {
		t.Fatal("CompareAndDelete(absent, nil) = true")
	}
	if m.CompareAndSwap("k", nil, 1) || sm.CompareAndSwap("k", nil, 1) {
		t.Fatal("CompareAndSwap(absent, nil, 1) = true")
	}
	m.Store("k", nil)
	sm.Store("k", nil)
	if v, ok := m.Load("k"); !ok || v != nil {
		t.Fatalf("Load of a nil value = %v, %v", v, ok)
	}
	if got, want := m.CompareAndSwap("k", nil, 1), sm.CompareAndSwap("k", nil, 1); got != want || !got {
		t.Fatalf("CompareAndSwap(k, nil, 1) = %v; sync.Map %v", got, want)
	}
	m.Store("k", nil)
	if prev, loaded := m.Swap("k", 2); !loaded || prev != nil {
		t.Fatalf("Swap over a nil value = %v, %v; want nil, true", prev, loaded)
	}
	m.Store("k", nil)
	if !m.CompareAndDelete("k", nil) || m.Len() != 0 {
		t.Fatalf("CompareAndDelete(k, nil) of a nil value failed; Len %d", m.Len())
	}
	if v, loaded := m.LoadAndDelete("k"); loaded || v != nil {
		t.Fatalf("LoadAndDelete after delete = %v, %v", v, loaded)
	}
}

// rvComputeStates stores key "k" in each internal state a compute may find
// it in, and returns its value (nil: absent).
var rvComputeStates = []struct {
	name string
	fill func(m *Map[any, any]) (any, bool)
}{
	{"zero map", func(m *Map[any, any]) (any, bool) { return nil, false }},
	{"absent", func(m *Map[any, any]) (any, bool) { m.Store("o", 1); return nil, false }},
	{"in dirty", func(m *Map[any, any]) (any, bool) { m.Store("k", 1); return 1, true }},
	{"deleted in dirty", func(m *Map[any, any]) (any, bool) { m.Store("k", 1); m.Delete("k"); return nil, false }},
	{"in read", func(m *Map[any, any]) (any, bool) { m.Store("k", 1); m.promoteAll(); return 1, true }},
	{"deleted in read", func(m *Map[any, any]) (any, bool) {
		m.Store("k", 1)
		m.promoteAll()
		m.Delete("k")
		return nil, false
	}},
}

// TestAPIComputeAbnormalCallbacks makes Compute's fn panic, call
// runtime.Goexit and return invalid ops, with a writer of the same key
// waiting for it: the key is left as it was, the waiter goes on, the
// panic (not for Goexit) reaches the caller, and no lock stays held.
func TestAPIComputeAbnormalCallbacks(t *testing.T) {
	type ending struct {
		name string
		fn   func() (any, ComputeOp) // runs inside fn, after the waiter has started
		exit bool                    // ends its goroutine with Goexit
	}
	endings := []ending{
		{"panic", func() (any, ComputeOp) { panic("boom") }, false},
		{"panic(nil)", func() (any, ComputeOp) { panic(nil) }, false},
		{"Goexit", func() (any, ComputeOp) { runtime.Goexit(); return nil, UpdateOp }, true},
		{"op -1", func() (any, ComputeOp) { return 5, ComputeOp(-1) }, false},
		{"op 3", func() (any, ComputeOp) { return 5, ComputeOp(3) }, false},
	}
	for _, st := range rvComputeStates {
		for _, end := range endings {
			t.Run(st.name+"/"+end.name, func(t *testing.T) {
				var m Map[any, any]
				v0, present := st.fill(&m)
				want := rvContents(t, &m)
				var wg sync.WaitGroup
				started := make(chan struct{})
				waiterDone := make(chan struct{})
				var outcome any = "no panic"
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() {
						if r := recover(); r != nil {
							outcome = r
						}
					}()
					m.Compute("k", func(old any, loaded bool) (any, ComputeOp) {
						if loaded != present || old != v0 {
							t.Errorf("fn got %v, %v; want %v, %v", old, loaded, v0, present)
						}
						// Loads of the key see the old value, without waiting.
						if v, ok := m.Load("k"); ok != present || v != v0 {
							t.Errorf("Load in fn = %v, %v; want %v, %v", v, ok, v0, present)
						}
						go func() {
							close(started)
							m.Swap("k", "waiter") // waits for fn to end
							close(waiterDone)
						}()
						<-started
						time.Sleep(5 * time.Millisecond) // let the Swap reach its wait
						return end.fn()
					})
					outcome = "returned"
				}()
				rvWithin(t, "the compute", wg.Wait)
				switch {
				case end.exit:
					if outcome != "no panic" {
						t.Errorf("Goexit: outcome %v", outcome)
					}
				case end.name == "panic(nil)":
					if _, ok := outcome.(*runtime.PanicNilError); !ok {
						t.Errorf("panic(nil): outcome %v", outcome)
					}
				case strings.HasPrefix(end.name, "op"):
					if msg := fmt.Sprint(outcome); !strings.Contains(msg, "invalid") {
						t.Errorf("invalid op: outcome %v", outcome)
					}
				default:
					if outcome != "boom" {
						t.Errorf("panic: outcome %v", outcome)
					}
				}
				select {
				case <-waiterDone:
				case <-time.After(rvTimeout):
					t.Fatal("the waiting Swap never went on")
				}
				// The waiter's Swap landed on the key as it was.
				want["k"] = "waiter"
				rvHealthy(t, &m, want)
			})
		}
	}
}

// TestAPILoadOrComputeAbnormal makes valueFn panic and Goexit: the key
// stays absent, invisible to Load, Range and Len while valueFn runs, and a
// waiting LoadOrCompute then runs its own valueFn.
func TestAPILoadOrComputeAbnormal(t *testing.T) {
	for _, st := range rvComputeStates {
		if _, present := st.fill(new(Map[any, any])); present {
			continue
		}
		for _, exit := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/goexit=%v", st.name, exit), func(t *testing.T) {
				var m Map[any, any]
				st.fill(&m)
				want := rvContents(t, &m)
				var wg sync.WaitGroup
				waiter := make(chan any, 1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { recover() }()
					m.LoadOrCompute("k", func() any {
						if _, ok := m.Load("k"); ok {
							t.Error("Load saw the key while valueFn ran")
						}
						if _, ok := rvContents(t, &m)["k"]; ok {
							t.Error("Range saw the key while valueFn ran")
						}
						if m.Len() != len(want) {
							t.Errorf("Len() = %d while valueFn ran; want %d", m.Len(), len(want))
						}
						if st := m.Stats(); st.ReadKeys+st.DirtyKeys != len(want) {
							t.Errorf("Stats while valueFn ran: %+v; want %d keys", st, len(want))
						}
						go func() {
							v, loaded := m.LoadOrCompute("k", func() any { return "second" })
							if loaded {
								t.Error("the waiter's LoadOrCompute loaded a value")
							}
							waiter <- v
						}()
						time.Sleep(5 * time.Millisecond)
						if exit {
							runtime.Goexit()
						}
						panic("boom")
					})
				}()
				rvWithin(t, "the LoadOrCompute", wg.Wait)
				select {
				case v := <-waiter:
					if v != "second" {
						t.Errorf("the waiter got %v; want its own value", v)
					}
				case <-time.After(rvTimeout):
					t.Fatal("the waiting LoadOrCompute never went on")
				}
				want["k"] = "second"
				rvHealthy(t, &m, want)
			})
		}
	}
}

// TestAPIComputeCallsOtherMethods calls, from Compute's fn and from
// LoadOrCompute's valueFn, every method documented as allowed: Load of its
// own key, Range, All, Len, Stats, and writes and computes of many other
// keys (enough to grow and promote the key's own segment while the compute
// holds its mark). The results must be right and the map consistent.
func TestAPIComputeCallsOtherMethods(t *testing.T) {
	for _, st := range rvComputeStates {
		t.Run(st.name, func(t *testing.T) {
			var m Map[any, any]
			v0, present := st.fill(&m)
			want := rvContents(t, &m)
			busy := func(tag string) {
				for i := range 300 {
					k := fmt.Sprintf("%s%d", tag, i)
					m.Store(k, i)
					want[k] = i
				}
				for range 3 { // misses enough to promote every segment
					for i := range 300 {
						m.Load(fmt.Sprintf("%s%d", tag, i))
					}
				}
				for i := range 300 {
					k := fmt.Sprintf("%s%d", tag, i)
					switch i % 5 {
					case 0:
						m.Delete(k)
						delete(want, k)
					case 1:
						m.Compute(k, func(old any, _ bool) (any, ComputeOp) { return old.(int) + 1, UpdateOp })
						want[k] = i + 1
					case 2:
						m.LoadOrCompute(k+"n", func() any { return -i })
						want[k+"n"] = -i
					case 3:
						m.CompareAndSwap(k, i, "c")
						want[k] = "c"
					}
				}
				n := 0
				for k := range m.Keys() {
					if k == "k" && !present {
						t.Errorf("Keys saw the computed key %q while absent", k)
					}
					n++
				}
				seen := rvContents(t, &m)
				if n != len(seen) {
					t.Errorf("Keys saw %d keys, Range %d", n, len(seen))
				}
				if v, ok := m.Load("k"); ok != present || v != v0 {
					t.Errorf("Load of own key in the callback = %v, %v; want %v, %v", v, ok, v0, present)
				}
				_ = m.Stats()
				if l := m.Len(); l != len(want) {
					t.Errorf("Len() = %d in the callback; want %d", l, len(want))
				}
			}
			v, ok := m.Compute("k", func(old any, loaded bool) (any, ComputeOp) {
				busy("a")
				return "new", UpdateOp
			})
			if !ok || v != "new" {
				t.Errorf("Compute = %v, %v", v, ok)
			}
			want["k"] = "new"
			m.Delete("k")
			delete(want, "k")
			v, loaded := m.LoadOrCompute("k", func() any {
				present, v0 = false, nil
				busy("b")
				return "lc"
			})
			if loaded || v != "lc" {
				t.Errorf("LoadOrCompute = %v, %v", v, loaded)
			}
			want["k"] = "lc"
			v, ok = m.Compute("k", func(old any, loaded bool) (any, ComputeOp) {
				present, v0 = true, "lc"
				busy("c")
				return nil, DeleteOp
			})
			if ok || v != nil {
				t.Errorf("Compute delete = %v, %v", v, ok)
			}
			delete(want, "k")
			rvHealthy(t, &m, want)
		})
	}
}

// TestAPIComputeResults checks the documented results of each op on an
// absent and a present key, against a model.
func TestAPIComputeResults(t *testing.T) {
	for _, present := range []bool{false, true} {
		for _, op := range []ComputeOp{UpdateOp, DeleteOp, CancelOp} {
			var m Map[string, int]
			if present {
				m.Store("k", 1)
			}
			v, ok := m.Compute("k", func(old int, loaded bool) (int, ComputeOp) {
				if loaded != present || old != map[bool]int{true: 1}[present] {
					t.Errorf("fn(%d, %v)", old, loaded)
				}
				return 7, op
			})
			wantV, wantOK := 0, false
			switch {
			case op == UpdateOp:
				wantV, wantOK = 7, true
			case op == CancelOp && present:
				wantV, wantOK = 1, true
			}
			if v != wantV || ok != wantOK {
				t.Errorf("present %v, %v: Compute = %d, %v; want %d, %v", present, op, v, ok, wantV, wantOK)
			}
			if lv, lok := m.Load("k"); lv != wantV || lok != wantOK || m.Len() != map[bool]int{true: 1}[wantOK] {
				t.Errorf("present %v, %v: Load = %d, %v, Len %d", present, op, lv, lok, m.Len())
			}
			if err := m.checkInvariants(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAPIComputeOpString(t *testing.T) {
	for op, want := range map[ComputeOp]string{
		UpdateOp: "UpdateOp", DeleteOp: "DeleteOp", CancelOp: "CancelOp",
		-1: "ComputeOp(-1)", 3: "ComputeOp(3)",
	} {
		if got := op.String(); got != want {
			t.Errorf("ComputeOp(%d).String() = %q; want %q", int(op), got, want)
		}
		if got := fmt.Sprint(op); got != want {
			t.Errorf("fmt.Sprint(ComputeOp(%d)) = %q", int(op), got)
		}
	}
}

// rvIterStates builds int maps whose keys lie in each internal state Range
// handles differently.
func rvIterStates() map[string]*Map[int, int] {
	small := new(Map[int, int])
	for k := range 5 {
		small.Store(k, k) // dirty, copied by Range
	}
	big := new(Map[int, int])
	for k := range 600 {
		big.Store(k, k) // dirty maps of more than 16 keys: promoted by Range
	}
	promoted := new(Map[int, int])
	for k := range 200 {
		promoted.Store(k, k)
	}
	promoted.promoteAll()
	mixed := new(Map[int, int])
	for k := range 200 {
		mixed.Store(k, k)
	}
	mixed.promoteAll()
	for k := 200; k < 230; k++ {
		mixed.Store(k, k)
	}
	for k := 0; k < 230; k += 7 {
		mixed.Delete(k)
	}
	return map[string]*Map[int, int]{"empty": new(Map[int, int]), "small": small, "big": big, "promoted": promoted, "mixed": mixed}
}

// TestAPIIteratorsBreak breaks out of All, Keys and Values after every
// number of elements, and out of nested loops: the iterator must never call
// yield after it returned false (Go panics if it does), and must visit each
// key once.
func TestAPIIteratorsBreak(t *testing.T) {
	for name, m := range rvIterStates() {
		n := m.Len()
		for stop := 0; stop <= n+1; stop += max(1, n/37) {
			i := 0
			for k, v := range m.All() {
				if k != v {
					t.Fatalf("%s: All gave %d=%d", name, k, v)
				}
				if i == stop {
					break
				}
				i++
			}
			if want := min(stop, n); i != want {
				t.Fatalf("%s: All ran the body %d times before stop %d; want %d", name, i, stop, want)
			}
			i = 0
			for range m.Keys() {
				if i == stop {
					break
				}
				i++
			}
			i = 0
			for range m.Values() {
				if i == stop {
					break
				}
				i++
			}
			// Range's own stop.
			calls := 0
			m.Range(func(int, int) bool { calls++; return calls <= stop })
			if want := min(stop+1, n); calls != want {
				t.Fatalf("%s: Range called f %d times stopping at %d; want %d", name, calls, stop, want)
			}
		}
		// Nested loops, with break and continue of the outer one from
		// the inner, and a return from inside both.
		pairs := 0
	outer:
		for k1 := range m.Keys() {
			for k2, v2 := range m.All() {
				if k2 == v2 && k2%3 == 0 {
					continue outer
				}
				if k1%5 == 4 {
					break outer
				}
				pairs++
				if pairs > 50 {
					break
				}
			}
		}
		first := func() (int, bool) {
			for _, v := range m.All() {
				for k := range m.Keys() {
					if k >= 0 {
						return v, true
					}
				}
			}
			return 0, false
		}
		if _, ok := first(); ok != (n > 0) {
			t.Fatalf("%s: return from a nested loop: %v", name, ok)
		}
		// A panic in the body, recovered outside, leaves nothing held.
		if n > 0 {
			if p, _ := rvPanic(func() {
				for range m.Values() {
					panic("body")
				}
			}); !p {
				t.Fatalf("%s: the body's panic was lost", name)
			}
		}
		seen := map[int]bool{}
		for k := range m.Keys() {
			if seen[k] {
				t.Fatalf("%s: Keys gave %d twice", name, k)
			}
			seen[k] = true
		}
		if len(seen) != m.Len() {
			t.Fatalf("%s: Keys gave %d keys; Len %d", name, len(seen), m.Len())
		}
		rvWithin(t, "writes after the loops", func() {
			m.Store(-1, -1)
			m.Delete(-1)
		})
		if err := m.checkInvariants(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAPIRangeWritesInBody writes from Range's f and from an All loop's
// body (new keys in every segment, enough to promote them; deletes and
// re-stores of the visited key; Clear-free), and checks sync.Map's Range
// guarantees: no key twice, every key present throughout visited.
func TestAPIRangeWritesInBody(t *testing.T) {
	for name, m := range rvIterStates() {
		permanent := map[int]bool{}
		for k := range m.Keys() {
			if k%2 == 0 {
				permanent[k] = true
			}
		}
		next := 1 << 20
		seen := map[int]bool{}
		for k := range m.Keys() {
			if seen[k] {
				t.Fatalf("%s: key %d visited twice", name, k)
			}
			seen[k] = true
			if k >= 1<<20 {
				continue // a key the loop added: adding more would never end
			}
			for range 20 {
				m.Store(next, next) // new keys, some in the segment in progress
				m.Load(next)
				m.Load(next) // misses: promotions while the loop runs
				next++
			}
			if !permanent[k] {
				m.Delete(k)
				m.Store(k, k) // back, maybe in another entry
			}
			if next%40 == 0 {
				m.Delete(next - 7)
			}
		}
		for k := range permanent {
			if !seen[k] {
				t.Errorf("%s: key %d, present throughout, not visited", name, k)
			}
		}
		if err := m.checkInvariants(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAPIZeroAndOptions checks the zero Map and New with each capacity,
// including negative ones, which are documented to ask for no presizing.
func TestAPIZeroAndOptions(t *testing.T) {
	maps := map[string]*Map[string, int]{
		"zero":              new(Map[string, int]),
		"New()":             New[string, int](),
		"WithCapacity(-5)":  New[string, int](WithCapacity(-5)),
		"WithCapacity(0)":   New[string, int](WithCapacity(0)),
		"WithCapacity(1)":   New[string, int](WithCapacity(1)),
		"WithCapacity(1e4)": New[string, int](WithCapacity(10000)),
		"two options":       New[string, int](WithCapacity(1000), WithCapacity(-1)),
	}
	for name, m := range maps {
		if m.Len() != 0 {
			t.Errorf("%s: Len() = %d", name, m.Len())
		}
		if st := m.Stats(); st != (Stats{Segments: 16}) {
			t.Errorf("%s: Stats() = %+v", name, st)
		}
		m.Range(func(string, int) bool { t.Errorf("%s: Range called f", name); return true })
		for range m.All() {
			t.Errorf("%s: All yielded", name)
		}
		m.Clear()
		if _, ok := m.Load("a"); ok {
			t.Errorf("%s: Load found a key", name)
		}
		if data, err := json.Marshal(m); err != nil || string(data) != "{}" {
			t.Errorf("%s: Marshal = %s, %v", name, data, err)
		}
		for i := range 3000 {
			m.Store(fmt.Sprint(i), i)
		}
		if m.Len() != 3000 {
			t.Errorf("%s: Len() = %d after 3000 stores", name, m.Len())
		}
		if err := m.checkInvariants(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAPIJSONContract checks what MarshalJSON and UnmarshalJSON
// document beyond json_test.go: merging overwrites present keys, nothing is
// stored on any kind of error, unsupported keys are an error on both sides
// and never a panic, and a map of unencodable values is an error.
func TestAPIJSONContract(t *testing.T) {
	var m Map[string, int]
	m.Store("a", 1)
	m.Store("keep", 5)
	if err := json.Unmarshal([]byte(`{"a":10,"b":20,"b":21}`), &m); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Load("a"); v != 10 || m.Len() != 3 {
		t.Errorf("merge: a=%d, Len %d; want 10, 3", v, m.Len())
	}
	if v, _ := m.Load("b"); v != 21 {
		t.Errorf("duplicate member: b=%d; want the last, 21", v)
	}
	for _, bad := range []string{`{"x":1,"y":"no"}`, `{"x":1,`, `"str"`, `[{"x":1}]`, `{"x":1.5}`, `{"x":1e400}`} {
		before := m.Len()
		if err := m.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s): no error", bad)
		}
		if _, ok := m.Load("x"); ok || m.Len() != before {
			t.Errorf("UnmarshalJSON(%s) stored something", bad)
		}
	}
	var nilMap *Map[string, int]
	if err := nilMap.UnmarshalJSON([]byte(" null ")); err != nil {
		t.Errorf("UnmarshalJSON(null) on a nil *Map: %v; want nil, as documented", err)
	}
	for _, in := range []string{`{}`, `{"a":1}`, `"str"`} {
		if err := nilMap.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("UnmarshalJSON(%s) on a nil *Map: no error", in)
		}
	}
	var anys Map[any, int]
	anys.Store("a", 1)
	if _, err := anys.MarshalJSON(); err == nil {
		t.Error("Marshal of interface keys: no error")
	}
	if err := anys.UnmarshalJSON([]byte(`{"a":1}`)); err == nil {
		t.Error("Unmarshal into interface keys: no error")
	}
	var chans Map[string, chan int]
	chans.Store("c", make(chan int))
	if _, err := json.Marshal(&chans); err == nil {
		t.Error("Marshal of channel values: no error")
	}
	var arrays Map[[2]int, int]
	arrays.Store([2]int{1, 2}, 3)
	if p, _ := rvPanic(func() { _, _ = arrays.MarshalJSON() }); p {
		t.Error("Marshal of array keys panicked")
	}
	type named string
	var nm Map[named, uint8]
	if err := json.Unmarshal([]byte(`{"x":255}`), &nm); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"y":256}`), &nm); err == nil {
		t.Error("Unmarshal of an overflowing uint8: no error")
	}
	if data, err := json.Marshal(&nm); err != nil || string(data) != `{"x":255}` {
		t.Errorf("Marshal of named string keys = %s, %v", data, err)
	}
	var uints Map[uint64, bool]
	uints.Store(math.MaxUint64, true)
	data, err := json.Marshal(&uints)
	if err != nil || string(data) != `{"18446744073709551615":true}` {
		t.Errorf("Marshal of uint64 keys = %s, %v", data, err)
	}
	var back Map[uint64, bool]
	if err := json.Unmarshal(data, &back); err != nil || back.Len() != 1 {
		t.Errorf("round trip of uint64 keys: %v, Len %d", err, back.Len())
	}
	if err := json.Unmarshal([]byte(`{"-1":true}`), &back); err == nil {
		t.Error("Unmarshal of a negative uint64 key: no error")
	}
	// A Map as a field of a struct, encoded through a pointer to it.
	type holder struct{ M Map[string, int] }
	var h holder
	h.M.Store("z", 26)
	if data, err := json.Marshal(&h); err != nil || string(data) != `{"M":{"z":26}}` {
		t.Errorf("Marshal(&holder) = %s, %v", data, err)
	}
	var h2 holder
	if err := json.Unmarshal([]byte(`{"M":{"q":17}}`), &h2); err != nil || h2.M.Len() != 1 {
		t.Errorf("Unmarshal into a holder: %v, Len %d", err, h2.M.Len())
	}
}

// TestAPIInterfaceKeys checks that Map[any, V] tells keys apart exactly
// as a Go map[any]V does: ints of other types and widths, strings and
// converted byte slices, pointers, structs, arrays, nil, ±0 and NaN. Every
// operation is run on the Map, a Go map and a sync.Map, and the results and
// contents compared.
func TestAPIInterfaceKeys(t *testing.T) {
	type pair struct {
		A int
		B string
	}
	type myInt int
	type myString string
	x, y := new(int), new(int)
	negZero := math.Copysign(0, -1)
	keys := []any{
		1, int8(1), int16(1), int32(1), int64(1), uint(1), uint8(1), uint16(1), uint32(1), uint64(1), uintptr(1),
		myInt(1), 1.0, float32(1), complex(1, 0), true, "1", myString("1"), string([]byte("1")),
		"", string([]byte{}), nil, x, y, (*int)(nil), pair{1, "1"}, pair{}, [2]int{1, 0}, [1]int{1},
		[2]any{1, "1"}, [2]any{int64(1), "1"}, struct{ A any }{1}, struct{ A any }{uint(1)},
		0.0, negZero, float32(negZero), complex(0, negZero), math.Inf(1), math.Inf(-1),
		-1, int64(math.MinInt64), int64(math.MaxInt64), uint64(math.MaxUint64), int64(-1),
	}
	var m Map[any, int]
	var sm sync.Map
	gm := map[any]int{}
	check := func(step string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v; want %v", step, got, want)
		}
	}
	for round := range 3 {
		for i, k := range keys {
			v := round*1000 + i
			switch (i + round) % 4 {
			case 0:
				_, had := gm[k]
				prev := gm[k]
				gm[k] = v
				p, l := m.Swap(k, v)
				sp, sl := sm.Swap(k, v)
				if !had {
					sp = 0
				}
				check(fmt.Sprintf("Swap(%#v)", k), []any{p, l}, []any{prev, had})
				check(fmt.Sprintf("sync.Swap(%#v)", k), []any{sp, sl}, []any{prev, had})
			case 1:
				got, loaded := m.LoadOrStore(k, v)
				sgot, sloaded := sm.LoadOrStore(k, v)
				want, had := gm[k]
				if !had {
					want, gm[k] = v, v
				}
				check(fmt.Sprintf("LoadOrStore(%#v)", k), []any{got, loaded}, []any{want, had})
				check(fmt.Sprintf("sync.LoadOrStore(%#v)", k), []any{sgot, sloaded}, []any{want, had})
			case 2:
				got, ok := m.Compute(k, func(old int, loaded bool) (int, ComputeOp) { return old + v, UpdateOp })
				gm[k] += v
				sm.Store(k, gm[k])
				check(fmt.Sprintf("Compute(%#v)", k), []any{got, ok}, []any{gm[k], true})
			case 3:
				got, loaded := m.LoadAndDelete(k)
				want, had := gm[k]
				delete(gm, k)
				sm.Delete(k)
				check(fmt.Sprintf("LoadAndDelete(%#v)", k), []any{got, loaded}, []any{want, had})
			}
		}
		if m.Len() != len(gm) {
			t.Errorf("round %d: Len() = %d; Go map %d", round, m.Len(), len(gm))
		}
		for _, k := range keys {
			v, ok := m.Load(k)
			wv, wok := gm[k]
			check(fmt.Sprintf("Load(%#v)", k), []any{v, ok}, []any{wv, wok})
		}
		m.promoteAll()
		if err := m.checkInvariants(); err != nil {
			t.Fatal(err)
		}
	}
	// ±0 are one key: Store of -0 finds +0's entry.
	var z Map[any, string]
	z.Store(0.0, "pos")
	if v, ok := z.Load(negZero); !ok || v != "pos" {
		t.Errorf("Load(-0) after Store(+0) = %q, %v", v, ok)
	}
	z.Store(negZero, "neg")
	if z.Len() != 1 {
		t.Errorf("+0 and -0 made %d keys", z.Len())
	}
	var zf Map[float64, int]
	zf.Store(negZero, 1)
	if v, ok := zf.LoadOrStore(0.0, 2); !ok || v != 1 || zf.Len() != 1 {
		t.Errorf("Map[float64]: LoadOrStore(+0) after Store(-0) = %d, %v, Len %d", v, ok, zf.Len())
	}
	// NaN, as in a Go map: every store a new key, never found again, but
	// visited, counted and cleared.
	var nan Map[any, int]
	for i := range 3 {
		nan.Store(math.NaN(), i)
		nan.LoadOrStore(math.NaN(), 10+i)
		nan.Compute(math.NaN(), func(old int, loaded bool) (int, ComputeOp) {
			if loaded {
				t.Error("Compute found a NaN key")
			}
			return 20 + i, UpdateOp
		})
		nan.LoadOrCompute(math.NaN(), func() int { return 30 + i })
		nan.Store([2]any{math.NaN(), 1}, 40+i)
	}
	if _, ok := nan.Load(math.NaN()); ok {
		t.Error("Load found a NaN key")
	}
	nan.Delete(math.NaN())
	if nan.LoadAndDelete(math.NaN()); nan.Len() != 15 {
		t.Errorf("NaN keys: Len() = %d; want 15", nan.Len())
	}
	var vals []int
	for _, v := range nan.All() {
		vals = append(vals, v)
	}
	if sort.Ints(vals); len(vals) != 15 {
		t.Errorf("NaN keys: All gave %v", vals)
	}
	nan.promoteAll()
	if err := nan.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	nan.Clear()
	if nan.Len() != 0 || len(rvSlice(nan.Keys())) != 0 {
		t.Error("Clear left NaN keys")
	}
}

func rvSlice[T any](seq func(func(T) bool)) []T {
	var out []T
	for v := range seq {
		out = append(out, v)
	}
	return out
}

// TestAPISignedZeroKeyIdentity compares the key that Range reports
// after Store(+0) then Store(-0) with sync.Map and a Go map, both of which
// keep the key of the last store (a Go map's assignment updates float and
// string keys, sync.Map's Swap makes a new entry). This only differs for
// keys equal but distinguishable (±0, and interface or struct keys holding
// them).
func TestAPISignedZeroKeyIdentity(t *testing.T) {
	negZero := math.Copysign(0, -1)
	var sm sync.Map
	var m Map[any, int]
	gm := map[any]int{}
	for _, k := range []any{0.0, negZero} {
		sm.Store(k, 1)
		m.Store(k, 1)
		gm[k] = 1
	}
	sign := func(k any) bool { return math.Signbit(k.(float64)) }
	var smKey, mKey any
	sm.Range(func(k, _ any) bool { smKey = k; return true })
	m.Range(func(k any, _ int) bool { mKey = k; return true })
	var gmKey any
	for k := range gm {
		gmKey = k
	}
	if sign(gmKey) != sign(smKey) {
		t.Fatalf("Go map and sync.Map disagree")
	}
	if sign(mKey) != sign(smKey) {
		t.Errorf("Range reports key with signbit %v; sync.Map and Go maps report %v (the last stored key)", sign(mKey), sign(smKey))
	}
	m.promoteAll()
	m.Store(negZero, 2)
	m.Range(func(k any, _ int) bool { mKey = k; return true })
	if !sign(mKey) {
		t.Errorf("after a promotion, Store(-0) over +0: Range still reports +0")
	}
}

// TestAPIMethodSetMatchesSyncMap checks at compile time that
// Map[any, any] has sync.Map's methods with their signatures.
func TestAPIMethodSetMatchesSyncMap(t *testing.T) {
	type syncMapLike interface {
		Load(key any) (value any, ok bool)
		Store(key, value any)
		Clear()
		LoadOrStore(key, value any) (actual any, loaded bool)
		LoadAndDelete(key any) (value any, loaded bool)
		Delete(key any)
		Swap(key, value any) (previous any, loaded bool)
		CompareAndSwap(key, old, new any) (swapped bool)
		CompareAndDelete(key, old any) (deleted bool)
		Range(f func(key, value any) bool)
	}
	var _ syncMapLike = new(sync.Map)
	var _ syncMapLike = new(Map[any, any])
}

// TestAPIRangeNaNKeyMoved ranges over a map holding NaN keys while the
// loop body makes each segment rebuild its read map (new keys, then loads
// that miss until a promotion: public API only). Range found the entries it
// had yet to visit moved and looked each key up in the newer read map by
// hash and ==, where a NaN key, never equal to itself, is not found (a nil
// dereference); rebuilds now leave such entries unmoved. sync.Map and Go
// maps visit every NaN key; a key present throughout the loop must be
// visited.
func TestAPIRangeNaNKeyMoved(t *testing.T) {
	var m Map[float64, int]
	const nans = 64
	for i := range nans {
		m.Store(math.NaN(), i)
	}
	m.promoteAll() // the NaN keys in read maps
	first := true
	visited := 0
	panicked, msg := rvPanic(func() {
		for _, v := range m.All() {
			if first {
				first = false
				// New keys in every segment, and loads of them until
				// each segment promotes its dirty map: a rebuild that
				// moves every entry, NaNs included, to a new read map.
				for k := range 256 {
					m.Store(float64(k), -1)
				}
				for range 8 {
					for k := range 256 {
						m.Load(float64(k))
					}
				}
			}
			if v >= 0 {
				visited++
			}
		}
	})
	if panicked {
		t.Fatalf("Range over NaN keys panicked after a rebuild: %s", msg)
	}
	if visited != nans {
		t.Fatalf("Range visited %d of %d NaN keys present throughout", visited, nans)
	}
}

// TestAPIHugeCapacity computes, without allocating, what the first write
// to a segment of a map made with an absurd WithCapacity would allocate.
// make(map[K]V, hint) ignores a hint it cannot honour; WithCapacity passed
// any n up to MaxInt32 per segment to the first dirty map of each segment,
// and now caps n at maxCapacity.
func TestAPIHugeCapacity(t *testing.T) {
	m := New[int, int](WithCapacity(math.MaxInt))
	hint := int(m.t.Load().counts.dirtyHint)
	slots := dirtySlotsFor(hint)
	// A slot of a Map[int, int]: its key and value, and its control byte.
	bytes := float64(slots) * float64(reflect.TypeFor[dirtyKV[int, int]]().Size()+1)
	t.Logf("WithCapacity(MaxInt): first dirty map of each segment: %d slots, %.1f GiB", slots, bytes/(1<<30))
	if bytes > 1<<34 {
		t.Errorf("the first Store into a segment would allocate %.1f GiB (16 segments: %.0f GiB)", bytes/(1<<30), 16*bytes/(1<<30))
	}
}

// TestAPIRangeNaNKeySwept is TestAPIRangeNaNKeyMoved with no write in
// the loop: the segments' background sweeps (run here at once by sweepAll,
// as their timers would within about a second) rebuild the read maps that
// hold tombstones while a slow loop body runs. (Without sweepAll, a body
// that slept 2.5s made Range panic the same way.)
func TestAPIRangeNaNKeySwept(t *testing.T) {
	var m Map[float64, int]
	const nans = 64
	for i := range nans {
		m.Store(math.NaN(), i)
	}
	for k := range 64 {
		m.Store(float64(k), k)
	}
	m.promoteAll()
	for k := range 64 {
		m.Delete(float64(k)) // tombstones, which a sweep drops
	}
	first, visited := true, 0
	panicked, msg := rvPanic(func() {
		m.Range(func(float64, int) bool {
			if first {
				first = false
				m.sweepAll() // marks the tombstones swept
				m.sweepAll() // rebuilds without them
			}
			visited++
			return true
		})
	})
	if panicked || visited != nans {
		t.Fatalf("Range with a sweep during the loop: panicked %v (%s), visited %d of %d NaN keys", panicked, msg, visited, nans)
	}
}
