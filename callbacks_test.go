package safemap

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCallbackHoldsNoLock blocks a Compute or LoadOrCompute callback
// on a key in each place a key can be (read, dirty, absent, a tombstone of
// read or dirty, swept), and meanwhile runs every other operation on keys
// of the same segment, and rebuilds the segment under the callback: none
// may wait for the callback, the callback's key must read as before, and
// writers of that key must wait and then see its result.
func TestCallbackHoldsNoLock(t *testing.T) {
	places := []string{"read", "dirty", "absent", "read tombstone", "dirty tombstone", "swept"}
	for _, place := range places {
		for _, kind := range []string{"Compute", "LoadOrCompute", "Compute-delete"} {
			t.Run(place+"/"+kind, func(t *testing.T) {
				auditCallbackHoldsNoLock(t, place, kind)
			})
		}
	}
}

func auditCallbackHoldsNoLock(t *testing.T, place, kind string) {
	m := new(Map[int, int])
	seg := m.segmentOf(0)
	ks := keysInSegment(m, seg, 60, 0)
	k := ks[0]
	others := ks[1:40] // promoted below
	fresh := ks[40:]   // new keys, some stored into dirty
	for _, o := range others {
		m.Store(o, o)
	}
	present := false
	switch place {
	case "read":
		m.Store(k, 7)
		m.promoteAll()
		present = true
	case "dirty":
		m.promoteAll()
		m.Store(k, 7)
		present = true
	case "absent":
		m.promoteAll()
	case "read tombstone":
		m.Store(k, 7)
		m.promoteAll()
		m.Delete(k)
	case "dirty tombstone":
		m.promoteAll()
		m.Store(k, 7)
		m.Delete(k)
	case "swept":
		m.Store(k, 7)
		m.promoteAll()
		m.Delete(k)
		m.sweepAll()
	}
	// Two fresh keys in dirty, present.
	m.Store(fresh[0], fresh[0])
	m.Store(fresh[1], fresh[1])
	if kind == "LoadOrCompute" && present {
		return // LoadOrCompute does not call valueFn on a present key
	}
	entered := make(chan struct{})
	release := make(chan struct{})
	done := make(chan struct{})
	var result string
	go func() {
		defer close(done)
		switch kind {
		case "Compute", "Compute-delete":
			op := UpdateOp
			if kind == "Compute-delete" {
				op = DeleteOp
			}
			a, ok := m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
				close(entered)
				<-release
				return 99, op
			})
			result = fmt.Sprint(a, ok)
		case "LoadOrCompute":
			a, l := m.LoadOrCompute(k, func() int {
				close(entered)
				<-release
				return 99
			})
			result = fmt.Sprint(a, l)
		}
	}()
	<-entered
	// A writer of k must wait for the callback.
	writerDone := make(chan int, 1)
	go func() {
		v, _ := m.Swap(k, 123)
		writerDone <- v
	}()
	// The Swap must count itself among the segment's waiters and stay
	// there; it must not return while the callback runs.
	sg := m.t.Load().segs[seg].Load()
wait:
	for sg.waiters.Load() == 0 {
		select {
		case prev := <-writerDone:
			t.Errorf("Swap(%d) did not wait for the callback", k)
			writerDone <- prev // for the checks below
			break wait
		default:
			runtime.Gosched()
		}
	}
	ok := auditWithin(t, "operations during the callback", 5*time.Second, func() {
		for round := range 3 {
			v, ok := m.Load(k)
			if ok != present || (present && v != 7) {
				t.Errorf("round %d: Load(k) = %d, %v during the callback; want 7, %v", round, v, ok, present)
			}
			for _, o := range others[6:] {
				if v, ok := m.Load(o); !ok || v != o {
					t.Errorf("Load(%d) = %d, %v", o, v, ok)
				}
			}
			m.Store(others[0], -1)
			m.Delete(others[1])
			m.Store(others[1], others[1])
			m.Store(fresh[0], -2) // present in dirty
			m.Delete(fresh[1])    // present in dirty
			m.Store(fresh[1], fresh[1])
			m.Store(fresh[2+round], 1) // new
			m.LoadOrStore(others[2], 0)
			m.Swap(others[3], others[3])
			m.CompareAndSwap(others[4], others[4], others[4])
			m.Compute(others[5], func(old int, _ bool) (int, ComputeOp) { return old, UpdateOp })
			m.LoadOrCompute(fresh[10+round], func() int { return 1 })
			m.Range(func(rk, rv int) bool {
				if rk == k && (!present || rv != 7) {
					t.Errorf("Range saw k=%d during the callback; present %v", rv, present)
				}
				return true
			})
			_ = m.Len()
			_ = m.Stats()
			if _, err := m.MarshalJSON(); err != nil {
				t.Error(err)
			}
			// Rebuild the segment under the callback's mark.
			switch round {
			case 0:
				m.promoteAll()
			case 1:
				m.sweepAll()
				m.sweepAll()
			case 2:
				m.nearPromotion()
				m.Load(fresh[0])
				m.Load(fresh[50%len(fresh)])
			}
		}
	})
	close(release)
	if !ok {
		return
	}
	<-done
	prev := <-writerDone
	want := "99 true"
	if kind == "LoadOrCompute" {
		want = "99 false"
	}
	if kind == "Compute-delete" {
		want = "0 false"
	}
	if result != want {
		t.Errorf("callback's call returned %s; want %s", result, want)
	}
	if kind == "Compute-delete" {
		if prev != 0 {
			t.Errorf("the waiting Swap returned previous %d; want 0 (deleted)", prev)
		}
	} else if prev != 99 {
		t.Errorf("the waiting Swap returned previous %d; want 99", prev)
	}
	if v, ok := m.Load(k); !ok || v != 123 {
		t.Errorf("Load(k) = %d, %v after; want 123", v, ok)
	}
	if err := m.checkInvariants(); err != nil {
		t.Error(err)
	}
}

