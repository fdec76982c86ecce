package safemap

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Adversarial tests of the sweep timers' lifecycle (sweep.go: sweeper,
// sweepTarget, fire, startSweepLocked, stopSweep) against Clear's two paths
// (clear.go), dropped maps and the collector.

// sweepLCSweepers checks every made segment of m's current table: a
// segment with a sweeper must have a target, and that target must reach
// (weakly) the segment itself and the current table; a segment whose sweep
// is armed must have a sweeper. Call it with no write in flight (armSweep
// sets the flag before it makes the sweeper). It returns how many segments
// have a sweeper.
func sweepLCSweepers[K comparable, V any](m *Map[K, V]) (sweepers int, err error) {
	t := m.t.Load()
	if t == nil {
		return 0, nil
	}
	for i := range t.segs {
		s := t.segs[i].Load()
		if s == nil {
			continue
		}
		s.mu.Lock()
		armed := s.sweepArmed.Load()
		var w *sweeper[K, V]
		if s.slow != nil {
			w = s.slow.sweep
		}
		s.mu.Unlock()
		if w == nil {
			if armed {
				return sweepers, fmt.Errorf("segment %d of the live table: sweep armed, but no sweeper", i)
			}
			continue
		}
		sweepers++
		g := w.target.Load()
		if g == nil {
			return sweepers, fmt.Errorf("segment %d of the live table: its sweeper has no target (armed %v): its deleted keys are never swept", i, armed)
		}
		if gs, gt := g.s.Value(), g.t.Value(); gs != s || gt != t {
			return sweepers, fmt.Errorf("segment %d of the live table: target reaches segment %p table %p, want %p %p", i, gs, gt, s, t)
		}
	}
	return sweepers, nil
}

// sweepLCKeysInSegment returns n new bigKeys of segment i of m, ids from id
// downwards.
func sweepLCKeysInSegment[V any](m *Map[*bigKey, V], i, n, id int) []*bigKey {
	var ks []*bigKey
	for ; len(ks) < n; id-- {
		if k := (&bigKey{id: id}); m.segmentOf(k) == i {
			ks = append(ks, k)
		}
	}
	return ks
}

// sweepLCTrack attaches a cleanup to k that adds one to n.
func sweepLCTrack(k *bigKey, n *atomic.Int32) {
	runtime.AddCleanup(k, func(n *atomic.Int32) { n.Add(1) }, n)
}

