package safemap

import (
	"sync"
	"time"
)

// This file holds the segment's slow paths: the code that runs with mu held
// to count misses, add keys to the dirty map, and build new read maps.

// findLocked returns the entry of key in read, or its slot in dirty (see
// segment.dirty), or neither if the key is absent. mu must be held, so
// read is current and the entry it returns is neither expunged nor moved;
// the slot stays valid until dirty next changes.
//
// lacking, if not nil, is a read map that the caller probed for key, before
// taking mu, without finding it: if it is still the current one, the key is
// still absent from it (no read map gains keys after publication), and
// findLocked does not probe it again. A new key, and a delete of a key in
// dirty, then probe the read map once, not twice.
func (s *segment[K, V]) findLocked(t *table[K, V], h uint64, key K, lacking *readOnly[K, V]) (e *entry[K, V], sl dirtySlot[K, V]) {
	r := s.loadRead(t)
	if r != lacking {
		if e = r.find(h, key); e != nil {
			return e, sl
		}
	}
	// With mu held the filter holds every key of dirty (keys enter it
	// before they enter dirty), so a clear bit proves the key absent and
	// saves a lookup in a dirty map that may be large and cold: a stream of
	// new keys pays one map operation each, not two.
	if !r.amended() || !r.mayHaveDirty(h) {
		return nil, sl
	}
	return nil, s.dirty.get(h, key)
}

// addDirtyLocked adds key, whose hash is h and which neither read nor
// dirty holds, to the dirty map, marking read amended, and returns its
// slot, which holds the deleted sentinel: the caller stores the key's
// first value in it, or claims it (see segment.dirty).
//
// The key's bit goes into read's dirty filter before the key goes into
// dirty: a reader that finds the bit clear may then report the key absent
// without the lock (see readOnly.filter). When dirty outgrows the filter, a
// new read map with a filter twice as large is published first, up to
// maxFilterWords; past that the filter just fills up.
//
// An empty read map (a new map's, or just after Clear) is amended without
// an allocation: it is replaced by the map's shared emptyAmended, whose
// fullFilter sends every miss of the segment to the lock, as the classic
// design does, until a promotion fills read (a handful of misses, with
// dirty that small) or the fifth key brings a real filter. A Clear and a
// Store then allocate two objects fewer: no read map, no filter.
func (s *segment[K, V]) addDirtyLocked(t *table[K, V], h uint64, key K) dirtySlot[K, V] {
	r := s.loadRead(t)
	if s.dirty.len() == 0 {
		// The segment may be empty, its bit in filled cleared by a Clear
		// in place, which leaves dirty nil or empty: set it before the key
		// enters dirty (see table.filled).
		t.markFilled(h)
	}
	switch {
	case !r.amended():
		hint := 0
		if s.read.Load() == nil {
			hint = int(t.counts.dirtyHint) // the segment's first dirty map
		}
		keys := hint // the keys the dirty filter is sized for
		if s.dirty, s.spare = s.spare, nil; s.dirty == nil {
			s.dirty = t.newDirtyMap(hint)
			s.dirtyBig = hint > spareMax
		} else {
			// The spare filled to spareKeys before it was purged: a stream
			// of new keys deleted soon after fills it as far again, and a
			// filter made for that many is not outgrown and rebuilt on
			// the way (see refilterLocked).
			keys = int(s.spareKeys)
		}
		if len(r.buckets) == 0 && keys <= filterCapacity(fullFilter) {
			r = t.emptyAmended
		} else {
			r = r.amend(newFilter(keys))
		}
		s.read.Store(r)
	case s.dirty.len() >= filterCapacity(r.filter) && len(r.filter) < maxFilterWords:
		r = s.refilterLocked(t)
	}
	if r != t.emptyAmended { // shared: its filter already passes every key
		r.addToFilter(h)
	}
	sl := s.dirty.put(h, key)
	if s.dirty.len() > spareMax {
		s.dirtyBig = true
	}
	return sl
}

// refilterLocked publishes a copy of the amended read map whose dirty
// filter holds the keys of dirty and room for as many again, and returns
// it. A reader that still holds the old map uses the old filter, which has
// the bits of every key that dirty held while that map was current; one
// that loads the new map finds every key of dirty in its filter (see
// readOnly.filter). O(len(dirty)).
func (s *segment[K, V]) refilterLocked(t *table[K, V]) *readOnly[K, V] {
	nr := s.loadRead(t).amend(newFilter(2 * s.dirty.len()))
	for sl := range s.dirty.all() {
		nr.addToFilter(t.hasher.hash(sl.key()))
	}
	s.read.Store(nr)
	return nr
}

