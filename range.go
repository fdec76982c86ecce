package safemap

import "math/rand/v2"

// Range calls f sequentially for each key and value present in the map. If
// f returns false, Range stops the iteration. [Map.All] does the same as an
// iterator, for a range-over-func loop.
//
// The order of the keys is unspecified and, as with Go's maps, changes
// from one Range to the next: each starts at a random point, so that a
// caller that deletes the first keys it meets (evicting "any" key) spreads
// its deletes over the map.
//
// Range does not necessarily correspond to any consistent snapshot of the
// Map's contents: no key will be visited more than once, but if the value
// for any key is stored or deleted concurrently (including by f), Range may
// reflect any mapping for that key from any point during the Range call.
// Range does not block other methods on the receiver; even f itself may call
// any method on m. f runs with no lock held; if it panics, the panic
// propagates to the caller of Range, and the map is unchanged and usable.
//
// Range is O(n) in the number of entries of the segments it visits. A
// segment whose dirty map holds new keys costs it the segment's lock: a
// dirty map of at most 16 keys is copied, under the lock, and visited after
// the read map; a larger one is promoted first (amortised over the writes
// that filled it). So a Range after each new key, as in a cache that adds a
// key and then scans, never copies the whole segment. Range allocates
// nothing but what such promotions build: the read maps, and, where K and
// V hold no pointers, the boxes of the promoted values, 16 to an object
// (see [Map.Store]).
func (m *Map[K, V]) Range(f func(key K, value V) bool) {
	t := m.t.Load()
	if t == nil {
		return
	}
	// Each Range starts at a random segment, and in each read map at a
	// random bucket, going round from there, as Go's own maps randomize
	// their iteration order. In a fixed order (segment 0 first, buckets
	// by their hash), a caller that deletes the first keys a Range finds,
	// as a cache evicting "any" key does and Go's AdversarialDelete
	// benchmark does, deletes the keys of the lowest segments and of the
	// lowest buckets first: the keys left pile into the last segment and,
	// after a rebuild, into the upper part of its buckets, since their
	// homes are the upper ones; the buckets there fill, and a miss probes
	// along the run of full ones. After 200,000,000 operations of
	// AdversarialDelete every live key was in segment 15, whose read map
	// had a run of 226 full buckets out of 359, and a miss that went past
	// its home bucket probed 36 buckets on average; the benchmark's
	// operation took 21.4 ns at -benchtime 3s, against 16.9 ns with the
	// random start (1 CPU, benchmarks/JOURNAL.md). A random start still
	// favours the keys after a run of deleted ones, but the clustering
	// stays small (TestRangeOrderSpreadsDeletes).
	x := rand.Uint64()
	start := int(x) & (segments - 1)
	for n := range segments {
		if !t.rangeSegment((start+n)&(segments-1), x, f) {
			return
		}
	}
}

// dirtyCopyMax is the most keys of a dirty map that Range copies instead of
// promoting them.
const dirtyCopyMax = 16

// rangeSegment calls f for each key present in segment i, as Range does,
// starting in the read map at the bucket that x picks (see rangeRead). It
// reports whether f asked to go on.
func (t *table[K, V]) rangeSegment(i int, x uint64, f func(key K, value V) bool) bool {
	r := t.loadRead(i)
	if r.amended() {
		// The dirty map holds keys that read lacks. The segment exists,
		// since its read map is amended.
		s := t.segs[i].Load()
		s.mu.Lock()
		if r = s.loadRead(t); r.amended() {
			if s.dirty.len() <= dirtyCopyMax {
				return t.rangeCopyingDirty(s, r, x, f) // unlocks mu
			}
			// Promote, so that one read map holds every key the segment
			// had at this point.
			s.promoteKeepingLocked(t)
			r = s.loadRead(t)
		}
		s.mu.Unlock()
	}
	return t.rangeRead(r, x, f)
}

// rangeCopyingDirty calls f for each key present in segment s: the keys of
// r, its current read map, and those of its dirty map, which it copies with
// their values before it unlocks mu (which the caller holds). Read and dirty
// hold no key in common while mu is held, so no key is visited twice; each
// copied value is the key's value at a point during the Range. It reports
// whether f asked to go on.
//
// It is a function of its own, never inlined, so that only the Range calls
// that copy pay for the copy's room on the stack (16 keys and values).
//
//go:noinline
func (t *table[K, V]) rangeCopyingDirty(s *segment[K, V], r *readOnly[K, V], x uint64, f func(key K, value V) bool) bool {
	var buf [dirtyCopyMax]struct {
		k K
		v V
	}
	n := 0
	for sl := range s.dirty.all() {
		// Under mu a dirty slot is current (see segment.dirty).
		if v, ok := sl.load(); ok {
			// The form of the key that its last write gave, as
			// rangeRead reports it: an inline value's slot holds it
			// (see dirtySlot.store), a box or a mark carries it.
			buf[n].k, buf[n].v = sl.key(), v
			if p := sl.p(); sl.code() != dirtyCodeInline && p.keyForm() {
				buf[n].k = p.key
			}
			n++
		}
	}
	s.mu.Unlock()
	if !t.rangeRead(r, x, f) {
		return false
	}
	for j := range buf[:n] {
		if !f(buf[j].k, buf[j].v) {
			return false
		}
	}
	return true
}

// rangeRead calls f for each key present in read map r, taking each
// value from the key's current entry (following r's next links if a
// rebuild has moved it since). It visits the buckets from the one that x
// picks (x taken as a hash: its home) to the last, then from the first to
// the one before it: each once. It reports whether f asked to go on.
func (t *table[K, V]) rangeRead(r *readOnly[K, V], x uint64, f func(key K, value V) bool) bool {
	start := home(x, len(r.buckets))
	return t.rangeBuckets(r, r.buckets[start:], r.keys[start:], f) &&
		t.rangeBuckets(r, r.buckets[:start], r.keys[:start], f)
}

// rangeBuckets is rangeRead for the buckets bs of r and their keys keys.
func (t *table[K, V]) rangeBuckets(r *readOnly[K, V], bs []bucket[K, V], keys [][slotsPerBucket]K, f func(key K, value V) bool) bool {
	keys = keys[:len(bs)]
	for i := range bs {
		b, ks := &bs[i], &keys[i]
		for j := range b.entries {
			if b.tags>>(8*j)&0x80 == 0 {
				break // slots fill in order: the rest are empty
			}
			k := ks[j]
			p := b.entries[j].p.Load()
			v, ok, moved := p.read()
			if moved {
				// A rebuild since r was loaded: the entry is in a newer map.
				p = r.movedBox(t.hasher.hash(k), k)
				v, ok, _ = p.read()
			}
			if ok && p.keyForm() {
				// The key as the last write gave it, as Go's maps report
				// it where equal keys differ (+0 and -0 as float keys):
				// a value box holds the key it was stored with (see box),
				// moved or not (TestHashPropRangeMovedKeyForm), and so
				// does a compute's mark over it (see keyForm).
				k = p.key
			}
			if ok && !f(k, v) {
				return false
			}
		}
	}
	return true
}
