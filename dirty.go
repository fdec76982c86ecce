package safemap

import "iter"

// A dirtyMap is a segment's dirty map: the keys that its read map lacks,
// with their states (see segment.dirty). It is guarded by the segment's mu,
// like the field that points to it.
//
// It is a hash table of its own, not a Go map[K]*box, because the segment
// always has the key's hash at hand when it looks a key up or adds one: a Go
// map hashed the key again, each time. Slots hold no hash: with the hash, an
// int key's slot took 24 bytes instead of 16, and a dirty map of 100,000 new
// int keys 64 bytes per key against a Go map's 25 (HeapAlloc after GC).
// Growth and batch deletes, which need the hashes of keys already in, hash
// them again (hash).
//
// Open addressing with linear probing: a key's probe starts at the slot of
// its hash's low bits (its home) and walks forward, wrapping around, to the
// first free slot. At most three quarters of the slots are used, so every
// probe ends. Keys leave only in batches (see deleteIf), by backward shift:
// no tombstones, so a probe never walks past deleted keys.
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
// runs), the slowest insert took 83-87 ms on the way to 1,000,000 keys,
// and takes 9-12 ms now. What is left is the allocation of the new table,
// which the runtime zeroes (a 32 MB make took 30 ms on average here): a Go
// map, which grows 1,024 slots at a time, kept its slowest insert at
// 0.8-2.6 ms. Bounding that too would take a table split into separately
// grown parts.
type dirtyMap[K comparable, V any] struct {
	// slots has a power of two of slots, inline[:] until the first growth.
	// A slot is free exactly when its e is nil; a free slot holds no key.
	slots []dirtySlot[K, V]
	n     int // the keys held, in slots and in old[moved:]
	used  int // the slots of slots in use, at most three quarters of them
	// old is the table that a growth is moving keys from, nil once they
	// have all moved. Its slots below moved have been copied to slots;
	// the rest are the keys not yet moved. Nothing in old changes while
	// it is moved: no key is added to it or removed from it, so its probes
	// stay whole and find the keys not yet moved.
	old   []dirtySlot[K, V]
	moved int
	// hash is the map's hash function (table.hasher.hash).
	hash func(K) uint64
	// gone is what a slot of old holds once its key has moved to slots:
	// a box that is no value (the table's moved sentinel), so that the
	// slot stays in use and the probes of old stay whole, while the
	// key's box, which slots now holds and later writes replace there,
	// is not kept reachable from old (TestDirtyGrowthReleasesValues).
	gone *box[K, V]
	// inline is the first slots. Once the map outgrows them it clears
	// them, so that they keep no key or box alive.
	inline [dirtyInline]dirtySlot[K, V]
}

// A dirtySlot is one key of a dirtyMap with its state, or a free slot (p
// nil, and nothing else set). The segment reads and writes it with plain
// loads and stores, under its lock (see segment.dirty for what p holds).
type dirtySlot[K comparable, V any] struct {
	p   *box[K, V]
	key K
	// value is the key's value while p is the table's inline sentinel,
	// and zero in every other state (see dirtySlot.clearTo): a slot keeps
	// no value of a key that is deleted or moved out of it.
	value V
}

