package safemap

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestComputeNaNKey: a key that is not equal to itself (a float NaN, or a
// key holding one) is a new key at every write, as in a Go map: == never
// finds it again. Compute and LoadOrCompute of such a key must store it as
// Store does, each call a key of its own that Load never finds and Range
// and Len count, and leave the map usable. Their claim adds the key to
// dirty with its mark; finish, looking the key up again under mu with ==,
// found nothing and dereferenced a nil entry with mu held, leaving the
// segment locked for good. A promotion while the callback runs must not
// lose the mark either.
func TestComputeNaNKey(t *testing.T) {
	nan := math.NaN()
	calls := []struct {
		name string
		call func(m *Map[float64, int], during func()) (int, bool)
		want int // keys added by the call
	}{
		{"Compute update", func(m *Map[float64, int], during func()) (int, bool) {
			return m.Compute(nan, func(old int, loaded bool) (int, ComputeOp) {
				during()
				if loaded {
					t.Errorf("Compute(NaN): loaded = true")
				}
				return 1, UpdateOp
			})
		}, 1},
		{"Compute delete", func(m *Map[float64, int], during func()) (int, bool) {
			v, ok := m.Compute(nan, func(int, bool) (int, ComputeOp) { during(); return 0, DeleteOp })
			return v, !ok // ok: absent, as wanted
		}, 0},
		{"LoadOrCompute", func(m *Map[float64, int], during func()) (int, bool) {
			v, loaded := m.LoadOrCompute(nan, func() int { during(); return 1 })
			return v, !loaded
		}, 1},
	}
	for _, c := range calls {
		for _, promote := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/promoted=%v", c.name, promote), func(t *testing.T) {
				var m Map[float64, int]
				m.Store(nan, 7) // a NaN key stored before: another key
				during := func() {
					if promote {
						m.promoteAll()
					}
				}
				var v int
				var ok bool
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("panicked: %v", p)
						}
					}()
					v, ok = c.call(&m, during)
				}()
				if !ok || (c.want == 1 && v != 1) {
					t.Errorf("got (%d, %v)", v, ok)
				}
				if _, found := m.Load(nan); found {
					t.Error("Load(NaN) found a value")
				}
				done := make(chan struct{})
				go func() { // must not wedge on a segment left locked
					defer close(done)
					for k := range 100 {
						m.Store(float64(k), k)
					}
				}()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("Stores of other keys wedged: a segment's mu was left locked")
				}
				nans := 0
				m.Range(func(k float64, _ int) bool {
					if k != k {
						nans++
					}
					return true
				})
				if nans != 1+c.want || m.Len() != 100+1+c.want {
					t.Errorf("Range visits %d NaN keys, Len %d; want %d and %d", nans, m.Len(), 1+c.want, 100+1+c.want)
				}
				m.mustCheck()
			})
		}
	}
}

// TestComputeModel: goroutines own disjoint keys of one or two
// segments (so every segment-wide event, promotion, purge, rebuild,
// sweep, races with every goroutine) and check each result against a
// private model of their own keys: a lost update, a resurrected key or a
// wrong loaded flag shows at once. Computes delete, update, cancel and
// panic, and their callbacks write other keys of the goroutine (so
// purges and promotions move the compute's mark while it runs). A
// background goroutine runs the sweeps as fast as it can. At the end,
// the map must hold exactly the models' keys, Len and Range must agree,
// and the invariants must hold.
//
// In the shared variant every goroutine works on every key (no model:
// same-key races, such as a Store and a Delete between a compute's finish
// and its last count, are what it looks for), checking the invariants, Len
// and Range at the end of each round.
func TestComputeModel(t *testing.T) {
	for _, c := range []struct {
		name          string
		shared        bool
		rounds, short int
	}{{"own", false, 20, 6}, {"shared", true, 40, 10}} {
		t.Run(c.name, func(t *testing.T) {
			rounds := c.rounds
			if testing.Short() {
				rounds = c.short
			}
			for round := range rounds {
				computeModelRound(t, round, c.shared)
			}
		})
	}
}

