package safemap

import (
	"hash/maphash"
	"iter"
	"math/bits"
	"reflect"
	"sync"
	"sync/atomic"
)

// segmentBits is the number of hash bits (the top ones) that choose a
// segment. Each segment is promoted and locked independently, so a promotion
// copies a sixteenth of the map and a write contends only with writers of
// its own segment.
const (
	segmentBits = 4
	segments    = 1 << segmentBits
)

// A table is everything a Map holds between two calls of Clear that replace
// it: the segments with their read maps, dirty maps and counts. Clear
// replaces the whole table with one atomic store, so that it takes effect at
// one instant for every key; a map whose keys all wait in small dirty maps
// it empties in place instead (see clearInPlace).
type table[K comparable, V any] struct {
	// Set once, before the table is published, and never written again.
	hasher   hasher[K]
	expunged *box[K, V]      // the expunged sentinel; the same for every table of a map
	swept    *box[K, V]      // the swept sentinel; likewise
	moved    *box[K, V]      // the moved sentinel; likewise
	empty    *readOnly[K, V] // what a nil read pointer stands for, and where a segment left with no key points; shared by every table of a map, never written
	counts   *mapCounts      // shared by every table of a map; writes read its computes

	// reads[i] is segment i's read pointer (see segment.read). The read
	// pointers live here, not in the segments, so that a load reaches its
	// read map with no hop through the segment. They change only at
	// promotions, so readers of different segments share their cache lines
	// at no cost.
	reads [segments]atomic.Pointer[readOnly[K, V]]
	// segs[i] is segment i, nil until the first write that needs its lock
	// (see segment): a new table, and so Clear, allocates no segment, and a
	// small map only the segments it uses. It is set once, by CAS, and never
	// changes after. reads[i] is nil while segs[i] is: only the segment
	// stores its read pointer, under its lock.
	segs [segments]atomic.Pointer[segment[K, V]]

	// Set once, like the fields above, and not needed by loads, so they
	// come last, after the fields that loads read.
	emptyAmended *readOnly[K, V] // an empty read map marked amended, with fullFilter; shared by every table of a map, never written (see addDirtyLocked)
	deleted      *box[K, V]      // the deleted sentinel, which only dirty slots hold (see segment.dirty); shared like expunged
	// dirtyStates holds the sentinels that the control bytes of dirty
	// slots stand for: the ones above and the inline sentinel, which marks
	// a dirty slot whose value lies in the slot (see segment.dirty and
	// dirtySlot). Shared likewise.
	dirtyStates *dirtyStates[K, V]

	// made has bit i set once segment i may exist: its creators set it
	// before the CAS that publishes the segment (see segment). So Clear
	// learns from one load which segments may have keys and timers,
	// where it loaded all 16 read pointers and then all 16 segment
	// pointers (about 250 of the 2,000 instructions of a Clear and a
	// Store, scripts/cachesim.sh).
	made atomic.Uint32
	// filled has bit i set while segment i may hold a key, and clear only
	// while it holds none: no key in its dirty map and no entry in its
	// read map, deleted or not, so that no lock-free write can revive
	// one. addDirtyLocked sets the bit, under the segment's mu, before the
	// segment's first key since it was last empty enters dirty; only
	// clearInPlace clears it, under mu, once it has emptied the segment.
	// So a goroutine that loads filled and finds bit i clear knows that
	// segment i held no key at that load, and that any key it gains was
	// added after it (see clearInPlace, Clear).
	filled atomic.Uint32
}

// mapCounts holds what every table of a map shares and counts: the counts
// that Stats reports over the map's life, and whether the map ever ran a
// compute.
type mapCounts struct {
	promotions atomic.Uint64
	reclaimed  atomic.Uint64
	// computed is set by the map's first Compute or LoadOrCompute, before
	// it can install a mark, and never cleared (see computing). Until it is
	// set no entry holds a compute's mark, so Store, Swap and Delete need
	// not read the box they replace (see entry.update).
	computed atomic.Bool
	// Set once, before the map's first table is published, and never
	// written again; they live here, with what every table of a map
	// shares, and not in the table, which has no room left in its size
	// class (see TestLayout).
	valuesComparable bool  // V is comparable (see mustBeComparable)
	inlineValues     bool  // K and V hold no pointers: dirty slots hold values inline (see dirtySlot)
	dirtyHint        int32 // sizes each segment's first dirty map (WithCapacity); kept by Clear
	// The object is 64 bytes, a size class that the allocator aligns to 64
	// bytes: no other object shares this line, which every Store, Swap and
	// Delete reads. It is written once by computed, and by rebuilds and
	// purges (one add each to the counts above).
	_ [36]byte
}

