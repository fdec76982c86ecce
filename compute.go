package safemap

import (
	"strconv"
	"sync"
)

// ComputeOp tells [Map.Compute] what to do with the key once its callback
// returns.
type ComputeOp int

const (
	// UpdateOp stores the callback's new value.
	UpdateOp ComputeOp = iota
	// DeleteOp deletes the key.
	DeleteOp
	// CancelOp leaves the key as it was.
	CancelOp
)

// String returns the name of op, or "ComputeOp(n)" for a value n that
// names no operation.
func (op ComputeOp) String() string {
	switch op {
	case UpdateOp:
		return "UpdateOp"
	case DeleteOp:
		return "DeleteOp"
	case CancelOp:
		return "CancelOp"
	}
	return "ComputeOp(" + strconv.Itoa(int(op)) + ")" // as stringer spells it
}

// Compute atomically reads, modifies and writes the value of one key. It
// calls fn with the key's current value (old) and whether the key is
// present (loaded), then applies fn's op: UpdateOp stores newValue, DeleteOp
// deletes the key, CancelOp leaves it as it was. The actual result is the
// value present afterwards, the zero value if none; ok reports whether the
// key is present afterwards.
//
// fn runs exactly once per call, with no lock held. While it runs, the key
// is reserved: loads of the key see its old value without waiting, and
// writers of the same key (Store, Delete, Compute, ...) wait until fn
// returns, so no write slips between fn's read and its write; so do
// Delete, LoadAndDelete, CompareAndSwap and CompareAndDelete of a key
// that was absent, which then decide on the key as fn left it. A
// LoadOrStore or LoadOrCompute of the key while it is present changes
// nothing: it returns the old value at once, as Load does. Loads and
// writes of other keys do not wait for fn. Nor does Clear: a Clear that
// another goroutine makes while fn runs removes the key as it is, loads
// report it absent from then on, and the compute takes effect just before
// that Clear, as when fn calls Clear itself (see below).
//
// fn may call any method of m on other keys, and Load on its own key. It
// must not write its own key (Store, Delete, Swap, Compute,
// CompareAndSwap, ... of key, and LoadOrStore or LoadOrCompute of key if
// it was absent), directly or by waiting for a goroutine that does: such a
// write waits for fn to return, and fn waits for it, a deadlock. A
// LoadOrStore or LoadOrCompute of key while it is present is a load (see
// above). fn may call Clear: the compute then takes effect
// before that Clear, which removes the key with every other, and Compute
// reports the key's value as fn left it, just before the Clear.
//
// If fn panics, or returns an op other than the three above (Compute then
// panics), the key is left exactly as it was, the writers that waited for
// it go on, and the panic propagates to the caller. Compute also panics if
// the key's dynamic type is not comparable.
//
// A Compute of a key that the key's read map holds, present or recently
// deleted, takes no lock unless the key is absent afterwards (fn deleted
// it, or canceled while it was deleted): it reserves and releases the
// key's entry with atomic compare-and-swaps. One of a new key, or of a key
// that waits in its segment's dirty map, takes the segment's lock to
// reserve the key and again to release it, but never while fn runs.
//
// Compute is a read operation, and a write operation unless fn cancels.
// It allocates the key's reservation, a small object that readers may
// still hold once fn has returned, so it is never reused: one allocation
// even when fn cancels, and one more for an UpdateOp's new value, besides
// what any new key may cost (a segment's first dirty map, or a bigger one).
func (m *Map[K, V]) Compute(key K, fn func(old V, loaded bool) (newValue V, op ComputeOp)) (actual V, ok bool) {
	t := m.t.Load()
	if t == nil {
		checkHashable(key) // panic before making the first table (see write)
		t = m.loadOrInit()
	}
	h, i := t.locate(key)
	t.counts.computing() // before the claim can install a mark
	s := t.segment(i)
	e, mk, _ := s.claim(t, h, key, false) // without ifAbsent, always claims
	return s.runCompute(t, h, key, e, mk, fn)
}

