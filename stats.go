package safemap

// Len returns the number of keys in the map.
//
// Len is exact whenever no write is in flight. During concurrent writes it
// reports a count that each write in flight may or may not have reached yet,
// so it may be off by the number of such writes; it is never negative. Len
// is O(1): it adds one counter per segment. It takes no lock but that of a
// segment that has taken a locked write (a new key, or a delete or revival
// of a key not yet promoted) since the last Len: it holds that lock while
// it adds those writes' count to the segment's counter.
func (m *Map[K, V]) Len() int {
	t := m.t.Load()
	if t == nil {
		return 0
	}
	var n int64
	for s := range t.madeSegments() {
		if !s.settled.Load() {
			// Writes under mu changed the count since tally last took
			// their changes: add them now (see addLiveLocked).
			s.mu.Lock()
			s.publishLocked()
			s.mu.Unlock()
		}
		n += tallyLive(s.tally.Load())
	}
	return int(max(n, 0))
}

// Stats is a diagnostic snapshot of a Map's internal state, for debugging
// and tuning. Its fields may change between releases.
type Stats struct {
	// Segments is the number of independently promoted segments.
	Segments int
	// ReadKeys is the number of keys present in the read maps.
	ReadKeys int
	// DirtyKeys is the number of keys present only in the dirty maps.
	DirtyKeys int
	// Tombstones is the number of deleted entries that the read and dirty
	// maps still hold, until the next rebuild or sweep drops them.
	Tombstones int
	// AmendedSegments is the number of segments whose dirty map holds keys
	// that their read map lacks. Amended reports AmendedSegments > 0.
	AmendedSegments int
	Amended         bool
	// Misses is the number of lock trips counted toward each segment's next
	// promotion, summed over the segments. A segment's count starts again
	// at zero after a promotion, a Clear, or a purge that leaves its dirty
	// map without keys.
	Misses int
	// Promotions is the number of read maps built since the map was made:
	// promotions of dirty maps and rebuilds that drop deleted entries.
	Promotions uint64
	// Reclaimed is the number of deleted entries dropped since the map was
	// made, whose keys are now unreachable from the map: by those rebuilds,
	// and by purges of dirty maps (which drop the deleted keys of a dirty
	// map in place, and are not counted in Promotions).
	Reclaimed uint64
}

// Stats returns a diagnostic snapshot of the map's internal state. It locks
// one segment at a time, so the snapshot is not atomic across segments. It
// is O(n) and meant for debugging, not for hot paths.
func (m *Map[K, V]) Stats() Stats {
	st := Stats{Segments: segments}
	t := m.t.Load()
	if t == nil {
		return st
	}
	for s := range t.madeSegments() {
		s.addStats(t, &st)
	}
	st.Amended = st.AmendedSegments > 0
	st.Promotions = t.counts.promotions.Load()
	st.Reclaimed = t.counts.reclaimed.Load()
	return st
}

// addStats adds the segment's counts to st.
func (s *segment[K, V]) addStats(t *table[K, V], st *Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.loadRead(t)
	r.each(func(_ K, e *entry[K, V]) bool {
		if _, ok, _ := e.load(); ok {
			st.ReadKeys++
		} else if p := e.p.Load(); p == nil || p == t.swept {
			st.Tombstones++
		}
		return true
	})
	for sl := range s.dirty.all() {
		if _, ok := sl.load(); ok {
			st.DirtyKeys++
		} else if sl.deleted() {
			st.Tombstones++
		}
	}
	if r.amended() && s.dirty.len() > 0 {
		st.AmendedSegments++
	}
	st.Misses += s.misses
}
