package safemap

import (
	"fmt"
	"iter"
	"reflect"
	"runtime"
)

// Test-only hooks: they put a map in a given internal state and check the
// invariants written at the declarations of Map, segment, readOnly and entry.

// promoteAll promotes every segment's dirty map into its read map.
func (m *Map[K, V]) promoteAll() {
	t := m.t.Load()
	if t == nil {
		return
	}
	for s := range t.allSegments() {
		s.mu.Lock()
		if s.loadRead(t).amended() {
			s.promoteLocked(t)
		}
		s.mu.Unlock()
	}
}

// nearPromotion leaves every amended segment one miss short of promotion.
func (m *Map[K, V]) nearPromotion() {
	t := m.t.Load()
	if t == nil {
		return
	}
	for s := range t.allSegments() {
		s.mu.Lock()
		if r := s.loadRead(t); r.amended() {
			s.misses = max(s.dirty.len(), (r.n+s.dirty.len())/4) - 1
		}
		s.mu.Unlock()
	}
}

// sweepAll runs every segment's sweep now, as its timer would.
func (m *Map[K, V]) sweepAll() {
	t := m.t.Load()
	if t == nil {
		return
	}
	for s := range t.allSegments() {
		s.sweepNow(t)
	}
}

// segmentOf returns the index of the segment that holds key.
func (m *Map[K, V]) segmentOf(key K) int {
	_, i := m.loadOrInit().locate(key)
	return i
}

// allSegments yields the segments that t has created.
func (t *table[K, V]) allSegments() iter.Seq[*segment[K, V]] {
	return func(yield func(*segment[K, V]) bool) {
		for i := range t.segs {
			if s := t.segs[i].Load(); s != nil && !yield(s) {
				return
			}
		}
	}
}

// isAmended reports whether any segment's read map is amended.
func (m *Map[K, V]) isAmended() bool {
	return m.Stats().Amended
}

// unwritten reports whether r, one of the table's shared read maps, is as
// it was made: no buckets, entries or next link, amended as
// given, and a filter whose words are filter (nil for no filter).
func (r *readOnly[K, V]) unwritten(amended bool, filter []uint64) bool {
	if len(r.buckets) != 0 || len(r.keys) != 0 || r.n != 0 || r.amended() != amended || r.next != nil ||
		(r.filter == nil) != (filter == nil) || len(r.filter) != len(filter) {
		return false
	}
	for i, w := range filter {
		if r.filter[i].Load() != w {
			return false
		}
	}
	return true
}

// checkInvariants returns an error naming the first broken invariant, with
// the key and state involved. It locks each segment in turn, so call it
// when no write is in flight: the live count is only exact then.
func (m *Map[K, V]) checkInvariants() error {
	t := m.t.Load()
	if t == nil {
		return nil
	}
	if !t.emptyAmended.unwritten(true, []uint64{^uint64(0)}) {
		return fmt.Errorf("the shared emptyAmended read map was written")
	}
	if !t.empty.unwritten(false, nil) {
		return fmt.Errorf("the shared empty read map was written")
	}
	present := 0
	for i := range t.segs {
		s := t.segs[i].Load()
		if s == nil {
			if t.reads[i].Load() != nil {
				return fmt.Errorf("segment %d: a read map but no segment", i)
			}
			continue
		}
		if s.read != &t.reads[i] {
			return fmt.Errorf("segment %d: read points to another segment's read pointer", i)
		}
		if t.made.Load()&(1<<i) == 0 {
			return fmt.Errorf("segment %d exists, but its bit in made is clear", i)
		}
		if t.filled.Load()&(1<<i) == 0 {
			s.mu.Lock()
			r, d := s.loadRead(t), s.dirty.len()
			s.mu.Unlock()
			if r.n != 0 || d != 0 {
				return fmt.Errorf("segment %d: bit in filled clear, but %d entries in read and %d keys in dirty", i, r.n, d)
			}
		}
		n, err := s.checkLocked(t, i)
		if err != nil {
			return fmt.Errorf("segment %d: %w", i, err)
		}
		present += n
	}
	if got := m.Len(); got != present {
		return fmt.Errorf("Len() = %d, but %d keys present", got, present)
	}
	return nil
}

