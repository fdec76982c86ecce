package safemap

import (
	"fmt"
	"maps"
	"reflect"
	"sync"
	"testing"
)

// syncMapMethods is sync.Map's method set, spelled out.
type syncMapMethods interface {
	Load(key any) (value any, ok bool)
	Store(key, value any)
	LoadOrStore(key, value any) (actual any, loaded bool)
	LoadAndDelete(key any) (value any, loaded bool)
	Delete(key any)
	Swap(key, value any) (previous any, loaded bool)
	CompareAndSwap(key, old, new any) (swapped bool)
	CompareAndDelete(key, old any) (deleted bool)
	Range(f func(key, value any) bool)
	Clear()
}

// Compile-time: Map[any, any] can stand wherever a *sync.Map's methods are used.
var (
	_ syncMapMethods = (*sync.Map)(nil)
	_ syncMapMethods = (*Map[any, any])(nil)
)

// TestSyncMapMethodSet checks that every method of *sync.Map exists on
// *Map[any, any] with the identical signature, so that swapping the type is
// a one-line change.
func TestSyncMapMethodSet(t *testing.T) {
	st, mt := reflect.TypeFor[*sync.Map](), reflect.TypeFor[*Map[any, any]]()
	for i := range st.NumMethod() {
		sm := st.Method(i)
		mm, ok := mt.MethodByName(sm.Name)
		if !ok {
			t.Errorf("Map[any, any] lacks sync.Map's method %s", sm.Name)
			continue
		}
		// Drop the receiver, which differs.
		if got, want := fmt.Sprint(mm.Type)[len("func(*safemap.Map[interface {},interface {}]"):], fmt.Sprint(sm.Type)[len("func(*sync.Map"):]; got != want {
			t.Errorf("%s: signature %s; sync.Map has %s", sm.Name, mm.Type, sm.Type)
		}
	}
}

// A state puts a fresh map into one of the internal states that the
// behaviour suite runs in. Each leaves keys 100..199 stored (value = key),
// so that the suite's keys 0..9 start absent.
type state struct {
	name  string
	setup func(m *Map[int, int])
}

func fill(m *Map[int, int]) {
	for k := 100; k < 200; k++ {
		m.Store(k, k)
	}
}

var states = []state{
	{"fresh", func(m *Map[int, int]) {}},
	{"dirty-only", fill},
	{"promoted", func(m *Map[int, int]) { fill(m); m.promoteAll() }},
	{"amended", func(m *Map[int, int]) {
		fill(m)
		m.promoteAll()
		m.Store(1000, 1000)
		m.Delete(1000)
		m.Store(1001, 1001)
	}},
	{"near-promotion", func(m *Map[int, int]) {
		fill(m)
		m.promoteAll()
		for k := 200; k < 232; k++ {
			m.Store(k, k)
		}
		m.nearPromotion()
	}},
	{"after-clear", func(m *Map[int, int]) {
		fill(m)
		m.promoteAll()
		m.Clear()
		fill(m)
	}},
	{"with-tombstones", func(m *Map[int, int]) {
		fill(m)
		m.promoteAll()
		for k := 0; k < 10; k++ {
			m.Store(k, -1)
		}
		m.promoteAll()
		for k := 0; k < 10; k++ {
			m.Delete(k)
		}
	}},
}

// forEachState runs body on a map in each internal state, then checks the
// invariants and that the keys the setup stored were left alone.
func forEachState(t *testing.T, body func(t *testing.T, m *Map[int, int])) {
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			m := new(Map[int, int])
			st.setup(m)
			m.mustCheck()
			before := maps.Collect(m.All())
			body(t, m)
			if err := m.checkInvariants(); err != nil {
				t.Fatal(err)
			}
			for k, want := range before {
				if v, ok := m.Load(k); !ok || v != want {
					t.Fatalf("Load(%d) = %d, %v; want %d, true (untouched key)", k, v, ok, want)
				}
			}
		})
	}
}

// wantPair checks a method's two results.
func wantPair[V comparable](t *testing.T, call string, v V, ok bool, wantV V, wantOK bool) {
	t.Helper()
	if v != wantV || ok != wantOK {
		t.Errorf("%s = %v, %v; want %v, %v", call, v, ok, wantV, wantOK)
	}
}

