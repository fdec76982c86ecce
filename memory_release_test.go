package safemap

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Tests of memory release: every delete and overwrite path,
// for keys in every place a segment keeps them, values "at once" and keys
// within the documented bound (two sweep delays, at most 1 s each).

// valueReleaseWait is how long a value may take to be collected "at once":
// GC cycles only, far below the 500 ms of the shortest sweep delay.
const valueReleaseWait = 250 * time.Millisecond

// keyReleaseWait is how long a test waits for a deleted key to go: the
// documented two sweep delays (at most 2 s), with room for a loaded
// machine. A key that goes returns at once.
const keyReleaseWait = 5 * time.Second

// collectedWithin runs GC cycles until done is set or d has passed.
func collectedWithin(done *atomic.Bool, d time.Duration) (time.Duration, bool) {
	start := time.Now()
	for !done.Load() && time.Since(start) < d {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	return time.Since(start), done.Load()
}

// trackedValue returns a new bigValue whose collection sets done.
//
//go:noinline
func trackedValue(done *atomic.Bool) *bigValue {
	v := new(bigValue)
	runtime.AddCleanup(v, func(d *atomic.Bool) { d.Store(true) }, done)
	return v
}

// storeNils stores nil at each of keys, and returns keys.
func storeNils(m *Map[int, *bigValue], keys []int) []int {
	for _, k := range keys {
		m.Store(k, nil)
	}
	return keys
}

// storeTracked stores a tracked value at key k, and returns the flag its
// collection sets.
func storeTracked(m *Map[int, *bigValue], k int) *atomic.Bool {
	d := new(atomic.Bool)
	m.Store(k, trackedValue(d))
	return d
}

// valueReleaseStates puts a tracked value at a key of segment 0 in each
// place a segment keeps values, and returns that key and the flag its
// value's collection sets.
var valueReleaseStates = map[string]func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool){
	"read-promoted": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		d := storeTracked(m, keys[3])
		m.promoteAll()
		return keys[3], d
	},
	"read-stored": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		m.promoteAll()
		d := storeTracked(m, keys[3])
		return keys[3], d
	},
	"read-amended": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := keysInSegment(m, 0, 30, 0)
		for _, k := range keys[:20] {
			m.Store(k, nil)
		}
		m.promoteAll()
		for _, k := range keys[20:] {
			m.Store(k, nil) // dirty again, read amended and refiltered
		}
		d := storeTracked(m, keys[3])
		return keys[3], d
	},
	"read-revived": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		m.promoteAll()
		m.Delete(keys[3])
		d := storeTracked(m, keys[3])
		return keys[3], d
	},
	"read-after-sweeps": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		d := storeTracked(m, keys[3])
		m.promoteAll()
		m.Delete(keys[0]) // arms the sweep
		// Rebuild as a sweep would, but not through sweepAll: a sweepNow
		// run while the timer is pending leaves sweepArmed clear with the
		// timer still armed, which no timer-driven sweep does, and Clear
		// then skips stopping it (a test-hook artefact).
		s := m.t.Load().segs[0].Load()
		s.mu.Lock()
		s.rebuildLocked(m.t.Load(), false) // keys[3]'s entry moves to a new read map
		s.mu.Unlock()
		return keys[3], d
	},
	"small-read-rebuilt": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 3, 0))
		d := storeTracked(m, keys[1])
		m.promoteAll() // a smallReadOnly
		m.Store(keysInSegment(m, 0, 1, keys[2]+1)[0], nil)
		m.promoteAll() // another, with the first one's entries moved
		return keys[1], d
	},
	"dirty-inline": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := keysInSegment(m, 0, 2, 0)
		m.Store(keys[0], nil)
		d := storeTracked(m, keys[1])
		return keys[1], d
	},
	"dirty-grown": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		d := storeTracked(m, keys[3])
		return keys[3], d
	},
	"dirty-after-read": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := keysInSegment(m, 0, 30, 0)
		for _, k := range keys[:20] {
			m.Store(k, nil)
		}
		m.promoteAll()
		for _, k := range keys[20:] {
			m.Store(k, nil)
		}
		d := storeTracked(m, keys[25])
		return keys[25], d
	},
	"mid-growth-moved": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		done := map[int]*atomic.Bool{}
		moved := fillMidGrowth(t, m, done)
		return moved[0], done[moved[0]]
	},
	"mid-growth-unmoved": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		done := map[int]*atomic.Bool{}
		moved := fillMidGrowth(t, m, done)
		_ = moved
		s := m.t.Load().segs[0].Load()
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := s.dirty.moved; i < len(s.dirty.old.ctrl); i++ {
			if k := s.dirty.old.kv[i].key; s.dirty.old.ctrl[i] != 0 {
				return k, done[k]
			}
		}
		t.Fatal("no unmoved key in old")
		return 0, nil
	},
	"purged-small-survivor": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := keysInSegment(m, 0, 2*compactMin, 0)
		for _, k := range keys {
			m.Store(k, nil)
		}
		k := keys[len(keys)-1]
		d := storeTracked(m, k)
		for _, k := range keys[:2*compactMin*3/4+1] {
			m.Delete(k) // the last one purges dirty
		}
		return k, d
	},
	"purged-big-survivor": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 400, 0))
		k := keys[len(keys)-1]
		d := storeTracked(m, k)
		for _, k := range keys[:len(keys)*3/4+1] {
			m.Delete(k) // the last one moves the survivors to a new map
		}
		return k, d
	},
	"spare-reused": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := keysInSegment(m, 0, compactMin+1, 0)
		for _, k := range keys[:compactMin] {
			m.Store(k, nil)
		}
		for _, k := range keys[:compactMin] {
			m.Delete(k) // purged: dirty becomes the spare
		}
		d := storeTracked(m, keys[compactMin]) // the spare is dirty again
		return keys[compactMin], d
	},
	"computed-in-dirty": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		d := new(atomic.Bool)
		m.Compute(keys[3], func(*bigValue, bool) (*bigValue, ComputeOp) { return trackedValue(d), UpdateOp })
		return keys[3], d
	},
	"computed-in-read": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		m.promoteAll()
		d := new(atomic.Bool)
		m.Compute(keys[3], func(*bigValue, bool) (*bigValue, ComputeOp) { return trackedValue(d), UpdateOp })
		return keys[3], d
	},
	"computed-across-promotion": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		d := new(atomic.Bool)
		m.LoadOrCompute(keysInSegment(m, 0, 1, keys[19]+1)[0], func() *bigValue {
			m.promoteAll() // the mark moves from dirty to read
			m.Store(keys[0], nil)
			m.promoteAll() // and to a newer read map
			return trackedValue(d)
		})
		return keysInSegment(m, 0, 1, keys[19]+1)[0], d
	},
	"compute-cancelled": func(t *testing.T, m *Map[int, *bigValue]) (int, *atomic.Bool) {
		keys := storeNils(m, keysInSegment(m, 0, 20, 0))
		m.promoteAll()
		d := storeTracked(m, keys[3])
		m.Compute(keys[3], func(*bigValue, bool) (*bigValue, ComputeOp) { return nil, CancelOp })
		func() {
			defer func() { recover() }()
			m.Compute(keys[3], func(*bigValue, bool) (*bigValue, ComputeOp) { panic("x") })
		}()
		return keys[3], d
	},
}

