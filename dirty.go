package safemap

import "iter"

// A dirtyMap is a segment's dirty map: the keys that its read map lacks,
// with their states (see segment.dirty). It is guarded by the segment's mu,
// like the field that points to it.
//
// It is a hash table of its own, not a Go map[K]*box, because the segment
// always has the key's hash at hand when it looks a key up or adds one: a Go
// map hashed the key again, each time. Growth and batch deletes, which need
// the hashes of keys already in, hash them again (hash).
//
// Open addressing with linear probing: a key's probe starts at the slot of
// its hash's low bits (its home) and walks forward, wrapping around, to the
// first free slot. At most three quarters of the slots are used, so every
// probe ends. Keys leave only in batches (see deleteIf), by backward shift:
// no tombstones, so a probe never walks past deleted keys.
//
// A table keeps each slot in up to three arrays (see dirtyTable): a control
// byte with the slot's state and a few bits of its key's hash, the key with
// its value, and a pointer for the states that need one. A probe walks the
// control bytes, 64 to a cache line, and reads a key only where the hash
// bits match; and when neither K nor V holds a pointer, the arrays that a
// big table is made of hold none either, so the collector does not scan
// them, and an int->int slot takes 16 bytes and its control byte, not the
// 24 of a slot that held its state as a pointer. Measured against that
// layout: see the JOURNAL, the session of 2026-12-05 from 10:37.
//
// A small map keeps its slots in the object itself (inline): a segment's
// first keys, a Clear and a Store say, cost one allocation, where a Go map
// took two (its header and its first group of slots).
//
// Growth is incremental: it allocates a table twice as large and leaves
// the old one in place (old), and each later insert moves the keys of
// dirtyMoveStep more of the old slots; while old is being moved, lookups
// probe both tables. Moving every key at once made one insert in a segment
// of n dirty keys wait O(n) under the segment's lock: on one dirty map of
// int keys (2 cores, Go 1.26.8, a throwaway test timing each insert, three
// runs), the slowest insert took 83-87 ms on the way to 1,000,000 keys.
// What is left is the allocation of the new table, a single block of many
// megabytes, and the collector's work that the runtime charges to it: the
// slowest insert took 23-49 ms with the collector on and 1.2-2.3 ms with
// GOGC=off, against 0.5-1.4 ms for a Go map, which grows 1,024 slots at a
// time (five runs, 2026-12-08; see the README). Bounding that too would
// take a table split into separately grown parts.
type dirtyMap[K comparable, V any] struct {
	// The fields that every insert and Clear uses come first (with the
	// inline slots, the first 176 bytes of an int->int map): two cores
	// that take turns with a segment pass fewer cache lines back and
	// forth. The rest serve growth, states and boxed values.
	n    int // the keys held, in tab and in old[moved:]
	used int // the slots of tab in use, at most three quarters of them
	// tab has a power of two of slots, the inline ones until the first
	// growth.
	tab dirtyTable[K, V]
	// old is the table that a growth is moving keys from, nil once they
	// have all moved. Its slots below moved have been copied to tab; the
	// rest are the keys not yet moved. No key is added to old or removed
	// from it while it is moved, so its probes stay whole and find the
	// keys not yet moved.
	old   *dirtyTable[K, V]
	moved int
	// The inline slots: the first table. Once the map outgrows them it
	// clears them, so that they keep no key or box alive. inlineP is the
	// inline table's p array, if it has one (see needP).
	inlineCtrl [dirtyInline]uint8
	inlineKV   [dirtyInline]dirtyKV[K, V]
	// hash is the map's hash function (table.hasher.hash).
	hash func(K) uint64
	// states are the sentinels that the control bytes stand for (see
	// dirtyStates), shared by the map's tables.
	states *dirtyStates[K, V]
	// boxed is set when the map's values live in boxes (see dirtySlot):
	// every table then has its p array from the start.
	boxed   bool
	inlineP [dirtyInline]*box[K, V]
}

// A dirtyTable is the slots of one table of a dirtyMap, in three arrays of
// the same length, a power of two:
//
//   - ctrl[i] is 0 for a free slot, whose kv and p are zero too; else the
//     slot's state code (see dirtyStates) in its high bits and dirtyTagBits
//     bits of its key's hash (dirtyTag) in its low ones.
//   - kv[i] is the slot's key and, while the state is inline, its value;
//     the value is zero in every other state (see dirtySlot.setState).
//   - p[i] is the state of a slot whose code is dirtyCodePtr (a value box,
//     or a compute's mark), nil in every other slot. The array is nil
//     while no slot of the table has needed it, which for a map of inline
//     values is while no compute has claimed one of its dirty keys.
type dirtyTable[K comparable, V any] struct {
	ctrl []uint8
	kv   []dirtyKV[K, V]
	p    []*box[K, V]
}