func TestLoadStoreDelete(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		v, ok := m.Load(1)
		wantPair(t, "Load(1)", v, ok, 0, false)
		m.Store(1, 10)
		v, ok = m.Load(1)
		wantPair(t, "Load(1)", v, ok, 10, true)
		m.Store(1, 11)
		v, ok = m.Load(1)
		wantPair(t, "Load(1)", v, ok, 11, true)
		m.Delete(1)
		v, ok = m.Load(1)
		wantPair(t, "Load(1) after Delete", v, ok, 0, false)
		m.Delete(1) // deleting an absent key is a no-op
		m.Store(1, 12)
		v, ok = m.Load(1)
		wantPair(t, "Load(1) after re-Store", v, ok, 12, true)
		m.promoteAll()
		m.Delete(1)
		m.Store(1, 13) // revives the deleted entry of read
		v, ok = m.Load(1)
		wantPair(t, "Load(1) after revive", v, ok, 13, true)
	})
}

func TestLoadOrStore(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		v, loaded := m.LoadOrStore(2, 20)
		wantPair(t, "LoadOrStore(2, 20)", v, loaded, 20, false)
		v, loaded = m.LoadOrStore(2, 21)
		wantPair(t, "LoadOrStore(2, 21)", v, loaded, 20, true)
		m.Delete(2)
		v, loaded = m.LoadOrStore(2, 22)
		wantPair(t, "LoadOrStore(2, 22) after Delete", v, loaded, 22, false)
	})
}

func TestLoadAndDelete(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		v, loaded := m.LoadAndDelete(3)
		wantPair(t, "LoadAndDelete(3)", v, loaded, 0, false)
		m.Store(3, 30)
		v, loaded = m.LoadAndDelete(3)
		wantPair(t, "LoadAndDelete(3)", v, loaded, 30, true)
		v, loaded = m.LoadAndDelete(3)
		wantPair(t, "LoadAndDelete(3) again", v, loaded, 0, false)
	})
}

func TestSwap(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		v, loaded := m.Swap(4, 40)
		wantPair(t, "Swap(4, 40)", v, loaded, 0, false)
		v, loaded = m.Swap(4, 41)
		wantPair(t, "Swap(4, 41)", v, loaded, 40, true)
		v, ok := m.Load(4)
		wantPair(t, "Load(4)", v, ok, 41, true)
	})
}

func TestCompareAndSwapDelete(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		if m.CompareAndSwap(5, 0, 50) {
			t.Error("CompareAndSwap(5, 0, 50) on an absent key = true")
		}
		if m.CompareAndDelete(5, 0) {
			t.Error("CompareAndDelete(5, 0) on an absent key = true")
		}
		m.Store(5, 50)
		if m.CompareAndSwap(5, 49, 51) {
			t.Error("CompareAndSwap(5, 49, 51) with a wrong old = true")
		}
		if !m.CompareAndSwap(5, 50, 51) {
			t.Error("CompareAndSwap(5, 50, 51) = false")
		}
		if m.CompareAndDelete(5, 50) {
			t.Error("CompareAndDelete(5, 50) with a wrong old = true")
		}
		if !m.CompareAndDelete(5, 51) {
			t.Error("CompareAndDelete(5, 51) = false")
		}
		if _, ok := m.Load(5); ok {
			t.Error("key 5 present after CompareAndDelete")
		}
	})
}

func TestRangeAndIterators(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		want := m.Len() + 10
		for k := 0; k < 10; k++ {
			m.Store(k, k)
		}
		seen := map[int]int{}
		m.Range(func(k, v int) bool {
			if _, dup := seen[k]; dup {
				t.Errorf("Range visited %d twice", k)
			}
			seen[k] = v
			return true
		})
		if len(seen) != want {
			t.Errorf("Range visited %d keys; want %d", len(seen), want)
		}
		n := 0
		for k, v := range m.All() {
			if k != v && k < 5000 {
				t.Errorf("All yielded %d, %d", k, v)
			}
			if n++; n == 3 {
				break
			}
		}
		if n != 3 {
			t.Errorf("break after 3 elements: got %d", n)
		}
		keys, values := 0, 0
		for range m.Keys() {
			keys++
		}
		for range m.Values() {
			values++
		}
		if keys != want || values != want {
			t.Errorf("Keys yielded %d, Values %d; want %d", keys, values, want)
		}
		for k := 0; k < 10; k++ {
			m.Delete(k)
		}
	})
}

// TestRangeCallbackMayWrite checks that f may call any method, including
// writes to the key it is visiting and to new keys.
func TestRangeCallbackMayWrite(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		for k := 0; k < 10; k++ {
			m.Store(k, k)
		}
		m.Range(func(k, v int) bool {
			if k < 10 {
				m.Delete(k)
				m.Store(k+5000, k)
				m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, CancelOp })
			}
			return true
		})
		for k := 0; k < 10; k++ {
			if _, ok := m.Load(k); ok {
				t.Errorf("key %d present after Range deleted it", k)
			}
			m.Delete(k + 5000)
		}
	})
}