// valueReleaseOps are the writes that drop a key's value: each must report
// that it changed the map.
var valueReleaseOps = map[string]func(m *Map[int, *bigValue], k int) bool{
	"Delete": func(m *Map[int, *bigValue], k int) bool { m.Delete(k); _, ok := m.Load(k); return !ok },
	"LoadAndDelete": func(m *Map[int, *bigValue], k int) bool {
		_, ok := m.LoadAndDelete(k)
		return ok
	},
	"CompareAndDelete": func(m *Map[int, *bigValue], k int) bool {
		v, _ := m.Load(k)
		return m.CompareAndDelete(k, v)
	},
	"Swap":  func(m *Map[int, *bigValue], k int) bool { _, ok := m.Swap(k, nil); return ok },
	"Store": func(m *Map[int, *bigValue], k int) bool { m.Store(k, nil); v, ok := m.Load(k); return ok && v == nil },
	"CompareAndSwap": func(m *Map[int, *bigValue], k int) bool {
		v, _ := m.Load(k)
		return m.CompareAndSwap(k, v, nil)
	},
	"ComputeUpdate": func(m *Map[int, *bigValue], k int) bool {
		_, ok := m.Compute(k, func(*bigValue, bool) (*bigValue, ComputeOp) { return nil, UpdateOp })
		return ok
	},
	"ComputeDelete": func(m *Map[int, *bigValue], k int) bool {
		_, ok := m.Compute(k, func(*bigValue, bool) (*bigValue, ComputeOp) { return nil, DeleteOp })
		return !ok
	},
	"Clear": func(m *Map[int, *bigValue], k int) bool { m.Clear(); return m.Len() == 0 },
}