// deletedDirtyLocked records that a write deleted a key of the dirty map.
// The key stays in dirty, deleted, as sync.Map's entries do: a key that is
// deleted and stored again and again (a churning key) then finds its slot
// under the lock, where dropping it would make the segment drop and remake
// its dirty map, filter and read map on every cycle; and the next promotion
// takes the key to read if it is live by then, where its writes are
// lock-free. The value is already released; a promotion takes the deleted
// key to read as a tombstone, and the sweeps drop it from either map if
// it stays deleted, so the key never outlives two sweep delays with no
// further call.
//
// A dirty map that is mostly deleted keys (new keys deleted soon after
// they came) is purged at once instead, as compactLocked does for read, so
// that such a stream neither grows dirty nor forces promotions.
func (s *segment[K, V]) deletedDirtyLocked(t *table[K, V]) {
	s.dirtyDead++
	if tooManyTombs(int64(s.dirtyDead), s.dirty.len()) {
		s.purgeDirtyLocked(t)
		return
	}
	s.armSweepLocked(t, s.loadRead(t).n+s.dirty.len())
}

// revivedDirtyLocked records that a deleted key of dirty is live again,
// or claimed by a compute that may revive it: it no longer counts as
// deleted (see segment.dirtyDead, which never overcounts).
func (s *segment[K, V]) revivedDirtyLocked() {
	if s.dirtyDead > 0 {
		s.dirtyDead--
	}
}

// purgeDirtyLocked removes the deleted keys from dirty. When dirtyDead
// says that every key is deleted it drops them all with one clear;
// otherwise it marks the deleted ones, leaving the live ones and those a
// compute owns, and deletes those it marked. If dirty empties, read is no
// longer amended. O(len(dirty)), paid for by the deletes that made the
// deleted keys.
//
// A big dirty map is replaced, not emptied in place: a dirty map keeps the
// slots of the most keys it ever held (see dirtyMap), so a segment that
// took a million new keys and lost them would otherwise keep a million
// keys' worth of slots until the next promotion. The survivors, at most a
// quarter of the keys when deletes trigger the purge, move to a map of
// their size, and read gets a dirty filter of their size too.
func (s *segment[K, V]) purgeDirtyLocked(t *table[K, V]) {
	// A purge usually finds every entry dead (a stream of new keys deleted
	// soon after), and then one clear is far cheaper than a delete per key;
	// otherwise the deleted entries are expunged, then deleted.
	purged, n := 0, s.dirty.len()
	if s.dirtyDead == n {
		// Every key is deleted (dirtyDead never counts more than there
		// are), and none can be revived once it leaves dirty: only
		// holders of mu reach the slots of dirty, and a compute claims
		// one under mu, which takes it out of dirtyDead. So the purge
		// needs no pass over the map.
		purged = n
	} else {
		for sl := range s.dirty.all() {
			if sl.deleted() {
				sl.setState(t.expunged) // dropped below
				purged++
			}
		}
	}
	t.counts.reclaimed.Add(uint64(purged))
	// The entries that leave dirty may have their counts in pending and
	// their deletes in tally (a compute's): add pending in.
	s.addPendingLocked()
	switch {
	case purged == n && s.dirtyBig:
		s.dirty = nil // dropped below, with no spare
	case purged == n:
		s.dirty.clear()
	case s.dirtyBig:
		survivors := t.newDirtyMap(n - purged)
		for sl := range s.dirty.all() {
			if sl.code() != dirtyCodeExpunged {
				survivors.putFrom(t.hasher.hash(sl.key()), sl)
			}
		}
		s.dirty = survivors
		s.dirtyBig = survivors.len() > spareMax
		// The filter was sized for the old map: shrink it likewise.
		s.refilterLocked(t)
	default:
		s.dirty.deleteIf(func(sl dirtySlot[K, V]) bool { return sl.code() == dirtyCodeExpunged })
	}
	s.dirtyDead = 0
	if s.dirty.len() == 0 {
		s.spareDirtyLocked(t, n)
	}
}