func TestClear(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		before := maps.Collect(m.All())
		m.Clear()
		if n := m.Len(); n != 0 {
			t.Errorf("Len() after Clear = %d", n)
		}
		for range m.All() {
			t.Error("All yields after Clear")
		}
		if _, ok := m.Load(150); ok {
			t.Error("Load(150) after Clear found it")
		}
		for k, v := range before {
			m.Store(k, v) // the suite checks that the setup's keys are back
		}
	})
}

func TestLen(t *testing.T) {
	forEachState(t, func(t *testing.T, m *Map[int, int]) {
		base := m.Len()
		for k := 0; k < 10; k++ {
			m.Store(k, k)
			m.Store(k, k) // overwriting does not count twice
		}
		if got := m.Len(); got != base+10 {
			t.Errorf("Len() = %d; want %d", got, base+10)
		}
		for k := 0; k < 10; k++ {
			m.Delete(k)
			m.Delete(k)
		}
		if got := m.Len(); got != base {
			t.Errorf("Len() = %d; want %d", got, base)
		}
	})
}

// TestPromotionByMisses checks that loads of new keys eventually promote
// them, after which the segment is no longer amended.
func TestPromotionByMisses(t *testing.T) {
	m := new(Map[int, int])
	fill(m)
	m.promoteAll()
	m.Store(7, 7)
	for i := 0; i < 1000 && m.isAmended(); i++ {
		m.Load(7)
	}
	if m.isAmended() {
		t.Fatalf("still amended after 1000 misses: %+v", m.Stats())
	}
	m.mustCheck()
}

// TestDeletedNewKeyUnamends checks that a deleted new key does not leave
// its segment amended for good: it keeps its entry in dirty (so that a
// churning key stays cheap), and the misses its lock trips count promote
// it, after which misses take no lock again.
func TestDeletedNewKeyUnamends(t *testing.T) {
	m := new(Map[int, int])
	fill(m)
	m.promoteAll()
	m.Store(7, 7)
	if !m.isAmended() {
		t.Fatal("not amended after storing a new key")
	}
	m.Delete(7)
	for i := 0; i < 100 && m.isAmended(); i++ {
		if _, ok := m.Load(7); ok {
			t.Fatal("deleted key loaded")
		}
	}
	if m.isAmended() {
		t.Fatalf("still amended after 100 misses on the deleted new key: %+v", m.Stats())
	}
	m.mustCheck()
	// The revived key's writes are now lock-free, in read.
	m.Store(7, 8)
	if v, ok := m.Load(7); !ok || v != 8 || m.isAmended() {
		t.Fatalf("Load(7) = %d, %v, amended %v; want 8, true, false", v, ok, m.isAmended())
	}
}

// TestPromotionDropsTooManyTombstones checks the promotions that keep
// recent tombstones (those that misses and Range cause): when the kept
// ones would make three quarters of the new read map, the promotion drops
// them all at once, as a mass delete would, instead of copying them on
// each later promotion until the sweeps come (promoteKeepingLocked).
func TestPromotionDropsTooManyTombstones(t *testing.T) {
	// 40 promoted keys with 31 deleted and 20 new keys with 17 deleted:
	// each map alone stays under compactMin tombstones, so nothing drops
	// them before the promotion, which would keep 48 of 60 entries.
	const readN, readDead, dirtyN, dirtyDead = 40, compactMin - 1, dirtyCopyMax + 4, dirtyCopyMax + 1
	if readDead+dirtyDead < compactMin || 4*(readDead+dirtyDead) <= 3*(readN+dirtyN) {
		t.Fatal("the constants no longer make too many tombstones")
	}
	setup := func(t *testing.T) (*Map[int, int], []int) {
		m := new(Map[int, int])
		keys := keysInSegment(m, 0, readN+dirtyN, 0) // the last: live in dirty
		for _, k := range keys[:readN] {
			m.Store(k, k)
		}
		m.promoteAll()
		for _, k := range keys[readN:] {
			m.Store(k, k)
		}
		for _, k := range append(keys[:readDead:readDead], keys[readN:readN+dirtyDead]...) {
			m.Delete(k)
		}
		st := m.Stats()
		if st.Tombstones != readDead+dirtyDead || st.ReadKeys+st.DirtyKeys != readN+dirtyN-readDead-dirtyDead {
			t.Fatalf("before the promotion: %+v; want %d tombstones", st, readDead+dirtyDead)
		}
		return m, keys
	}
	const live = readN + dirtyN - readDead - dirtyDead
	testKeepingPromotions(t, live, setup, func(t *testing.T, m *Map[int, int], _ []int) {
		t.Helper()
		if st := m.Stats(); st.Amended || st.ReadKeys != live || st.Tombstones != 0 {
			t.Fatalf("after the promotion: %+v; want %d read keys, no tombstones, not amended", st, live)
		}
		m.mustCheck()
	})
}

