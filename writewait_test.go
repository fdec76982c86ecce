package safemap

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestWritesWaitForCallback checks that every write method waits for a
// compute of its key that is in progress, whatever the entry's state: a
// write that went ahead would be undone when the compute ends (its result
// replaces whatever the entry holds), or would decide on a value that the
// compute is about to replace. The write starts while the callback is
// blocked, and the callback goes on once the write waits (the segment
// counts it); the results must be those of the callback's write followed
// by the write's. The one exception is a LoadOrStore of a key that is
// present while the compute runs: it changes nothing, so it returns the
// key's value at once, as Load does, before the compute's write.
//
// A Store, Swap or Delete reads the box it replaces only in a map that has
// run a compute (see entry.update); this test, each of whose maps runs one
// compute, fails if Compute or LoadOrCompute does not record it before
// installing its mark.
func TestWritesWaitForCallback(t *testing.T) {
	const key, computed, stored = 1, 1001, 7
	type outcome struct {
		value  int
		loaded bool
	}
	writes := []struct {
		name  string
		write func(m *Map[int, int]) outcome
		want  outcome // what the write returns after the compute
		after outcome // the key afterwards
		// loads: over a present key the write returns at once with its
		// value before the compute (0), and the key ends as the
		// compute leaves it
		loads bool
	}{
		{"Store", func(m *Map[int, int]) outcome { m.Store(key, stored); return outcome{} },
			outcome{}, outcome{stored, true}, false},
		{"Swap", func(m *Map[int, int]) outcome { v, ok := m.Swap(key, stored); return outcome{v, ok} },
			outcome{computed, true}, outcome{stored, true}, false},
		{"Delete", func(m *Map[int, int]) outcome { m.Delete(key); return outcome{} },
			outcome{}, outcome{}, false},
		{"LoadAndDelete", func(m *Map[int, int]) outcome { v, ok := m.LoadAndDelete(key); return outcome{v, ok} },
			outcome{computed, true}, outcome{}, false},
		{"LoadOrStore", func(m *Map[int, int]) outcome { v, ok := m.LoadOrStore(key, stored); return outcome{v, ok} },
			outcome{computed, true}, outcome{computed, true}, true},
		{"CompareAndSwap", func(m *Map[int, int]) outcome { return outcome{0, m.CompareAndSwap(key, computed, stored)} },
			outcome{0, true}, outcome{stored, true}, false},
		{"CompareAndDelete", func(m *Map[int, int]) outcome { return outcome{0, m.CompareAndDelete(key, computed)} },
			outcome{0, true}, outcome{}, false},
	}
	computes := []struct {
		name    string
		present bool // whether key is present before the compute
		run     func(m *Map[int, int], entered, release chan struct{})
	}{
		{"Compute", true, func(m *Map[int, int], entered, release chan struct{}) {
			m.Compute(key, func(int, bool) (int, ComputeOp) {
				close(entered)
				<-release
				return computed, UpdateOp
			})
		}},
		{"LoadOrCompute", false, func(m *Map[int, int], entered, release chan struct{}) {
			m.LoadOrCompute(key, func() int {
				close(entered)
				<-release
				return computed
			})
		}},
	}
	for _, c := range computes {
		for _, state := range []string{"dirty", "promoted"} {
			for _, w := range writes {
				t.Run(fmt.Sprintf("%s/%s/%s", c.name, state, w.name), func(t *testing.T) {
					var m Map[int, int]
					m.Store(key+1, 0) // the segment holds another key
					if c.present {
						m.Store(key, 0)
					} else {
						// An entry that is deleted, in read or in dirty.
						m.Store(key, 0)
						m.Delete(key)
					}
					if state == "promoted" {
						m.promoteAll()
					}
					entered, release := make(chan struct{}), make(chan struct{})
					computeDone := make(chan struct{})
					go func() {
						defer close(computeDone)
						c.run(&m, entered, release)
					}()
					<-entered
					if w.loads && c.present {
						// Returns at once, while the callback is blocked.
						var o outcome
						returned := auditWithin(t, w.name+" while the callback runs", 5*time.Second, func() { o = w.write(&m) })
						if returned && o != (outcome{0, true}) {
							t.Errorf("%s returned %+v while the callback ran, want its value before the compute, {0 true}", w.name, o)
						}
						close(release)
						<-computeDone
						if v, ok := m.Load(key); v != computed || !ok {
							t.Errorf("Load afterwards = %d, %v; want %d, true", v, ok, computed)
						}
						m.mustCheck()
						return
					}
					got := make(chan outcome, 1)
					go func() { got <- w.write(&m) }()
					// Release the callback only once the write waits for
					// it (or has wrongly returned).
					seg := m.t.Load().segs[m.segmentOf(key)].Load()
					var o outcome
					returned := false
					for !returned && seg.waiters.Load() == 0 {
						select {
						case o = <-got:
							returned = true
							t.Errorf("%s returned while the callback ran", w.name)
						default:
							runtime.Gosched()
						}
					}
					close(release)
					<-computeDone
					if !returned {
						o = <-got
					}
					if o != w.want {
						t.Errorf("%s returned %+v, want %+v", w.name, o, w.want)
					}
					v, ok := m.Load(key)
					if (outcome{v, ok}) != w.after {
						t.Errorf("Load afterwards = %d, %v; want %+v", v, ok, w.after)
					}
					m.mustCheck()
				})
			}
		}
	}
}

// TestUpdateLoadsMark drives entry.update itself over a compute's mark, as
// a write does when the mark appears between its first load of the entry
// (Map.write's one-load check) and update's: a LoadOrStore loads the value
// that a mark over a present key carries, and every other write, and a
// LoadOrStore over an absent key's mark, reports the mark as busy, to
// wait for.
func TestUpdateLoadsMark(t *testing.T) {
	const key = 1
	for _, present := range []bool{true, false} {
		var m Map[int, int]
		m.Store(key, 10)
		m.promoteAll()
		if !present {
			m.Delete(key) // a deleted entry of the read map
		}
		tb := m.t.Load()
		h, i := tb.locate(key)
		e := tb.reads[i].Load().find(h, key)
		if e == nil {
			t.Fatalf("present=%v: no entry for the key in the read map", present)
		}
		tb.counts.computing()
		mk, _, busy := e.tryClaim(false)
		if mk == nil || busy != nil {
			t.Fatalf("present=%v: tryClaim = %v, busy %v", present, mk, busy)
		}
		for _, op := range []writeOp{opStore, opLoadOrStore, opCompareAndSwap, opDelete, opCompareAndDelete} {
			w := &write[int, int]{op: op, key: key, value: 5, old: 10}
			prev, changed, busy, stale := e.update(tb, w)
			if stale || changed {
				t.Errorf("present=%v, op %d: stale %v, changed %v", present, op, stale, changed)
			}
			if op == opLoadOrStore && present {
				if busy != nil || prev == nil || prev.value != 10 {
					t.Errorf("present=%v, LoadOrStore: prev %v, busy %v; want the marked value 10, not busy", present, prev, busy)
				}
				continue
			}
			if busy != &mk.b || prev != nil {
				t.Errorf("present=%v, op %d: prev %v, busy %v; want busy, the mark", present, op, prev, busy)
			}
		}
		if !e.release(mk, mk.old) {
			t.Fatalf("present=%v: release failed", present)
		}
		if v, ok := m.Load(key); ok != present || (present && v != 10) {
			t.Errorf("present=%v: Load after the release = %d, %v", present, v, ok)
		}
		m.mustCheck()
	}
}