// applyValueOp runs op in a frame of its own, so that no value it loads
// stays in the test's frame.
//
//go:noinline
func applyValueOp(op func(m *Map[int, *bigValue], k int) bool, m *Map[int, *bigValue], k int) bool {
	return op(m, k)
}

// setupValueState likewise.
//
//go:noinline
func setupValueState(t *testing.T, st func(*testing.T, *Map[int, *bigValue]) (int, *atomic.Bool), m *Map[int, *bigValue]) (int, *atomic.Bool) {
	return st(t, m)
}

// TestValueReleasedAtOnce: every write that deletes or replaces a
// value drops the map's last reference to it at once (GC cycles only, no
// sweep), wherever the segment keeps the key.
func TestValueReleasedAtOnce(t *testing.T) {
	for sn, st := range valueReleaseStates {
		for on, op := range valueReleaseOps {
			t.Run(sn+"/"+on, func(t *testing.T) {
				var m Map[int, *bigValue]
				k, done := setupValueState(t, st, &m)
				if done.Load() {
					t.Fatal("value collected before the write")
				}
				if !applyValueOp(op, &m, k) {
					t.Fatalf("%s changed nothing", on)
				}
				if el, ok := collectedWithin(done, valueReleaseWait); !ok {
					t.Errorf("value still reachable %v after %s (%s)", el, on, sn)
				}
				m.mustCheck()
				runtime.KeepAlive(&m)
			})
		}
	}
}

// TestComputeWaiterReleases: a Compute whose callback a Store waits
// for: the value the compute replaced (its marker's old box), the value it
// stored and the one the waiting Store stored are all released by the
// final Delete.
func TestComputeWaiterReleases(t *testing.T) {
	for _, st := range []string{"read", "dirty"} {
		t.Run(st, func(t *testing.T) {
			var m Map[int, *bigValue]
			keys := keysInSegment(&m, 0, 20, 0)
			for _, k := range keys {
				m.Store(k, nil)
			}
			var d1, d2, d3 atomic.Bool
			func() {
				m.Store(keys[3], trackedValue(&d1))
				if st == "read" {
					m.promoteAll()
				}
				var wg sync.WaitGroup
				m.Compute(keys[3], func(*bigValue, bool) (*bigValue, ComputeOp) {
					wg.Add(1)
					go func() {
						defer wg.Done()
						m.Store(keys[3], trackedValue(&d3)) // waits for the compute
					}()
					time.Sleep(20 * time.Millisecond)
					m.promoteAll()
					return trackedValue(&d2), UpdateOp
				})
				wg.Wait()
				m.Delete(keys[3])
			}()
			for i, d := range []*atomic.Bool{&d1, &d2, &d3} {
				if el, ok := collectedWithin(d, valueReleaseWait); !ok {
					t.Errorf("value %d still reachable %v after the Delete", i+1, el)
				}
			}
			m.mustCheck()
			runtime.KeepAlive(&m)
		})
	}
}

