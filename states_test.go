package safemap

import (
	"fmt"
	"testing"
)

// auditState puts a fresh Map[int, int] in one internal state, with the
// keys 0..n-1 present (value k*10) unless said otherwise, and returns it
// with the keys present.
type auditState struct {
	name string
	make func() (*Map[int, int], map[int]int)
}

func auditStates() []auditState {
	fill := func(m *Map[int, int], n int) map[int]int {
		want := map[int]int{}
		for k := range n {
			m.Store(k, k*10)
			want[k] = k * 10
		}
		return want
	}
	// more stores k*10 under the keys from..to-1, in m and in w.
	more := func(m *Map[int, int], w map[int]int, from, to int) {
		for k := from; k < to; k++ {
			m.Store(k, k*10)
			w[k] = k * 10
		}
	}
	// drop deletes the keys below n that del picks, from m and from w.
	drop := func(m *Map[int, int], w map[int]int, n int, del func(k int) bool) {
		for k := range n {
			if del(k) {
				m.Delete(k)
				delete(w, k)
			}
		}
	}
	every := func(step int) func(int) bool { return func(k int) bool { return k%step == 0 } }
	allBut := func(step int) func(int) bool { return func(k int) bool { return k%step != 0 } }
	return []auditState{
		{"zero", func() (*Map[int, int], map[int]int) { return new(Map[int, int]), map[int]int{} }},
		{"New(WithCapacity(100)) empty", func() (*Map[int, int], map[int]int) {
			return New[int, int](WithCapacity(100)), map[int]int{}
		}},
		{"dirty, 3 keys", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			return m, fill(m, 3)
		}},
		{"dirty, 300 keys, capacity", func() (*Map[int, int], map[int]int) {
			m := New[int, int](WithCapacity(1000))
			return m, fill(m, 300)
		}},
		{"promoted", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 300)
			m.promoteAll()
			return m, w
		}},
		{"promoted+amended", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 300)
			m.promoteAll()
			more(m, w, 300, 320)
			return m, w
		}},
		{"near promotion", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 100)
			m.promoteAll()
			more(m, w, 100, 200)
			m.nearPromotion()
			return m, w
		}},
		{"tombstones in read", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 300)
			m.promoteAll()
			drop(m, w, 300, every(3))
			return m, w
		}},
		{"swept tombstones", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 300)
			m.promoteAll()
			drop(m, w, 300, every(3))
			m.sweepAll() // marks them swept
			return m, w
		}},
		{"tombstones in dirty", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 40)
			drop(m, w, 40, every(4))
			return m, w
		}},
		{"mass-deleted (compacted)", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 2000)
			m.promoteAll()
			drop(m, w, 2000, allBut(50))
			return m, w
		}},
		{"purged dirty", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 2000)
			drop(m, w, 2000, allBut(50))
			return m, w
		}},
		{"cleared in place", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			fill(m, 5)
			m.Clear()
			return m, fill(m, 3)
		}},
		{"cleared (replaced)", func() (*Map[int, int], map[int]int) {
			m := New[int, int](WithCapacity(50))
			fill(m, 300)
			m.promoteAll()
			m.Clear()
			return m, fill(m, 7)
		}},
		{"cleared, empty", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			fill(m, 300)
			m.promoteAll()
			m.Clear()
			return m, map[int]int{}
		}},
		{"all deleted + swept twice", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := fill(m, 100)
			m.promoteAll()
			drop(m, w, 100, every(1))
			m.sweepAll()
			m.sweepAll()
			return m, map[int]int{}
		}},
		{"computed", func() (*Map[int, int], map[int]int) {
			m := new(Map[int, int])
			w := map[int]int{}
			for k := range 200 {
				m.Compute(k, func(int, bool) (int, ComputeOp) { return k * 10, UpdateOp })
				w[k] = k * 10
			}
			m.promoteAll()
			for k := 200; k < 210; k++ {
				m.LoadOrCompute(k, func() int { return k * 10 })
				w[k] = k * 10
			}
			return m, w
		}},
	}
}