func computeModelRound(t *testing.T, round int, shared bool) {
	var m Map[int, int]
	const G = 4
	perG := 24 + 8*(round%4)
	segs := 1 + round%2
	var all, sideKeys []int
	for i := range segs {
		ks := keysInSegment(&m, i, G*perG+8, 0)
		all = append(all, ks[:G*perG]...)
		sideKeys = append(sideKeys, ks[G*perG:]...) // shared: written only by callbacks
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() { // sweeps and near-promotions, all the time
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			m.sweepAll()
			m.nearPromotion()
			runtime.Gosched()
		}
	}()
	var wg sync.WaitGroup
	models := make([]map[int]int, G)
	for g := range G {
		var mine []int
		for i, k := range all {
			if shared || i%G == g {
				mine = append(mine, k)
			}
		}
		model := map[int]int{}
		models[g] = model
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
			fail := func(format string, args ...any) {
				t.Errorf("round %d g %d: "+format, append([]any{round, g}, args...)...)
			}
			if shared {
				fail = func(string, ...any) {}
			}
			check := func(op string, k, v int, ok bool) {
				if w, wok := model[k]; v != w || ok != wok {
					fail("%s(%d) = %d, %v; model %d, %v", op, k, v, ok, w, wok)
				}
			}
			// side writes another key of this goroutine, as a callback may.
			side := func(own int) {
				k := mine[rng.IntN(len(mine))]
				if shared {
					// Not a key that another goroutine may be computing,
					// whose callback may be writing ours: a deadlock, as
					// documented.
					k = sideKeys[rng.IntN(len(sideKeys))]
				}
				if k == own {
					return // its own key: a deadlock, as documented
				}
				if rng.IntN(2) == 0 {
					m.Delete(k)
					delete(model, k)
				} else {
					v := rng.IntN(1000)
					m.Store(k, v)
					model[k] = v
				}
			}
			n := 3000
			if testing.Short() {
				n = 1000
			}
			for range n {
				k := mine[rng.IntN(len(mine))]
				switch rng.IntN(12) {
				case 0, 1:
					v := rng.IntN(1000)
					m.Store(k, v)
					model[k] = v
				case 2, 3:
					v, ok := m.LoadAndDelete(k)
					check("LoadAndDelete", k, v, ok)
					delete(model, k)
				case 4:
					v, ok := m.Load(k)
					check("Load", k, v, ok)
				case 5:
					nv := rng.IntN(1000)
					v, loaded := m.LoadOrStore(k, nv)
					if loaded {
						check("LoadOrStore", k, v, true)
					} else {
						if _, ok := model[k]; ok || v != nv {
							fail("LoadOrStore(%d) = %d stored over a present key", k, v)
						}
						model[k] = nv
					}
				case 6, 7, 8:
					op := ComputeOp(rng.IntN(4)) // 3: panic
					nv := rng.IntN(1000)
					sides := rng.IntN(3)
					w, wok := model[k]
					var got int
					var gotOK bool
					panicked := func() (p bool) {
						defer func() {
							if recover() != nil {
								p = true
							}
						}()
						got, gotOK = m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
							if old != w || loaded != wok {
								fail("Compute(%d) saw %d, %v; model %d, %v", k, old, loaded, w, wok)
							}
							for range sides {
								side(k)
							}
							if lv, lok := m.Load(k); lv != w || lok != wok {
								fail("Load(%d) in its Compute = %d, %v; model %d, %v", k, lv, lok, w, wok)
							}
							if op == 3 {
								panic("model")
							}
							return nv, op
						})
						return false
					}()
					switch {
					case panicked || op == CancelOp:
					case op == DeleteOp:
						delete(model, k)
					default:
						model[k] = nv
					}
					if !panicked {
						check("Compute", k, got, gotOK)
					}
				case 9:
					nv := rng.IntN(1000)
					p := rng.IntN(4) == 0
					_, present := model[k]
					var v int
					var loaded bool
					func() {
						defer func() { recover() }()
						v, loaded = m.LoadOrCompute(k, func() int {
							if present {
								fail("LoadOrCompute(%d) called valueFn for a present key", k)
							}
							side(k)
							if p {
								panic("model")
							}
							return nv
						})
						if !loaded {
							model[k] = nv
						}
						check("LoadOrCompute", k, v, true)
					}()
				case 10:
					old := model[k]
					if rng.IntN(2) == 0 {
						if m.CompareAndDelete(k, old) != func() bool { _, ok := model[k]; return ok }() {
							fail("CompareAndDelete(%d) disagrees with the model", k)
						}
						delete(model, k)
					} else {
						nv := rng.IntN(1000)
						_, ok := model[k]
						if m.CompareAndSwap(k, old, nv) != ok {
							fail("CompareAndSwap(%d) disagrees with the model", k)
						}
						if ok {
							model[k] = nv
						}
					}
				default:
					if m.Len() < 0 {
						fail("Len() < 0")
					}
				}
			}
		}()
	}
	waitOrFail(t, &wg)
	close(stop)
	bg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	stopSweeps(&m)
	if st := m.Stats(); st.ReadKeys+st.DirtyKeys != m.Len() {
		t.Errorf("round %d: Stats: %d read keys + %d dirty keys, Len() = %d", round, st.ReadKeys, st.DirtyKeys, m.Len())
	}
	if shared {
		n := 0
		m.Range(func(int, int) bool { n++; return true })
		if l := m.Len(); l != n {
			t.Errorf("round %d: Len() = %d, Range visits %d", round, l, n)
		}
		if err := m.checkInvariants(); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		return
	}
	want := map[int]int{}
	for _, model := range models {
		for k, v := range model {
			want[k] = v
		}
	}
	got := map[int]int{}
	m.Range(func(k, v int) bool { got[k] = v; return true })
	for k, v := range want {
		if gv, ok := got[k]; !ok || gv != v {
			t.Errorf("round %d: key %d = %d, %v; want %d", round, k, gv, ok, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("round %d: key %d = %d present; the model deleted it", round, k, v)
		}
	}
	if l := m.Len(); l != len(want) {
		t.Errorf("round %d: Len() = %d, want %d", round, l, len(want))
	}
	if err := m.checkInvariants(); err != nil {
		t.Errorf("round %d: %v", round, err)
	}
}