// keyReleaseStates stores the tracked key k in segment 0 of m in each place
// a segment keeps keys.
var keyReleaseStates = map[string]func(m *Map[*bigKey, int], k *bigKey){
	"read": func(m *Map[*bigKey, int], k *bigKey) {
		fillKeys(m, 100)
		m.Store(k, 1)
		m.promoteAll()
	},
	"read-alone": func(m *Map[*bigKey, int], k *bigKey) {
		// The segment's only key: no live entry makes the sweeps go on,
		// only the count of the entries that the first sweep marked.
		m.Store(k, 1)
		m.promoteAll()
	},
	"read-small": func(m *Map[*bigKey, int], k *bigKey) {
		fillKeys(m, 2)
		m.Store(k, 1)
		m.promoteAll()
	},
	"dirty-inline": func(m *Map[*bigKey, int], k *bigKey) {
		fillKeys(m, 1)
		m.Store(k, 1)
	},
	"dirty-grown": func(m *Map[*bigKey, int], k *bigKey) {
		fillKeys(m, 20)
		m.Store(k, 1)
		fillKeys(m, 5)
	},
	"dirty-after-read": func(m *Map[*bigKey, int], k *bigKey) {
		fillKeys(m, 100)
		m.promoteAll()
		fillKeys(m, 10)
		m.Store(k, 1)
	},
	"mid-growth-moved": func(m *Map[*bigKey, int], k *bigKey) {
		// The 49th key starts a growth from 64 slots to 128, the 50th
		// moves 32 old slots: k, the first key, is among them if its slot
		// is (checked by the caller through dirty).
		m.Store(k, 1)
		fillKeys(m, 49)
	},
	"mid-growth-deleted-then-grown": func(m *Map[*bigKey, int], k *bigKey) {
		m.Store(k, 1)
		fillKeys(m, 49)
	},
}

// fillKeys stores n new keys in segment 0.
func fillKeys(m *Map[*bigKey, int], n int) {
	for i := 0; n > 0; i++ {
		k := &bigKey{id: 1000 + i}
		if m.segmentOf(k) != 0 {
			continue
		}
		m.Store(k, i)
		n--
	}
}

// keyReleaseOps delete the tracked key (or leave it absent).
var keyReleaseOps = map[string]func(m *Map[*bigKey, int], k *bigKey){
	"Delete":           func(m *Map[*bigKey, int], k *bigKey) { m.Delete(k) },
	"LoadAndDelete":    func(m *Map[*bigKey, int], k *bigKey) { m.LoadAndDelete(k) },
	"CompareAndDelete": func(m *Map[*bigKey, int], k *bigKey) { m.CompareAndDelete(k, 1) },
	"ComputeDelete": func(m *Map[*bigKey, int], k *bigKey) {
		m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
	},
	"DeleteThenComputeCancel": func(m *Map[*bigKey, int], k *bigKey) {
		m.Delete(k)
		m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, CancelOp })
	},
	"DeleteThenLoadOrComputePanics": func(m *Map[*bigKey, int], k *bigKey) {
		m.Delete(k)
		func() {
			defer func() { recover() }()
			m.LoadOrCompute(k, func() int { panic("x") })
		}()
	},
	"DeleteThenComputePanics": func(m *Map[*bigKey, int], k *bigKey) {
		m.Delete(k)
		func() {
			defer func() { recover() }()
			m.Compute(k, func(int, bool) (int, ComputeOp) { panic("x") })
		}()
	},
	"DeleteStoreDelete": func(m *Map[*bigKey, int], k *bigKey) {
		m.Delete(k)
		m.Store(k, 2)
		m.Delete(k)
	},
}