// runCompute calls fn for key, whose hash is h and whose entry e mk
// reserves, and applies the result.
func (s *segment[K, V]) runCompute(t *table[K, V], h uint64, key K, e *entry[K, V], mk *marker[K, V],
	fn func(old V, loaded bool) (V, ComputeOp)) (actual V, ok bool) {
	done := false
	defer func() {
		if !done {
			// fn panicked: restore the key as it was and wake the waiters.
			s.finish(t, h, key, e, mk, mk.old)
		}
	}()
	var old V
	if mk.old != nil {
		old = mk.old.value
	}
	newValue, op := fn(old, mk.old != nil)
	var result *box[K, V]
	switch op {
	case UpdateOp:
		result = &box[K, V]{value: newValue, key: key}
	case DeleteOp:
	case CancelOp:
		result = mk.old
	default:
		panic("safemap: Compute callback returned an invalid ComputeOp, " + strconv.Itoa(int(op)))
	}
	done = true
	s.finish(t, h, key, e, mk, result)
	if result == nil {
		return actual, false
	}
	return result.value, true
}

// LoadOrCompute returns the existing value for the key if present.
// Otherwise, it calls valueFn, stores the value it returns, and returns
// that. The loaded result is true if the value was loaded, false if
// computed and stored.
//
// However many goroutines call LoadOrCompute for an absent key at once,
// exactly one of them calls valueFn; the others wait for it and return its
// value. valueFn runs with no lock held: loads of the key report it absent
// without waiting, loads and writes of other keys do not wait for it, and
// writers of the same key wait until it returns (Delete, LoadAndDelete,
// CompareAndSwap and CompareAndDelete included, which then find the
// computed value). valueFn may call any method
// of m except a write of its own key, which would deadlock as in
// [Map.Compute]. A Clear while valueFn runs, by valueFn or another
// goroutine, does not wait for it: the value is stored just before that
// Clear, which removes it; LoadOrCompute still returns it, loaded false.
//
// If valueFn panics, the key stays absent, the panic propagates to the
// caller, and one of the goroutines that waited (if any) calls its own
// valueFn. LoadOrCompute panics if the key's dynamic type is not comparable.
//
// Over a present key LoadOrCompute allocates nothing. Over an absent key it
// allocates the key's reservation, as Compute does, and a box for the
// value, besides what any new key may cost (a segment's first dirty map,
// or a bigger one).
func (m *Map[K, V]) LoadOrCompute(key K, valueFn func() V) (actual V, loaded bool) {
	if v, ok := m.Load(key); ok {
		return v, true
	}
	t := m.loadOrInit()
	h, i := t.locate(key)
	t.counts.computing() // before the claim can install a mark
	s := t.segment(i)
	e, mk, cur := s.claim(t, h, key, true)
	if mk == nil {
		return cur.value, true // stored by another goroutine meanwhile
	}
	return s.runLoadOrCompute(t, h, key, e, mk, valueFn), false
}

// runLoadOrCompute calls valueFn for key, whose hash is h and whose entry e
// mk reserves while it is absent, and stores the result.
func (s *segment[K, V]) runLoadOrCompute(t *table[K, V], h uint64, key K, e *entry[K, V], mk *marker[K, V], valueFn func() V) V {
	done := false
	defer func() {
		if !done {
			s.finish(t, h, key, e, mk, nil)
		}
	}()
	v := valueFn()
	done = true
	s.finish(t, h, key, e, mk, &box[K, V]{value: v, key: key})
	return v
}

