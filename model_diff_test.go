package safemap

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestDifferentialSyncMap runs random sequences of every operation,
// panicking ones included, on a Map[any, any], on sync.Map (where the
// operation cannot wedge sync.Map) and on a Go map model, with internal
// state changes between them, and compares every result.
func TestDifferentialSyncMap(t *testing.T) {
	t.Parallel() // a pure test: see parallel_test.go
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := range seeds {
		auditDifferential(t, uint64(seed))
		if t.Failed() {
			return
		}
	}
}

func auditDifferential(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	var m *Map[any, any]
	switch seed % 3 {
	case 0:
		m = new(Map[any, any])
	case 1:
		m = New[any, any](WithCapacity(1))
	case 2:
		m = New[any, any](WithCapacity(5000))
	}
	var sm sync.Map
	model := auditModel{}
	key := func() any {
		if rng.IntN(40) == 0 {
			return auditUnhashable[rng.IntN(len(auditUnhashable))]
		}
		return auditKeys[rng.IntN(len(auditKeys))]
	}
	val := func() any { return auditValues[rng.IntN(len(auditValues))] }
	for step := range 600 {
		k, v, v2 := key(), val(), val()
		op := rng.IntN(24)
		var desc, got, want string
		var gotPanic, wantPanic bool
		// run applies the operation to the model (want) and to safemap
		// (got), and to sync.Map when the model did not panic.
		run := func(name string, onModel func() string, onMap func() string, onSync func() string) {
			desc = fmt.Sprintf("seed %d step %d: %s(%s, %s, %s)", seed, step, name, auditFmt(k), auditFmt(v), auditFmt(v2))
			wantPanic, _ = docPanics(func() { want = onModel() })
			var pv any
			gotPanic, pv = docPanics(func() { got = onMap() })
			if gotPanic != wantPanic {
				t.Fatalf("%s: panicked %v (%v); model panicked %v", desc, gotPanic, pv, wantPanic)
			}
			if !wantPanic && onSync != nil {
				if s := onSync(); s != want {
					t.Fatalf("%s: sync.Map gave %s; model %s (the model is wrong)", desc, s, want)
				}
			} else if !wantPanic {
				// An operation sync.Map lacks: mirror its effect.
				if x, ok := model[k]; ok {
					sm.Store(k, x)
				} else {
					sm.Delete(k)
				}
			}
			if !wantPanic && got != want {
				t.Fatalf("%s: got %s; want %s", desc, got, want)
			}
		}
		res := func(a any, b bool) string { return auditFmt(a) + "," + fmt.Sprint(b) }
		switch op {
		case 0, 1:
			run("Load", func() string { x, ok := model[k]; return res(x, ok) },
				func() string { return res(m.Load(k)) }, func() string { return res(sm.Load(k)) })
		case 2, 3:
			run("Store", func() string { model[k] = v; return "" },
				func() string { m.Store(k, v); return "" }, func() string { sm.Store(k, v); return "" })
		case 4:
			run("LoadOrStore", func() string {
				if x, ok := model[k]; ok {
					return res(x, true)
				}
				model[k] = v
				return res(v, false)
			}, func() string { return res(m.LoadOrStore(k, v)) }, func() string { return res(sm.LoadOrStore(k, v)) })
		case 5:
			run("LoadAndDelete", func() string { x, ok := model[k]; delete(model, k); return res(x, ok) },
				func() string { return res(m.LoadAndDelete(k)) }, func() string { return res(sm.LoadAndDelete(k)) })
		case 6:
			run("Delete", func() string { delete(model, k); return "" },
				func() string { m.Delete(k); return "" }, func() string { sm.Delete(k); return "" })
		case 7:
			run("Swap", func() string { x, ok := model[k]; model[k] = v; return res(x, ok) },
				func() string { return res(m.Swap(k, v)) }, func() string { return res(sm.Swap(k, v)) })
		case 8, 9:
			if rng.IntN(2) == 0 { // old often equal to the current value
				if p, _ := docPanics(func() { _ = model[k] }); !p {
					if x, ok := model[k]; ok {
						v = x
					}
				}
			}
			run("CompareAndSwap", func() string { return fmt.Sprint(model.cas(k, v, v2)) },
				func() string { return fmt.Sprint(m.CompareAndSwap(k, v, v2)) },
				func() string { return fmt.Sprint(sm.CompareAndSwap(k, v, v2)) })
		case 10:
			if rng.IntN(2) == 0 {
				if p, _ := docPanics(func() { _ = model[k] }); !p {
					if x, ok := model[k]; ok {
						v = x
					}
				}
			}
			run("CompareAndDelete", func() string { return fmt.Sprint(model.cad(k, v)) },
				func() string { return fmt.Sprint(m.CompareAndDelete(k, v)) },
				func() string { return fmt.Sprint(sm.CompareAndDelete(k, v)) })
		case 11, 12:
			cop := ComputeOp(rng.IntN(4)) // 3: invalid
			if cop == 3 && rng.IntN(3) != 0 {
				cop = UpdateOp
			}
			boom := rng.IntN(8) == 0
			var calls int
			var seenOld string
			run(fmt.Sprintf("Compute[%v,panic=%v]", cop, boom), func() string {
				x, ok := model[k]
				s := res(x, ok)
				if boom || cop == 3 {
					panic("model")
				}
				switch cop {
				case UpdateOp:
					model[k] = v
					return s + "->" + res(v, true)
				case DeleteOp:
					delete(model, k)
					return s + "->" + res(nil, false)
				}
				return s + "->" + res(x, ok)
			}, func() string {
				a, ok := m.Compute(k, func(old any, loaded bool) (any, ComputeOp) {
					calls++
					seenOld = res(old, loaded)
					if boom {
						panic("boom")
					}
					return v, cop
				})
				return seenOld + "->" + res(a, ok)
			}, nil)
			if calls > 1 {
				t.Fatalf("%s: callback ran %d times", desc, calls)
			}
		case 13:
			boom := rng.IntN(6) == 0
			calls := 0
			run(fmt.Sprintf("LoadOrCompute[panic=%v]", boom), func() string {
				if x, ok := model[k]; ok {
					return res(x, true)
				}
				if boom {
					panic("model")
				}
				model[k] = v
				return res(v, false)
			}, func() string {
				return res(m.LoadOrCompute(k, func() any {
					calls++
					if boom {
						panic("boom")
					}
					return v
				}))
			}, nil)
			if calls > 1 {
				t.Fatalf("%s: valueFn ran %d times", desc, calls)
			}
		case 14:
			desc = fmt.Sprintf("seed %d step %d: Clear", seed, step)
			m.Clear()
			sm.Clear()
			clear(model)
		case 15:
			// Range whose body deletes or overwrites what it visits, or
			// panics midway.
			mode := rng.IntN(3)
			desc = fmt.Sprintf("seed %d step %d: Range mode %d", seed, step, mode)
			seen := map[any]bool{}
			p, _ := docPanics(func() {
				m.Range(func(rk, rv any) bool {
					if seen[rk] {
						t.Fatalf("%s: key %s visited twice", desc, auditFmt(rk))
					}
					seen[rk] = true
					switch mode {
					case 0:
						m.Delete(rk)
						sm.Delete(rk)
						delete(model, rk)
					case 1:
						m.Store(rk, "ranged")
						sm.Store(rk, "ranged")
						model[rk] = "ranged"
					case 2:
						panic("range")
					}
					return true
				})
			})
			if mode == 2 && len(model) > 0 && !p {
				t.Fatalf("%s: panic did not propagate", desc)
			}
		case 16:
			desc = fmt.Sprintf("seed %d step %d: promoteAll", seed, step)
			m.promoteAll()
		case 17:
			desc = fmt.Sprintf("seed %d step %d: nearPromotion + misses", seed, step)
			m.nearPromotion()
			for range 3 {
				m.Load(auditKeys[rng.IntN(len(auditKeys))])
			}
		case 18:
			desc = fmt.Sprintf("seed %d step %d: sweepAll x2", seed, step)
			m.sweepAll()
			m.sweepAll()
		case 19:
			// Many new keys, then most of them deleted: purges of dirty,
			// or compactions of read after a promotion.
			desc = fmt.Sprintf("seed %d step %d: churn", seed, step)
			base := 1 << 20
			n := 50 + rng.IntN(400)
			for i := range n {
				m.Store(base+i, i)
			}
			if rng.IntN(2) == 0 {
				m.promoteAll()
			}
			for i := range n {
				m.Delete(base + i)
			}
		case 20:
			desc = fmt.Sprintf("seed %d step %d: Range with Clear in body", seed, step)
			first := true
			m.Range(func(any, any) bool {
				if first {
					m.Clear()
					sm.Clear()
					clear(model)
					first = false
				}
				return true
			})
		case 21:
			// CompareAndSwap / CompareAndDelete with a value that is
			// surely present, of the same non-comparable type.
			if p, _ := docPanics(func() { _ = model[k] }); !p {
				if x, ok := model[k]; ok {
					v = x
				}
			}
			run("CompareAndSwap(same)", func() string { return fmt.Sprint(model.cas(k, v, v2)) },
				func() string { return fmt.Sprint(m.CompareAndSwap(k, v, v2)) }, nil)
		case 22:
			if p, _ := docPanics(func() { _ = model[k] }); !p {
				if x, ok := model[k]; ok {
					v = x
				}
			}
			run("CompareAndDelete(same)", func() string { return fmt.Sprint(model.cad(k, v)) },
				func() string { return fmt.Sprint(m.CompareAndDelete(k, v)) }, nil)
		case 23:
			// Keep sync.Map in step where we skipped it (a model panic
			// leaves sync.Map unchanged; nothing to do).
			desc = fmt.Sprintf("seed %d step %d: compare", seed, step)
		}
		if step%7 == 0 || op >= 14 {
			auditCompare(t, desc, m, model)
		}
		// sync.Map and the model must agree.
		if step%50 == 0 {
			var sn int
			sm.Range(func(sk, sv any) bool {
				sn++
				if mv, ok := model[sk]; !ok || auditFmt(mv) != auditFmt(sv) {
					t.Fatalf("%s: sync.Map has %s=%s; model %s, %v", desc, auditFmt(sk), auditFmt(sv), auditFmt(mv), ok)
				}
				return true
			})
			if sn != len(model) {
				t.Fatalf("%s: sync.Map has %d keys, model %d", desc, sn, len(model))
			}
		}
	}
	auditCompare(t, fmt.Sprintf("seed %d end", seed), m, model)
}