// setupKeyState runs the state and the op in a frame of their own.
//
//go:noinline
func setupKeyState(t *testing.T, sn string, m *Map[*bigKey, int], done *atomic.Bool,
	st func(*Map[*bigKey, int], *bigKey), op func(*Map[*bigKey, int], *bigKey)) {
	var k *bigKey
	for i := 0; ; i++ {
		// In segment 0, and for the mid-growth states with a home among
		// the first old slots, which the 50th key moves.
		if k = (&bigKey{id: -1 - i}); m.segmentOf(k) == 0 && m.t.Load().hasher.hash(k)&63 < 16 {
			break
		}
	}
	runtime.AddCleanup(k, func(d *atomic.Bool) { d.Store(true) }, done)
	st(m, k)
	if sn == "mid-growth-moved" || sn == "mid-growth-deleted-then-grown" {
		s := m.t.Load().segs[0].Load()
		s.mu.Lock()
		d := s.dirty
		ok := d != nil && d.growing() && d.moved > 0
		if ok {
			ok = false
			for i := range d.old.kv[:d.moved] {
				if d.old.kv[i].key == k {
					ok = true
				}
			}
		}
		s.mu.Unlock()
		if !ok {
			t.Skip("the key's slot was not caught moved mid-growth")
		}
	}
	op(m, k)
	if sn == "mid-growth-deleted-then-grown" {
		fillKeys(m, 1) // moves more, the growth goes on
	}
}

// TestKeyReleasedWithinBound: a deleted key (and its entry) is
// unreachable from the map within two sweep delays, with no further call,
// wherever the segment kept it and whichever write deleted it.
func TestKeyReleasedWithinBound(t *testing.T) {
	for sn, st := range keyReleaseStates {
		for on, op := range keyReleaseOps {
			if testing.Short() && on != "Delete" && on != "ComputeDelete" {
				continue // every state, two ways of deleting
			}
			t.Run(sn+"/"+on, func(t *testing.T) {
				t.Parallel()
				var m Map[*bigKey, int]
				done := new(atomic.Bool)
				setupKeyState(t, sn, &m, done, st, op)
				if el, ok := collectedWithin(done, keyReleaseWait); !ok {
					t.Errorf("key still reachable %v after %s (%s): %+v", el, on, sn, m.Stats())
				}
				runtime.KeepAlive(&m)
			})
		}
	}
}

// TestClearRacingSweep: a sweep timer that has fired, and whose sweep
// waits for the segment's mu while Clear's clearInPlace holds it, must not
// keep the table that Clear then drops. When the sweep cleared sweepArmed
// before it took mu, Clear skipped its stopSweep (the flag was clear), and
// the sweep re-armed the timer on the dropped table when it found deleted
// entries: the table, with every old value, stayed reachable through the
// timer for another sweep delay, though Clear drops every old key and
// value at once. Since the timers reach their table only through weak
// pointers (see sweeper), the values go at once even without stopSweep;
// the test stays as a check of that, in the order that once failed.
//
// The order is forced: the test holds segment 0's mu, Clear queues on it
// first (in clearInPlace), the timer's function second; a mutex waiter
// blocked for over 1 ms is handed the lock in FIFO order (starvation
// mode).
func TestClearRacingSweep(t *testing.T) {
	var m Map[int, *bigValue]
	keys := keysInSegment(&m, 0, 20, 0)
	var done atomic.Bool
	func() {
		for _, k := range keys {
			m.Store(k, nil)
		}
		m.Store(keys[1], trackedValue(&done))
		m.promoteAll()
	}()
	m.Delete(keys[0]) // a tombstone; arms segment 0's sweep
	tb := m.t.Load()
	s := tb.segs[0].Load()
	s.mu.Lock()
	w := s.slow.sweep
	w.timer.Stop() // the test fires it by hand below
	cleared := make(chan struct{})
	go func() { m.Clear(); close(cleared) }()
	time.Sleep(20 * time.Millisecond) // Clear waits for mu in clearInPlace
	swept := make(chan struct{})
	go func() { w.fire(); close(swept) }() // clears sweepArmed, waits for mu
	time.Sleep(20 * time.Millisecond)
	s.mu.Unlock()
	<-cleared
	<-swept
	tb, s, w = nil, nil, nil
	if el, ok := collectedWithin(&done, valueReleaseWait); !ok {
		t.Errorf("a value of the dropped table still reachable %v after Clear: the sweep re-armed its timer on it", el)
	}
	runtime.KeepAlive(&m)
}

