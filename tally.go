package safemap

// A segment's tally (segment.tally) packs its two counts into one word:
// live, the keys present (less the segment's pending count, which writes
// under mu keep in a plain field: see addLiveLocked), in the low
// tallyLiveBits bits, and tombs, the entries of the current read map
// deleted since it was built, in the bits above. A lock-free delete or
// revival changes both, and one atomic add of a packed delta does it,
// where two adds took two locked instructions. On the 2-core machine a
// locked instruction costs about 6.5 ns: a throwaway benchmark looping
// over Lock, an increment, an uncontended atomic.Int64.Add and Unlock
// took 19.6 ns per iteration against 13.2 with a plain add instead (means
// of six runs, go test -bench . -count 6 -benchtime 20000000x). A/B
// against two counters, 8 alternating rounds: a Delete and a Store that
// revives the key, over 64 promoted keys (a throwaway benchmark), 83.0 ->
// 66.5 ns at 1 CPU and 77.1 -> 62.0 ns at 2 (p=0.000);
// CompareAndDeleteMostlyHits 95.0 -> 88.0 ns at 1 CPU (p=0.021); the
// 1,000-key mixes, a quarter of whose operations delete or revive, within
// their noise.
//
// The word is live + tombs<<tallyLiveBits, in 64-bit two's complement
// arithmetic, so a delta for either count is added as it is and a count
// below zero borrows from the bits above it:
//
//   - live is exact, as a 40-bit signed number, whatever tombs holds:
//     adding tombs' deltas never changes the low 40 bits. Its range,
//     ±2^39 keys in one segment, is beyond what memory holds (each key
//     costs a box and a slot); it stays within the segment's keys of the
//     true count, since pending, the difference, only counts writes to
//     keys of dirty and is added in whenever a purge or a rebuild changes
//     dirty's keys (see addLiveLocked).
//   - tombs is exact modulo 2^24: it is the word less live, shifted, so a
//     tombs that passes ±2^23 wraps around without touching live. The
//     truth stays within [0, n] of the read map's n entries, give or take
//     the writes in flight at a rebuild (see segment.tally), so it is read
//     only for read maps of at most maxTalliedEntries entries; larger ones
//     leave their tombstones to the sweeps (see tooManyReadTombs).
const tallyLiveBits = 40

// maxTalliedEntries is the largest read map whose tombstones the tally
// counts: well inside the ±2^23 that tombs can hold.
const maxTalliedEntries = 1 << 22

// tallyDelta returns the packed delta that adds live to the live count and
// tombs to the tombstone count.
func tallyDelta(live, tombs int64) int64 {
	return live + tombs<<tallyLiveBits
}

// tallyLive returns the live count of tally word w.
func tallyLive(w int64) int64 {
	return w << (64 - tallyLiveBits) >> (64 - tallyLiveBits) // sign-extend the low bits
}

// tallyTombs returns the tombstone count of tally word w, modulo 2^24.
func tallyTombs(w int64) int64 {
	return (w - tallyLive(w)) >> tallyLiveBits
}

// tooManyReadTombs reports whether tally word w says that enough of the n
// entries of the current read map are deleted to rebuild it at once (see
// tooManyTombs). A read map of more than maxTalliedEntries entries never
// is: its count may have wrapped, and the sweeps drop its tombstones.
func tooManyReadTombs(w int64, n int) bool {
	return n <= maxTalliedEntries && tooManyTombs(tallyTombs(w), n)
}

// addLiveLocked adds d to the segment's live count for a write under mu to
// a key of dirty: a new key, or a delete or revival of a key not yet
// promoted. It adds d to pending, a plain field, not to tally: the atomic
// add is a locked instruction (about 6.5 ns here), and a stream of new
// keys deleted soon after (SwapMostlyMisses) made two of them per
// operation. It clears settled if it is set (an atomic store, once per Len
// that finds the segment's count pending), which tells Len to take mu and
// publish pending first (see publishLocked). Rebuilds and purges, the two
// ways entries leave dirty, add pending to tally too, so that the two
// cannot drift apart by more than a dirty map's keys: otherwise keys stored
// under mu (pending +1) and deleted by a compute or, once promoted,
// lock-free (tally -1), one after another, would take tally's live count
// below zero by one each, past its 40 bits in the end.
func (s *segment[K, V]) addLiveLocked(d int64) {
	s.pending += d
	if s.settled.Load() {
		s.settled.Store(false)
	}
}

// addPendingLocked adds pending to tally, with mu held.
func (s *segment[K, V]) addPendingLocked() {
	if s.pending != 0 {
		s.tally.Add(tallyDelta(s.pending, 0))
		s.pending = 0
	}
}

// publishLocked adds pending to tally and sets settled, with mu held.
func (s *segment[K, V]) publishLocked() {
	s.addPendingLocked()
	s.settled.Store(true)
}
