package safemap

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPromotionLosesNoWrite races the writers of existing keys, and their
// readers, with a stream of rebuilds, each of which moves every entry of
// its segment into a new read map (see entry.moveLocked). Each key has one
// writer, which adds one to its value with Store, CompareAndSwap or
// Compute; so a write lost in a move shows as a failed CompareAndSwap, a
// Compute that sees a stale value, or a wrong final value, and a reader
// that follows a stale map shows as a value going backwards.
func TestPromotionLosesNoWrite(t *testing.T) {
	const (
		owners   = 4
		perOwner = 64 // keys per owner: a few per segment
		readers  = 2
	)
	rounds := iterations(20000)
	minRebuilds := uint64(iterations(2000))
	var m Map[int, int]
	for k := range owners * perOwner {
		m.Store(k, 0)
	}
	m.promoteAll()
	stats := m.t.Load().counts
	before := stats.promotions.Load()
	// The test only proves something if entries move under the writers:
	// they go on until enough rebuilds have happened.
	moving := func() bool { return stats.promotions.Load()-before < minRebuilds }

	var stop atomic.Bool
	var background sync.WaitGroup
	// The churner adds keys and loads each until its segment promotes (the
	// misses pay for it), and deletes the older ones, so the segments stay
	// small and rebuild again and again.
	background.Add(1)
	go func() {
		defer background.Done()
		first := owners * perOwner
		for k := first; !stop.Load(); k++ {
			m.Store(k, -1)
			for range 4 {
				m.Load(k)
			}
			if k-32 >= first {
				m.Delete(k - 32)
			}
		}
	}()
	for r := range readers {
		background.Add(1)
		go func() {
			defer background.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			last := make([]int, owners*perOwner)
			for i := 0; !stop.Load(); i++ {
				if i%512 == 0 {
					m.Range(func(k, v int) bool {
						if k < len(last) {
							if v < last[k] {
								t.Errorf("Range saw key %d = %d after a read of %d", k, v, last[k])
								return false
							}
							last[k] = v
						}
						return true
					})
					continue
				}
				k := rng.IntN(len(last))
				v, ok := m.Load(k)
				if !ok || v < last[k] {
					t.Errorf("Load(%d) = %d, %v after a read of %d", k, v, ok, last[k])
					return
				}
				last[k] = v
			}
		}()
	}

	counts := make([][]int, owners)
	var writers sync.WaitGroup
	for o := range owners {
		counts[o] = make([]int, perOwner)
		writers.Add(1)
		go func() {
			defer writers.Done()
			rng := rand.New(rand.NewPCG(uint64(o), 1))
			c := counts[o]
			for i := 0; i < rounds || moving(); i++ {
				j := rng.IntN(perOwner)
				k := o*perOwner + j
				switch i % 3 {
				case 0:
					m.Store(k, c[j]+1)
				case 1:
					if !m.CompareAndSwap(k, c[j], c[j]+1) {
						v, ok := m.Load(k)
						t.Errorf("CompareAndSwap(%d, %d, %d) failed; the key holds %d, %v", k, c[j], c[j]+1, v, ok)
						return
					}
				case 2:
					m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
						if !loaded || old != c[j] {
							t.Errorf("Compute(%d) saw %d, %v; want %d, true", k, old, loaded, c[j])
						}
						return c[j] + 1, UpdateOp
					})
				}
				c[j]++
			}
		}()
	}
	waitOrFail(t, &writers)
	stop.Store(true)
	waitOrFail(t, &background)
	if t.Failed() {
		return
	}

	for o, c := range counts {
		for j, want := range c {
			if v, ok := m.Load(o*perOwner + j); !ok || v != want {
				t.Errorf("key %d = %d, %v after %d updates", o*perOwner+j, v, ok, want)
			}
		}
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}