// testKeepingPromotions runs, in a subtest each, the two promotions that
// keep recent tombstones (promoteKeepingLocked): a Range, which must visit
// live keys, and a Load past the miss threshold of the last key of keys, a
// live key of dirty. setup makes a fresh map with an amended segment that
// holds keys, and check checks it after the promotion.
func testKeepingPromotions(t *testing.T, live int, setup func(t *testing.T) (*Map[int, int], []int),
	check func(t *testing.T, m *Map[int, int], keys []int)) {
	t.Run("Range", func(t *testing.T) {
		m, keys := setup(t)
		n := 0
		m.Range(func(int, int) bool { n++; return true })
		if n != live {
			t.Fatalf("Range visited %d keys, want %d", n, live)
		}
		check(t, m, keys)
	})
	t.Run("misses", func(t *testing.T) {
		m, keys := setup(t)
		m.nearPromotion()
		k := keys[len(keys)-1] // the miss that promotes
		if v, ok := m.Load(k); !ok || v != k {
			t.Fatalf("Load(%d) = %d, %v", k, v, ok)
		}
		check(t, m, keys)
	})
}

// TestPromotionKeepsRecentTombstones checks the other side of
// promoteKeepingLocked: a promotion by misses or by Range keeps the entries
// of keys deleted since the last sweep, as long as they are few, so that a
// key deleted and stored again (churn) keeps its entry in the read map and
// its next Store needs no dirty map. The sweeps drop them later.
func TestPromotionKeepsRecentTombstones(t *testing.T) {
	const readN, dead, dirtyN = 40, 3, dirtyCopyMax + 4 // more than Range copies: it promotes
	setup := func(t *testing.T) (m *Map[int, int], keys []int) {
		m = new(Map[int, int])
		keys = keysInSegment(m, 0, readN+dirtyN, 0)
		for _, k := range keys[:readN] {
			m.Store(k, k)
		}
		m.promoteAll()
		for _, k := range keys[:dead] {
			m.Delete(k)
		}
		stopSweeps(m) // the test's sweepAll calls sweep, not a timer
		for _, k := range keys[readN:] {
			m.Store(k, k)
		}
		if st := m.Stats(); !st.Amended || st.Tombstones != dead || st.DirtyKeys != dirtyN {
			t.Fatalf("before the promotion: %+v; want %d tombstones and %d keys in dirty", st, dead, dirtyN)
		}
		return m, keys
	}
	const live = readN + dirtyN - dead
	testKeepingPromotions(t, live, setup, func(t *testing.T, m *Map[int, int], keys []int) {
		t.Helper()
		if st := m.Stats(); st.Amended || st.ReadKeys != live || st.Tombstones != dead {
			t.Fatalf("after the promotion: %+v; want %d read keys and the %d recent tombstones, not amended", st, live, dead)
		}
		m.mustCheck()
		m.Store(keys[0], -1) // revives its kept entry: no dirty map
		if st := m.Stats(); st.Amended || st.Tombstones != dead-1 {
			t.Fatalf("Store of a deleted key after the promotion: %+v; want it revived in the read map", st)
		}
		if v, ok := m.Load(keys[0]); !ok || v != -1 {
			t.Fatalf("Load(%d) = %d, %v", keys[0], v, ok)
		}
		m.sweepAll() // marks the other two
		m.sweepAll() // drops them
		if st := m.Stats(); st.Tombstones != 0 || st.ReadKeys != live+1 {
			t.Fatalf("after two sweeps: %+v; want no tombstones", st)
		}
		m.mustCheck()
	})
}