// A dirtyKV is the key and value of a dirty slot.
type dirtyKV[K comparable, V any] struct {
	key   K
	value V
}

// The state codes of a control byte: a slot's state as an entry would hold
// it, one of the table's sentinels (see dirtyStates) or, for dirtyCodePtr,
// the slot's p.
const (
	dirtyCodeFree     = iota // a free slot: the control byte is 0
	dirtyCodeInline          // the table's inline sentinel: the value is in kv
	dirtyCodeDeleted         // the deleted sentinel
	dirtyCodeSwept           // the swept sentinel
	dirtyCodeExpunged        // the expunged sentinel
	dirtyCodeMoved           // the moved sentinel: the key has moved to tab (old only)
	dirtyCodePtr             // p holds the state
	dirtyCodes
)

// dirtyTagBits is the number of bits of the key's hash that a control byte
// holds: the rest of its 8 hold the state code. A probe reads the key of a
// used slot whose tag differs from the key's own hash bits only one time in
// 32.
const dirtyTagBits = 5

// dirtyTagMask selects the tag of a control byte.
const dirtyTagMask = 1<<dirtyTagBits - 1

// dirtyTag returns the tag of the hash h: bits that neither the home of a
// dirty slot (the low bits) nor the segment (the high bits) uses.
func dirtyTag(h uint64) uint8 {
	return uint8(h>>40) & dirtyTagMask
}

// dirtyStates maps a state code to the table's sentinel that it stands for
// (nil for dirtyCodeFree and dirtyCodePtr). It is made once per map (see
// firstTable) and never changes.
type dirtyStates[K comparable, V any] [dirtyCodes]*box[K, V]

// code returns the state code of b, a state of a dirty slot (not nil).
func (st *dirtyStates[K, V]) code(b *box[K, V]) uint8 {
	for c := uint8(dirtyCodeInline); c < dirtyCodePtr; c++ {
		if st[c] == b {
			return c
		}
	}
	return dirtyCodePtr
}

// dirtyInline is the number of slots inside a dirtyMap: room for three keys.
const dirtyInline = 4

// dirtyMoveStep is the number of old slots that each insert moves during
// a growth. A growth starts when the old table is three quarters full and
// the new one, twice as large, holds nothing; moving 32 slots per insert,
// the move ends after 1/32 of the old table's size in inserts, with the new
// table not yet 40% full: long before it needs to grow in turn. While a
// move goes on, a lookup of an absent key probes both tables, so a short
// move costs less: with 4 slots per insert, LoadOrStoreUnique at 2 CPUs
// took 17% longer than with growth all at once (A/B, 8 rounds, p=0.003);
// with 32, 1-4% (p >= 0.28, no difference).
const dirtyMoveStep = 32

// newDirtyMap returns an empty dirty map with room for hint keys, hashing
// keys with hash, whose control bytes stand for states; boxed as in
// dirtyMap.
func newDirtyMap[K comparable, V any](hint int, hash func(K) uint64, states *dirtyStates[K, V], boxed bool) *dirtyMap[K, V] {
	d := &dirtyMap[K, V]{hash: hash, states: states, boxed: boxed}
	d.tab = d.inlineTable()
	if size := dirtySlotsFor(hint); size > dirtyInline {
		d.tab = d.newTable(size)
	}
	return d
}

// inlineTable returns the inline slots as a table, with its p array if d
// is boxed (see needP).
func (d *dirtyMap[K, V]) inlineTable() dirtyTable[K, V] {
	tb := dirtyTable[K, V]{ctrl: d.inlineCtrl[:], kv: d.inlineKV[:]}
	if d.boxed {
		tb.p = d.inlineP[:]
	}
	return tb
}

// isInline reports whether tb is the inline slots.
func (d *dirtyMap[K, V]) isInline(tb *dirtyTable[K, V]) bool {
	return len(tb.ctrl) == dirtyInline // no other table is that small
}

// newTable allocates a table of size slots, with a p array if d is boxed.
func (d *dirtyMap[K, V]) newTable(size int) dirtyTable[K, V] {
	tb := dirtyTable[K, V]{ctrl: make([]uint8, size), kv: make([]dirtyKV[K, V], size)}
	if d.boxed {
		tb.p = make([]*box[K, V], size)
	}
	return tb
}

// dirtySlotsFor returns the number of slots that hold n keys: a power of
// two, at least dirtyInline, of which n are at most three quarters.
func dirtySlotsFor(n int) int {
	size := dirtyInline
	for !dirtyFits(n, size) {
		size *= 2
	}
	return size
}

// dirtyFits reports whether n keys fit in size slots: at most three
// quarters of them.
func dirtyFits(n, size int) bool {
	return n*4 <= size*3
}