// used reports whether the slot holds a key.
func (s *dirtySlot[K, V]) used() bool {
	return s.p != nil
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
// keys with hash; gone is a box that is no value (see dirtyMap.gone).
func newDirtyMap[K comparable, V any](hint int, hash func(K) uint64, gone *box[K, V]) *dirtyMap[K, V] {
	d := &dirtyMap[K, V]{hash: hash, gone: gone}
	d.slots = d.inline[:]
	if size := dirtySlotsFor(hint); size > dirtyInline {
		d.slots = make([]dirtySlot[K, V], size)
	}
	return d
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

// get returns the slot of key, whose hash is h, or nil if d lacks it. The
// slot is valid until d next changes. O(1) expected.
func (d *dirtyMap[K, V]) get(h uint64, key K) *dirtySlot[K, V] {
	for t := d.slots; ; t = d.old {
		mask := len(t) - 1
		for i := int(h) & mask; t[i].used(); i = (i + 1) & mask {
			if t[i].key == key {
				return &t[i]
			}
		}
		// The probe ended at a free slot. A key not yet moved is still
		// in old, whose probes are whole; a key that has moved is in
		// slots too, and was looked for first.
		if d.old == nil || len(t) == len(d.old) {
			return nil
		}
	}
}

// put adds key, whose hash is h and which d lacks, with its state p (not
// nil), and returns its slot, valid until d next changes. O(1):
// while a growth is in progress it moves the keys of dirtyMoveStep old
// slots (hashing each), and when the slots would pass three quarters full
// it starts a growth, which allocates the new table and moves nothing.
func (d *dirtyMap[K, V]) put(h uint64, key K, p *box[K, V]) *dirtySlot[K, V] {
	return d.putSlot(h, dirtySlot[K, V]{p: p, key: key})
}

// putSlot is put for a whole slot, whose p is not nil.
func (d *dirtyMap[K, V]) putSlot(h uint64, sl dirtySlot[K, V]) *dirtySlot[K, V] {
	if d.old != nil {
		d.move(dirtyMoveStep)
	}
	// n, not used: if a growth were still moving (dirtyMoveStep's pace
	// rules that out), its keys would then all fit in slots.
	if !dirtyFits(d.n+1, len(d.slots)) {
		d.move(len(d.old))
		d.old, d.moved = d.slots, 0
		d.slots, d.used = make([]dirtySlot[K, V], 2*len(d.slots)), 0
	}
	p := d.place(h, sl)
	d.n++
	return p
}

// place puts s, whose key's hash is h, in the first free slot of its probe
// in slots.
func (d *dirtyMap[K, V]) place(h uint64, s dirtySlot[K, V]) *dirtySlot[K, V] {
	mask := len(d.slots) - 1
	i := int(h) & mask
	for d.slots[i].used() {
		i = (i + 1) & mask
	}
	d.slots[i] = s
	d.used++
	return &d.slots[i]
}

// move copies the keys of up to k more old slots to slots, and drops old
// once every slot has moved.
func (d *dirtyMap[K, V]) move(k int) {
	for end := min(d.moved+k, len(d.old)); d.moved < end; d.moved++ {
		if s := &d.old[d.moved]; s.used() {
			d.place(d.hash(s.key), *s)
			// The key is found in slots from now on, first (see get);
			// here it only keeps the probes of old whole, and its
			// value is not kept reachable from old.
			s.clearTo(d.gone)
		}
	}
	if d.old != nil && d.moved == len(d.old) {
		d.dropOld()
	}
}

// dropOld forgets old, clearing it first if it is the inline slots, so
// that they keep no key or box alive.
func (d *dirtyMap[K, V]) dropOld() {
	if len(d.old) == dirtyInline {
		clear(d.inline[:])
	}
	d.old, d.moved = nil, 0
}

// all returns the slots in use, for reading only: the loop must not change
// d. Each key comes once, in no particular order. A nil d is empty.
func (d *dirtyMap[K, V]) all() iter.Seq[*dirtySlot[K, V]] {
	return func(yield func(*dirtySlot[K, V]) bool) {
		if d == nil {
			return
		}
		for i := range d.slots {
			if s := &d.slots[i]; s.used() && !yield(s) {
				return
			}
		}
		for i := d.moved; i < len(d.old); i++ { // the keys not yet moved
			if s := &d.old[i]; s.used() && !yield(s) {
				return
			}
		}
	}
}

// clear removes every key, keeping the slots (and dropping old). O(slots).
func (d *dirtyMap[K, V]) clear() {
	if d.old != nil {
		d.dropOld()
	}
	clear(d.slots)
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
func (d *dirtyMap[K, V]) deleteIf(drop func(s *dirtySlot[K, V]) bool) int {
	d.move(len(d.old)) // finish a growth: keys leave slots only
	removed := 0
	for i := 0; i < len(d.slots); {
		if s := &d.slots[i]; s.used() && drop(s) {
			d.remove(i)
			removed++
			continue
		}
		i++
	}
	return removed
}

// remove empties slot i, which is in use, and closes the gap: each key
// after it, up to the next free slot, whose probe passes through the gap
// moves into it, leaving a new gap where it was. Every probe then still
// reaches its key without crossing a free slot.
func (d *dirtyMap[K, V]) remove(i int) {
	mask := len(d.slots) - 1
	for j := i; ; {
		j = (j + 1) & mask
		s := &d.slots[j]
		if !s.used() {
			break
		}
		// s stays if its home lies in (i, j], going round: its probe
		// does not pass through i.
		if home := int(d.hash(s.key)) & mask; (j-home)&mask < (j-i)&mask {
			continue
		}
		d.slots[i] = *s
		i = j
	}
	d.slots[i] = dirtySlot[K, V]{}
	d.n--
	d.used--
}
