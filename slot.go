package safemap

import "reflect"

// This file holds what a slot of a dirty map does with its key's state,
// which it holds itself (see segment.dirty): the counterparts of the entry
// methods that the keys of read maps use, with plain loads and stores,
// since only holders of the segment's mu reach a slot.
//
// A present key's value takes one of two forms, fixed for a map by its
// types (mapCounts.inlineValues):
//
//   - Inline, when neither K nor V holds a pointer: the value lies in the
//     slot itself, and its state code is the inline sentinel's. No reader
//     without mu ever sees a slot, so a write changes the slot in place;
//     the value needs a box only when a promotion gives the key an entry
//     in a read map, which lock-free readers share. A new key, and every
//     write over a key that waits in dirty, so allocates nothing, and a
//     key deleted before its promotion (a stream of new keys deleted soon
//     after, or a Clear in place) never has a box. A promotion allocates
//     the boxes boxChunk to an object (see rebuildLocked).
//   - Boxed, otherwise: the state is the value box, in the table's p
//     array, made by the write as for an entry of read, and the slot's
//     value stays zero. Boxes made in
//     chunks would keep a deleted value reachable through the other
//     boxes of its chunk, which the map must not do for values that hold
//     pointers; one box per key, made at promotion instead of by the
//     write, would make the reads that cause promotions allocate once per
//     key promoted.
//
// Measured against the boxed form for every type (scripts/ab.sh; the
// figures are in benchmarks/JOURNAL.md, the sessions of 2026-12-04 from
// 20:45 and of 2026-12-05 from 06:59): Go's Clear row took a fifth less
// time and no allocation; a stream of new keys that stays in dirty
// (LoadOrStoreUnique) about a tenth more at 1 CPU, its slots, which then
// held the state as a pointer, being 24 bytes instead of 16 for int->int.
// With the state in a control byte (see dirtyMap) the slot is 16 bytes
// again and holds no pointer, and the collector skips the table.

// boxChunk is the number of value boxes that one allocation of a promotion
// holds, for inline values (see dirtySlot). A chunk stays allocated while
// any of its boxes is reachable: a key overwritten or deleted in read
// leaves its old box in the chunk until the chunk's last box goes. The
// chunk's size bounds that waste at boxChunk boxes per live one, in the
// worst case, and still cuts the allocations of a promotion sixteenfold.
const boxChunk = 16

// pointerFree reports whether a value of type t holds no pointer the
// collector must follow: no pointer, string, slice, map, channel,
// function or interface, in any field or element.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Array:
		return t.Len() == 0 || pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	}
	return false
}

// A dirtySlot names one slot of a dirtyMap that holds a key: a handle, valid
// until the map next changes, through which the segment reads and writes
// the slot with plain loads and stores, under its lock (see segment.dirty
// for the states). The zero dirtySlot names no slot (see ok).
type dirtySlot[K comparable, V any] struct {
	d  *dirtyMap[K, V]
	tb *dirtyTable[K, V] // &d.tab or d.old
	i  int
}

// ok reports whether sl names a slot.
func (sl dirtySlot[K, V]) ok() bool {
	return sl.tb != nil
}

// key returns the slot's key.
func (sl dirtySlot[K, V]) key() K {
	return sl.tb.kv[sl.i].key
}

// value returns the slot's inline value: zero unless the state is the
// inline sentinel.
func (sl dirtySlot[K, V]) value() V {
	return sl.tb.kv[sl.i].value
}

// code returns the slot's state code (see dirtyStates).
func (sl dirtySlot[K, V]) code() uint8 {
	return sl.tb.ctrl[sl.i] >> dirtyTagBits
}

// p returns the slot's state, as an entry would hold it: one of the
// table's sentinels, a value box or a compute's mark.
func (sl dirtySlot[K, V]) p() *box[K, V] {
	if c := sl.code(); c != dirtyCodePtr {
		return sl.d.states[c]
	}
	return sl.tb.p[sl.i]
}

// setState sets the slot's state to p (not nil), keeping its key, and
// zeroes its value unless p is the inline sentinel: a slot keeps no value
// of a key that is deleted, boxed or moved out of it. A pointer state goes
// to the table's p array, which it allocates if need be; any other state
// clears the slot's p, so that it keeps no box or mark reachable.
func (sl dirtySlot[K, V]) setState(p *box[K, V]) {
	c := sl.d.states.code(p)
	sl.setCode(c)
	if c == dirtyCodePtr {
		sl.d.needP(sl.tb)[sl.i] = p
	}
}