// len returns the number of keys in d; a nil d is empty.
func (d *dirtyMap[K, V]) len() int {
	if d == nil {
		return 0
	}
	return d.n
}

// growing reports whether a growth is moving keys from old.
func (d *dirtyMap[K, V]) growing() bool {
	return d.old != nil
}

// get returns the slot of key, whose hash is h, or no slot (see
// dirtySlot.ok) if d lacks it. The slot is valid until d next changes.
// O(1) expected.
func (d *dirtyMap[K, V]) get(h uint64, key K) dirtySlot[K, V] {
	tag := dirtyTag(h)
	for tb := &d.tab; ; tb = d.old {
		ctrl := tb.ctrl
		mask := len(ctrl) - 1
		for i := int(h) & mask; ctrl[i] != 0; i = (i + 1) & mask {
			// The tag first: it is in the control bytes, which the probe
			// reads anyway; the key only where the tag matches.
			if ctrl[i]&dirtyTagMask == tag && tb.kv[i].key == key {
				return dirtySlot[K, V]{d: d, tb: tb, i: i}
			}
		}
		// The probe ended at a free slot. A key not yet moved is still
		// in old, whose probes are whole; a key that has moved is in
		// tab too, and was looked for first.
		if tb == d.old || !d.growing() {
			return dirtySlot[K, V]{}
		}
	}
}

// put adds key, whose hash is h and which d lacks, in the deleted state,
// and returns its slot, valid until d next changes. O(1): while a growth
// is in progress it moves the keys of dirtyMoveStep old slots (hashing
// each), and when the slots would pass three quarters full it starts a
// growth, which allocates the new table and moves nothing.
func (d *dirtyMap[K, V]) put(h uint64, key K) dirtySlot[K, V] {
	return d.putState(h, dirtyKV[K, V]{key: key}, dirtyCodeDeleted, nil)
}

// putFrom adds the key of sl, a slot of another dirty map whose key's hash
// is h and which d lacks, with sl's state and value.
func (d *dirtyMap[K, V]) putFrom(h uint64, sl dirtySlot[K, V]) {
	d.putState(h, sl.tb.kv[sl.i], sl.code(), sl.tb.ptr(sl.i))
}

// ptr returns the pointer state of slot i: nil unless its code is
// dirtyCodePtr.
func (tb *dirtyTable[K, V]) ptr(i int) *box[K, V] {
	if tb.p == nil {
		return nil
	}
	return tb.p[i]
}

// putState is put for a key and value, state code and pointer state.
func (d *dirtyMap[K, V]) putState(h uint64, kv dirtyKV[K, V], code uint8, p *box[K, V]) dirtySlot[K, V] {
	if d.growing() {
		d.move(dirtyMoveStep)
	}
	// n, not used: if a growth were still moving (dirtyMoveStep's pace
	// rules that out), its keys would then all fit in tab.
	if !dirtyFits(d.n+1, len(d.tab.ctrl)) {
		d.finishGrowth()
		old := d.tab
		d.old, d.moved = &old, 0
		d.tab, d.used = d.newTable(2*len(d.tab.ctrl)), 0
	}
	sl := d.place(h, kv, code, p)
	d.n++
	return sl
}

// place puts a key, whose hash is h, with its value, state code and
// pointer state, in the first free slot of its probe in tab.
func (d *dirtyMap[K, V]) place(h uint64, kv dirtyKV[K, V], code uint8, p *box[K, V]) dirtySlot[K, V] {
	tb := &d.tab
	mask := len(tb.ctrl) - 1
	i := int(h) & mask
	for tb.ctrl[i] != 0 {
		i = (i + 1) & mask
	}
	tb.ctrl[i] = code<<dirtyTagBits | dirtyTag(h)
	tb.kv[i] = kv
	if p != nil {
		d.needP(tb)[i] = p
	}
	d.used++
	return dirtySlot[K, V]{d: d, tb: tb, i: i}
}

// needP returns the p array of tb, a table of d, allocating it if tb has
// none yet (the inline slots have theirs in d).
func (d *dirtyMap[K, V]) needP(tb *dirtyTable[K, V]) []*box[K, V] {
	switch {
	case tb.p != nil:
	case d.isInline(tb):
		tb.p = d.inlineP[:]
	default:
		tb.p = make([]*box[K, V], len(tb.ctrl))
	}
	return tb.p
}

