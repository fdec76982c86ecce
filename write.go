package safemap

// A writeOp names one of the write methods of sync.Map's set. All of them
// share one path (Map.write): a lock-free attempt on the key's entry in the
// read map, then a locked one; only the transition differs.
type writeOp uint8

const (
	opStore            writeOp = iota // Store and Swap: always store the new value
	opLoadOrStore                     // store only if absent
	opCompareAndSwap                  // store only if present and equal to old
	opDelete                          // Delete and LoadAndDelete: delete if present
	opCompareAndDelete                // delete only if present and equal to old
)

// creates reports whether the operation may add a key that is absent, so that
// the locked path must create an entry for it.
func (op writeOp) creates() bool {
	return op == opStore || op == opLoadOrStore
}

// deletes reports whether the operation deletes the key when it changes
// anything.
func (op writeOp) deletes() bool {
	return op == opDelete || op == opCompareAndDelete
}

// compares reports whether the operation compares the present value with
// an old one (with equal, which may panic).
func (op writeOp) compares() bool {
	return op == opCompareAndSwap || op == opCompareAndDelete
}

// blind reports whether the operation changes every present entry whatever
// its value (Store and Swap replace it, Delete deletes it), so that, in a
// map that never ran a compute, it can decide without reading the box it
// replaces (see entry.update). LoadOrStore must tell a value from a
// compute's mark over an absent key, and the compare operations need the
// value.
func (op writeOp) blind() bool {
	return op == opStore || op == opDelete
}

// A write is one write operation in flight: what to store, what to compare
// with, and the new box, made at most once however often the CAS is retried
// (so Store over an existing key allocates at most one box).
type write[K comparable, V any] struct {
	op    writeOp
	key   K // the key; set by Map.write
	value V // the value to store
	old   V // the value to compare with, for the compare operations
	nb    *box[K, V]
	// prev is a copy of the inline value that a write under mu found in
	// a slot of dirty, which the write returns as the box it replaced:
	// the slot changes in place (see dirtySlot.update).
	prev box[K, V]
}

// decide reports whether the write changes a key whose box is cur: nil
// (absent) or a value box. A write that changes it stores w.value, or
// deletes the key if its op deletes.
func (w *write[K, V]) decide(cur *box[K, V]) bool {
	switch w.op {
	case opLoadOrStore:
		return cur == nil
	case opCompareAndSwap:
		return cur != nil && equal(cur.value, w.old)
	case opDelete:
		return cur != nil
	case opCompareAndDelete:
		return cur != nil && equal(cur.value, w.old)
	}
	return true // opStore
}

// next returns the box that should replace cur, which is nil (absent) or a
// value box, and whether anything changes at all.
func (w *write[K, V]) next(cur *box[K, V]) (*box[K, V], bool) {
	if !w.decide(cur) {
		return nil, false
	}
	if w.op.deletes() {
		return nil, true
	}
	w.prepare()
	return w.nb, true
}

// loadsMark reports whether the write ends at b, the mark of a compute,
// without waiting for the compute: a LoadOrStore of a key that a compute
// owns while the key is present loads the value that the mark carries,
// the key's value until the compute ends, and linearizes at that load, as
// Load does. Every other write of a marked key waits for the compute (see
// segment.waitLocked).
func (w *write[K, V]) loadsMark(b *box[K, V]) bool {
	return w.op == opLoadOrStore && b.kind == kindComputeLoaded
}

// prepare makes the write's new box, once: next calls it when the write
// changes an entry of a read map, entry.update for a Store or Swap (which
// needs no next), dirtySlot.storeWrite for a boxed value, and Map.write
// ahead of need, before it takes a lock, for Store, Swap and LoadOrStore
// of a boxed value only (see dirtySlot), each of which stores w.value if
// it changes anything.
func (w *write[K, V]) prepare() {
	if w.nb == nil {
		w.nb = &box[K, V]{value: w.value, key: w.key}
	}
}

// equal compares two values with ==, as sync.Map does: values of different
// dynamic types are unequal, and it panics, as sync.Map's comparison does,
// if a and b hold one dynamic type that is not comparable. Its callers
// change nothing before it, and the locked path unlocks in a deferred call
// (see writeLocked), so such a panic leaves the map as it was.
func equal[V any](a, b V) bool {
	return any(a) == any(b)
}