func TestStats(t *testing.T) {
	var m Map[int, int]
	if st := m.Stats(); st.ReadKeys+st.DirtyKeys != 0 || st.Segments != segments {
		t.Fatalf("zero map Stats() = %+v", st)
	}
	fill(&m)
	st := m.Stats()
	if st.DirtyKeys != 100 || st.ReadKeys != 0 || !st.Amended {
		t.Fatalf("after 100 stores: %+v", st)
	}
	m.promoteAll()
	st = m.Stats()
	if st.ReadKeys != 100 || st.DirtyKeys != 0 || st.Amended || st.Promotions == 0 {
		t.Fatalf("after promotion: %+v", st)
	}
	for k := 100; k < 200; k++ {
		m.Delete(k)
	}
	st = m.Stats()
	if st.Tombstones != 100 || st.ReadKeys != 0 {
		t.Fatalf("after deleting all: %+v", st)
	}
	// Too few tombstones per segment for an immediate rebuild: the first
	// sweep marks them, the second drops them.
	m.sweepAll()
	m.sweepAll()
	st = m.Stats()
	if st.Reclaimed != 100 || st.Tombstones != 0 || st.ReadKeys != 0 {
		t.Fatalf("after deleting all: %+v", st)
	}
}

// TestKeyTypes runs a quick round trip for every key type with a
// specialised hash, and for a few that use maphash.Comparable.
func TestKeyTypes(t *testing.T) {
	roundTrip(t, []int{-1, 0, 1, 1 << 30})
	roundTrip(t, []int8{-128, 0, 127})
	roundTrip(t, []int16{-1, 0, 300})
	roundTrip(t, []int32{-1, 0, 1 << 30})
	roundTrip(t, []int64{-1, 0, 1 << 62})
	roundTrip(t, []uint{0, 1, 1 << 31})
	roundTrip(t, []uint8{0, 255})
	roundTrip(t, []uint16{0, 65535})
	roundTrip(t, []uint32{0, 1 << 31})
	roundTrip(t, []uint64{0, 1 << 63})
	roundTrip(t, []uintptr{0, 1})
	roundTrip(t, []string{"", "a", "abc", "abcd", "abcdefgh", "abcdefghijklmnopq", "a longer key that spans several words of input"})
	roundTrip(t, []float64{0, 1.5, -2})
	roundTrip(t, []any{1, "1", 1.0, nil, struct{}{}})
	roundTrip(t, [][2]int{{1, 2}, {2, 1}})
	type myInt int
	roundTrip(t, []myInt{1, 2, 3})
	// +0 and -0 are equal keys, as in a Go map.
	var m Map[float64, int]
	negZero := 0.0
	negZero = -negZero
	m.Store(0.0, 1)
	if v, ok := m.Load(negZero); !ok || v != 1 {
		t.Errorf("Load(-0) = %d, %v; want 1, true", v, ok)
	}
}

func roundTrip[K comparable](t *testing.T, keys []K) {
	t.Helper()
	var m Map[K, int]
	for i, k := range keys {
		m.Store(k, i)
	}
	m.promoteAll()
	for i, k := range keys {
		if v, ok := m.Load(k); !ok || v != i {
			t.Errorf("%T: Load(%v) = %d, %v; want %d, true", k, k, v, ok, i)
		}
	}
	if m.Len() != len(keys) {
		t.Errorf("%T: Len() = %d; want %d", keys, m.Len(), len(keys))
	}
}

// TestHashSpread checks that sequential and strided keys spread evenly over
// segments, so no segment holds far more than its share.
func TestHashSpread(t *testing.T) {
	for _, stride := range []int{1, 16, 1 << 12, 1 << 16} {
		var m Map[int, int]
		counts := make([]int, segments)
		const n = 16000
		for i := range n {
			counts[m.segmentOf(i*stride)]++
		}
		for seg, c := range counts {
			if c < n/segments/2 || c > n/segments*2 {
				t.Errorf("stride %d: segment %d holds %d of %d keys", stride, seg, c, n)
			}
		}
	}
}

// TestNew checks New with and without options.
func TestNew(t *testing.T) {
	m := New[string, int](WithCapacity(1000))
	for i := range 1000 {
		m.Store(fmt.Sprint(i), i)
	}
	if m.Len() != 1000 {
		t.Fatalf("Len() = %d", m.Len())
	}
	m.mustCheck()
	m2 := New[string, int](WithCapacity(-5))
	m2.Store("a", 1)
	if v, _ := m2.Load("a"); v != 1 {
		t.Fatal("New with a negative capacity does not work")
	}
	var zero Map[string, int]
	zero.Store("a", 1)
	if v, _ := zero.Load("a"); v != 1 {
		t.Fatal("zero Map does not work")
	}
}

func TestComputeOpString(t *testing.T) {
	for op, want := range map[ComputeOp]string{UpdateOp: "UpdateOp", DeleteOp: "DeleteOp", CancelOp: "CancelOp", 7: "ComputeOp(7)"} {
		if got := op.String(); got != want {
			t.Errorf("ComputeOp(%d).String() = %q; want %q", int(op), got, want)
		}
	}
}
