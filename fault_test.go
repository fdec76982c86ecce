package safemap_test

// Fault injection: callbacks of Range, All, Compute and LoadOrCompute panic
// at random points of a concurrent workload. Every panic must reach its
// caller, leave the key it was computing as it was, and hold no lock; the
// goroutines waiting on a panicked LoadOrCompute must go on. Afterwards no
// goroutine may be stuck (WaitOrFail fails the test), and the map must
// hold exactly what the workers' reference models say.

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/safemap-go/safemap"
)

const (
	faultOwned  = 48 // keys each worker alone writes
	faultShared = 16 // keys every worker races on with LoadOrCompute
	faultOps    = 20000
)

// errFault is the value the injected panics carry, so that a worker tells
// them from a real failure.
type errFault struct{ where string }

// faultWorker writes its own keys base..base+faultOwned-1, and keeps a
// plain map with what they must hold.
type faultWorker struct {
	t      *testing.T
	m      *safemap.Map[int, int]
	base   int
	rng    *rand.Rand
	model  map[int]int
	panics int
}

// mustPanic runs f, which must panic with an errFault, and recovers it.
func (w *faultWorker) mustPanic(where string, f func()) {
	defer func() {
		r := recover()
		if _, ok := r.(errFault); !ok {
			w.t.Errorf("%s: recovered %v; want the injected panic", where, r)
		}
		w.panics++
	}()
	f()
}

// check compares own key k with the model.
func (w *faultWorker) check(where string, k int) {
	v, ok := w.m.Load(k)
	want, wantOK := w.model[k]
	if v != want || ok != wantOK {
		w.t.Errorf("after %s: Load(%d) = %d, %v; want %d, %v", where, k, v, ok, want, wantOK)
	}
}

func (w *faultWorker) run() {
	for range faultOps {
		if w.t.Failed() {
			return
		}
		k := w.base + w.rng.IntN(faultOwned)
		switch w.rng.IntN(10) {
		case 0, 1:
			v := w.rng.IntN(1000)
			w.m.Store(k, v)
			w.model[k] = v
		case 2:
			w.m.Delete(k)
			delete(w.model, k)
		case 3:
			// Compute that panics: the key stays as it was.
			w.mustPanic("Compute", func() {
				w.m.Compute(k, func(int, bool) (int, safemap.ComputeOp) { panic(errFault{"Compute"}) })
			})
			w.check("a panicking Compute", k)
		case 4:
			// Compute that works, so that panics land amid real updates.
			actual, ok := w.m.Compute(k, func(old int, loaded bool) (int, safemap.ComputeOp) {
				if loaded && old%3 == 0 {
					return 0, safemap.DeleteOp
				}
				return old + 1, safemap.UpdateOp
			})
			if old, loaded := w.model[k]; loaded && old%3 == 0 {
				delete(w.model, k)
			} else {
				w.model[k] = old + 1
			}
			if want, wantOK := w.model[k]; actual != want || ok != wantOK {
				w.t.Errorf("Compute(%d) = %d, %v; want %d, %v", k, actual, ok, want, wantOK)
			}
		case 5:
			// LoadOrCompute whose valueFn panics on an absent key: it stays
			// absent. On a present key valueFn does not run.
			_, present := w.model[k]
			if present {
				v, loaded := w.m.LoadOrCompute(k, func() int { panic(errFault{"LoadOrCompute on a present key"}) })
				if !loaded || v != w.model[k] {
					w.t.Errorf("LoadOrCompute(%d) = %d, %v; want %d, true", k, v, loaded, w.model[k])
				}
				break
			}
			w.mustPanic("LoadOrCompute", func() {
				w.m.LoadOrCompute(k, func() int { panic(errFault{"LoadOrCompute"}) })
			})
			w.check("a panicking LoadOrCompute", k)
		case 6:
			// Shared keys: several workers race on LoadOrCompute, and some
			// valueFns panic. A waiter whose valueFn-runner panicked must go
			// on: it runs its own valueFn or loads another's value.
			s := w.rng.IntN(faultShared)
			if v, ok := w.sharedLoadOrCompute(s, w.rng.IntN(2) == 0); ok && v != s {
				w.t.Errorf("LoadOrCompute(%d) = %d; every valueFn that returns gives %d", s, v, s)
			}
			if w.rng.IntN(8) == 0 {
				w.m.Delete(s)
			}
		case 7:
			w.iterateAndPanic()
		case 8:
			// A Compute whose callback panics after loading another key and
			// writing a third one, as callbacks may.
			other := w.base + w.rng.IntN(faultOwned)
			w.mustPanic("Compute that writes", func() {
				w.m.Compute(k, func(int, bool) (int, safemap.ComputeOp) {
					w.m.Load(other)
					w.m.Store(faultShared+faultOwned*1000+w.base, 1) // a key no one else uses
					panic(errFault{"Compute that writes"})
				})
			})
			w.model[faultShared+faultOwned*1000+w.base] = 1
			w.check("a panicking Compute that wrote another key", k)
		case 9:
			w.check("Load", k)
		}
	}
}