// stopSweeps disarms every sweep timer of m's table and waits out a
// sweep that already fired: checkInvariants reads pending without mu (see
// export_test.go), and a sweep timer's rebuild writes it under mu, a data
// race that the race detector reports when a timer fires during the check.
func stopSweeps[K comparable, V any](m *Map[K, V]) {
	t := m.t.Load()
	if t == nil {
		return
	}
	for s := range t.allSegments() {
		s.mu.Lock()
		if s.slow != nil && s.slow.sweep != nil {
			s.slow.sweep.timer.Stop()
			s.slow.sweep.target.Store(nil)
		}
		s.mu.Unlock()
	}
	time.Sleep(20 * time.Millisecond)
	// A sweep that loaded its target before we cleared it may hold mu, or
	// wait for it: taking mu once more waits for it to finish.
	for s := range t.allSegments() {
		s.mu.Lock()
		//lint:ignore SA2001 the lock is the wait
		s.mu.Unlock()
	}
}

// TestComputeRevivalTombs: a Compute that revives a deleted entry of read
// takes it off the tombstone count, as a Store that revives one does. When
// it did not, a key that churned through Delete and Compute grew the count
// by one a cycle until a full rebuild, which dropped every tombstone (and
// sent churning keys back through dirty); the same churn with Store never
// rebuilds.
func TestComputeRevivalTombs(t *testing.T) {
	for _, revive := range []string{"Store", "Compute"} {
		t.Run(revive, func(t *testing.T) {
			var m Map[int, int]
			keys := promotedKeys(&m, 0, 64)
			before := m.Stats().Promotions
			k := keys[0]
			for i := range 200 {
				m.Delete(k)
				if revive == "Store" {
					m.Store(k, i)
				} else {
					m.Compute(k, func(int, bool) (int, ComputeOp) { return i, UpdateOp })
				}
			}
			s := m.t.Load().segs[0].Load()
			s.mu.Lock()
			tombs := tallyTombs(s.tally.Load())
			s.mu.Unlock()
			rebuilds := m.Stats().Promotions - before
			t.Logf("%s revivals: %d rebuilds, tombs %d (true tombstones: 0)", revive, rebuilds, tombs)
			if rebuilds != 0 || tombs != 0 {
				t.Errorf("%s revivals: %d rebuilds, tombs = %d; want 0 and 0", revive, rebuilds, tombs)
			}
			m.mustCheck()
		})
	}
}