// computing records that a compute is about to run. A flag set once, not a
// count of the computes in flight: a count, which every compute would write
// twice, made Compute on random keys 18% slower at 2 CPUs (one line moving
// between the cores), and would serialize computes on more cores.
func (c *mapCounts) computing() {
	if !c.computed.Load() {
		c.computed.Store(true)
	}
}

// A segment is one independent read/dirty/misses map, holding the keys whose
// hash starts with its index.
type segment[K comparable, V any] struct {
	// read points to the segment's read pointer, in the table (see
	// table.reads). That pointer is loaded without mu at any time, and is nil until
	// the segment's first new key, which reads as the table's empty read
	// map (see loadRead): a new table, and so Clear, then needs no store
	// per segment. A segment left with no key stores that shared map again
	// (see readOnly.unamended and rebuildLocked), allocating nothing.
	// It is stored only with mu held, never set back to nil,
	// and the tags and keys of the map it points to never change once
	// published. A key in read has its current entry there and nowhere
	// else: a key is never in both read and dirty, and the entries of the
	// current read map are never expunged or moved while mu is free (older
	// read maps hold expunged and moved entries).
	read *atomic.Pointer[readOnly[K, V]]

	// Guarded by mu.
	mu sync.Mutex
	// dirty holds the keys that read lacks, and nothing else: promotion
	// merges it into a new read map instead of copying read into it. It is
	// nil exactly when read is not amended, and then misses take no lock.
	// It holds a key whenever read is amended, but just after a Clear in
	// place, which leaves it empty under emptyAmended (see clearLocked).
	//
	// A key of dirty has no entry: only holders of mu reach dirty, so its
	// slot holds the key's state itself (dirtySlot.p: a control byte, and
	// a pointer where the state is one), read and written
	// with plain loads and stores, where an entry would take a fresh
	// entry's atomic store and then a CAS for each write. The state is the
	// inline sentinel, the value lying in the slot itself, or the key's
	// value box, as the map's types decide (see dirtySlot); or the table's
	// deleted sentinel (a deleted new key), or
	// swept (deleted, and seen so by a sweep), which keep the key until the
	// next promotion (which drops it if it is still deleted) or the
	// sweeps, as for a tombstone of read (see deletedDirtyLocked); or the
	// mark of a compute that owns the key, which the compute replaces under
	// mu (see segment.finish). Expunged marks a slot that a purge or a
	// rebuild is dropping, only while it runs. Measured against entries in
	// blocks (scripts/ab.sh, 8 rounds, -cpu 1,2; benchmarks/JOURNAL.md):
	// SwapMostlyMisses -19% / -8%, LoadOrStoreBalanced -18% at 1 CPU, 8
	// bytes fewer per new key.
	dirty *dirtyMap[K, V]
	// misses counts the lock trips of amended reads since the last
	// promotion; it is zero whenever dirty is nil.
	misses int
	// dirtyDead counts the deleted keys of dirty, exactly whenever mu is
	// free. It is never more than their number, so when it equals
	// len(dirty) every key is deleted (see purgeDirtyLocked); and never
	// fewer, so that a dirty map of mostly deleted keys is purged when
	// tooManyTombs says (see deletedDirtyLocked). Every delete of a key
	// of dirty is counted under the mu that made it, a compute's too (see
	// finish), by deletedDirtyLocked; revivals under mu take from it, and
	// so does a compute's claim of a deleted key (see claim), since the
	// compute may revive it (a claimed key is not deleted). A delete
	// counted later, after mu was released, could not tell itself from a
	// delete made meanwhile and counted already, and would count that one
	// twice. It is reset whenever dirty is purged or promoted.
	dirtyDead int
	// spare is an empty map kept from a purged dirty map, to be the next
	// dirty map: a stream of new keys deleted soon after would otherwise
	// allocate and grow a dirty map for every few keys. It holds no
	// entries, and it is nil while dirty is not. Only a small map is kept
	// (see dirtyBig).
	spare *dirtyMap[K, V]
	// slow holds the sweep timer, which rebuilds read to drop deleted
	// entries when no other rebuild comes in time, and the condition on
	// which writers wait for a compute; nil until the first needs it.
	slow *segmentSlow[K, V]

	// Lock-free.
	//
	// sweepArmed is set by the goroutine that arms sweep and cleared by the
	// sweep itself before it looks at the read map (see armSweep).
	sweepArmed atomic.Bool
	// waiters counts the goroutines waiting, under mu, for a compute of
	// one of the segment's keys to end (see waitLocked); a compute that
	// ends wakes them only if it is not zero.
	waiters atomic.Int32

	// The fields above fill the segment's first 64 bytes, and tally,
	// spareKeys, dirtyBig, settled, pending and padding the next 64: the
	// segment is 128 bytes, a size class whose objects the
	// allocator aligns to 64 bytes, so each half is one cache line
	// (TestLayout checks the sizes).

	// tally holds two counts in one word (see tally.go), which writers
	// add to after their CAS (or under mu):
	//
	//   - live, the keys present in the segment, less pending: exact
	//     whenever no write is in flight.
	//   - tombs, the entries of the current read map deleted since it was
	//     built, less those revived: each rebuild sets it, and deletes and
	//     revivals of its entries add to it. It only decides when to
	//     rebuild, so races that make it a little off (a write to an older
	//     read map that lands after a rebuild counted) cost nothing but an
	//     early or late rebuild, and the next rebuild sets it right.
	//
	// It sits apart from the fields above: writers update it, readers of
	// the segment do not need it.
	tally atomic.Int64
	// spareKeys is how many keys the dirty map that became spare held when
	// a purge emptied it, at most spareMax: the next dirty map, the spare,
	// gets a filter sized for as many (see addDirtyLocked). Guarded by mu.
	spareKeys int16
	// dirtyBig is set once the dirty map has held, or was made with room
	// for, more than spareMax keys.
	// A dirty map never gives memory back as keys leave it, so a purge moves
	// the survivors of a big dirty map to a new map, and never keeps a big
	// one as spare. Guarded by mu.
	dirtyBig bool
	// settled is set only while pending is zero: Len sets it, under mu,
	// when it has added pending to tally (see publishLocked), and writers
	// that change pending clear it, under mu, if it is set. So Len, which
	// takes no lock, finds it set only when tally holds every count. A
	// new segment starts with it clear, and its first locked write need
	// not store it.
	settled atomic.Bool
	// pending is the change in live count, by writes under mu to entries
	// of dirty (new keys, and deletes and revivals of keys not yet
	// promoted), that tally does not hold yet (see addLiveLocked).
	// Guarded by mu.
	pending int64
	// The second cache line's rest: writers of the segment's first line
	// (the lock) and of the tally's must not share a line with another
	// segment's.
	_ [40]byte
}