// auditCheckInt checks a Map[int, int] against want.
func auditCheckInt(t *testing.T, what string, m *Map[int, int], want map[int]int) {
	t.Helper()
	got := docSnap(t, m)
	if len(got) != len(want) || m.Len() != len(want) {
		t.Fatalf("%s: Range saw %d keys, Len %d; want %d", what, len(got), m.Len(), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("%s: Range gave %d=%d; want %d", what, k, got[k], w)
		}
		if v, ok := m.Load(k); !ok || v != w {
			t.Fatalf("%s: Load(%d) = %d, %v; want %d", what, k, v, ok, w)
		}
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestMethodResultsEveryState checks the exact results of every
// method on a present key, a deleted key and an absent key, in every
// internal state.
func TestMethodResultsEveryState(t *testing.T) {
	type probe struct {
		name string
		do   func(m *Map[int, int], k int, want map[int]int) (got, exp string)
	}
	fmtr := func(v int, ok bool) string { return fmt.Sprintf("%d,%v", v, ok) }
	probes := []probe{
		{"Load", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			return fmtr(m.Load(k)), fmtr(x, ok)
		}},
		{"Store", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			m.Store(k, -1)
			w[k] = -1
			return "", ""
		}},
		{"LoadOrStore", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			if !ok {
				x = -2
				w[k] = -2
			}
			return fmtr(m.LoadOrStore(k, -2)), fmtr(x, ok)
		}},
		{"LoadAndDelete", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			delete(w, k)
			return fmtr(m.LoadAndDelete(k)), fmtr(x, ok)
		}},
		{"Delete", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			m.Delete(k)
			delete(w, k)
			return "", ""
		}},
		{"Swap", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			w[k] = -3
			return fmtr(m.Swap(k, -3)), fmtr(x, ok)
		}},
		{"CompareAndSwap equal", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			if ok {
				w[k] = -4
			}
			return fmt.Sprint(m.CompareAndSwap(k, x, -4)), fmt.Sprint(ok)
		}},
		{"CompareAndSwap zero old", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			sw := ok && x == 0
			if sw {
				w[k] = -4
			}
			return fmt.Sprint(m.CompareAndSwap(k, 0, -4)), fmt.Sprint(sw)
		}},
		{"CompareAndSwap unequal", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			return fmt.Sprint(m.CompareAndSwap(k, -99, -4)), "false"
		}},
		{"CompareAndDelete equal", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			delete(w, k)
			return fmt.Sprint(m.CompareAndDelete(k, x)), fmt.Sprint(ok)
		}},
		{"CompareAndDelete unequal", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			return fmt.Sprint(m.CompareAndDelete(k, -99)), "false"
		}},
		{"Compute Update", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			var seen string
			a, aok := m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
				seen = fmtr(old, loaded)
				return -5, UpdateOp
			})
			w[k] = -5
			return seen + "->" + fmtr(a, aok), fmtr(x, ok) + "->" + fmtr(-5, true)
		}},
		{"Compute Delete", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			var seen string
			a, aok := m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
				seen = fmtr(old, loaded)
				return -6, DeleteOp
			})
			delete(w, k)
			return seen + "->" + fmtr(a, aok), fmtr(x, ok) + "->" + fmtr(0, false)
		}},
		{"Compute Cancel", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			var seen string
			a, aok := m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
				seen = fmtr(old, loaded)
				return -7, CancelOp
			})
			return seen + "->" + fmtr(a, aok), fmtr(x, ok) + "->" + fmtr(x, ok)
		}},
		{"Compute panic", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			p, _ := docPanics(func() {
				m.Compute(k, func(int, bool) (int, ComputeOp) { panic("x") })
			})
			return fmt.Sprint(p), "true"
		}},
		{"Compute invalid op", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			p, _ := docPanics(func() {
				m.Compute(k, func(int, bool) (int, ComputeOp) { return -8, ComputeOp(-1) })
			})
			return fmt.Sprint(p), "true"
		}},
		{"LoadOrCompute", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			x, ok := w[k]
			calls := 0
			a, l := m.LoadOrCompute(k, func() int { calls++; return -9 })
			if !ok {
				x = -9
				w[k] = -9
			}
			return fmtr(a, l) + fmt.Sprint(calls), fmtr(x, ok) + fmt.Sprint(map[bool]int{true: 0, false: 1}[ok])
		}},
		{"LoadOrCompute panic", func(m *Map[int, int], k int, w map[int]int) (string, string) {
			_, ok := w[k]
			p, _ := docPanics(func() {
				m.LoadOrCompute(k, func() int { panic("x") })
			})
			return fmt.Sprint(p), fmt.Sprint(!ok)
		}},
	}
	for _, st := range auditStates() {
		for _, pr := range probes {
			m, want := st.make()
			// A present key, a deleted one, an absent one, and 0 (the
			// zero key: markers hold a zero key).
			keys := []int{1, 2, 5000, 0}
			if _, ok := want[1]; !ok {
				keys[0] = 4
			}
			m.Delete(2)
			delete(want, 2)
			for _, k := range keys {
				what := fmt.Sprintf("%s: %s(%d)", st.name, pr.name, k)
				got, exp := pr.do(m, k, want)
				if got != exp {
					t.Errorf("%s = %s; want %s", what, got, exp)
				}
				auditCheckInt(t, what, m, want)
				// And again, now that the first call may have moved the
				// key between maps.
				got, exp = pr.do(m, k, want)
				if got != exp {
					t.Errorf("%s, second call = %s; want %s", what, got, exp)
				}
				auditCheckInt(t, what+" (second)", m, want)
			}
		}
	}
}
