package safemap

import (
	"math"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

// TestPointerFree checks the types whose dirty slots hold values inline
// (see dirtySlot): those whose values hold no pointer the collector
// follows, however deep.
func TestPointerFree(t *testing.T) {
	type flat struct {
		A int
		B [3]float64
		C struct{ D, E uint8 }
	}
	type withString struct {
		A int
		S string
	}
	type deep struct {
		A [2]struct{ P *int }
	}
	cases := []struct {
		typ  reflect.Type
		want bool
	}{
		{reflect.TypeFor[int](), true},
		{reflect.TypeFor[uint8](), true},
		{reflect.TypeFor[uintptr](), true},
		{reflect.TypeFor[float32](), true},
		{reflect.TypeFor[complex128](), true},
		{reflect.TypeFor[bool](), true},
		{reflect.TypeFor[[4]int](), true},
		{reflect.TypeFor[[0]*int](), true}, // no element, so no pointer
		{reflect.TypeFor[struct{}](), true},
		{reflect.TypeFor[flat](), true},
		{reflect.TypeFor[string](), false},
		{reflect.TypeFor[*int](), false},
		{reflect.TypeFor[[]int](), false},
		{reflect.TypeFor[map[int]int](), false},
		{reflect.TypeFor[chan int](), false},
		{reflect.TypeFor[func()](), false},
		{reflect.TypeFor[any](), false},
		{reflect.TypeFor[error](), false},
		{reflect.TypeFor[unsafe.Pointer](), false},
		{reflect.TypeFor[[2]string](), false},
		{reflect.TypeFor[withString](), false},
		{reflect.TypeFor[deep](), false},
	}
	for _, c := range cases {
		if got := pointerFree(c.typ); got != c.want {
			t.Errorf("pointerFree(%v) = %v, want %v", c.typ, got, c.want)
		}
	}
	// The map's choice: both types pointer-free, or boxed values.
	if !New[int, int]().loadOrInit().counts.inlineValues {
		t.Error("Map[int, int] boxes its dirty values")
	}
	if !New[[2]int, flat]().loadOrInit().counts.inlineValues {
		t.Error("Map[[2]int, flat] boxes its dirty values")
	}
	if New[string, int]().loadOrInit().counts.inlineValues {
		t.Error("Map[string, int] holds its dirty values inline")
	}
	if New[int, *int]().loadOrInit().counts.inlineValues {
		t.Error("Map[int, *int] holds its dirty values inline")
	}
	if New[any, any]().loadOrInit().counts.inlineValues {
		t.Error("Map[any, any] holds its dirty values inline")
	}
}

// TestInlineWritesAllocateNothing: in a map of pointer-free keys and
// values, new keys and every write over a key that waits in dirty
// allocate nothing (the dirty maps are presized, so that they do not
// grow), and the values read back right, before and after promotion.
func TestInlineWritesAllocateNothing(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	const n = 2000
	m := New[int, int](WithCapacity(4 * n))
	m.Store(-1, -1) // makes the table and the segments' locked state
	for k := range 16 * 4 {
		m.Store(-2-k, 0) // likewise, in each segment
	}
	want := make(map[int]int, 2*n) // the model, presized: it must not allocate either
	k := 0
	if got := testing.AllocsPerRun(n/2, func() { m.Store(k, k); want[k] = k; k++ }); got != 0 {
		t.Errorf("Store of a new key: %v allocations", got)
	}
	j := 0
	checks := []struct {
		name string
		f    func()
	}{
		{"Store over a dirty key", func() { m.Store(j%k, j); want[j%k] = j; j++ }},
		{"Swap over a dirty key", func() { m.Swap(j%k, j); want[j%k] = j; j++ }},
		{"CompareAndSwap of a dirty key", func() {
			if m.CompareAndSwap(j%k, want[j%k], -j) {
				want[j%k] = -j
			}
			j++
		}},
		{"Delete and Store of a dirty key", func() { m.Delete(j % k); m.Store(j%k, j); want[j%k] = j; j++ }},
		{"LoadOrStore of a new key", func() { m.LoadOrStore(k, k+1); want[k] = k + 1; k++ }},
	}
	for _, c := range checks {
		if got := testing.AllocsPerRun(100, c.f); got != 0 {
			t.Errorf("%s: %v allocations", c.name, got)
		}
	}
	// The writes of dirty keys count as misses, too few to promote.
	if st := m.Stats(); st.ReadKeys != 0 || st.Promotions != 0 {
		t.Fatalf("the keys left dirty: %+v", st)
	}
	m.mustCheck()
	check := func(when string) {
		for i, w := range want {
			if v, ok := m.Load(i); !ok || v != w {
				t.Fatalf("%s: Load(%d) = %d, %v; want %d, true", when, i, v, ok, w)
			}
		}
	}
	check("in dirty") // a few segments are promoted on the way
	m.promoteAll()
	if st := m.Stats(); st.DirtyKeys != 0 {
		t.Fatalf("after promotion: %+v", st)
	}
	m.mustCheck()
	check("promoted")
}

// TestInlinePromotionChunks: a promotion boxes the inline values of
// dirty boxChunk to an allocation, and every promoted key reads its own
// value, whatever chunk its box lies in.
func TestInlinePromotionChunks(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	m := new(Map[int, float64])
	keys := keysInSegment(m, 7, 10*boxChunk+3, 0)
	for i, k := range keys {
		m.Store(k, float64(i)+0.5)
	}
	m.Store(keys[1], math.Inf(1)) // in place
	m.Delete(keys[2])             // a tombstone: no box
	tb := m.t.Load()
	s := tb.segs[7].Load()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s.mu.Lock()
	s.promoteLocked(tb)
	s.mu.Unlock()
	runtime.ReadMemStats(&after)
	// The read map's few allocations, and ceil(live/boxChunk) chunks (a
	// timer or runtime goroutine may add one or two).
	allocs := after.Mallocs - before.Mallocs
	chunks := (len(keys) - 1 + boxChunk - 1) / boxChunk
	if allocs > uint64(chunks+8) {
		t.Errorf("a promotion of %d inline values: %v allocations, want at most %d chunks and a read map", len(keys)-1, allocs, chunks)
	}
	m.mustCheck()
	for i, k := range keys {
		want, present := float64(i)+0.5, i != 2
		if i == 1 {
			want = math.Inf(1)
		}
		if v, ok := m.Load(k); ok != present || ok && v != want {
			t.Fatalf("Load(%d) = %v, %v; want %v, %v", k, v, ok, want, present)
		}
	}
}

// TestDirtyTablesHoldNoPointers checks the layout of dirty tables (see
// dirtyTable): for pointer-free types the key-value array holds no
// pointer, so the collector need not scan it, and the pointer array is
// made only when a compute's mark needs it, and emptied of the mark when
// the compute ends; for other types every table has its pointer array.
func TestDirtyTablesHoldNoPointers(t *testing.T) {
	if !pointerFree(reflect.TypeFor[dirtyKV[int, float64]]()) {
		t.Fatal("the slots of a Map[int, float64] hold a pointer")
	}
	// A key and a value, nothing more: 16 bytes on 64-bit platforms, 8 on
	// 32-bit ones (CI runs GOARCH=386 where the kernel can).
	if got, want := reflect.TypeFor[dirtyKV[int, int]]().Size(), 2*reflect.TypeFor[int]().Size(); got != want {
		t.Fatalf("an int->int dirty slot takes %d bytes, want %d", got, want)
	}

	m := new(Map[int, int])
	keys := keysInSegment(m, 0, 200, 0) // far past the inline slots
	for i, k := range keys {
		m.Store(k, i)
	}
	s := m.t.Load().segs[0].Load()
	table := func() *dirtyTable[int, int] {
		t.Helper()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.dirty == nil || s.dirty.isInline(&s.dirty.tab) {
			t.Fatal("the keys are not in a grown dirty map")
		}
		return &s.dirty.tab
	}
	if tb := table(); tb.p != nil {
		t.Fatalf("a dirty table of inline values has a pointer array of %d", len(tb.p))
	}
	// A compute's mark is a pointer state: the table makes its pointer
	// array for it, and the mark leaves it when the compute ends.
	// The key may still be in the old table of a growth that is moving
	// keys (see dirtyMap.old): the mark is then in that table's array.
	pointers := func() (p []*box[int, int]) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.dirty == nil {
			return nil
		}
		p = slices.Clone(s.dirty.tab.p)
		if s.dirty.old != nil {
			p = append(p, s.dirty.old.p...)
		}
		return p
	}
	var during []*box[int, int]
	m.Compute(keys[7], func(old int, loaded bool) (int, ComputeOp) {
		during = pointers()
		return old + 1, UpdateOp
	})
	if !slices.ContainsFunc(during, func(b *box[int, int]) bool { return b != nil && b.kind.computing() }) {
		t.Fatal("no mark in the pointer arrays while the compute ran")
	}
	table() // still a grown dirty map
	if slices.ContainsFunc(pointers(), func(b *box[int, int]) bool { return b != nil }) {
		t.Fatal("the compute's mark stayed in a pointer array")
	}
	if v, ok := m.Load(keys[7]); !ok || v != 8 {
		t.Fatalf("Load after Compute = %d, %v; want 8, true", v, ok)
	}
	m.mustCheck()

	b := new(Map[int, *int])
	bkeys := keysInSegment(b, 0, 200, 0)
	for _, k := range bkeys {
		b.Store(k, new(int))
	}
	bs := b.t.Load().segs[0].Load()
	bs.mu.Lock()
	live := 0
	for sl := range bs.dirty.all() { // tab, and old if a growth is moving it
		if sl.tb.p != nil && sl.code() == dirtyCodePtr && sl.p().kind == kindValue {
			live++
		}
	}
	bs.mu.Unlock()
	if live != len(bkeys) {
		t.Fatalf("a boxed dirty table holds %d value boxes, want %d", live, len(bkeys))
	}
}