// TestCallbackPanicsInStates makes callbacks panic on keys in every
// place, with writers waiting on them, and checks that the waiters go on,
// that LoadOrCompute's waiters then run one valueFn between them, and that
// the map is consistent.
func TestCallbackPanicsInStates(t *testing.T) {
	for _, st := range auditStates() {
		for _, k := range []int{1, 2, 4999} {
			m, want := st.make()
			m.Delete(2)
			delete(want, 2)
			_, present := want[k]
			entered := make(chan struct{})
			release := make(chan struct{})
			first := make(chan any)
			go func() {
				_, v := docPanics(func() {
					m.LoadOrCompute(k, func() int {
						close(entered)
						<-release
						panic("first")
					})
				})
				first <- v
			}()
			if present {
				// LoadOrCompute returns at once; use Compute instead.
				<-first
				go func() {
					_, v := docPanics(func() {
						m.Compute(k, func(int, bool) (int, ComputeOp) {
							close(entered)
							<-release
							panic("first")
						})
					})
					first <- v
				}()
			}
			<-entered
			const waiters = 8
			var calls atomic.Int32
			var wg sync.WaitGroup
			results := make([]string, waiters)
			for w := range waiters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, l := m.LoadOrCompute(k, func() int { calls.Add(1); return 777 })
					results[w] = fmt.Sprint(a, l)
				}()
			}
			if !present {
				// Release the panicking call once every waiter waits for
				// it (a present key's LoadOrCompute returns at once).
				sg := m.t.Load().segs[m.segmentOf(k)].Load()
				for sg.waiters.Load() < waiters {
					runtime.Gosched()
				}
			}
			close(release)
			if v := <-first; v != "first" {
				t.Fatalf("%s k=%d: first call's panic %v", st.name, k, v)
			}
			if !auditWithin(t, st.name+": waiters", 5*time.Second, wg.Wait) {
				return
			}
			wantV := want[k]
			if !present {
				wantV = 777
				want[k] = 777
				if c := calls.Load(); c != 1 {
					t.Errorf("%s k=%d: %d valueFn calls after the panic; want 1", st.name, k, c)
				}
			} else if c := calls.Load(); c != 0 {
				t.Errorf("%s k=%d: %d valueFn calls on a present key", st.name, k, c)
			}
			nStored := 0
			for _, r := range results {
				if r == fmt.Sprint(wantV, false) {
					nStored++
				} else if r != fmt.Sprint(wantV, true) {
					t.Errorf("%s k=%d: a waiter got %s; want %d", st.name, k, r, wantV)
				}
			}
			if !present && nStored != 1 {
				t.Errorf("%s k=%d: %d waiters report loaded=false; want 1", st.name, k, nStored)
			}
			auditCheckInt(t, st.name, m, want)
		}
	}
}

