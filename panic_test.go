package safemap

import (
	"strings"
	"sync"
	"testing"
)

// mustPanic calls f and returns the panic value, failing if there is none.
func mustPanic(t *testing.T, what string, f func()) (v any) {
	t.Helper()
	defer func() {
		v = recover()
		if v == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
	return nil
}

// exercise runs every method once on m and checks the results, to show
// that the map is consistent and no lock is held after a panic.
func exercise(t *testing.T, m *Map[any, any]) {
	t.Helper()
	m.Store("k", 1)
	if v, ok := m.Load("k"); !ok || v != 1 {
		t.Fatalf(`Load("k") = %v, %v; want 1, true`, v, ok)
	}
	if v, loaded := m.LoadOrStore("k2", 2); loaded || v != 2 {
		t.Fatalf(`LoadOrStore("k2", 2) = %v, %v`, v, loaded)
	}
	if !m.CompareAndSwap("k", 1, 3) || !m.CompareAndDelete("k", 3) {
		t.Fatal("CompareAndSwap/CompareAndDelete failed after a panic")
	}
	m.Swap("k", 4)
	m.Compute("k", func(old any, _ bool) (any, ComputeOp) { return old.(int) + 1, UpdateOp })
	if v, _ := m.Load("k"); v != 5 {
		t.Fatalf(`Load("k") after Compute = %v; want 5`, v)
	}
	m.LoadOrCompute("k3", func() any { return 3 })
	m.LoadAndDelete("k3")
	m.Delete("k2")
	n := 0
	m.Range(func(_, _ any) bool { n++; return true })
	for range m.All() {
		n++
	}
	if n != 2*m.Len() {
		t.Fatalf("Range and All saw %d keys; Len() = %d", n, m.Len())
	}
	m.promoteAll()
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	m.Clear()
	m.Store("after", true)
}

// inEveryState runs f on an any-keyed map in several internal states.
func inEveryState(t *testing.T, f func(m *Map[any, any])) {
	setups := map[string]func(m *Map[any, any]){
		"zero": func(m *Map[any, any]) {},
		"dirty": func(m *Map[any, any]) {
			m.Store("x", 1)
		},
		"promoted": func(m *Map[any, any]) {
			m.Store("x", 1)
			m.Store("y", []int{1})
			m.promoteAll()
		},
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			m := new(Map[any, any])
			setup(m)
			f(m)
			exercise(t, m)
		})
	}
}

func TestPanicUnhashableKey(t *testing.T) {
	inEveryState(t, func(m *Map[any, any]) {
		key := []int{1}
		for name, call := range map[string]func(){
			"Load":             func() { m.Load(key) },
			"Store":            func() { m.Store(key, 1) },
			"LoadOrStore":      func() { m.LoadOrStore(key, 1) },
			"LoadAndDelete":    func() { m.LoadAndDelete(key) },
			"Delete":           func() { m.Delete(key) },
			"Swap":             func() { m.Swap(key, 1) },
			"CompareAndSwap":   func() { m.CompareAndSwap(key, 1, 2) },
			"CompareAndDelete": func() { m.CompareAndDelete(key, 1) },
			"Compute":          func() { m.Compute(key, func(any, bool) (any, ComputeOp) { return 1, UpdateOp }) },
			"LoadOrCompute":    func() { m.LoadOrCompute(key, func() any { return 1 }) },
		} {
			v := mustPanic(t, name+"([]int key)", call)
			if msg := panicMessage(v); !strings.Contains(msg, "unhashable") && !strings.Contains(msg, "comparable") {
				t.Errorf("%s: panic %q does not say the key is unhashable", name, msg)
			}
		}
	})
}

// TestPanicUnhashableKeyMakesNoTable: on a zero Map, a method that panics
// on an unhashable key does so before the map makes its first table, so
// the failed call leaves the map exactly as it was.
func TestPanicUnhashableKeyMakesNoTable(t *testing.T) {
	key := []int{1}
	for name, call := range map[string]func(m *Map[any, any]){
		"Store":         func(m *Map[any, any]) { m.Store(key, 1) },
		"LoadOrStore":   func(m *Map[any, any]) { m.LoadOrStore(key, 1) },
		"Swap":          func(m *Map[any, any]) { m.Swap(key, 1) },
		"Delete":        func(m *Map[any, any]) { m.Delete(key) },
		"Compute":       func(m *Map[any, any]) { m.Compute(key, func(any, bool) (any, ComputeOp) { return 1, UpdateOp }) },
		"LoadOrCompute": func(m *Map[any, any]) { m.LoadOrCompute(key, func() any { return 1 }) },
	} {
		m := new(Map[any, any])
		mustPanic(t, name+"([]int key)", func() { call(m) })
		if m.t.Load() != nil {
			t.Errorf("%s: a panicking call made the map's first table", name)
		}
	}
}