// cleared returns an empty table that shares t's hasher, sentinels, empty
// read map, counts and capacity hint: what Clear installs. It allocates
// nothing but the table, which holds no segment yet.
func (t *table[K, V]) cleared() *table[K, V] {
	return &table[K, V]{hasher: t.hasher, expunged: t.expunged, swept: t.swept, moved: t.moved, deleted: t.deleted, dirtyStates: t.dirtyStates,
		counts: t.counts, empty: t.empty, emptyAmended: t.emptyAmended}
}

// loadRead returns segment i's read map: lock-free, never nil.
func (t *table[K, V]) loadRead(i int) *readOnly[K, V] {
	if r := t.reads[i].Load(); r != nil {
		return r
	}
	return t.empty
}

// loadRead returns the segment's read map: lock-free, never nil.
func (s *segment[K, V]) loadRead(t *table[K, V]) *readOnly[K, V] {
	if r := s.read.Load(); r != nil {
		return r
	}
	return t.empty
}

// segment returns segment i, creating it if no goroutine has yet. Racing
// creators agree through the CAS: the losers drop theirs, unused.
func (t *table[K, V]) segment(i int) *segment[K, V] {
	if s := t.segs[i].Load(); s != nil {
		return s
	}
	s := &segment[K, V]{read: &t.reads[i]}
	// Before the CAS: every goroutine that reaches the segment does so
	// after it, and so after the bit (see made).
	t.made.Or(1 << i)
	if t.segs[i].CompareAndSwap(nil, s) {
		return s
	}
	return t.segs[i].Load()
}