// move copies the keys of up to k more old slots to tab, and drops old
// once every slot has moved.
func (d *dirtyMap[K, V]) move(k int) {
	old := d.old
	for end := min(d.moved+k, len(old.ctrl)); d.moved < end; d.moved++ {
		i := d.moved
		if old.ctrl[i] == 0 {
			continue
		}
		d.place(d.hash(old.kv[i].key), old.kv[i], old.ctrl[i]>>dirtyTagBits, old.ptr(i))
		// The key is found in tab from now on, first (see get); here it
		// only keeps the probes of old whole, and its value and state
		// are not kept reachable from old.
		dirtySlot[K, V]{d: d, tb: old, i: i}.setState(d.states[dirtyCodeMoved])
	}
	if d.moved == len(old.ctrl) {
		d.dropOld()
	}
}

// finishGrowth moves every key that a growth has not moved yet.
func (d *dirtyMap[K, V]) finishGrowth() {
	if d.growing() {
		d.move(len(d.old.ctrl))
	}
}

// dropOld forgets old, clearing it first if it is the inline slots, so
// that they keep no key or box alive.
func (d *dirtyMap[K, V]) dropOld() {
	if d.isInline(d.old) {
		d.clearInline(d.old.p != nil)
	}
	d.old, d.moved = nil, 0
}

// clearInline frees every inline slot, and their p array if withP:
// assignments that the compiler makes plain stores, not the calls of
// clear (a Clear and a Store in place clear them each time).
func (d *dirtyMap[K, V]) clearInline(withP bool) {
	d.inlineCtrl = [dirtyInline]uint8{}
	d.inlineKV = [dirtyInline]dirtyKV[K, V]{}
	if withP {
		d.inlineP = [dirtyInline]*box[K, V]{}
	}
}

// all returns the slots in use, for reading only: the loop must not change
// d (but it may change the states of the slots it is given). Each key
// comes once, in no particular order. A nil d is empty.
func (d *dirtyMap[K, V]) all() iter.Seq[dirtySlot[K, V]] {
	return func(yield func(dirtySlot[K, V]) bool) {
		if d == nil {
			return
		}
		for i, c := range d.tab.ctrl {
			if c != 0 && !yield(dirtySlot[K, V]{d: d, tb: &d.tab, i: i}) {
				return
			}
		}
		if old := d.old; old != nil {
			for i := d.moved; i < len(old.ctrl); i++ { // the keys not yet moved
				if old.ctrl[i] != 0 && !yield(dirtySlot[K, V]{d: d, tb: old, i: i}) {
					return
				}
			}
		}
	}
}

// clear removes every key, keeping the slots (and dropping old). O(slots).
func (d *dirtyMap[K, V]) clear() {
	if d.growing() {
		d.dropOld()
	}
	if d.isInline(&d.tab) {
		d.clearInline(d.tab.p != nil)
	} else {
		clear(d.tab.ctrl)
		clear(d.tab.kv)
		clear(d.tab.p)
	}
	d.n, d.used = 0, 0
}

// deleteIf removes the keys whose slots drop reports, and returns how many
// it removed. O(slots).
//
// It visits the slots in order and removes a key by backward shift (see
// remove), which may move a later key into the slot just emptied; so that
// slot is looked at again. A key moves only backwards along its probe, into
// a slot that the loop has not passed yet, or, where a probe wraps around
// the end, from the first slots (passed) to the last ones: such a key is
// looked at twice, which is harmless, since drop is asked again of the
// same slot and keeps it again.
func (d *dirtyMap[K, V]) deleteIf(drop func(sl dirtySlot[K, V]) bool) int {
	d.finishGrowth() // keys leave tab only
	removed := 0
	for i := 0; i < len(d.tab.ctrl); {
		if d.tab.ctrl[i] != 0 && drop(dirtySlot[K, V]{d: d, tb: &d.tab, i: i}) {
			d.remove(i)
			removed++
			continue
		}
		i++
	}
	return removed
}

// remove empties slot i of tab, which is in use, and closes the gap: each
// key after it, up to the next free slot, whose probe passes through the
// gap moves into it, leaving a new gap where it was. Every probe then still
// reaches its key without crossing a free slot.
func (d *dirtyMap[K, V]) remove(i int) {
	tb := &d.tab
	mask := len(tb.ctrl) - 1
	for j := i; ; {
		j = (j + 1) & mask
		if tb.ctrl[j] == 0 {
			break
		}
		// j stays if its home lies in (i, j], going round: its probe
		// does not pass through i.
		if home := int(d.hash(tb.kv[j].key)) & mask; (j-home)&mask < (j-i)&mask {
			continue
		}
		tb.ctrl[i], tb.kv[i] = tb.ctrl[j], tb.kv[j]
		if tb.p != nil {
			tb.p[i] = tb.p[j]
		}
		i = j
	}
	var zero dirtyKV[K, V]
	tb.ctrl[i], tb.kv[i] = 0, zero
	if tb.p != nil {
		tb.p[i] = nil
	}
	d.n--
	d.used--
}
