package safemap

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// TestClearChaos races Clear (in place and by replacement, from
// plain calls and from Compute, LoadOrCompute and Range callbacks) with
// every write, computes that panic, loads that promote, Range and Len, on
// few keys (so that most Clears may empty the table in place), and checks
// the invariants, Len against Range, and that the map is usable, after
// each round.
func TestClearChaos(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 60
	}
	const keys = 40
	m := New[int, int](WithCapacity(8 * 16))
	var inPlace, replaced atomic.Int64
	clear := func() {
		before := m.t.Load()
		m.Clear()
		if m.t.Load() == before {
			inPlace.Add(1)
		} else {
			replaced.Add(1)
		}
	}
	for round := range rounds {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				for range 400 {
					k := rng.IntN(keys)
					switch op := rng.IntN(20); op {
					case 0, 1, 2:
						m.Store(k, rng.IntN(100))
					case 3, 4:
						m.Delete(k)
					case 5:
						m.LoadOrStore(k, rng.IntN(100))
					case 6:
						m.Swap(k, rng.IntN(100))
					case 7:
						m.CompareAndSwap(k, rng.IntN(3), rng.IntN(100))
					case 8:
						m.CompareAndDelete(k, rng.IntN(3))
					case 9, 10:
						m.Load(k)
					case 11:
						cop := ComputeOp(rng.IntN(4)) // 3: panic
						inner := rng.IntN(8) == 0
						func() {
							defer func() { recover() }()
							m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
								if inner {
									clear()
								}
								if cop == 3 {
									panic("chaos")
								}
								return old + 1, cop
							})
						}()
					case 12:
						p := rng.IntN(4) == 0
						inner := rng.IntN(8) == 0
						func() {
							defer func() { recover() }()
							m.LoadOrCompute(k, func() int {
								if inner {
									clear()
								}
								if p {
									panic("chaos")
								}
								return k
							})
						}()
					case 13:
						inner := rng.IntN(4) == 0
						m.Range(func(int, int) bool {
							if inner {
								clear()
								inner = false
							}
							return true
						})
					case 14:
						m.Len()
					default:
						if rng.IntN(3) == 0 {
							clear()
						} else {
							m.Store(k, k)
						}
					}
				}
			}()
		}
		waitOrFail(t, &wg)
		if err := m.checkInvariants(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		n := 0
		m.Range(func(int, int) bool { n++; return true })
		if l := m.Len(); l != n {
			t.Fatalf("round %d: Len() = %d, Range visits %d", round, l, n)
		}
		if round%10 == 9 {
			clear()
			mustBeEmpty(t, m)
		}
	}
	t.Logf("Clears: %d in place, %d replaced the table", inPlace.Load(), replaced.Load())
}
