package safemap

import "sync/atomic"

// A box holds one value. It never changes once published: every write
// makes a new box and swaps the entry's pointer, so a reader that holds a
// box always sees the value as it was when the box was stored. Deleting
// drops the entry's pointer to the box; it never clears the box.
//
// A box whose kind is not kindValue is a marker rather than a value: one
// of the expunged, swept, moved and deleted sentinels, or the mark of a
// compute operation in progress (see boxKind).
//
// A value box also holds a copy of its key, and is only ever stored in
// that key's entry (a rebuild that moves an entry moves the box with its
// key). So a reader that loads a value box from an entry and finds its own
// key in it has found its key's live value, without reading the key in the
// bucket (see Map.Load). The copy costs the size of a key per box: 8 bytes
// per int key, 16 per string (whose bytes are shared, not copied). Markers
// leave key zero, but for a compute's mark over a present key, which copies
// the key of the box it covers (see marker.over): no reader that looks for
// a key's entry trusts a marker's key, since Load checks the kind too.
//
// A box holds no pointer of its own: when neither K nor V holds one, the
// allocator makes the box without pointer bitmaps and the collector never
// scans it: 21.5-28 ns per int->int box allocated, against 28-40 with a
// pointer in it (a microbenchmark of the two layouts, 1 CPU, Go 1.26.8).
type box[K comparable, V any] struct {
	value V
	key   K       // the key of the entry that holds the box; zero in markers but kindComputeLoaded's
	kind  boxKind // kindValue, or which marker
}

// boxKind tells a value box from the markers.
type boxKind uint8

const (
	kindValue    boxKind = iota // a value
	kindExpunged                // the expunged sentinel (see entry)
	kindSwept                   // the swept sentinel
	kindMoved                   // the moved sentinel
	kindDeleted                 // the deleted sentinel of dirty slots (see segment.dirty)
	kindInline                  // the inline sentinel of dirty slots: the value is in the slot
	// A compute operation (Compute or LoadOrCompute) owns the entry while
	// its callback runs. Readers see the value the key had before the
	// compute began: the marker's value, if the kind says the key was
	// loaded, else absent. Writers of the same key wait until the mark is
	// gone (see segment.waitLocked; a LoadOrStore of a present key loads
	// it instead, see write.loadsMark), so the callback's read-modify-write is
	// atomic. Only the owner removes the mark, by storing the result (or,
	// if the callback panics, the original box), and then wakes the
	// waiters (see segment.finish).
	kindComputeAbsent
	kindComputeLoaded
)

// computing reports whether k is the mark of a compute in progress.
func (k boxKind) computing() bool {
	return k >= kindComputeAbsent
}

// A marker is the allocation a compute operation installs: the box that
// readers see, and the box it replaced.
type marker[K comparable, V any] struct {
	b   box[K, V]
	old *box[K, V] // the box that the marker replaced; nil if the key was absent
}

// An entry is the one mutable cell of a key: a pointer to the key's value
// box. Writers change a key's value only through its entry, with a CAS.
//
// Entries live inline in the buckets of a read map, beside the tags, so
// that a reader goes from the bucket straight to the value box. The keys
// of the dirty map have none: their slots hold their values, inline or in
// boxes (see segment.dirty and dirtySlot), and a promotion gives each an
// entry in the new read map, and an inline value its box.
// Building a new read map moves
// each entry it keeps into the new buckets: it copies the box pointer, then
// turns the old entry into the moved sentinel with a CAS that fails if a
// writer got in between (then it copies again). A reader of the old read
// map that finds moved follows the old map's next link to the new one
// (see readOnly.next); a writer retries under mu.
//
// The states of p, and who may move between them:
//
//	state      p                          meaning
//	live       a value box                the key is present with that value
//	deleted    nil                        absent; the entry may still be revived
//	swept      the map's swept box        deleted, and seen so by a sweep
//	pending    a compute's marker box     a compute owns the key (see boxKind)
//	expunged   the map's expunged box     absent and dropped from read and dirty
//	moved      the map's moved box        the key's state went to its entry in
//	                                      the next read map
//
//	live     -> live, deleted       any writer, lock-free CAS
//	deleted, swept -> live          any writer, lock-free CAS (revive)
//	live, deleted, swept -> pending a compute operation, CAS (tryClaim)
//	pending  -> live, deleted       only the compute that installed it
//	deleted  -> swept               only under mu, by a sweep (trySweepLocked)
//	deleted, swept -> expunged      only under mu, while building a new read
//	                                map that leaves the entry out
//	any but expunged -> moved       only under mu, while building a new read
//	                                map that keeps the key (moveLocked)
//	expunged, moved                 final: the entry is garbage once no reader
//	                                holds an old read map
//
// Swept is deleted with an age: a sweep drops the entries that stayed
// deleted since the previous sweep, and only marks the younger ones, so a
// key that is deleted and soon stored again keeps its entry (see sweepNow).
// Everything but sweeps treats swept exactly as deleted.
//
// The entries of the current read map are never expunged or moved while mu
// is free, so a lock-free writer that finds
// either state knows that the read map it loaded is stale, and retries
// under mu, where it sees the current one.
//
// K is the type of the key that the entry's value boxes carry (see box);
// it also lets the methods take the table, whose sentinels they compare
// with.
type entry[K comparable, V any] struct {
	p atomic.Pointer[box[K, V]]
}

