package safemap

import "iter"

// A dirtyMap is a segment's dirty map: the keys that its read map lacks,
// with their entries (see segment.dirty). It is guarded by the segment's mu,
// like the field that points to it.
//
// It is a hash table of its own, not a Go map[K]*entry, because the segment
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
// Growth moves every key at once, under the segment's lock: amortized O(1)
// per insert, but one insert in a segment of n dirty keys waits O(n),
// where a Go map grows 1,024 slots at a time. Measured on one dirty map of
// int keys (2 cores, Go 1.26.8, a throwaway test timing each insert): the
// slowest insert took 11 ms on the way to 100,000 keys and 83 ms on the way
// to 1,000,000, against 0.5 ms and 7 ms for a Go map. A promotion, which
// rebuilds the segment's read map under the same lock, already costs O(n)
// of the segment; growth doubles, so its pauses add up to about as much
// again.
type dirtyMap[K comparable, V any] struct {
	// slots has a power of two of slots, inline[:] until the first growth.
	// A slot is free exactly when its e is nil; a free slot holds no key.
	slots []dirtySlot[K, V]
	n     int // slots in use: the keys held
	// hash is the map's hash function (table.hasher.hash).
	hash func(K) uint64
	// inline is the first slots. Once the map outgrows them it clears
	// them, so that they keep no key or entry alive.
	inline [dirtyInline]dirtySlot[K, V]
}

// A dirtySlot is one key of a dirtyMap with its entry, or a free slot (e
// nil, and nothing else set).
type dirtySlot[K comparable, V any] struct {
	e   *entry[K, V]
	key K
}

// dirtyInline is the number of slots inside a dirtyMap: room for three keys.
const dirtyInline = 4

// newDirtyMap returns an empty dirty map with room for hint keys, hashing
// keys with hash.
func newDirtyMap[K comparable, V any](hint int, hash func(K) uint64) *dirtyMap[K, V] {
	d := &dirtyMap[K, V]{hash: hash}
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
	for size/4*3 < n {
		size *= 2
	}
	return size
}

// len returns the number of keys in d; a nil d is empty.
func (d *dirtyMap[K, V]) len() int {
	if d == nil {
		return 0
	}
	return d.n
}

// get returns the entry of key, whose hash is h, or nil if d lacks it.
// O(1) expected.
func (d *dirtyMap[K, V]) get(h uint64, key K) *entry[K, V] {
	mask := len(d.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := &d.slots[i]
		if s.e == nil {
			return nil // the probe ends at a free slot
		}
		if s.key == key {
			return s.e
		}
	}
}

// put adds key, whose hash is h and which d lacks, with its entry e.
// O(1) amortized: it doubles the slots when they would pass three quarters
// full, which moves (and hashes) every key.
func (d *dirtyMap[K, V]) put(h uint64, key K, e *entry[K, V]) {
	if (d.n+1)*4 > len(d.slots)*3 {
		d.grow()
	}
	d.place(h, dirtySlot[K, V]{e: e, key: key})
	d.n++
}

// place puts s, whose key's hash is h, in the first free slot of its probe.
func (d *dirtyMap[K, V]) place(h uint64, s dirtySlot[K, V]) {
	mask := len(d.slots) - 1
	i := int(h) & mask
	for d.slots[i].e != nil {
		i = (i + 1) & mask
	}
	d.slots[i] = s
}

// grow moves the keys to twice as many slots.
func (d *dirtyMap[K, V]) grow() {
	old := d.slots
	d.slots = make([]dirtySlot[K, V], 2*len(old))
	for i := range old {
		if old[i].e != nil {
			d.place(d.hash(old[i].key), old[i])
		}
	}
	if len(old) == dirtyInline {
		clear(d.inline[:]) // old was inline: keep no key alive there
	}
}

// all returns the slots in use, for reading only: the loop must not change
// d. Each key comes once, in no particular order. A nil d is empty.
func (d *dirtyMap[K, V]) all() iter.Seq[*dirtySlot[K, V]] {
	return func(yield func(*dirtySlot[K, V]) bool) {
		if d == nil {
			return
		}
		for i := range d.slots {
			if s := &d.slots[i]; s.e != nil && !yield(s) {
				return
			}
		}
	}
}

// clear removes every key, keeping the slots. O(slots).
func (d *dirtyMap[K, V]) clear() {
	clear(d.slots)
	d.n = 0
}

// deleteIf removes the keys whose entry drop reports, and returns how many
// it removed. O(slots).
//
// It visits the slots in order and removes a key by backward shift (see
// remove), which may move a later key into the slot just emptied; so that
// slot is looked at again. A key moves only backwards along its probe, into
// a slot that the loop has not passed yet, or, where a probe wraps around
// the end, from the first slots (passed) to the last ones: such a key is
// looked at twice, which is harmless, since drop is asked again of the
// same entry and keeps it again.
func (d *dirtyMap[K, V]) deleteIf(drop func(e *entry[K, V]) bool) int {
	removed := 0
	for i := 0; i < len(d.slots); {
		if e := d.slots[i].e; e != nil && drop(e) {
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
		if s.e == nil {
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
}