// TestLoadOrComputeOnceUnderRebuilds races many LoadOrComputes on
// fresh keys while the segments are rebuilt: exactly one valueFn per key,
// all callers agree on the value, exactly one reports loaded=false.
func TestLoadOrComputeOnceUnderRebuilds(t *testing.T) {
	m := new(Map[int, int])
	for i := range 500 {
		m.Store(-1-i, i)
	}
	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Add(1)
	go auditChurner(m, stop, &churn, auditChurnKey)
	defer func() { close(stop); churn.Wait() }()
	for round := range 150 {
		key := round * 7
		if round%3 == 0 {
			m.Store(key, 1)
			m.Delete(key) // a tombstone first
		}
		const n = 8
		var calls atomic.Int32
		var wg sync.WaitGroup
		vals := make([]int, n)
		loads := make([]bool, n)
		start := make(chan struct{})
		for g := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				vals[g], loads[g] = m.LoadOrCompute(key, func() int {
					calls.Add(1)
					if g%2 == 0 {
						runtime.Gosched()
					}
					return 100 + g
				})
			}()
		}
		close(start)
		if !auditWithin(t, "LoadOrComputes", 10*time.Second, wg.Wait) {
			return
		}
		if c := calls.Load(); c != 1 {
			t.Errorf("round %d: valueFn ran %d times", round, c)
		}
		stored := 0
		for g := range n {
			if vals[g] != vals[0] {
				t.Errorf("round %d: callers got %v", round, vals)
				break
			}
			if !loads[g] {
				stored++
			}
		}
		if stored != 1 {
			t.Errorf("round %d: %d callers report loaded=false", round, stored)
		}
		if v, ok := m.Load(key); !ok || v != vals[0] {
			t.Errorf("round %d: Load = %d, %v; want %d", round, v, ok, vals[0])
		}
	}
}

// TestNestedCallbacks nests Compute, LoadOrCompute and Range callbacks
// on keys of one segment, each calling other methods on other keys and
// Load on the keys of the callbacks around it, in several states; then
// checks results and consistency.
func TestNestedCallbacks(t *testing.T) {
	for _, st := range auditStates() {
		m, want := st.make()
		_ = want
		seg := m.segmentOf(1)
		ks := keysInSegment(m, seg, 8, 10_000)
		k1, k2, k3, k4, k5 := ks[0], ks[1], ks[2], ks[3], ks[4]
		m.Store(k2, 2)
		m.Store(k5, 5)
		var trace []string
		ok := auditWithin(t, st.name+": nested callbacks", 5*time.Second, func() {
			a, aok := m.Compute(k1, func(old int, loaded bool) (int, ComputeOp) {
				trace = append(trace, fmt.Sprint("c1 ", old, loaded))
				b, bok := m.Compute(k2, func(old2 int, loaded2 bool) (int, ComputeOp) {
					trace = append(trace, fmt.Sprint("c2 ", old2, loaded2))
					v1, ok1 := m.Load(k1)
					trace = append(trace, fmt.Sprint("load k1 ", v1, ok1))
					c, cl := m.LoadOrCompute(k3, func() int {
						v2, ok2 := m.Load(k2)
						trace = append(trace, fmt.Sprint("load k2 ", v2, ok2))
						m.Store(k4, 4)
						m.Delete(k5)
						n := 0
						m.Range(func(k, v int) bool {
							if k == k1 || k == k3 {
								t.Errorf("Range saw %d=%d, which is absent until its callback returns", k, v)
							}
							if k == k2 && v != 2 {
								t.Errorf("Range saw k2=%d; want its old value 2", v)
							}
							n++
							return true
						})
						m.Compute(ks[5], func(int, bool) (int, ComputeOp) { return 6, UpdateOp })
						m.LoadOrCompute(ks[6], func() int { return 7 })
						return 3
					})
					trace = append(trace, fmt.Sprint("loc k3 ", c, cl))
					return old2 + 20, UpdateOp
				})
				trace = append(trace, fmt.Sprint("c2 done ", b, bok))
				return 1, UpdateOp
			})
			trace = append(trace, fmt.Sprint("c1 done ", a, aok))
		})
		if !ok {
			return
		}
		wantTrace := []string{"c1 0 false", "c2 2 true", "load k1 0 false", "load k2 2 true", "loc k3 3 false", "c2 done 22 true", "c1 done 1 true"}
		if fmt.Sprint(trace) != fmt.Sprint(wantTrace) {
			t.Errorf("%s: trace %q; want %q", st.name, trace, wantTrace)
		}
		exp := map[int]int{k1: 1, k2: 22, k3: 3, k4: 4, ks[5]: 6, ks[6]: 7}
		for k, v := range exp {
			if got, ok := m.Load(k); !ok || got != v {
				t.Errorf("%s: Load(%d) = %d, %v; want %d", st.name, k, got, ok, v)
			}
		}
		if _, ok := m.Load(k5); ok {
			t.Errorf("%s: k5 present", st.name)
		}
		if err := m.checkInvariants(); err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
	}
}