// sweepLCCollectedN runs GC cycles until n reaches want or d has passed.
func sweepLCCollectedN(n *atomic.Int32, want int32, d time.Duration) (time.Duration, bool) {
	start := time.Now()
	for n.Load() < want && time.Since(start) < d {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	return time.Since(start), n.Load() >= want
}

// sweepLCTombstones leaves, in every segment of m, one tracked key deleted
// in read (a tombstone that only the sweeps drop) and one tracked key
// deleted in dirty (kept, deleted, until a sweep or promotion), and returns
// how many keys it tracks. The keys are made in a frame of their own.
//
//go:noinline
func sweepLCTombstones[V any](t *testing.T, m *Map[*bigKey, V], n *atomic.Int32, id int) int32 {
	var v V
	var tracked int32
	var segKeys [segments][]*bigKey
	for i := range segments {
		ks := sweepLCKeysInSegment(m, i, 41, id)
		id = ks[len(ks)-1].id - 1
		for _, k := range ks[:40] {
			m.Store(k, v)
		}
		segKeys[i] = ks
	}
	m.promoteAll()
	for _, ks := range segKeys {
		sweepLCTrack(ks[0], n)
		m.Delete(ks[0]) // a tombstone of read: 1 of 40, no compaction
		m.Store(ks[40], v)
		sweepLCTrack(ks[40], n)
		m.Delete(ks[40]) // a deleted key of dirty: 1 of 1, no purge (below compactMin)
		tracked += 2
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	st := m.Stats()
	if st.Tombstones != 2*segments {
		t.Fatalf("Stats %+v: want a tombstone and a deleted dirty key in each segment", st)
	}
	return tracked
}

// sweepLCExpectSwept checks that the keys sweepLCTombstones deleted are still
// reachable right after (only a sweep drops them, so the check below means
// something) and collected within keyReleaseWait.
func sweepLCExpectSwept[V any](t *testing.T, m *Map[*bigKey, V], n *atomic.Int32, want int32) {
	t.Helper()
	runtime.GC()
	runtime.GC()
	if got := n.Load(); got == want {
		t.Logf("note: all %d deleted keys already collected at this check", want)
	}
	if el, ok := sweepLCCollectedN(n, want, keyReleaseWait); !ok {
		t.Errorf("%d of %d deleted keys still reachable %v after their deletes: the sweeps never ran; Stats %+v", want-n.Load(), want, el, m.Stats())
	}
}

// TestSweepLifecycleInPlaceClearKeepsSweeping: Clear's in-place path keeps
// the table and its segments, so it must leave their sweepers targeted:
// deletes after any number of in-place Clears (and Clears that replace the
// table) are still swept, in read and in dirty, in every segment.
func TestSweepLifecycleInPlaceClearKeepsSweeping(t *testing.T) {
	var m Map[*bigKey, int]
	inPlace, replaced := 0, 0
	id := -1
	for round := range 6 {
		// Keys in dirty only, one deleted (arms the sweep of segment i):
		// an in-place Clear. Every third round a promoted key too: the
		// table is replaced.
		for i := range segments {
			ks := sweepLCKeysInSegment(&m, i, 3, id)
			id = ks[len(ks)-1].id - 1
			for _, k := range ks {
				m.Store(k, 1)
			}
			m.Delete(ks[0])
		}
		if round%3 == 2 {
			m.promoteAll()
		}
		tb := m.t.Load()
		m.Clear()
		if m.t.Load() == tb {
			inPlace++
		} else {
			replaced++
		}
		if m.Len() != 0 {
			t.Fatalf("Len() = %d after Clear", m.Len())
		}
		if n, err := sweepLCSweepers(&m); err != nil {
			t.Fatalf("round %d: %v", round, err)
		} else if m.t.Load() == tb && n == 0 {
			t.Fatalf("round %d: no sweeper after an in-place Clear of a map with deletes", round)
		}
	}
	if inPlace == 0 || replaced == 0 {
		t.Fatalf("in place %d, replaced %d: the test checks nothing", inPlace, replaced)
	}
	// One more in-place Clear right before the deletes.
	ks := sweepLCKeysInSegment(&m, 0, 2, id)
	id = ks[len(ks)-1].id - 1
	m.Store(ks[0], 1)
	m.Store(ks[1], 1)
	m.Delete(ks[1]) // a deleted key of dirty (a Delete of an absent key would be a miss, and promote)
	tb := m.t.Load()
	m.Clear()
	if m.t.Load() != tb {
		t.Fatal("Clear of a map with dirty keys only replaced the table")
	}
	var n atomic.Int32
	want := sweepLCTombstones(t, &m, &n, id)
	if _, err := sweepLCSweepers(&m); err != nil {
		t.Fatal(err)
	}
	sweepLCExpectSwept(t, &m, &n, want)
	runtime.KeepAlive(&m)
}

// TestSweepLifecycleInPlaceClearRacingFire: TestClearRacingSweep's order (a
// fired sweep waits for mu while clearInPlace holds it), but the Clear
// empties the table in place: no stopSweep may run then, the sweep runs on
// the emptied, live segment, and the segment's later deletes are swept.
func TestSweepLifecycleInPlaceClearRacingFire(t *testing.T) {
	var m Map[*bigKey, int]
	ks := sweepLCKeysInSegment(&m, 0, 3, -1)
	for _, k := range ks {
		m.Store(k, 1)
	}
	m.Delete(ks[0]) // a deleted key of dirty: arms segment 0's sweep
	tb := m.t.Load()
	s := tb.segs[0].Load()
	s.mu.Lock()
	w := s.slow.sweep
	w.timer.Stop() // fired by hand below
	cleared := make(chan struct{})
	go func() { m.Clear(); close(cleared) }()
	time.Sleep(20 * time.Millisecond) // Clear waits for mu in clearInPlace
	swept := make(chan struct{})
	go func() { w.fire(); close(swept) }() // clears sweepArmed, waits for mu
	time.Sleep(20 * time.Millisecond)
	s.mu.Unlock()
	<-cleared
	<-swept
	if m.t.Load() != tb {
		t.Fatal("Clear replaced the table; want in place")
	}
	if g := w.target.Load(); g == nil || g.s.Value() != s || g.t.Value() != tb {
		t.Fatal("the in-place Clear dropped the live segment's sweep target")
	}
	if s.sweepArmed.Load() {
		t.Fatal("sweepArmed set after a sweep of an emptied segment, with its timer stopped: no delete would arm it again")
	}
	tb, s, w = nil, nil, nil
	var n atomic.Int32
	want := sweepLCTombstones(t, &m, &n, -1000)
	sweepLCExpectSwept(t, &m, &n, want)
	runtime.KeepAlive(&m)
}

// TestSweepLifecycleClearStressLiveTargets: writers, Loads (promotions),
// Ranges and Clears of both kinds at once, under -race. Once they stop,
// every sweeper of the live table reaches its own segment and the live
// table, and tombstones left afterwards in every segment are swept.
func TestSweepLifecycleClearStressLiveTargets(t *testing.T) {
	var m Map[*bigKey, int]
	pool := make([]*bigKey, 512)
	for i := range pool {
		pool[i] = &bigKey{id: i}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for !stop.Load() {
				k := pool[r.IntN(len(pool))]
				switch r.IntN(10) {
				case 0, 1, 2:
					m.Store(k, g)
				case 3, 4:
					m.Delete(k)
				case 5:
					m.LoadAndDelete(k)
				case 6:
					m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
						if loaded && old%2 == 0 {
							return 0, DeleteOp
						}
						return old + 1, UpdateOp
					})
				case 7:
					m.CompareAndDelete(k, g)
				default:
					m.Load(k)
				}
			}
		}()
	}
	var inPlace, replaced int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			tb := m.t.Load()
			m.Clear()
			if tb != nil && m.t.Load() == tb {
				inPlace++
			} else if tb != nil {
				replaced++
			}
			m.Clear() // right after: a fresh table with few keys, all in dirty
			if tb2 := m.t.Load(); tb2 != nil {
				m.Clear()
				if m.t.Load() == tb2 {
					inPlace++
				}
			}
			if inPlace%8 == 0 {
				m.Range(func(*bigKey, int) bool { return true })
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	time.Sleep(600 * time.Millisecond)
	stop.Store(true)
	waitOrFail(t, &wg)
	t.Logf("Clears: %d in place, %d replaced", inPlace, replaced)
	if inPlace == 0 || replaced == 0 {
		t.Fatalf("Clears: %d in place, %d replaced: want both", inPlace, replaced)
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	if _, err := sweepLCSweepers(&m); err != nil {
		t.Fatal(err)
	}
	pool = nil
	var n atomic.Int32
	want := sweepLCTombstones(t, &m, &n, -1)
	if _, err := sweepLCSweepers(&m); err != nil {
		t.Fatal(err)
	}
	sweepLCExpectSwept(t, &m, &n, want)
	runtime.KeepAlive(&m)
}

// TestSweepLifecycleStaleTableWrites: writes still in flight on a table that
// Clear replaced, modelled by a second Map sharing the dropped table,
// race with sweeps of that table: its stopped timers fired by hand (with
// no target they do nothing), sweepNow called as a timer that fired before
// stopSweep would, and the first timers that those writes arm on segments
// made after the Clear (which keep their target, as stopSweep's comment
// says). The dropped table stays consistent, the writes on it land as
// modelled, and the live map is untouched. Old sweepers never get a target
// again.
func TestSweepLifecycleStaleTableWrites(t *testing.T) {
	var m Map[int, int]
	keys := promotedKeys(&m, 0, 64)
	for _, k := range keys[:8] {
		m.Delete(k) // tombstones: arms segment 0's sweep
	}
	old := m.t.Load()
	madeBefore := old.made.Load()
	m.Clear()
	if m.t.Load() == old {
		t.Fatal("Clear kept a table with entries in read")
	}
	stale := new(Map[int, int])
	stale.t.Store(old)

	const W = 4
	models := make([]map[int]int, W)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range W {
		models[g] = map[int]int{}
		for _, k := range keys[8:] {
			if k%W == g {
				models[g][k] = k
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 20000; i++ {
				k := W*r.IntN(500) + g
				switch r.IntN(3) {
				case 0:
					stale.Store(k, i)
					models[g][k] = i
				case 1:
					stale.Delete(k)
					delete(models[g], k)
				case 2:
					v, ok := stale.Load(k)
					if mv, mok := models[g][k]; ok != mok || v != mv {
						t.Errorf("stale Load(%d) = %d, %v; model %d, %v", k, v, ok, mv, mok)
						return
					}
				}
			}
		}()
	}
	var fires int
	var sw sync.WaitGroup
	sw.Add(1)
	go func() {
		defer sw.Done()
		for !stop.Load() {
			for s := range old.allSegments() {
				s.mu.Lock()
				var w *sweeper[int, int]
				if s.slow != nil {
					w = s.slow.sweep
				}
				s.mu.Unlock()
				if w != nil {
					w.fire()
					fires++
				}
				s.sweepNow(old)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	waitOrFail(t, &wg) // the writers
	stop.Store(true)
	waitOrFail(t, &sw)
	t.Logf("%d fires of the dropped table's sweepers", fires)
	if err := stale.checkInvariants(); err != nil {
		t.Fatalf("dropped table after stale writes and sweeps: %v", err)
	}
	want := map[int]int{}
	for _, mm := range models {
		for k, v := range mm {
			want[k] = v
		}
	}
	got := map[int]int{}
	stale.Range(func(k, v int) bool { got[k] = v; return true })
	if len(got) != len(want) {
		t.Fatalf("dropped table holds %d keys, model %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("dropped table: key %d = %d, model %d", k, got[k], v)
		}
	}
	if m.Len() != 0 {
		t.Fatalf("live map Len() = %d after Clear; writes on the dropped table leaked into it", m.Len())
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	// Lifecycle: the sweepers that stopSweep stopped never get a target
	// again; those first made after it sweep the dropped table.
	after := 0
	for i := range old.segs {
		s := old.segs[i].Load()
		if s == nil {
			continue
		}
		s.mu.Lock()
		var w *sweeper[int, int]
		if s.slow != nil {
			w = s.slow.sweep
		}
		s.mu.Unlock()
		if w == nil {
			continue
		}
		g := w.target.Load()
		if madeBefore&(1<<i) != 0 {
			if g != nil {
				t.Errorf("segment %d, made before Clear: its stopped sweeper still has, or got back, a target", i)
			}
		} else {
			after++
			if g == nil || g.t.Value() != old || g.s.Value() != s {
				t.Errorf("segment %d, made after Clear by a stale write: its first sweeper does not target the dropped table", i)
			}
		}
	}
	if after == 0 {
		t.Fatal("no segment of the dropped table got its first sweeper after Clear: the test misses that case")
	}
	runtime.KeepAlive(stale)
}

// TestSweepLifecycleDroppedTableSweptAfterStopSweep: a timer that fired
// before Clear's stopSweep took mu, and whose sweep waits for mu behind
// stopSweep, sweeps the dropped table after stopSweep has cleared the
// target, and re-arms the timer (target nil) while doing so. Harmless (the
// sweep holds mu, as every sweep does, and the re-armed timer fires with no
// target), but it contradicts the comments "stopSweep also clears target
// at once, so that a dropped table is not swept while the GC has yet to
// collect it" (sweeper) and "taking mu waits for such a sweep to end"
// (stopSweep): taking mu orders the two either way.
func TestSweepLifecycleDroppedTableSweptAfterStopSweep(t *testing.T) {
	var m Map[int, int]
	keys := promotedKeys(&m, 0, 20)
	m.Delete(keys[0]) // a tombstone; arms segment 0's sweep
	old := m.t.Load()
	s := old.segs[0].Load()
	s.mu.Lock()
	w := s.slow.sweep
	w.timer.Stop()
	// Clear replaces the table (a promoted key) with mu held: clearInPlace
	// would wait for mu, so replace it as Clear does after clearInPlace.
	m.initMu.Lock()
	m.t.Store(old.cleared())
	m.initMu.Unlock()
	stopped := make(chan struct{})
	go func() { s.stopSweep(); close(stopped) }() // Clear's loop; first waiter
	time.Sleep(20 * time.Millisecond)
	swept := make(chan struct{})
	go func() { w.fire(); close(swept) }() // loads the target now, second waiter
	time.Sleep(20 * time.Millisecond)
	s.mu.Unlock()
	<-stopped
	<-swept
	if w.target.Load() != nil {
		t.Fatal("stopSweep left the target")
	}
	rearmed := w.timer.Stop()
	e := old.loadRead(0).find(old.hasher.hash(keys[0]), keys[0])
	sweptAfter := e != nil && e.p.Load() == old.swept && rearmed
	if !rearmed {
		t.Skip("the sweep took mu before stopSweep: order not forced")
	}
	if !sweptAfter {
		t.Fatal("the queued sweep did not run")
	}
	t.Logf("the dropped table was swept after stopSweep cleared its target, and its timer re-armed with no target")
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestSweepLifecycleResurrectedMap: a Map reachable only from an object whose
// finalizer resurrects it. The finalized object itself is not marked in
// that cycle, but everything it reaches is, so the table's and segments'
// weak pointers must survive: the sweeps armed before, and those armed
// after, still run.
func TestSweepLifecycleResurrectedMap(t *testing.T) {
	type holder struct {
		m Map[*bigKey, int]
	}
	var before, after atomic.Int32
	var wantBefore int32
	back := make(chan *holder, 1)
	func() {
		h := new(holder)
		wantBefore = sweepLCTombstones(t, &h.m, &before, -1)
		runtime.SetFinalizer(h, func(h *holder) { back <- h })
	}()
	var h *holder
	deadline := time.Now().Add(2 * time.Second)
	for h == nil && time.Now().Before(deadline) {
		runtime.GC()
		select {
		case h = <-back:
		case <-time.After(time.Millisecond):
		}
	}
	if h == nil {
		t.Fatal("the holder's finalizer never ran")
	}
	if got := before.Load(); got != 0 {
		t.Skipf("%d deleted keys were swept before the finalizer ran: the sweeps armed before it are not what frees them", got)
	}
	if _, err := sweepLCSweepers(&h.m); err != nil {
		t.Fatalf("resurrected map: %v", err)
	}
	wantAfter := sweepLCTombstones(t, &h.m, &after, -100000)
	sweepLCExpectSwept(t, &h.m, &before, wantBefore)
	sweepLCExpectSwept(t, &h.m, &after, wantAfter)
	if err := h.m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(h)
}

// TestSweepLifecycleSegmentCreationRace: goroutines race to make a segment
// (table.segment's CAS) and delete at once; the sweeper that their deletes
// make must target the published segment, never a CAS loser's.
func TestSweepLifecycleSegmentCreationRace(t *testing.T) {
	for range 50 {
		m := new(Map[int, int])
		keys := keysInSegment(m, 0, 8, 0)
		m.Store(keysInSegment(m, 1, 1, 0)[0], 1) // the table, not segment 0
		var start sync.WaitGroup
		start.Add(1)
		var wg sync.WaitGroup
		for _, k := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				m.Store(k, k)
				m.Delete(k)
			}()
		}
		start.Done()
		waitOrFail(t, &wg)
		n, err := sweepLCSweepers(m)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("deletes of dirty keys armed no sweep")
		}
		if err := m.checkInvariants(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSweepLifecycleDroppedMapsLoop: maps made, given deletes in every
// segment (tombstones in read and deleted keys in dirty: sweeps armed), and
// dropped, in a loop, with GOGC=10. Every one is collected at once when a
// loop ends (not when its timers fire), and the heap does not grow from
// one loop to the next once their timers have fired. (The first loop
// leaves the runtime's timer heaps grown, a few MiB that later loops
// reuse: a high-water mark, not a leak, so the last loop is compared
// with the first, not with the heap before either.)
func TestSweepLifecycleDroppedMapsLoop(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	var made, collectedMaps, collectedValues atomic.Int32
	const rounds, perRound = 3, 300 // the same number each round: the same peak of pending timers
	var heap [rounds]uint64
	for round := range rounds {
		armedSegs, before := 0, made.Load()
		for range perRound {
			armedSegs += sweepLCDroppedMap(&made, &collectedMaps, &collectedValues)
		}
		n := made.Load()
		t.Logf("round %d: %d maps made and dropped, %d sweeps armed; %d collected during the loop", round, n-before, armedSegs, collectedMaps.Load()-before)
		if armedSegs < int(n-before)*8 {
			t.Fatalf("%d sweeps armed over %d maps: want most segments armed", armedSegs, n-before)
		}
		if el, ok := sweepLCCollectedN(&collectedMaps, n, valueReleaseWait); !ok {
			t.Fatalf("%d of %d dropped maps still reachable %v after the loop", n-collectedMaps.Load(), n, el)
		}
		if el, ok := sweepLCCollectedN(&collectedValues, n, valueReleaseWait); !ok {
			t.Fatalf("%d of %d values of dropped maps still reachable %v after the loop", n-collectedValues.Load(), n, el)
		}
		time.Sleep(sweepDelay(100) + 100*time.Millisecond) // every timer has fired
		heap[round] = heapAlloc()
	}
	// A leak of the sweepers or their targets grew the heap by about 1.7
	// MB over the two later loops, about 850 KB in each. The runtime's own
	// heap jumps now and then by up to 822 KB in one step between loops
	// (go1.27.3 in CI, on a loaded machine; 0 to 358 KB in eight runs
	// alone), and stays there: a high-water mark. So a leak is growth in
	// every step, and one step's jump is not.
	least := int64(math.MaxInt64)
	for r := 1; r < rounds; r++ {
		least = min(least, int64(heap[r])-int64(heap[r-1]))
	}
	t.Logf("heap %+d bytes from the first loop's end to the last's, at least %+d in each step, %d maps in all",
		int64(heap[rounds-1])-int64(heap[0]), least, made.Load())
	if least > 256<<10 {
		t.Fatalf("heap grew by more than %d bytes after each loop of %d dropped maps", least, perRound)
	}
}

//go:noinline
func sweepLCDroppedMap(made, maps, values *atomic.Int32) (armed int) {
	m := new(Map[int, *bigValue])
	made.Add(1)
	runtime.AddCleanup(m, func(n *atomic.Int32) { n.Add(1) }, maps)
	v := new(bigValue)
	runtime.AddCleanup(v, func(n *atomic.Int32) { n.Add(1) }, values)
	m.Store(-1, v)
	for i := range 160 {
		m.Store(i, nil)
	}
	m.promoteAll()
	for i := range 16 {
		m.Delete(i) // tombstones in read
	}
	for i := 1000; i < 1032; i++ {
		m.Store(i, nil)
		if i%2 == 0 {
			m.Delete(i) // deleted keys in dirty
		}
	}
	for s := range m.t.Load().allSegments() {
		if s.sweepArmed.Load() {
			armed++
		}
	}
	return armed
}

// TestSweepLifecycleComputeAcrossClear: a Compute whose callback runs while
// Clear replaces the table finishes on the dropped table, deleting its key
// there, and so arms a sweep on the dropped table after stopSweep: in a
// segment with a stopped sweeper (target nil) and in one with none (a
// first sweeper, with a target). Neither keeps the dropped table: its
// values go at the next GC, not when the timers fire. The live map is
// untouched and still sweeps.
func TestSweepLifecycleComputeAcrossClear(t *testing.T) {
	var m Map[*bigKey, *bigValue]
	var valDone atomic.Bool
	k0 := sweepLCKeysInSegment(&m, 0, 40, -1)
	k1 := sweepLCKeysInSegment(&m, 1, 2, -1000)
	func() {
		for _, k := range k0 {
			m.Store(k, nil)
		}
		m.Store(k0[1], trackedValue(&valDone))
		m.promoteAll()
		m.Delete(k0[2]) // a tombstone: segment 0 gets a sweeper, which Clear stops
		m.Store(k1[0], nil)
		m.Store(k1[1], nil) // segment 1: dirty keys, no sweeper yet
	}()
	old := m.t.Load()
	entered := make(chan struct{}, 2)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for _, k := range []*bigKey{k0[0], k1[0]} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Compute(k, func(*bigValue, bool) (*bigValue, ComputeOp) {
				entered <- struct{}{}
				<-release
				return nil, DeleteOp
			})
		}()
	}
	<-entered
	<-entered
	m.Clear()
	if m.t.Load() == old {
		t.Fatal("Clear kept a table with entries in read")
	}
	close(release)
	waitOrFail(t, &wg)
	var s0, s1 *segment[*bigKey, *bigValue] = old.segs[0].Load(), old.segs[1].Load()
	s0.mu.Lock()
	w0 := s0.slow.sweep
	s0.mu.Unlock()
	s1.mu.Lock()
	var w1 *sweeper[*bigKey, *bigValue]
	if s1.slow != nil {
		w1 = s1.slow.sweep
	}
	s1.mu.Unlock()
	if w0.target.Load() != nil {
		t.Error("segment 0 of the dropped table: its stopped sweeper has a target")
	}
	if w1 == nil || w1.target.Load() == nil {
		t.Fatal("segment 1 of the dropped table: the compute's delete armed no first sweeper with a target; the test misses that case")
	}
	if m.Len() != 0 {
		t.Fatalf("live map Len() = %d after Clear", m.Len())
	}
	old, s0, s1, w0, w1 = nil, nil, nil, nil, nil
	if el, ok := collectedWithin(&valDone, valueReleaseWait); !ok {
		t.Errorf("a value of the dropped table still reachable %v after Clear and the computes", el)
	}
	var n atomic.Int32
	want := sweepLCTombstones(t, &m, &n, -5000)
	if _, err := sweepLCSweepers(&m); err != nil {
		t.Fatal(err)
	}
	sweepLCExpectSwept(t, &m, &n, want)
	runtime.KeepAlive(&m)
}

// TestSweepDelay checks the delay between sweeps that sweepDelay documents:
// 500ms plus 100µs per entry, at most 1s. A shorter delay for bigger
// segments would drop the tombstones of churning keys sooner, and send
// their next writes back through dirty; a longer one would break the bound
// on how long a deleted key stays reachable (two delays, 2s).
func TestSweepDelay(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, 500 * time.Millisecond},
		{1, 500*time.Millisecond + 100*time.Microsecond},
		{1000, 600 * time.Millisecond},
		{4999, time.Second - 100*time.Microsecond},
		{5000, time.Second},
		{5001, time.Second},
		{1 << 30, time.Second},
	} {
		if got := sweepDelay(c.n); got != c.want {
			t.Errorf("sweepDelay(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}