// TestClearBetweenFinishAndCount orders, with the FIFO trick of
// lockStarving, an in-place Clear between a compute's finish (which stores
// the new key's value in dirty under mu) and its live-count add (which
// comes after wake, which takes mu again because a Store waits for the
// key). clearLocked must leave the late add room to land: adding the
// difference, not storing zero. Then the waiting Store adds the key
// again, and Len must say 1.
func TestClearBetweenFinishAndCount(t *testing.T) {
	var m Map[int, int]
	keys := keysInSegment(&m, 0, 4, 0)
	k := keys[0]
	m.Store(keys[1], 1) // dirty exists: small, so Clear empties in place
	tb := m.t.Load()
	s := tb.segs[0].Load()
	settle := func() { time.Sleep(5 * time.Millisecond) }
	inFn, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // A: computes the absent key k, which claim adds to dirty
		defer wg.Done()
		m.Compute(k, func(int, bool) (int, ComputeOp) {
			close(inFn)
			<-release
			return 10, UpdateOp
		})
	}()
	<-inFn
	wg.Add(1)
	go func() { defer wg.Done(); m.Store(k, 20) }() // W: waits for A's mark
	for s.waiters.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	close(release)
	settle() // A waits for mu in finish
	wg.Add(1)
	go func() { defer wg.Done(); m.Clear() }() // C: queued behind A
	settle()
	lockStarving(&s.mu)
	s.mu.Unlock()
	waitOrFail(t, &wg)
	if m.t.Load() != tb {
		t.Log("the Clear replaced the table: the order was not kept")
	}
	// In the order wanted the Store comes last and k holds 20; a loaded
	// machine may run the Clear last instead, leaving the map empty. Either
	// way Len must count what the map holds, which a Clear that stored
	// zero over the compute's late add did not.
	v, ok := m.Load(k)
	if ok && v != 20 {
		t.Errorf("Load(k) = %d, true; want 20 or absent", v)
	}
	present := 0
	m.Range(func(int, int) bool { present++; return true })
	if n := m.Len(); n != present || present > 1 {
		t.Errorf("Len() = %d, Range visits %d keys; want equal, and at most 1", n, present)
	}
	if err := m.checkInvariants(); err != nil {
		t.Error(err)
	}
}

// TestComputeDeletesSwept: the tombstone that a compute leaves (a
// delete, a cancel over an absent key, a panicking LoadOrCompute) in read
// or in dirty, with the mark moved by a promotion while the callback ran
// or not, is dropped by two sweeps with no other call: the key does not
// stay reachable.
func TestComputeDeletesSwept(t *testing.T) {
	type tc struct {
		name    string
		promote string // "before": the key in read; "during": promoted while fn runs; "": in dirty
		run     func(m *Map[int, int], k int, during func())
	}
	cases := []tc{
		{"Compute delete", "", nil},
		{"Compute cancel absent", "", nil},
		{"LoadOrCompute panic", "", nil},
	}
	var all []tc
	for _, c := range cases {
		for _, p := range []string{"", "before", "during"} {
			c := c
			c.promote = p
			switch c.name {
			case "Compute delete":
				c.run = func(m *Map[int, int], k int, during func()) {
					m.Store(k, 1)
					if p == "before" {
						m.promoteAll()
					}
					m.Compute(k, func(int, bool) (int, ComputeOp) { during(); return 0, DeleteOp })
				}
			case "Compute cancel absent":
				c.run = func(m *Map[int, int], k int, during func()) {
					if p == "before" {
						m.Store(k, 1)
						m.promoteAll()
						m.Delete(k)
					}
					m.Compute(k, func(int, bool) (int, ComputeOp) { during(); return 0, CancelOp })
				}
			default:
				c.run = func(m *Map[int, int], k int, during func()) {
					if p == "before" {
						m.Store(k, 1)
						m.promoteAll()
						m.Delete(k)
					}
					func() {
						defer func() { recover() }()
						m.LoadOrCompute(k, func() int { during(); panic("model") })
					}()
				}
			}
			all = append(all, c)
		}
	}
	for _, c := range all {
		t.Run(c.name+"/"+c.promote, func(t *testing.T) {
			var m Map[int, int]
			keys := keysInSegment(&m, 0, 8, 0)
			k := keys[0]
			for _, x := range keys[1:] {
				m.Store(x, x)
			}
			during := func() {
				if c.promote == "during" {
					m.promoteAll()
				}
			}
			c.run(&m, k, during)
			if _, ok := m.Load(k); ok {
				t.Fatalf("key %d present", k)
			}
			tb := m.t.Load()
			s := tb.segs[0].Load()
			h, _ := tb.locate(k)
			held := func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				e, sl := s.findLocked(tb, h, k, nil)
				return e != nil || sl.ok()
			}
			// The sweeps run below by hand, as their timers would; a timer
			// must be armed for each, or nothing would run them.
			for i := range 2 {
				if held() && !s.sweepArmed.Load() {
					t.Errorf("key %d held before sweep %d, and no sweep armed", k, i+1)
				}
				m.sweepAll()
			}
			st := m.Stats()
			if st.Tombstones != 0 {
				t.Errorf("%d tombstones after two sweeps", st.Tombstones)
			}
			if held() {
				t.Errorf("key %d still held after two sweeps", k)
			}
			stopSweeps(&m)
			if err := m.checkInvariants(); err != nil {
				t.Error(err)
			}
		})
	}
}