// TestPanicNonComparableValue: CompareAndSwap and CompareAndDelete compare
// as sync.Map's do: old with the key's value, only if the key is present,
// panicking only if the two hold one dynamic type that is not comparable
// (values of different types are unequal). Each case is checked against
// sync.Map itself. A Map whose value type is not comparable panics at every
// call, as Go's generic concurrent maps do. After a panic the map is
// unchanged and usable (inEveryState checks it).
func TestPanicNonComparableValue(t *testing.T) {
	type wrapper struct{ v any }
	cases := []struct {
		name   string
		stored any // nil: the key is absent
		old    any
	}{
		{"absent key, old []int", nil, []int{1}},
		{"absent key, old map", nil, map[int]int{}},
		{"int stored, old []int", 1, []int{1}},
		{"[]int stored, old int", []int{1}, 1},
		{"[]int stored, old []int", []int{1}, []int{1}},
		{"map stored, old map", map[int]int{}, map[int]int{}},
		{"wrapper{1} stored, old wrapper{[]int}", wrapper{1}, wrapper{[]int{1}}},
		{"wrapper{[]int} stored, old wrapper{[]int}", wrapper{[]int{1}}, wrapper{[]int{2}}},
		{"func stored, old func", func() {}, func() {}},
	}
	// outcome runs one compare operation: its result, or that it panicked.
	outcome := func(f func() bool) (got string) {
		defer func() {
			if recover() != nil {
				got = "panic"
			}
		}()
		if f() {
			return "true"
		}
		return "false"
	}
	for _, c := range cases {
		for _, op := range []string{"CompareAndSwap", "CompareAndDelete"} {
			var sm sync.Map
			if c.stored != nil {
				sm.Store("k", c.stored)
			}
			want := outcome(func() bool {
				if op == "CompareAndSwap" {
					return sm.CompareAndSwap("k", c.old, 2)
				}
				return sm.CompareAndDelete("k", c.old)
			})
			inEveryState(t, func(m *Map[any, any]) {
				if c.stored != nil {
					m.Store("k", c.stored)
				}
				got := outcome(func() bool {
					if op == "CompareAndSwap" {
						return m.CompareAndSwap("k", c.old, 2)
					}
					return m.CompareAndDelete("k", c.old)
				})
				if got != want {
					t.Errorf("%s, %s: %s; sync.Map: %s", op, c.name, got, want)
				}
				if _, ok := m.Load("k"); got == "panic" && ok != (c.stored != nil) {
					t.Errorf("%s, %s: the panic changed the key", op, c.name)
				}
				m.Delete("k")
			})
		}
	}
	// A value type that is not comparable: a panic at every call, before
	// anything is looked at.
	var slices Map[int, []int]
	v := mustPanic(t, "CompareAndSwap on a Map[int, []int]", func() { slices.CompareAndSwap(1, nil, nil) })
	if msg := panicMessage(v); !strings.Contains(msg, "CompareAndSwap") || !strings.Contains(msg, "[]int") {
		t.Errorf("panic %q does not name the method and type", msg)
	}
	slices.Store(1, []int{1})
	mustPanic(t, "CompareAndDelete on a Map[int, []int]", func() { slices.CompareAndDelete(1, []int{1}) })
	mustPanic(t, "CompareAndSwap on a Map[int, []int], absent key", func() { slices.CompareAndSwap(2, nil, nil) })
	if v, ok := slices.Load(1); !ok || len(v) != 1 {
		t.Errorf("Load(1) after the panics = %v, %v", v, ok)
	}
	slices.mustCheck()
	// Values of different dynamic types are not equal, whichever is the
	// int; equal ones are.
	inEveryState(t, func(m *Map[any, any]) {
		m.Store("i", 1)
		if m.CompareAndSwap("i", "1", 2) || m.CompareAndDelete("i", int64(1)) {
			t.Error("a compare operation took an int for a value of another type")
		}
		m.Store("i", "1")
		if m.CompareAndSwap("i", 1, 2) || !m.CompareAndDelete("i", "1") {
			t.Error("a compare operation mistook a string for an int, or missed an equal string")
		}
	})
	var ints Map[int, int]
	if ints.CompareAndSwap(1, 0, 2) || ints.CompareAndDelete(1, 0) {
		t.Error("a compare operation changed an empty Map[int, int]")
	}
}

func TestPanicInCallbacks(t *testing.T) {
	inEveryState(t, func(m *Map[any, any]) {
		m.Store("c", 1)
		mustPanic(t, "Range callback", func() { m.Range(func(_, _ any) bool { panic("boom") }) })
		mustPanic(t, "All loop body", func() {
			for range m.All() {
				panic("boom")
			}
		})
		mustPanic(t, "Compute callback", func() {
			m.Compute("c", func(any, bool) (any, ComputeOp) { panic("boom") })
		})
		if v, ok := m.Load("c"); !ok || v != 1 {
			t.Errorf(`Load("c") after a panicking Compute = %v, %v; want 1, true`, v, ok)
		}
		mustPanic(t, "Compute callback on an absent key", func() {
			m.Compute("absent", func(any, bool) (any, ComputeOp) { panic("boom") })
		})
		mustPanic(t, "Compute with an invalid op", func() {
			m.Compute("c", func(any, bool) (any, ComputeOp) { return 2, ComputeOp(42) })
		})
		if v, ok := m.Load("c"); !ok || v != 1 {
			t.Errorf(`Load("c") after an invalid op = %v, %v; want 1, true`, v, ok)
		}
		mustPanic(t, "LoadOrCompute callback", func() {
			m.LoadOrCompute("absent", func() any { panic("boom") })
		})
		if _, ok := m.Load("absent"); ok {
			t.Error("key present after a panicking LoadOrCompute")
		}
		// The key is free again: the next caller computes it.
		if v, loaded := m.LoadOrCompute("absent", func() any { return 7 }); loaded || v != 7 {
			t.Errorf("LoadOrCompute after a panic = %v, %v; want 7, false", v, loaded)
		}
		m.Delete("absent")
		m.Delete("c")
	})
}

func panicMessage(v any) string {
	switch v := v.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return ""
}
