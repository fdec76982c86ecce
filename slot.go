package safemap

// This file holds what a slot of a dirty map does with its key's state,
// which it holds itself (see segment.dirty): the counterparts of the entry
// methods that the keys of read maps use, with plain loads and stores,
// since only holders of the segment's mu reach a slot.

// load is entry.load for a slot of dirty, with the segment's mu held.
func (sl *dirtySlot[K, V]) load(t *table[K, V]) (value V, ok bool) {
	switch b := sl.p; {
	case sl.deleted(t):
		return value, false
	case b.kind == kindValue, b.kind == kindComputeLoaded:
		return b.value, true
	}
	return value, false // a compute's mark over an absent key
}

// update is entry.update for a slot of dirty, with the segment's mu held:
// plain loads and stores, since no other goroutine reaches the slot. It
// returns the mark of a compute that owns the key in busy, changing
// nothing.
func (sl *dirtySlot[K, V]) update(t *table[K, V], w *write[K, V]) (prev *box[K, V], changed bool, busy *box[K, V]) {
	cur := sl.p
	switch {
	case sl.deleted(t):
		cur = nil
	case w.op.blind() && !t.counts.computed.Load():
		// A value box, unread, as entry.update leaves it.
	case cur.kind.computing():
		return nil, false, cur
	}
	var next *box[K, V]
	if w.op == opStore {
		w.prepare()
		next = w.nb
	} else if next, changed = w.next(cur); !changed {
		return cur, false, nil
	}
	sl.set(t, next)
	return cur, true, nil
}

// box returns what the slot's key holds as an entry would hold it: a box,
// nil (deleted), swept, or a compute's mark.
func (sl *dirtySlot[K, V]) box(t *table[K, V]) *box[K, V] {
	if sl.p == t.deleted {
		return nil
	}
	return sl.p
}

// tryClaim is entry.tryClaim for a slot of dirty, with the segment's mu
// held: a plain store installs the mark, and the compute removes it under
// mu too (see segment.finish).
func (sl *dirtySlot[K, V]) tryClaim(ifAbsent bool) (mk *marker[K, V], cur *box[K, V], busy *box[K, V]) {
	cur, busy, ok := claimable(sl.p, ifAbsent)
	if !ok {
		return nil, cur, busy
	}
	mk = new(marker[K, V])
	mk.over(cur)
	sl.p = &mk.b
	return mk, nil, nil
}

// deleted reports whether the slot's key is deleted: the deleted sentinel,
// or swept.
func (sl *dirtySlot[K, V]) deleted(t *table[K, V]) bool {
	return sl.p == t.deleted || sl.p == t.swept
}

// set stores b, the key's new box, in the slot: nil (deleted) as the
// deleted sentinel, since a nil p marks a free slot.
func (sl *dirtySlot[K, V]) set(t *table[K, V], b *box[K, V]) {
	if b == nil {
		b = t.deleted
	}
	sl.p = b
}