// TestCallbackOwnKeyWriteWaits checks what Compute's and LoadOrCompute's
// docs say of a callback that writes its own key: the write waits for the
// callback, which waits for the write, a deadlock confined to that key;
// but a LoadOrCompute or LoadOrStore of the key while it is present is a
// load, and returns its value at once.
// The test gives the inner write time to return, which it never may, and
// meanwhile checks that the key still reads as before and that the rest of
// the map works. Each case leaves its goroutine blocked on a map of its
// own, which nothing else uses.
func TestCallbackOwnKeyWriteWaits(t *testing.T) {
	inner := map[string]func(m *Map[int, int], k int){
		"Store":  func(m *Map[int, int], k int) { m.Store(k, 9) },
		"Delete": func(m *Map[int, int], k int) { m.Delete(k) },
		"Swap":   func(m *Map[int, int], k int) { m.Swap(k, 9) },
		"LoadOrStore": func(m *Map[int, int], k int) {
			if v, loaded := m.LoadOrStore(k, 9); !loaded || v != k {
				panic(fmt.Sprintf("LoadOrStore(%d) in the callback of Compute(%d) = %d, %v; want %d, true", k, k, v, loaded, k))
			}
		},
		"LoadAndDelete": func(m *Map[int, int], k int) { m.LoadAndDelete(k) },
		"Compute": func(m *Map[int, int], k int) {
			m.Compute(k, func(int, bool) (int, ComputeOp) { return 9, UpdateOp })
		},
		"LoadOrCompute": func(m *Map[int, int], k int) {
			if v, loaded := m.LoadOrCompute(k, func() int { return 9 }); !loaded || v != k {
				panic(fmt.Sprintf("LoadOrCompute(%d) in the callback of Compute(%d) = %d, %v; want %d, true", k, k, v, loaded, k))
			}
		},
	}
	outer := map[string]func(m *Map[int, int], k int, f func()){
		"Compute": func(m *Map[int, int], k int, f func()) {
			m.Compute(k, func(old int, _ bool) (int, ComputeOp) { f(); return old + 1, UpdateOp })
		},
		"LoadOrCompute": func(m *Map[int, int], k int, f func()) {
			m.LoadOrCompute(k, func() int { f(); return 1 })
		},
	}
	for on, out := range outer {
		for in, write := range inner {
			t.Run(on+"/"+in, func(t *testing.T) {
				const k = 7
				m := new(Map[int, int])
				for i := range 100 {
					m.Store(i, i)
				}
				if on == "LoadOrCompute" {
					m.Delete(k) // LoadOrCompute runs its callback for an absent key only
				}
				v0, ok0 := m.Load(k)
				started := make(chan struct{})
				returned := make(chan struct{})
				go func() {
					out(m, k, func() {
						close(started)
						write(m, k)
						close(returned) // reached only when the write is a load (below)
					})
				}()
				<-started
				if on == "Compute" && (in == "LoadOrCompute" || in == "LoadOrStore") {
					// The key is present, so this write is a load,
					// which never waits: it returns the old value, and
					// the outer Compute goes on to store old+1.
					if !auditWithin(t, in+" of a present key, then its Compute", 5*time.Second, func() {
						<-returned
						for v, _ := m.Load(k); v != k+1; v, _ = m.Load(k) {
							runtime.Gosched()
						}
					}) {
						return
					}
					v0 = k + 1
				} else {
					select {
					case <-returned:
						t.Fatalf("%s of the callback's own key returned; the docs say it waits for the callback", in)
					case <-time.After(20 * time.Millisecond):
					}
				}
				if v, ok := m.Load(k); v != v0 || ok != ok0 {
					t.Errorf("Load(%d) = %d, %v while its callback runs; want %d, %v", k, v, ok, v0, ok0)
				}
				ok := auditWithin(t, "writes of other keys", 5*time.Second, func() {
					m.Store(k+1, -1)
					m.Delete(k + 2)
					m.Compute(k+3, func(old int, _ bool) (int, ComputeOp) { return old * 10, UpdateOp })
				})
				if !ok {
					return
				}
				if v, _ := m.Load(k + 3); v != (k+3)*10 {
					t.Errorf("Load(%d) = %d after its Compute; want %d", k+3, v, (k+3)*10)
				}
				wantLen := 99 // k+2 deleted
				if !ok0 {
					wantLen-- // and k absent while LoadOrCompute computes it
				}
				if n := m.Len(); n != wantLen {
					t.Errorf("Len() = %d; want %d", n, wantLen)
				}
			})
		}
	}
}