// firstTable returns the first table of a new map. capacity presizes each
// segment's first dirty map (see WithCapacity).
func firstTable[K comparable, V any](capacity int) *table[K, V] {
	t := &table[K, V]{
		hasher:       newHasher[K](),
		expunged:     &box[K, V]{kind: kindExpunged},
		swept:        &box[K, V]{kind: kindSwept},
		moved:        &box[K, V]{kind: kindMoved},
		deleted:      &box[K, V]{kind: kindDeleted},
		counts:       new(mapCounts),
		empty:        new(readOnly[K, V]),
		emptyAmended: &readOnly[K, V]{filter: fullFilter},
	}
	t.dirtyStates = &dirtyStates[K, V]{
		dirtyCodeInline:   {kind: kindInline},
		dirtyCodeDeleted:  t.deleted,
		dirtyCodeSwept:    t.swept,
		dirtyCodeExpunged: t.expunged,
		dirtyCodeMoved:    t.moved,
	}
	t.counts.valuesComparable = reflect.TypeFor[V]().Comparable()
	t.counts.inlineValues = pointerFree(reflect.TypeFor[K]()) && pointerFree(reflect.TypeFor[V]())
	if capacity > 0 {
		t.counts.dirtyHint = int32(min(capacity, maxCapacity)/segments + 1)
	}
	return t
}

// locate returns the hash of key and the index of the segment that holds
// it. Load and write do the same, but hash int keys inline, without the
// call; locate itself must stay small enough to inline.
func (t *table[K, V]) locate(key K) (uint64, int) {
	h := t.hasher.hash(key)
	return h, segmentOf(h)
}

// segmentOf returns the segment of the key with hash h.
func segmentOf(h uint64) int {
	return int(h >> (64 - segmentBits))
}

// unhashableSeed hashes keys only to make an unhashable key panic on a map
// that has no table yet, as a Go map panics even when it is nil.
var unhashableSeed = maphash.MakeSeed()

// checkHashable panics if key's dynamic type is not comparable. Keys of
// the commonest types, int and string, which always hash, are told by
// their type alone (one comparison each): hashing an int key took about 34
// instructions, three calls deep, on every Delete and Load of a map with
// no table; a type switch over four types, 20 (cachesim,
// LoadAndDeleteUnique: 158 -> 133 instructions per operation).
func checkHashable[K comparable](key K) {
	if _, ok := any(key).(int); ok {
		return
	}
	if _, ok := any(key).(string); ok {
		return
	}
	maphash.Comparable(unhashableSeed, key)
}

// markFilled sets the bit in filled of the segment of hash h, whose lock
// the caller holds, if it is clear: the segment may be empty, and is about
// to gain the key (see filled).
func (t *table[K, V]) markFilled(h uint64) {
	if bit := uint32(1) << segmentOf(h); t.filled.Load()&bit == 0 {
		t.filled.Or(bit)
	}
}

// holdsNoKey reports whether t held no key at one instant during the
// call: every bit of filled was clear at its load.
func (t *table[K, V]) holdsNoKey() bool {
	return t.filled.Load() == 0
}

// madeSegments returns the segments of t that existed when it was called
// (or soon after), in no particular order. O(segments made).
func (t *table[K, V]) madeSegments() iter.Seq[*segment[K, V]] {
	return func(yield func(*segment[K, V]) bool) {
		for m := t.made.Load(); m != 0; m &= m - 1 {
			// A set bit whose creator has not yet published its
			// segment reads as nil: skipped, as a segment made after
			// the load of made is.
			if s := t.segs[bits.TrailingZeros32(m)].Load(); s != nil && !yield(s) {
				return
			}
		}
	}
}

// newDirtyMap returns an empty dirty map for a segment of t, with room for
// hint keys (see newDirtyMap).
func (t *table[K, V]) newDirtyMap(hint int) *dirtyMap[K, V] {
	return newDirtyMap[K, V](hint, t.hasher.hash, t.dirtyStates, !t.counts.inlineValues)
}
