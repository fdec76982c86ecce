package safemap

import "math/bits"

// This file holds Clear's in-place path: emptying the segments of the
// current table under their locks, where replacing the table would
// allocate a new one (352 bytes), and the next writes each segment, dirty
// map and read map again: for a Clear and a Store of an int->int map, 3
// allocations and 720 bytes (table, segment, dirty map), against sync.Map's
// 2 and 208 (measured 2026-12-07).

// clearInPlace empties t, the map's current table, without replacing it,
// and reports whether it did; if not, it changes nothing. The caller holds
// m.initMu, which keeps t current and other Clears out: only one goroutine
// at a time holds more than one segment's lock, so they need no order.
//
// It locks each segment whose bit in filled is set, and loads filled again
// until no new bit has appeared: at that last load, every segment that
// holds a key is locked, and the others hold none (see table.filled).
// Clear linearizes at that load. A key added to an unlocked segment is
// added after its bit is set, so after the load: ordered after the Clear.
//
// It empties the locked segments only if each passes clearableLocked: no
// entry in its read map, no compute's mark, no big dirty map. Without
// entries in read, the segments' lock-free paths find every key absent
// from read, and either end there (the read map is not amended, or its
// dirty filter rules the key out), which is true before the Clear and
// after it, or take mu and see the segment emptied. Entries of read could
// not be emptied at one instant: lock-free readers and writers use them
// while we hold mu.
func (t *table[K, V]) clearInPlace() bool {
	var locked uint32
	// Only clearInPlace clears bits, under initMu, so f holds every bit of
	// locked; the loop still ends on no unlocked bit, not on f == locked,
	// which would wait forever if another path cleared a bit between our
	// load and our lock (no key can enter a segment whose lock we hold).
	// A build whose Clear of one segment took no initMu did just that
	// (TestConcurrentClears).
	for f := t.filled.Load(); f&^locked != 0; f = t.filled.Load() {
		for b := f &^ locked; b != 0; b &= b - 1 {
			i := bits.TrailingZeros32(b)
			// The bit was set under the segment's lock, after the
			// segment was published: it exists.
			t.segs[i].Load().mu.Lock()
			locked |= 1 << i
		}
	}
	var live [segments]int
	ok := true
	for b := locked; b != 0 && ok; b &= b - 1 {
		i := bits.TrailingZeros32(b)
		live[i], ok = t.segs[i].Load().clearableLocked(t)
	}
	for b := locked; b != 0; b &= b - 1 {
		i := bits.TrailingZeros32(b)
		s := t.segs[i].Load()
		if ok {
			s.clearLocked(t, i, live[i])
		}
		s.mu.Unlock()
	}
	return ok
}

// clearableLocked reports whether clearInPlace may empty the segment, and
// if so, how many keys of dirty are live. It may not if:
//
//   - read has entries, which lock-free writers and readers use without
//     mu (see clearInPlace);
//   - a compute owns a key of dirty: its finish must find its mark in the
//     key's slot, under mu (see segment.finish);
//   - dirty is big: clearing its slots would make Clear O(slots), where
//     replacing the table is O(1).
//
// O(len(dirty)), at most spareMax keys.
func (s *segment[K, V]) clearableLocked(t *table[K, V]) (live int, ok bool) {
	if s.loadRead(t).n != 0 || s.dirty != nil && s.dirtyBig {
		return 0, false
	}
	for sl := range s.dirty.all() {
		switch {
		case sl.live():
			live++
		case sl.p().kind.computing(): // no sentinel's kind is a compute's
			return 0, false
		}
	}
	return live, true
}

// clearLocked empties segment i of t, whose dirty map holds all its keys,
// live of them present (see clearableLocked), and clears its bit in filled.
// Its dirty map, emptied, keeps no key or box.
func (s *segment[K, V]) clearLocked(t *table[K, V], i, live int) {
	switch r := s.loadRead(t); {
	case r == t.emptyAmended:
		// The commonest case: a few keys, all in dirty, under the shared
		// emptyAmended. Both stay: read amended over an empty dirty map
		// (the one state in which an amended read map has no key in
		// dirty), so that neither this Clear nor the segment's next new
		// key stores the read pointer, a locked exchange each on a line
		// that every Load reads. Readers that take the lock meanwhile
		// find dirty empty, as they would find it nil; the first miss
		// sets read back to unamended (see missLocked).
		//
		// Go's Clear workload (a Clear and a Store), alternating runs
		// on 2026-12-03, in a slow and noisy hour: at 1 CPU 4% to 25%
		// faster in six A/Bs of 8 to 12 rounds (four with p <= 0.035),
		// 1,133 -> 1,113 instructions per operation; at 2 CPUs, where
		// both builds' samples fall in two modes (roughly 175-290 ns and
		// 310-660 ns), 4% to 18% faster in three A/Bs of 30 rounds, none
		// significant (p >= 0.147). An A/B of 8 rounds in the session of
		// 2026-12-02 from 16:17 had found it 32-44% slower at 2 CPUs,
		// which these did not reproduce (benchmarks/JOURNAL.md).
		s.dirty.clear()
	case s.dirty != nil:
		// A read map with a filter of its own (no entries: see
		// clearableLocked): the emptied dirty map becomes the spare, as
		// a purge that finds every key deleted leaves it (see
		// spareDirtyLocked), and read the shared empty map.
		n := s.dirty.len()
		s.dirty.clear()
		s.spareDirtyLocked(t, n)
	default:
		// read is not amended and has no entries: t.empty, or nil. nil,
		// which readers take for t.empty, makes the segment's next dirty
		// map its first, presized by WithCapacity as after a Clear that
		// replaces the table (see addDirtyLocked).
		s.read.Store(nil)
	}
	// tally's live count plus pending is the segment's live count, less
	// the adds of writes still in flight: a compute that ended adds its
	// change after it unlocks mu (see finish), a lock-free delete on an
	// older read map after its CAS. Adding the difference, rather than
	// storing zero, lets those adds land and leave the count right; tombs
	// is set for an empty read map, give or take such adds, as a rebuild
	// sets it.
	//
	// Usually the delta is zero (pending holds the keys' adds, tombs
	// nothing), and the add, a locked instruction, is skipped.
	if d := tallyDelta(s.pending-int64(live), -tallyTombs(s.tally.Load())); d != 0 {
		s.tally.Add(d)
	}
	s.pending = 0
	s.dirtyDead, s.misses = 0, 0
	// Readers that loaded the old read map, which has no entries, found
	// nothing in it; those that followed its filter to mu see dirty gone.
	t.filled.And(^uint32(1 << i))
}