// claim reserves key for a compute: it installs a marker on the key's entry
// in read, and returns the entry; or on its slot in dirty, adding the key
// to dirty first if it is absent, and returns no entry (the compute then
// removes its mark under mu: see finish). With ifAbsent set it declines a
// present key and returns its box in cur instead. If another compute owns
// the key, claim waits for it to end (see waitLocked) and tries again.
func (s *segment[K, V]) claim(t *table[K, V], h uint64, key K, ifAbsent bool) (e *entry[K, V], mk *marker[K, V], cur *box[K, V]) {
	if e = s.loadRead(t).find(h, key); e != nil {
		if mk, cur, _ = e.tryClaim(ifAbsent); mk != nil || cur != nil {
			return e, mk, cur
		}
		// Another compute owns the key (wait for it under mu), or the
		// entry is expunged or moved: the read map we loaded is stale.
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		var sl dirtySlot[K, V]
		e, sl = s.findLocked(t, h, key, nil)
		inDirty := sl.ok()
		if e == nil && !sl.ok() {
			// A new key, deleted until the compute stores its result.
			sl = s.addDirtyLocked(t, h, key)
		}
		var busy *box[K, V]
		if sl.ok() {
			mk, cur, busy = sl.tryClaim(ifAbsent)
		} else {
			mk, cur, busy = e.tryClaim(ifAbsent) // never expunged or moved: e is current
		}
		if busy != nil {
			s.waitLocked(t, h, key, busy)
			continue
		}
		if mk != nil && mk.old == nil && inDirty {
			// A deleted key of dirty, which the compute may revive.
			s.revivedDirtyLocked()
		}
		// Count the miss only now: a promotion drops deleted keys, and a
		// dirty key may be deleted for a moment (a Delete, or a compute
		// that ended in one, and a Store to come). Once
		// claimed, the key is pending and promotion keeps it: it copies
		// the mark to the key's entry in read, and finish finds it there.
		if inDirty && s.loadRead(t).amended() {
			s.missLocked(t)
		}
		return e, mk, cur
	}
}

// waitLocked waits, with mu held, until key (whose hash is h) no longer
// holds b, the mark of a compute in progress; it releases mu while it
// waits, as sync.Cond does. The compute's owner wakes the segment's waiters
// once it has removed its mark (see wake). The waiter counts itself in
// waiters before it looks at the key, and the owner removes its mark before
// it reads waiters; so either the owner sees the waiter and wakes it (which
// takes mu, so it comes after the waiter's Wait has released it), or the
// waiter sees the mark gone and does not wait. A wake for another key's
// compute makes it look again and wait again. The waiter looks the key up
// each time (see holdsLocked): a rebuild may have moved the mark from a
// slot of dirty, or from an entry of an older read map, while it slept.
func (s *segment[K, V]) waitLocked(t *table[K, V], h uint64, key K, b *box[K, V]) {
	sl := s.slowLocked()
	if sl.cond == nil {
		sl.cond = sync.NewCond(&s.mu)
	}
	s.waiters.Add(1)
	for s.holdsLocked(t, h, key, b) {
		sl.cond.Wait()
	}
	s.waiters.Add(-1)
}

// holdsLocked reports whether the key's entry, or its slot of dirty, holds
// b; mu must be held.
func (s *segment[K, V]) holdsLocked(t *table[K, V], h uint64, key K, b *box[K, V]) bool {
	e, sl := s.findLocked(t, h, key, nil)
	if sl.ok() {
		return sl.p() == b
	}
	return e != nil && e.p.Load() == b
}

// wake wakes the goroutines waiting for a compute of the segment to end
// (see waitLocked), if there are any. The caller has removed its mark,
// and does not hold mu.
func (s *segment[K, V]) wake() {
	if s.waiters.Load() == 0 {
		return
	}
	s.mu.Lock()
	s.slow.cond.Broadcast()
	s.mu.Unlock()
}