// spareDirtyLocked retires the dirty map, which holds no key now (or is
// nil: a big map is not kept) and held n keys before it was emptied: it
// becomes the segment's spare, and read is no longer amended. A spare held
// at most spareMax keys.
func (s *segment[K, V]) spareDirtyLocked(t *table[K, V], n int) {
	s.spare = s.dirty // empty or nil: no key stays reachable through it
	s.spareKeys = int16(min(n, spareMax))
	s.dirty = nil
	s.misses = 0
	s.read.Store(s.loadRead(t).unamended(t))
}

// missLocked counts a lock trip that an amended read map caused, and
// promotes the dirty map once the misses have paid for the copy.
//
// A promotion copies every entry of the segment, so the threshold grows with
// the segment: at least len(dirty) misses, as in sync.Map, and at least a
// quarter of the whole segment. Each miss costs a lock; the copy costs a
// little more than a miss per entry; so promotion stays amortised O(1) per
// miss.
func (s *segment[K, V]) missLocked(t *table[K, V]) {
	s.misses++
	r := s.loadRead(t)
	if s.misses < s.dirty.len() || s.misses < (r.n+s.dirty.len())/4 {
		return
	}
	if s.dirty.len() == 0 {
		// Nothing to promote: read is emptyAmended over the dirty map
		// that a Clear in place emptied (see clearLocked), and this is
		// its first miss. Unamended, it takes the segment's misses off
		// the lock again.
		s.spareDirtyLocked(t, 0)
		return
	}
	s.promoteKeepingLocked(t)
}

// promoteLocked builds a new read map from the entries of read and dirty
// and publishes it, leaving the dirty map empty. It drops every deleted
// entry. O(n) in the entries of the segment.
func (s *segment[K, V]) promoteLocked(t *table[K, V]) {
	s.rebuildLocked(t, false)
}

// promoteKeepingLocked is promoteLocked for the promotions that misses and
// Range cause: it drops only the entries that have stayed deleted for a
// whole sweep (swept), and keeps the recently deleted ones as tombstones,
// which the sweeps drop in their turn. A key that churns, deleted and
// stored again, so keeps its entry, and its writes stay lock-free, instead
// of going back to the dirty map at every promotion. Mass deletes still
// rebuild at once without their tombstones (compactLocked).
//
// If the tombstones kept would be too many (a stream of new keys deleted
// soon after, say), they are dropped at once, as a delete would: otherwise
// each promotion would copy them again.
func (s *segment[K, V]) promoteKeepingLocked(t *table[K, V]) {
	s.rebuildLocked(t, true)
	s.compactLocked(t)
}