// setCode sets the slot's state code to c, keeping its tag, with what
// setState does to the value and to p; the pointer of a pointer state is
// the caller's to store.
func (sl dirtySlot[K, V]) setCode(c uint8) {
	tb, i := sl.tb, sl.i
	tb.ctrl[i] = c<<dirtyTagBits | tb.ctrl[i]&dirtyTagMask
	if c != dirtyCodeInline {
		var zero V
		tb.kv[i].value = zero
	}
	if c != dirtyCodePtr && tb.p != nil {
		tb.p[i] = nil
	}
}

// live reports whether the slot's key is present: its value inline, or a
// value box.
func (sl dirtySlot[K, V]) live() bool {
	switch sl.code() {
	case dirtyCodeInline:
		return true
	case dirtyCodePtr:
		return sl.tb.p[sl.i].kind == kindValue
	}
	return false
}

// load is entry.load for a slot of dirty, with the segment's mu held.
func (sl dirtySlot[K, V]) load() (value V, ok bool) {
	switch sl.code() {
	case dirtyCodeInline:
		return sl.value(), true
	case dirtyCodePtr:
		if b := sl.tb.p[sl.i]; b.kind == kindValue || b.kind == kindComputeLoaded {
			return b.value, true
		}
	}
	return value, false // deleted, or a compute's mark over an absent key
}

// update is entry.update for a slot of dirty, with the segment's mu held:
// plain loads and stores, since no other goroutine reaches the slot. It
// returns the mark of a compute that owns the key in busy, changing
// nothing.
//
// For an inline value, prev, the key's value before the write, is w.prev,
// a copy made for the caller, who reads it after mu is released: the slot
// itself changes in place.
func (sl dirtySlot[K, V]) update(t *table[K, V], w *write[K, V]) (prev *box[K, V], changed bool, busy *box[K, V]) {
	switch c := sl.code(); {
	case c == dirtyCodeInline:
		w.prev = box[K, V]{value: sl.value(), key: sl.key()}
		prev = &w.prev
	case c != dirtyCodePtr: // deleted or swept: prev stays nil
	case w.op.blind() && !t.counts.computed.Load():
		prev = sl.tb.p[sl.i] // a value box, unread, as entry.update leaves it
	case sl.tb.p[sl.i].kind.computing():
		b := sl.tb.p[sl.i] // a compute's mark
		if w.loadsMark(b) {
			return b, false, nil
		}
		return nil, false, b
	default:
		prev = sl.tb.p[sl.i] // a value box
	}
	if w.op != opStore && !w.decide(prev) {
		return prev, false, nil
	}
	if w.op.deletes() {
		sl.setState(t.deleted)
	} else {
		sl.storeWrite(t, w)
	}
	return prev, true, nil
}

// storeWrite makes the slot's key present with w's value: inline, or in
// w's box (see dirtySlot).
func (sl dirtySlot[K, V]) storeWrite(t *table[K, V], w *write[K, V]) {
	if t.counts.inlineValues {
		sl.store(w.key, w.value)
		return
	}
	w.prepare()
	sl.setState(w.nb)
}

// store makes the slot's key present with value inline. The key is stored
// too, as the write gave it: equal keys may differ (+0 and -0 as float
// keys), and Go's maps, like the value boxes of read maps (see box), keep
// the form that the last write gave.
func (sl dirtySlot[K, V]) store(key K, value V) {
	sl.tb.kv[sl.i] = dirtyKV[K, V]{key: key, value: value}
	sl.setCode(dirtyCodeInline)
}

// tryClaim is entry.tryClaim for a slot of dirty, with the segment's mu
// held: the mark goes into the slot under mu, and the compute removes it
// under mu too (see segment.finish). An inline value moves to a box of its
// own (the compute's mk.old, or cur), which the compute and the readers of
// its mark use after mu is released.
func (sl dirtySlot[K, V]) tryClaim(ifAbsent bool) (mk *marker[K, V], cur *box[K, V], busy *box[K, V]) {
	b := sl.p()
	if sl.code() == dirtyCodeInline {
		b = &box[K, V]{value: sl.value(), key: sl.key()}
	}
	cur, busy, ok := claimable(b, ifAbsent)
	if !ok {
		return nil, cur, busy
	}
	mk = new(marker[K, V])
	mk.over(cur)
	sl.setState(&mk.b)
	return mk, nil, nil
}

// deleted reports whether the slot's key is deleted: the deleted sentinel,
// or swept.
func (sl dirtySlot[K, V]) deleted() bool {
	c := sl.code()
	return c == dirtyCodeDeleted || c == dirtyCodeSwept
}

// set stores b, the result of a compute, in the slot: nil (deleted) as
// the deleted sentinel; a value box's value inline, or the box itself (see
// dirtySlot).
func (sl dirtySlot[K, V]) set(t *table[K, V], b *box[K, V]) {
	switch {
	case b == nil:
		sl.setState(t.deleted)
	case t.counts.inlineValues:
		sl.store(b.key, b.value)
	default:
		sl.setState(b)
	}
}