// finish ends the compute that mk marks on key, leaving result (nil:
// absent) as the key's value, and keeps the counts: the live count, and
// the rules for deleted keys (a deleted key of dirty counts toward its
// purge; one in read is counted for the next rebuild). e is the entry that
// the compute claimed, or nil if it claimed a slot of dirty: then, or if a
// rebuild has moved the marker since, finish looks for the key under mu,
// where its entry or slot is current.
func (s *segment[K, V]) finish(t *table[K, V], h uint64, key K, e *entry[K, V], mk *marker[K, V], result *box[K, V]) {
	released := e != nil && e.release(mk, result)
	if !released {
		s.mu.Lock()
		// A marker is never expunged or dropped, so the key's current
		// entry or slot holds it; no one else changes a marked entry or
		// slot while mu is held (writers wait for the mark, and only
		// rebuilds move it).
		e, sl := s.findLocked(t, h, key, nil)
		if e == nil && !sl.ok() {
			// A key that is not equal to itself (a NaN, or a key
			// holding one), which == never finds: its claim added it
			// to dirty anew, as Store adds such a key each time.
			e, sl = s.findMarkLocked(t, &mk.b)
		}
		// A delete is counted under the lock that made it, as the other
		// writers count theirs: once mu is released, a Store and a
		// Delete, or a Clear, may revive and delete the key again, and a
		// count taken later could not tell that delete, perhaps counted
		// already, from this one. Counted twice, the deleted keys of
		// dirty (dirtyDead) passed their number, and a purge that
		// trusted the count dropped live keys
		// (TestComputeDeleteCountedOnce).
		if sl.ok() {
			sl.set(t, result)
			if result == nil {
				s.deletedDirtyLocked(t)
			}
		} else {
			e.p.Store(result)
			if result == nil {
				// The mark is in read because a rebuild put it
				// there (from dirty, or from an older read map),
				// and a rebuild counts no mark as a tombstone: the
				// entry is one now, whether or not the key was
				// live, and a Store that revives it will take one
				// from the count. (Left uncounted, a key claimed
				// absent, promoted mid-compute and stored after
				// took the count below the truth:
				// TestComputeMovedDeleteCounted.)
				s.deletedReadLocked(t, true)
			}
		}
		s.mu.Unlock()
	}
	s.wake()
	switch {
	case mk.old == nil && result != nil && released:
		// A deleted entry of read revived in place: a tombstone fewer,
		// as for a Store that revives one (see counted). (An entry that
		// a rebuild moved, with the mark on it, was no tombstone of the
		// new map.)
		s.tally.Add(tallyDelta(1, -1))
	case mk.old == nil && result != nil:
		s.tally.Add(tallyDelta(1, 0))
	case mk.old != nil && result == nil:
		s.tally.Add(tallyDelta(-1, 0))
	}
	if result == nil && released {
		s.dropDead(t, h, key, mk.old != nil)
	}
}

// findMarkLocked returns the entry of read, or the slot of dirty, that
// holds mark, for finish, whose key == cannot find. O(keys of the
// segment); mu must be held. The mark is there: finish's compute put it
// there and only rebuilds move it, under mu, to the current read map.
func (s *segment[K, V]) findMarkLocked(t *table[K, V], mark *box[K, V]) (e *entry[K, V], sl dirtySlot[K, V]) {
	for d := range s.dirty.all() {
		if d.p() == mark {
			return nil, d
		}
	}
	s.loadRead(t).each(func(_ K, x *entry[K, V]) bool {
		if x.p.Load() == mark {
			e = x
		}
		return e == nil
	})
	return e, dirtySlot[K, V]{}
}

// dropDead takes mu and makes sure the deleted entry of key, in read, goes
// (see deletedReadLocked), for a compute that deleted it without mu.
// Another goroutine may have revived, replaced or dropped the entry
// meanwhile; then there is nothing to do. A deleted key found in dirty is
// not the compute's: a key that the compute deleted in read can reach
// dirty only once a rebuild has dropped it and a writer has added it anew,
// and whoever deleted it there counted it. (Only tombstones of read may be
// counted twice, which costs an early rebuild at worst; see tally.)
func (s *segment[K, V]) dropDead(t *table[K, V], h uint64, key K, wasLive bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, sl := s.findLocked(t, h, key, nil); !sl.ok() && e != nil && e.p.Load() == nil {
		s.deletedReadLocked(t, wasLive)
	}
}

// deletedReadLocked counts a compute's delete of a key's entry in read,
// which is nil now: as a tombstone of read if it is a new one (counted),
// and then, or otherwise, makes sure that it goes. An entry that was a
// counted tombstone when the compute claimed it in place (a compute of a
// deleted key that left it deleted) is not counted again, but a sweep
// must still drop it and its key.
func (s *segment[K, V]) deletedReadLocked(t *table[K, V], counted bool) {
	if counted {
		s.deletedLocked(t, s.loadRead(t), s.tally.Add(tallyDelta(0, 1)))
		return
	}
	s.armSweepLocked(t, s.loadRead(t).n)
}