// load returns the entry's value, or moved set if the entry moved to the
// next read map, where the caller must look instead. It linearizes at the
// load of p: a deleted, expunged or absent-pending entry reads as absent,
// and a pending entry over a present value reads as that value, since the
// compute has not yet taken effect.
func (e *entry[K, V]) load() (value V, ok, moved bool) {
	return e.p.Load().read()
}

// read is entry.load for b, an entry's box already loaded (nil: deleted),
// for a caller that needs the box too (see rangeRead).
func (b *box[K, V]) read() (value V, ok, moved bool) {
	if b == nil {
		return value, false, false
	}
	switch b.kind {
	case kindValue, kindComputeLoaded:
		return b.value, true, false
	case kindMoved:
		return value, false, true
	}
	return value, false, false // expunged, swept, or computing an absent key
}

// update applies one write (see [writeOp]) to the entry of a key of table t
// with a CAS loop. It returns the box it replaced (prev) and whether the
// write took place. It never blocks: when a compute owns the entry it returns
// that mark in busy and the caller waits for it under mu (see
// segment.waitLocked); when the entry is expunged or moved it returns stale
// and the caller retries under mu. The loop ends because a failed CAS means
// another goroutine changed the entry; after each, a write that does not
// delete spins a while before it loads the entry again (see
// casBackoffSpins), which a goroutine that writes its entry alone never
// does.
//
// Transitions: live -> live or deleted, deleted -> live (revive).
func (e *entry[K, V]) update(t *table[K, V], w *write[K, V]) (prev *box[K, V], changed bool, busy *box[K, V], stale bool) {
	for {
		old := e.p.Load()
		cur := old
		// The sentinels are told by their addresses. A Store, Swap or
		// Delete reads the box's kind, to see a compute's mark, only if the
		// map has ever run a compute; otherwise it does not read the box it
		// replaces, which another core has often just written
		// (SwapCollision, 16 cores: a prototype that did not read it took
		// 163 ns per Swap, not 428; BENCHMARKS.md, "Scaling"). That is
		// safe because the first compute sets counts.computed before its
		// claim's CAS installs the first mark, and nothing clears it: if
		// old is a mark, that CAS is synchronized before our load of old,
		// so our load of computed sees it set. The other writes read the
		// box's value anyway, and its kind with it; LoadOrStore reads it to
		// tell a value from a mark over an absent key (see writeOp.blind).
		switch {
		case cur == nil:
		case cur == t.expunged, cur == t.moved:
			return nil, false, nil, true
		case cur == t.swept:
			cur = nil // deleted
		case w.op.blind() && !t.counts.computed.Load():
			// A value box, unread (see above).
		case cur.kind.computing():
			if w.loadsMark(cur) {
				return cur, false, nil, false
			}
			return nil, false, cur, false
		}
		var next *box[K, V]
		change := true
		if w.op == opStore {
			// Store and Swap store a new box whatever the entry holds:
			// no call to decide it.
			w.prepare()
			next = w.nb
		} else {
			next, change = w.next(cur)
		}
		if !change {
			return cur, false, nil, false
		}
		// A concurrent writer may have replaced old since the load; the CAS
		// then fails, and we decide again on the newer box: a delete at
		// once, any other write after a little wait (see casBackoffSpins).
		if e.p.CompareAndSwap(old, next) {
			return cur, true, nil, false
		}
		if !w.op.deletes() {
			//lint:ignore SA4017 the call is a wait: its loop is the point, not its sum
			backoff()
		}
	}
}

// tryClaim installs a compute marker over a live or deleted entry.
// With ifAbsent set it declines a live entry and returns its box in cur.
// It returns the installed marker, or the mark of another compute to wait
// for (busy), or none of them if the entry is expunged or moved.
//
// Transition: live or deleted -> pending.
func (e *entry[K, V]) tryClaim(ifAbsent bool) (mk *marker[K, V], cur *box[K, V], busy *box[K, V]) {
	for {
		old := e.p.Load()
		var ok bool
		if cur, busy, ok = claimable(old, ifAbsent); !ok {
			return nil, cur, busy
		}
		if mk == nil {
			mk = new(marker[K, V])
		}
		mk.over(cur)
		// Readers may load the marker the moment this CAS succeeds; its fields
		// were all written before, and the CAS publishes them.
		if e.p.CompareAndSwap(old, &mk.b) {
			return mk, nil, nil
		}
	}
}

