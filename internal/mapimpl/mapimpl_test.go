package mapimpl

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestImplsAgreeWithModel runs the same random operations on every
// implementation and on a plain map: the adapters (CompareAndSwap built
// from Compute, Range without the lock, ...) must give the same results.
func TestImplsAgreeWithModel(t *testing.T) {
	for _, impl := range Impls[int]() {
		t.Run(impl.Name, func(t *testing.T) {
			m, model := impl.New(0), map[int]int{}
			rng := rand.New(rand.NewPCG(1, 2))
			for step := range 20000 {
				k, v, old := rng.IntN(16), rng.IntN(4), rng.IntN(4)
				want, wantOK := model[k]
				var got int
				var ok bool
				switch op := rng.IntN(9); op {
				case 0:
					got, ok = m.Load(k)
				case 1:
					m.Store(k, v)
					model[k] = v
					got, ok, want, wantOK = 0, false, 0, false
				case 2:
					got, ok = m.LoadOrStore(k, v)
					if !wantOK {
						want, model[k] = v, v
					}
				case 3:
					got, ok = m.LoadAndDelete(k)
					delete(model, k)
				case 4:
					m.Delete(k)
					delete(model, k)
					got, ok, want, wantOK = 0, false, 0, false
				case 5:
					got, ok = m.Swap(k, v)
					model[k] = v
				case 6:
					ok = m.CompareAndSwap(k, old, v)
					got, want, wantOK = 0, 0, wantOK && want == old
					if wantOK {
						model[k] = v
					}
				case 7:
					ok = m.CompareAndDelete(k, old)
					got, want, wantOK = 0, 0, wantOK && want == old
					if wantOK {
						delete(model, k)
					}
				case 8:
					n := 0
					m.Range(func(k, v int) bool {
						if model[k] != v {
							t.Fatalf("step %d: Range visits %d=%d; model has %d", step, k, v, model[k])
						}
						m.Load(k) // the body may call the map
						n++
						return true
					})
					got, ok, want, wantOK = n, false, len(model), false
				}
				if got != want || ok != wantOK {
					t.Fatalf("step %d: got %d, %v; want %d, %v", step, got, ok, want, wantOK)
				}
			}
			m.Clear()
			if _, ok := m.Load(0); ok {
				t.Fatal("key present after Clear")
			}
		})
	}
}

// TestWorkloadsRun runs a few steps of every workload on every
// implementation, from two goroutine starts.
func TestWorkloadsRun(t *testing.T) {
	workloads := append(GoSet(), Mixed(IntKeys(100), 90))
	for _, w := range workloads {
		for _, impl := range Impls[int]() {
			m := impl.New(w.Capacity)
			if w.Setup != nil {
				w.Setup(m)
			}
			for _, start := range []int{0, 1 << 20} {
				step := w.Worker(m, start)
				for range 3000 {
					step()
				}
			}
		}
	}
	sw := Mixed(StringKeys(100), 50)
	for _, impl := range Impls[string]() {
		m := impl.New(sw.Capacity)
		sw.Setup(m)
		step := sw.Worker(m, 0)
		for range 3000 {
			step()
		}
	}
}

func TestLookup(t *testing.T) {
	impls, err := Lookup[int]([]string{"xsyncv4", "safemap"})
	if err != nil || len(impls) != 2 || impls[0].Name != "xsyncv4" || impls[1].Name != "safemap" {
		t.Fatalf("Lookup = %v, %v", impls, err)
	}
	if _, err := Lookup[int]([]string{"nope"}); err == nil {
		t.Fatal("Lookup of an unknown name: no error")
	}
}

// TestWorkerStatePadded: the state a worker's step writes at every call
// fills 128 bytes or more, so that two goroutines' state never share a
// cache line, nor a pair of lines that the prefetcher fetches together.
func TestWorkerStatePadded(t *testing.T) {
	// Each state's 128 bytes of padding come after what the step writes
	// (an int is 4 bytes under GOARCH=386, 8 on 64-bit platforms).
	for name, size := range map[string][2]uintptr{
		"own[int]":                       {reflect.TypeFor[own[int]]().Size(), reflect.TypeFor[int]().Size()},
		"rngState":                       {reflect.TypeFor[rngState]().Size(), 8},
		"own[adversarialAlloc's counts]": {reflect.TypeFor[own[struct{ stores, loadsSinceStore int }]]().Size(), 2 * reflect.TypeFor[int]().Size()},
	} {
		if size[0] < 128+size[1] {
			t.Errorf("%s is %d bytes; a goroutine's state (%d bytes) must fill 128 more", name, size[0], size[1])
		}
	}
}