// sharedLoadOrCompute runs LoadOrCompute on shared key s with a valueFn
// that returns s, or panics if fail is set. ok is false when the injected
// panic was recovered; otherwise v is the value LoadOrCompute returned.
func (w *faultWorker) sharedLoadOrCompute(s int, fail bool) (v int, ok bool) {
	ran := false
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(errFault); !ok || !ran {
				w.t.Errorf("shared LoadOrCompute(%d): recovered %v; want the injected panic of its own valueFn", s, r)
			}
			w.panics++
			v, ok = 0, false
		}
	}()
	v, loaded := w.m.LoadOrCompute(s, func() int {
		ran = true
		runtime.Gosched()
		if fail {
			panic(errFault{"shared LoadOrCompute"})
		}
		return s
	})
	if loaded == ran {
		w.t.Errorf("LoadOrCompute(%d) reported loaded %v with valueFn run: %v", s, loaded, ran)
	}
	return v, true
}

// iterateAndPanic runs Range or All and panics from the loop body at a
// random key.
func (w *faultWorker) iterateAndPanic() {
	stop := w.rng.IntN(faultOwned)
	seen := 0
	body := func(k, v int) {
		if seen++; seen > stop {
			panic(errFault{"iteration"})
		}
	}
	if w.rng.IntN(2) == 0 {
		w.mustPanic("Range", func() {
			w.m.Range(func(k, v int) bool { body(k, v); return true })
			panic(errFault{"Range ended before the panic point"}) // too few keys
		})
	} else {
		w.mustPanic("All", func() {
			for k, v := range w.m.All() {
				body(k, v)
			}
			panic(errFault{"All ended before the panic point"})
		})
	}
}

func TestFaultInjection(t *testing.T) {
	for _, start := range []struct {
		name string
		m    func() *safemap.Map[int, int]
	}{
		{"zero", func() *safemap.Map[int, int] { return new(safemap.Map[int, int]) }},
		{"presized", func() *safemap.Map[int, int] { return safemap.New[int, int](safemap.WithCapacity(4096)) }},
	} {
		t.Run(start.name, func(t *testing.T) {
			m := start.m()
			seed := rand.Uint64()
			nw := max(4, runtime.GOMAXPROCS(0))
			workers := make([]*faultWorker, nw)
			var wg sync.WaitGroup
			for i := range workers {
				w := &faultWorker{t: t, m: m, base: faultShared + i*faultOwned,
					rng: rand.New(rand.NewPCG(seed, uint64(i))), model: make(map[int]int)}
				workers[i] = w
				wg.Add(1)
				go func() { defer wg.Done(); w.run() }()
			}
			safemap.WaitOrFail(t, &wg)
			if t.Failed() {
				t.Fatalf("seed %d", seed)
			}
			panics := 0
			want := make(map[int]int)
			for _, w := range workers {
				panics += w.panics
				for k, v := range w.model {
					want[k] = v
				}
			}
			for k := range faultShared {
				if v, ok := m.Load(k); ok {
					if v != k {
						t.Errorf("shared key %d holds %d", k, v)
					}
					want[k] = k
				}
			}
			got := make(map[int]int)
			for k, v := range m.All() {
				got[k] = v
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || m.Len() != len(want) {
				t.Errorf("after %d injected panics the map holds %d keys (Len %d), the models %d; seed %d",
					panics, len(got), m.Len(), len(want), seed)
			}
			// No lock is held: every key can still be written and read.
			for k := range want {
				m.Compute(k, func(old int, _ bool) (int, safemap.ComputeOp) { return old + 1, safemap.UpdateOp })
				if v, _ := m.Load(k); v != want[k]+1 {
					t.Fatalf("Compute(%d) after the workload: Load = %d, want %d", k, v, want[k]+1)
				}
			}
			m.Clear()
			if m.Len() != 0 {
				t.Errorf("Len() = %d after Clear", m.Len())
			}
			t.Logf("%d workers, %d injected panics, %d keys at the end (seed %d)", nw, panics, len(want), seed)
		})
	}
}