// claimable decides a compute's claim of a key whose entry or dirty slot
// holds b. If the compute may install its mark, it reports ok, with cur the
// key's box (nil if the key is deleted). Otherwise cur is the present box
// that a claim with ifAbsent set declines, or busy the mark of another
// compute to wait for, or both are nil: the entry is expunged or moved.
func claimable[K comparable, V any](b *box[K, V], ifAbsent bool) (cur, busy *box[K, V], ok bool) {
	if b != nil && (b.kind == kindSwept || b.kind == kindDeleted) {
		b = nil // deleted
	}
	if b != nil && b.kind != kindValue {
		switch {
		case b.kind == kindExpunged || b.kind == kindMoved:
			return nil, nil, false
		case ifAbsent && b.kind == kindComputeLoaded:
			// Another compute owns a present key: it is present now.
			return b, nil, false
		}
		return nil, b, false
	}
	if ifAbsent && b != nil {
		return b, nil, false
	}
	return b, nil, true
}

// release ends a compute: it stores the result box (nil deletes) in place
// of the marker. It fails, changing nothing, if a rebuild has moved the
// marker to another entry meanwhile; the caller then releases that one (see
// segment.finish). Only the owner of mk calls it.
//
// Transition: pending -> live or deleted.
func (e *entry[K, V]) release(mk *marker[K, V], result *box[K, V]) bool {
	// While the mark is installed, writers wait and expunging skips the
	// entry: the only other change is a move, under mu.
	return e.p.CompareAndSwap(&mk.b, result)
}

// tryExpungeLocked marks a deleted or swept entry expunged, so that the
// read map being built under mu can leave it out. With onlySwept set it
// leaves deleted entries alone. It reports whether it expunged the entry.
// This is one half of a rule: the other half is update and tryClaim,
// which refuse expunged entries, so no lock-free writer can revive an entry
// after it was left out of the new read map.
//
// Transition: deleted or swept -> expunged, with mu held.
func (e *entry[K, V]) tryExpungeLocked(t *table[K, V], onlySwept bool) bool {
	// Load first: a CAS on a live entry would fail anyway, and would still
	// take its cache line away from the readers.
	switch p := e.p.Load(); {
	case p == nil && !onlySwept, p == t.swept:
		return e.p.CompareAndSwap(p, t.expunged)
	}
	return false
}

// trySweepLocked marks a deleted entry swept, so that the next sweep drops
// it if it is still deleted then. It reports whether it did.
//
// Transition: deleted -> swept, with mu held.
func (e *entry[K, V]) trySweepLocked(t *table[K, V]) bool {
	return e.p.Load() == nil && e.p.CompareAndSwap(nil, t.swept)
}

// moveLocked moves e's state to to, an entry of a read map being built,
// and leaves e moved. The CAS fails if a writer changed e after the copy;
// the loop then copies the newer box. Readers of e's read map that load
// moved find to through the map's next link, which the builder set first,
// and to holds the box e held just before: no write is lost or reordered.
//
// Transition: any state but expunged -> moved, with mu held.
func (e *entry[K, V]) moveLocked(to *entry[K, V], t *table[K, V]) {
	for {
		b := e.p.Load()
		// No one else writes to before the new map is published or reached
		// through a moved entry, so a plain store is enough.
		to.p.Store(b)
		if e.p.CompareAndSwap(b, t.moved) {
			return
		}
	}
}

// over sets mk to be the mark of a compute over cur, the key's box (nil if
// the key is absent).
//
// The mark over a present key carries the box's value, which readers see
// while the compute runs, and its key, the form of the key that its last
// write gave (see keyForm); a mark over an absent key carries neither (a
// retried claim may reuse a mark that carried them).
func (mk *marker[K, V]) over(cur *box[K, V]) {
	mk.old = cur
	if cur == nil {
		mk.b = box[K, V]{kind: kindComputeAbsent}
		return
	}
	mk.b = box[K, V]{value: cur.value, key: cur.key, kind: kindComputeLoaded}
}

// keyForm reports whether b, a box that reads as present, carries its key
// as the key's last write gave it: a value box, or a compute's mark over a
// present key, which copies the key from the value box it covers (see
// marker.over). Range and the iterators report that form where equal keys
// differ (+0 and -0 as float keys), as Go's maps do, rather than the form
// the key's slot was first made with.
func (b *box[K, V]) keyForm() bool {
	return b.kind == kindValue || b.kind == kindComputeLoaded
}