// rebuildLocked builds a new read map from the entries of read and dirty
// and publishes it, leaving the dirty map empty. Deleted entries are
// expunged and left out: all of them, or with onlySwept those that a sweep
// has already marked. The others move into the new map's buckets.
// O(n) in the entries of the segment.
func (s *segment[K, V]) rebuildLocked(t *table[K, V], onlySwept bool) {
	r := s.loadRead(t)
	// First pass: expunge the entries to drop and count the rest. An entry
	// that a concurrent writer revives before our CAS stays, live; one
	// deleted after it stays too, as a tombstone for the next rebuild.
	n, tombs, reclaimed, inline := 0, 0, 0, 0
	keep := func(_ K, e *entry[K, V]) bool {
		if e.tryExpungeLocked(t, onlySwept) {
			reclaimed++
			return true
		}
		n++
		if p := e.p.Load(); p == nil || p == t.swept {
			tombs++
		}
		return true
	}
	r.each(keep)
	for sl := range s.dirty.all() {
		switch c := sl.code(); {
		case c == dirtyCodeSwept, c == dirtyCodeDeleted && !onlySwept:
			sl.setState(t.expunged) // left out below
			reclaimed++
		case c == dirtyCodeDeleted:
			n++ // kept as a tombstone, as keep keeps a deleted entry
			tombs++
		case c == dirtyCodeInline:
			n++
			inline++
		default:
			n++
		}
	}
	// One add, not one per entry: writes read the line (see mapCounts).
	t.counts.reclaimed.Add(uint64(reclaimed))
	// Second pass: place the survivors' keys in nr. No entry can be
	// expunged from here on, since only this goroutine (holding mu)
	// expunges.
	nr := t.empty // nothing survives: the shared empty read map, no allocation
	if n > 0 {
		nr = newReadOnly[K, V](n)
	}
	// The entries of read get theirs in the third pass; to remembers them,
	// in the order of r.each.
	to := make([]*entry[K, V], 0, r.n)
	r.each(func(k K, e *entry[K, V]) bool {
		if e.p.Load() != t.expunged {
			to = append(to, nr.insert(t.hasher.hash(k), k))
		}
		return true
	})
	// Only holders of mu reach the slots of dirty, so their states are
	// copied as they are, a compute's mark included: the compute replaces
	// it under mu, and finds it in nr then (see segment.finish). An inline
	// value gets its box here, as it leaves the slot for an entry that
	// lock-free readers share, boxChunk boxes to an allocation (see
	// dirtySlot). dirty is dropped below, and with it the slots' keys and
	// values.
	var boxes []box[K, V] // the chunk's boxes not yet used
	for sl := range s.dirty.all() {
		switch k := sl.key(); sl.code() {
		case dirtyCodeExpunged:
		case dirtyCodeDeleted: // a tombstone: the new entry stays nil, deleted
			nr.insert(t.hasher.hash(k), k)
		case dirtyCodeInline:
			if len(boxes) == 0 {
				boxes = make([]box[K, V], min(inline, boxChunk))
			}
			b := &boxes[0]
			boxes, inline = boxes[1:], inline-1
			b.value, b.key = sl.value(), k
			nr.insert(t.hasher.hash(k), k).p.Store(b)
		default: // a value box, or a compute's mark
			nr.insert(t.hasher.hash(k), k).p.Store(sl.p())
		}
	}
	// Third pass: move the entries of read, which lock-free writers may be
	// changing (see entry.moveLocked). Readers of r that find a moved entry
	// follow r.next to nr, so it is set first, and only now that nr's tags
	// and keys are final: those readers probe them without a lock.
	if r.next != nil {
		r.next.Store(nr)
	}
	i := 0
	r.each(func(k K, e *entry[K, V]) bool {
		if e.p.Load() == t.expunged {
			return true
		}
		if k == k {
			e.moveLocked(to[i], t)
		} else {
			// A key not equal to itself (a NaN, or a key holding one):
			// no method finds it by key, so nothing writes its entry but
			// a compute's finish, under mu (see findMarkLocked), and a
			// Range of r that found it moved could not find it in nr
			// (TestAPIRangeNaNKeyMoved). Its state is copied, and r's
			// entry left as it is, for such readers.
			to[i].p.Store(e.p.Load())
		}
		i++
		return true
	})
	// Readers that loaded r go on using it, through the moved entries; a
	// lock-free writer that loaded r finds its entry moved or expunged and
	// retries under mu, where it sees nr.
	//
	// One add sets tombs to the new map's count and adds pending in (see
	// addLiveLocked). A lock-free write to r that adds between the load
	// and the add is counted on top, as it was before the rebuild: a
	// little off (see tally). settled stays as it is: if clear, it only
	// makes the next Len take mu.
	s.tally.Add(tallyDelta(s.pending, int64(tombs)-tallyTombs(s.tally.Load())))
	s.pending = 0
	s.read.Store(nr)
	s.dirty = nil
	s.dirtyDead = 0
	s.misses = 0
	t.counts.promotions.Add(1)
}

// segmentSlow holds what a segment needs only now and then, made under mu
// by the first goroutine that needs it: the sweep timer, and the condition
// on which goroutines wait for a compute to end (see waitLocked). The
// timer reaches only its sweeper, never this struct: the condition points
// to the segment's mu, and so to the segment, which a timer must not keep
// reachable (see sweeper).
type segmentSlow[K comparable, V any] struct {
	sweep *sweeper[K, V] // nil until the first armSweep
	cond  *sync.Cond     // on mu; nil until the first waitLocked
	// sweepDelay is the delay the timer was last armed with, kept for
	// the tests (TestSweepArmedForEntries): a timer does not tell it.
	sweepDelay time.Duration
}

// slowLocked returns the segment's segmentSlow, making it if need be; mu
// must be held.
func (s *segment[K, V]) slowLocked() *segmentSlow[K, V] {
	if s.slow == nil {
		s.slow = new(segmentSlow[K, V])
	}
	return s.slow
}

// spareMax is the most keys a dirty map may ever have held for a purge to
// keep it, emptied, as the segment's spare: enough for a stream of new keys
// deleted soon after (purged every compactMin keys or so) to reuse one map,
// few enough that keeping it costs a couple of kilobytes at most.
const spareMax = 2 * compactMin