// checkLocked checks one segment and returns its number of present keys.
func (s *segment[K, V]) checkLocked(t *table[K, V], index int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.loadRead(t)
	if r == nil {
		return 0, fmt.Errorf("loadRead returned nil")
	}
	// dirty is nil exactly when read is not amended, and holds a key
	// whenever read is amended, but under emptyAmended just after a Clear
	// in place (see clearLocked).
	if r.amended() != (s.dirty != nil) || r.amended() && s.dirty.len() == 0 && r != t.emptyAmended {
		return 0, fmt.Errorf("amended = %v but len(dirty) = %d (nil %v)", r.amended(), s.dirty.len(), s.dirty == nil)
	}
	if err := s.dirty.check(); err != nil {
		return 0, err
	}
	if full := len(r.filter) > 0 && &r.filter[0] == &fullFilter[0]; full != (r == t.emptyAmended) {
		return 0, fmt.Errorf("has fullFilter = %v, is the shared emptyAmended = %v", full, r == t.emptyAmended)
	}
	for sl := range s.dirty.all() {
		if k := sl.key(); k == k && !r.mayHaveDirty(t.hasher.hash(k)) {
			return 0, fmt.Errorf("dirty key %v missing from the filter", k)
		}
	}
	if s.dirty == nil && s.misses != 0 {
		return 0, fmt.Errorf("misses = %d with no dirty map", s.misses)
	}
	// dirtyDead must count exactly the deleted entries of dirty: every
	// change of a slot to deleted or from it is counted under mu, which
	// the caller holds. More would be unsafe (a purge that finds it equal
	// to len(dirty) drops every entry unseen); fewer would keep a dirty
	// map of mostly deleted keys unpurged, holding them until a promotion
	// or a sweep. (A mutant that revived on every compute's claim, an
	// undercount, passed every test until this check was exact.)
	dead := 0
	for sl := range s.dirty.all() {
		if sl.deleted() {
			dead++
		}
		// A slot keeps no value but an inline one (see dirtySlot), and
		// its p holds only a pointer state.
		if v := sl.value(); sl.code() != dirtyCodeInline && !reflect.ValueOf(&v).Elem().IsZero() {
			return 0, fmt.Errorf("dirty key %v keeps a value (%v) in state %v", sl.key(), v, sl.p().kind)
		}
		if sl.code() != dirtyCodePtr && sl.tb.p != nil && sl.tb.p[sl.i] != nil {
			return 0, fmt.Errorf("dirty key %v keeps a box in state %v", sl.key(), sl.p().kind)
		}
		if sl.code() == dirtyCodePtr && (sl.tb.p[sl.i] == nil || sl.d.states.code(sl.tb.p[sl.i]) != dirtyCodePtr) {
			return 0, fmt.Errorf("dirty key %v: pointer state %p is a sentinel or nil", sl.key(), sl.tb.p[sl.i])
		}
		if sl.p().kind == kindValue && t.counts.inlineValues {
			return 0, fmt.Errorf("dirty key %v holds a value box, not its value", sl.key())
		}
	}
	if s.dirtyDead != dead {
		return 0, fmt.Errorf("dirtyDead = %d, but dirty holds %d deleted entries", s.dirtyDead, dead)
	}
	if s.spare.len() != 0 {
		return 0, fmt.Errorf("the spare map holds %d keys", s.spare.len())
	}
	if s.spare != nil {
		if err := s.spare.check(); err != nil {
			return 0, fmt.Errorf("spare: %v", err)
		}
	}
	if s.spare != nil && s.dirty != nil {
		return 0, fmt.Errorf("a spare map beside a dirty map")
	}
	present := 0
	check := func(key K, b *box[K, V], where string) error {
		if key != key {
			// A NaN, or a key holding one: == finds it nowhere and its
			// hash is random, as in a Go map. Only count it.
			if b != nil && b.kind == kindValue {
				present++
			}
			return nil
		}
		h := t.hasher.hash(key)
		if segmentOf(h) != index {
			return fmt.Errorf("key %v (%s) belongs to segment %d", key, where, segmentOf(h))
		}
		switch {
		case b == t.expunged:
			return fmt.Errorf("key %v (%s) is expunged", key, where)
		case b == t.moved:
			return fmt.Errorf("key %v (%s) is moved", key, where)
		case b == t.deleted:
			return fmt.Errorf("key %v (%s) holds the dirty slots' deleted sentinel", key, where)
		case b == t.swept:
		case b != nil && b.kind.computing():
			return fmt.Errorf("key %v (%s) has a compute mark with no compute running", key, where)
		case b != nil:
			// Load trusts a value box's key (see box).
			if b.key != key {
				return fmt.Errorf("key %v (%s) holds the box of key %v", key, where, b.key)
			}
			present++
		}
		return nil
	}
	slots := 0
	var err error
	r.each(func(key K, e *entry[K, V]) bool {
		slots++
		if err = check(key, e.p.Load(), "read"); err != nil {
			return false
		}
		if key != key {
			return true // see check
		}
		if got := r.find(t.hasher.hash(key), key); got != e {
			err = fmt.Errorf("key %v: read.find returns another entry (%p, want %p)", key, got, e)
			return false
		}
		if s.dirty != nil && s.dirty.get(t.hasher.hash(key), key).ok() {
			err = fmt.Errorf("key %v is in both read and dirty", key)
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if slots != r.n {
		return 0, fmt.Errorf("read.n = %d, but %d slots are used", r.n, slots)
	}
	if (r.next == nil) != (len(r.buckets) == 0) {
		return 0, fmt.Errorf("read has %d buckets but next link present = %v", len(r.buckets), r.next != nil)
	}
	if len(r.keys) != len(r.buckets) {
		return 0, fmt.Errorf("read has %d buckets but keys for %d", len(r.buckets), len(r.keys))
	}
	if r.next != nil && r.next.Load() != nil {
		return 0, fmt.Errorf("the current read map links to a newer one")
	}
	for sl := range s.dirty.all() {
		// check takes the state as an entry would hold it.
		b := sl.p()
		switch {
		case b == t.deleted:
			b = nil
		case sl.code() == dirtyCodeInline:
			b = &box[K, V]{value: sl.value(), key: sl.key()}
		}
		if err := check(sl.key(), b, "dirty"); err != nil {
			return 0, err
		}
	}
	// No write in flight means no compute, so no goroutine waits for one:
	// a count left over would send every compute's end through mu to wake
	// nobody (see segment.wake).
	if w := s.waiters.Load(); w != 0 {
		return 0, fmt.Errorf("waiters = %d with no compute running", w)
	}
	// pending is guarded by mu (a sweep's rebuild writes it).
	if s.pending != 0 && s.settled.Load() {
		return 0, fmt.Errorf("pending %d, but settled is set", s.pending)
	}
	if live := tallyLive(s.tally.Load()) + s.pending; live != int64(present) {
		return 0, fmt.Errorf("live count %d, but %d keys present", live, present)
	}
	return present, nil
}

// mustCheck panics with the broken invariant, for use from test helpers.
func (m *Map[K, V]) mustCheck() {
	if err := m.checkInvariants(); err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(fmt.Sprintf("%s:%d: invariant broken: %v", file, line, err))
	}
}

// Helpers that the external test package (package safemap_test) shares with
// this one.
var (
	// WaitOrFail is waitOrFail: wait for a WaitGroup, fail on a wedge.
	WaitOrFail = waitOrFail
	// HeapAlloc is heapAlloc: the live heap after full collections.
	HeapAlloc = heapAlloc
)

// check checks d's invariants: get finds every key in tab and every key
// of old not yet moved, n counts them all and used those in tab, free
// slots hold nothing, a slot's tag is its key's, at most three quarters of
// the slots are used, a growth in progress has a table twice its old
// one's size, and the inline slots hold nothing once neither table is
// them. A nil d passes.
func (d *dirtyMap[K, V]) check() error {
	if d == nil {
		return nil
	}
	isInline := func(tb *dirtyTable[K, V]) bool { return &tb.ctrl[0] == &d.inlineCtrl[0] }
	scan := func(name string, tb *dirtyTable[K, V], from int) (int, error) {
		size := len(tb.ctrl)
		if size < dirtyInline || size&(size-1) != 0 || len(tb.kv) != size || tb.p != nil && len(tb.p) != size {
			return 0, fmt.Errorf("dirty map's %s has %d slots, %d keys, %d pointers", name, size, len(tb.kv), len(tb.p))
		}
		if d.boxed && tb.p == nil {
			return 0, fmt.Errorf("boxed dirty map's %s has no p array", name)
		}
		used := 0
		for i, c := range tb.ctrl {
			kv := tb.kv[i]
			if c == 0 {
				if !reflect.ValueOf(&kv).Elem().IsZero() || tb.p != nil && tb.p[i] != nil {
					return 0, fmt.Errorf("free slot %d of the dirty map's %s holds key %v", i, name, kv.key)
				}
				continue
			}
			if c>>dirtyTagBits >= dirtyCodes {
				return 0, fmt.Errorf("slot %d of the dirty map's %s has control byte %#x", i, name, c)
			}
			// A NaN, or a key holding one, hashes anew each time, as in a Go
			// map: == finds it nowhere.
			if kv.key == kv.key && c&dirtyTagMask != dirtyTag(d.hash(kv.key)) {
				return 0, fmt.Errorf("dirty key %v (%s) has tag %#x, its hash %#x", kv.key, name, c&dirtyTagMask, dirtyTag(d.hash(kv.key)))
			}
			if i < from {
				if c>>dirtyTagBits != dirtyCodeMoved {
					return 0, fmt.Errorf("moved slot %d of the dirty map's %s has state %d", i, name, c>>dirtyTagBits)
				}
				continue // moved: found in tab
			}
			used++
			if kv.key != kv.key {
				continue // a NaN, or a key holding one: == finds it nowhere, as in a Go map
			}
			if got := d.get(d.hash(kv.key), kv.key); got.tb != tb || got.i != i {
				return 0, fmt.Errorf("dirty key %v (%s): get returns another slot (%d, want %d)", kv.key, name, got.i, i)
			}
		}
		return used, nil
	}
	used, err := scan("tab", &d.tab, 0)
	if err != nil {
		return err
	}
	if used != d.used {
		return fmt.Errorf("dirty map counts %d used slots, has %d", d.used, used)
	}
	if !dirtyFits(used, len(d.tab.ctrl)) {
		return fmt.Errorf("dirty map uses %d of %d slots", used, len(d.tab.ctrl))
	}
	waiting := 0
	if d.growing() {
		if len(d.tab.ctrl) != 2*len(d.old.ctrl) || d.moved >= len(d.old.ctrl) {
			return fmt.Errorf("dirty map growing from %d to %d slots, %d moved", len(d.old.ctrl), len(d.tab.ctrl), d.moved)
		}
		if waiting, err = scan("old", d.old, d.moved); err != nil {
			return err
		}
	} else if d.moved != 0 {
		return fmt.Errorf("dirty map has moved = %d and no old table", d.moved)
	}
	if used+waiting != d.n {
		return fmt.Errorf("dirty map counts %d keys, holds %d", d.n, used+waiting)
	}
	if !isInline(&d.tab) && (d.old == nil || !isInline(d.old)) && (!reflect.ValueOf(&d.inlineCtrl).Elem().IsZero() ||
		!reflect.ValueOf(&d.inlineKV).Elem().IsZero() || !reflect.ValueOf(&d.inlineP).Elem().IsZero()) {
		return fmt.Errorf("dirty map keeps keys in its inline slots after growing")
	}
	return nil
}

// testDirtyStates returns the dirty states of a new map's table.
func testDirtyStates() *dirtyStates[int, int] {
	return firstTable[int, int](0).dirtyStates
}

// checkTombCounts compares each segment's count of its read map's
// tombstones (the tally's) with the deleted entries that the read map
// holds, under the segment's mu. The count is exact while no lock-free
// write runs beside a rebuild; one that does may leave it off by one until
// the next rebuild (see tally), and a sweep's timer rebuilds beside the
// caller's own writes, so a sequential test that runs for longer than a
// sweep delay allows a slack of one. Read maps too big to be tallied are
// skipped (see maxTalliedEntries).
func (m *Map[K, V]) checkTombCounts(slack int64) error {
	t := m.t.Load()
	if t == nil {
		return nil
	}
	for i := range t.segs {
		s := t.segs[i].Load()
		if s == nil {
			continue
		}
		s.mu.Lock()
		r, deleted := s.loadRead(t), int64(0)
		r.each(func(_ K, e *entry[K, V]) bool {
			if p := e.p.Load(); p == nil || p == t.swept {
				deleted++
			}
			return true
		})
		tombs := tallyTombs(s.tally.Load())
		s.mu.Unlock()
		if r.n <= maxTalliedEntries && (tombs < deleted-slack || tombs > deleted+slack) {
			return fmt.Errorf("segment %d: tombstone count %d, but the read map holds %d deleted entries", i, tombs, deleted)
		}
	}
	return nil
}