// TestDroppedMap: a Map that the program drops while its sweep
// timers are armed (deleted keys waiting) is collected at once, with its
// table, keys and values: the timers reach them only weakly (see sweeper).
// valueReleaseWait is half the shortest sweep delay, so a timer that held
// the table until it fired would fail the test.
func TestDroppedMap(t *testing.T) {
	var mapDone, valDone, keyDone atomic.Bool
	func() {
		m := new(Map[*bigKey, *bigValue])
		runtime.AddCleanup(m, func(d *atomic.Bool) { d.Store(true) }, &mapDone)
		for i := range 200 {
			m.Store(&bigKey{id: i}, nil)
		}
		k := &bigKey{id: -1}
		runtime.AddCleanup(k, func(d *atomic.Bool) { d.Store(true) }, &keyDone)
		m.Store(k, trackedValue(&valDone))
		m.promoteAll()
		for i := range 50 {
			m.Delete(&bigKey{id: i}) // pointer keys: absent, no-ops
		}
		m.Range(func(k *bigKey, _ *bigValue) bool {
			if k.id >= 0 && k.id < 50 {
				m.Delete(k) // tombstones in several segments: sweeps armed
			}
			return true
		})
		armed := 0
		for s := range m.t.Load().allSegments() {
			if s.sweepArmed.Load() {
				armed++
			}
		}
		if armed == 0 {
			t.Fatal("no sweep armed")
		}
	}()
	el, ok := collectedWithin(&mapDone, valueReleaseWait)
	t.Logf("the Map collected after %v (%v)", el, ok)
	if !ok {
		t.Errorf("dropped Map still reachable after %v", el)
	}
	el, ok = collectedWithin(&valDone, valueReleaseWait)
	t.Logf("live value of the dropped map collected after %v (%v)", el, ok)
	if !ok {
		t.Errorf("a value of the dropped Map still reachable after %v", el)
	}
	el, ok = collectedWithin(&keyDone, valueReleaseWait)
	t.Logf("its live key collected %v later (%v)", el, ok)
	if !ok {
		t.Errorf("a key of the dropped Map still reachable after %v", el)
	}
}

// TestClearReleasesKeys: Clear drops every old key at once, live or
// deleted, in read or in dirty, in both of its paths.
func TestClearReleasesKeys(t *testing.T) {
	for _, st := range []string{"read-live", "read-deleted", "dirty-live", "dirty-deleted", "dirty-inplace-live", "dirty-inplace-deleted"} {
		t.Run(st, func(t *testing.T) {
			var m Map[*bigKey, int]
			var done atomic.Bool
			func() {
				var k *bigKey
				for i := 0; ; i++ {
					if k = (&bigKey{id: -1 - i}); m.segmentOf(k) == 0 {
						break
					}
				}
				runtime.AddCleanup(k, func(d *atomic.Bool) { d.Store(true) }, &done)
				switch st {
				case "dirty-inplace-live", "dirty-inplace-deleted":
					fillKeys(&m, 2)
				default:
					fillKeys(&m, 100)
				}
				m.Store(k, 1)
				if st == "read-live" || st == "read-deleted" {
					m.promoteAll()
				}
				if st == "read-deleted" || st == "dirty-deleted" || st == "dirty-inplace-deleted" {
					m.Delete(k)
				}
			}()
			tb := m.t.Load()
			m.Clear()
			inPlace := m.t.Load() == tb
			tb = nil
			if want := st == "dirty-inplace-live" || st == "dirty-inplace-deleted"; inPlace != want {
				t.Fatalf("in place = %v, want %v", inPlace, want)
			}
			if el, ok := collectedWithin(&done, valueReleaseWait); !ok {
				t.Errorf("key still reachable %v after Clear", el)
			}
			runtime.KeepAlive(&m)
		})
	}
}
