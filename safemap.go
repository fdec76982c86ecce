package safemap

import (
	"sync"
	"sync/atomic"
)

// Map is a concurrent map with typed keys and values: like a Go
// map[K]V safe for use by many goroutines at once, without locking or
// coordination by the caller. Map[any, any] has every method of
// [sync.Map], with the same signatures and behaviour, so replacing a
// sync.Map with it is a one-line change. It has more methods besides (Len,
// iterators, compute operations, Stats and JSON); see MIGRATING.md for the
// one difference they make, in encoding/json.
//
// Like sync.Map, Map is built for two cases: keys that are written once and
// read many times (caches that only grow), and goroutines that read, write
// and overwrite disjoint sets of keys. There, loads of present keys run
// without locks, allocations or writes to shared memory. Where goroutines
// mostly add and delete keys that others then read, or where the set of keys
// changes faster than it is read, a plain Go map guarded by a [sync.Mutex] or
// [sync.RWMutex] is simpler and often as fast; see the package documentation.
//
// The zero Map is empty and ready for use. A Map must not be copied after
// first use; go vet reports copies.
//
// In the terminology of [the Go memory model], Map arranges that a write
// operation "synchronizes before" any read operation that observes the
// effect of the write, where read and write operations are as follows.
// Load, LoadAndDelete, LoadOrStore, LoadOrCompute, Swap, CompareAndSwap,
// CompareAndDelete and Compute are read operations; Delete, LoadAndDelete,
// Store, Swap and Compute are write operations; LoadOrStore and
// LoadOrCompute are write operations when they return loaded set to false;
// CompareAndSwap and CompareAndDelete are write operations when they return
// swapped or deleted set to true; a Compute whose callback cancels is a read
// operation only.
//
// [the Go memory model]: https://go.dev/ref/mem
type Map[K comparable, V any] struct {
	// initMu serialises the creation and replacement of t (the first write
	// and Clear) and the Clears that empty t in place, so that only one
	// goroutine at a time holds more than one segment's lock (see
	// clearInPlace). Being a Mutex, it also lets go vet catch copies of a
	// Map.
	initMu sync.Mutex
	// t is nil until the first write, and then never nil again. It may be
	// loaded without a lock at any time; it is stored only with initMu held.
	t atomic.Pointer[table[K, V]]
	// capacity presizes the first table (see WithCapacity); set by New
	// before the Map is shared.
	capacity int
}

// loadOrInit returns the map's table, creating it on the first write.
func (m *Map[K, V]) loadOrInit() *table[K, V] {
	if t := m.t.Load(); t != nil {
		return t
	}
	m.initMu.Lock()
	defer m.initMu.Unlock()
	t := m.t.Load()
	if t == nil {
		t = firstTable[K, V](m.capacity)
		m.t.Store(t)
	}
	return t
}

// Load returns the value stored in the map for a key, or the zero value if
// no value is present. The ok result reports whether a value was found.
//
// Load of a key that the read map holds, and of any key while no new key
// waits in a dirty map, takes no lock and does not allocate. A Load that
// takes the lock counts a miss, and may promote its segment's dirty map:
// O(1) amortised (see Cost in the package documentation). It panics if the
// key's dynamic type is not comparable.
func (m *Map[K, V]) Load(key K) (value V, ok bool) {
	t := m.t.Load()
	if t == nil {
		checkHashable(key)
		return value, false
	}
	// Locate the key: hash it, int keys inline, with no call, and load its
	// segment's read map. Both are spelt out here and in write, not called
	// as the small generic methods they would be: an inlined generic
	// method reaches K's type through a dictionary of its own (a load and
	// a nil check more), and returning (hash, ok) took five instructions
	// of shuffling (objdump). Spelt out, a serial int hit runs 118.6
	// instructions, not 127.0 (scripts/cachesim.sh).
	// The conversion to any does not escape: no allocation (TestAllocs).
	// Interface keys holding ints take this path too: their hash function
	// hashes ints alike (see newHasher; TestInlineHash checks it).
	var h uint64
	if k, isInt := any(key).(int); isInt {
		h = hashWord(uint64(k), t.hasher.a, t.hasher.b)
	} else {
		h = t.hasher.hash(key)
	}
	r := t.reads[segmentOf(h)].Load()
	if r == nil {
		r = t.empty
	}
	// The commonest outcomes are decided here, from the key's home bucket,
	// and the rest by loadSlow, called last: no value of this function
	// lives across that call, so on the way to a hit the compiler saves
	// only the generic dictionary to the stack (six values when the slow
	// path was inline). A value box holds its key, so a hit reads
	// the bucket's tag word and entry, and the box, but not the slot's
	// key.
	if bs := r.buckets; len(bs) != 0 {
		i := home(h, len(bs))
		b := &bs[i]
		if mk := b.match(h); mk != 0 {
			j := slotOf(mk)
			// A value box (kind kindValue) is only ever stored in its
			// key's entry, so this is the key's entry, live at this load:
			// what e.load would return.
			p := b.entries[j].p.Load()
			if p != nil && p.key == key && p.kind == kindValue {
				return p.value, true
			}
			// A deleted entry: nil, or swept, which only sweeps tell
			// from nil (a key deleted before the last sweep, whose
			// entry the next sweep drops).
			if p == nil || p == t.swept {
				if len(r.keys) > coldKeyBuckets && mk&(mk-1) == 0 && !b.overflowed(h) && (!r.amended() || !r.mayHaveDirty(h)) {
					// A deleted entry in a big read map, whose key array
					// is seldom in the cache: decided without reading the
					// slot's key. No other slot of b has the key's tag
					// (match has no false hit without a true one below
					// it), no key with h's overflow bit went past b, and
					// dirty lacks the key. So either the slot is the
					// key's, deleted at this load, or the key was absent
					// from r and from dirty when r was loaded: absent
					// either way.
					return value, false
				}
				if r.keys[i][j] == key {
					// The key's own entry, deleted at this load: absent,
					// as e.load would say. An entry that a rebuild moved
					// or expunged holds another sentinel, so r need not
					// be current.
					return value, false
				}
			}
		} else if !b.overflowed(h) && (!r.amended() || !r.mayHaveDirty(h)) {
			// No key with h's overflow bit lies past b, so the key was
			// absent from r when r was loaded; and dirty was empty or, by
			// its filter, lacked the key: a clean miss (see loadSlow).
			return value, false
		}
	} else if !r.amended() || !r.mayHaveDirty(h) {
		return value, false // an empty read map, and the key not in dirty
	}
	return t.loadSlow(r, h, key)
}

// loadSlow is Load for what Load's look at the home bucket leaves open:
// keys past their home bucket, tag twins, deleted, moved and computed
// entries, and the misses of an amended read map. r is the read map Load
// loaded, and h the key's hash.
func (t *table[K, V]) loadSlow(r *readOnly[K, V], h uint64, key K) (value V, ok bool) {
	if p, found := r.findBox(h, key); found {
		// The key's entry held p at the load that findBox made: Load
		// linearizes there.
		value, ok, moved := p.read()
		if moved {
			// A rebuild moved the entry after we loaded r: the value is in
			// a newer read map.
			return r.loadMoved(h, key)
		}
		return value, ok
	}
	if !r.amended() || !r.mayHaveDirty(h) {
		// A clean miss: the key was absent when read was loaded, since a
		// key that read lacks lives in dirty, and dirty was empty or, by
		// its filter, lacked the key.
		return value, false
	}
	// The key may be new, in dirty: look under the lock. The segment
	// exists, since its read map is amended.
	s := t.segs[segmentOf(h)].Load()
	s.mu.Lock()
	if e, sl := s.findLocked(t, h, key, r); e != nil {
		// Under mu, and before missLocked may promote: e is current, not
		// moved.
		value, ok, _ = e.load()
	} else if sl.ok() {
		value, ok = sl.load()
	}
	if s.loadRead(t).amended() {
		s.missLocked(t)
	}
	s.mu.Unlock()
	return value, ok
}

// Store sets the value for a key.
//
// Storing over a key that the key's read map holds, present or recently
// deleted, takes no lock; a key added since its segment's last promotion
// waits in the segment's dirty map, and a Store over it takes the segment's
// lock until the next promotion.
//
// A Store over a key of a read map allocates one box, which holds the value
// and a copy of the key. Where K or V holds a pointer, so does a Store into
// the dirty map. Where neither does, the dirty map holds the value itself
// and a Store into it allocates nothing (but for the dirty map's growth);
// the promotion that takes the key to a read map boxes its value then,
// with the other values it promotes, 16 boxes to an allocation. A box
// stays allocated while another box of its 16 is reachable. It panics if
// the key's dynamic type is not comparable.
func (m *Map[K, V]) Store(key K, value V) {
	m.write(key, &write[K, V]{op: opStore, value: value})
}

// LoadOrStore returns the existing value for the key if present. Otherwise,
// it stores and returns the given value. The loaded result is true if the
// value was loaded, false if stored.
//
// While a compute ([Map.Compute], [Map.LoadOrCompute]) owns the key,
// LoadOrStore returns the key's value at once if the key is present, as
// Load does; if it is absent, LoadOrStore waits for the compute to end and
// then decides. It panics if the key's dynamic type is not comparable.
func (m *Map[K, V]) LoadOrStore(key K, value V) (actual V, loaded bool) {
	prev, changed := m.write(key, &write[K, V]{op: opLoadOrStore, value: value})
	if changed {
		return value, false
	}
	return prev.value, true
}

// LoadAndDelete deletes the value for a key, returning the previous value if
// any. The loaded result reports whether the key was present.
//
// The map drops its reference to the value at once. It panics if the key's
// dynamic type is not comparable.
func (m *Map[K, V]) LoadAndDelete(key K) (value V, loaded bool) {
	prev, changed := m.write(key, &write[K, V]{op: opDelete})
	if !changed {
		return value, false
	}
	return prev.value, true
}

// Delete deletes the value for a key.
//
// The map drops its reference to the value at once, and to the key and its
// entry within a bounded time (see the package documentation), with no
// further call. A Delete that leaves most of its segment deleted rebuilds
// the segment: O(1) amortised (see Cost in the package documentation). It
// panics if the key's dynamic type is not comparable.
func (m *Map[K, V]) Delete(key K) {
	m.write(key, &write[K, V]{op: opDelete})
}

// Swap swaps the value for a key and returns the previous value if any. The
// loaded result reports whether the key was present.
//
// Like Store, a Swap of a key that the key's read map holds, present or
// recently deleted, takes no lock; one of a key in its segment's dirty map
// takes the segment's lock.
//
// It panics if the key's dynamic type is not comparable.
func (m *Map[K, V]) Swap(key K, value V) (previous V, loaded bool) {
	prev, _ := m.write(key, &write[K, V]{op: opStore, value: value})
	if prev == nil {
		return previous, false
	}
	return prev.value, true
}

// CompareAndSwap swaps the old and new values for key if the value stored in
// the map is equal to old. The old value must be of a comparable type.
//
// Like sync.Map's, it compares old with the stored value only if the key
// is present, and panics if the two hold the same dynamic type and that
// type is not comparable (a value of another type is not equal). It panics
// at every call if V itself is not comparable (a slice type, say). Either
// way the map is unchanged and usable afterwards. It also panics if the
// key's dynamic type is not comparable.
//
// Like Store, a CompareAndSwap of a key that the key's read map holds,
// present or recently deleted, takes no lock.
func (m *Map[K, V]) CompareAndSwap(key K, old, new V) (swapped bool) {
	if t := m.t.Load(); t == nil || !t.counts.valuesComparable {
		mustBeComparable[V]("CompareAndSwap")
	}
	_, swapped = m.write(key, &write[K, V]{op: opCompareAndSwap, value: new, old: old})
	return swapped
}

// CompareAndDelete deletes the entry for key if its value is equal to old.
// The old value must be of a comparable type.
//
// If there is no current value for key in the map, CompareAndDelete returns
// false (even if the old value is the nil interface value). It compares
// and panics as CompareAndSwap does: like sync.Map's, only if the key is
// present and its value and old hold the same non-comparable dynamic type,
// and at every call if V itself is not comparable; the map is unchanged
// and usable afterwards. It also panics if the key's dynamic type is not
// comparable.
func (m *Map[K, V]) CompareAndDelete(key K, old V) (deleted bool) {
	if t := m.t.Load(); t == nil || !t.counts.valuesComparable {
		mustBeComparable[V]("CompareAndDelete")
	}
	_, deleted = m.write(key, &write[K, V]{op: opCompareAndDelete, old: old})
	return deleted
}

// write applies w to key: first lock-free on the key's entry in the read map,
// then under the segment's lock. It returns the box it replaced (for
// operations that did not change anything, the box it found) and whether it
// changed the map. The operation linearizes at its successful CAS, or at the
// load of the entry that decided it changed nothing.
func (m *Map[K, V]) write(key K, w *write[K, V]) (prev *box[K, V], changed bool) {
	w.key = key
	t := m.t.Load()
	if t == nil {
		// An unhashable key panics before the map makes its first table,
		// as it would after: a panicking write leaves no trace.
		checkHashable(key)
		if !w.op.creates() {
			return nil, false
		}
		t = m.loadOrInit()
	}
	var h uint64 // locate the key, as Load does
	if k, isInt := any(key).(int); isInt {
		h = hashWord(uint64(k), t.hasher.a, t.hasher.b)
	} else {
		h = t.hasher.hash(key)
	}
	i := segmentOf(h)
	r := t.reads[i].Load()
	if r == nil {
		r = t.empty
	}
	// find's commonest cases, inline (find cannot be): the key in the
	// first slot of its home bucket whose tag matches, or absent from
	// a home bucket that no key with its overflow bit went past.
	var e *entry[K, V]
	if bs := r.buckets; len(bs) != 0 {
		bi := home(h, len(bs))
		b := &bs[bi]
		if mk := b.match(h); mk != 0 {
			if j := slotOf(mk); r.keys[bi][j] == key {
				e = &b.entries[j]
			} else {
				e = r.find(h, key)
			}
		} else if b.overflowed(h) {
			e = r.find(h, key)
		}
	}
	if e == nil {
		// Absent from r, and from dirty too if its filter rules the
		// key out: absent when r was loaded (see Load).
		absent := !r.amended() || !r.mayHaveDirty(h)
		if !w.op.creates() {
			if absent {
				return nil, false // nothing to delete or compare
			}
		} else if (absent || w.op == opStore) && !t.counts.inlineValues {
			// The locked path will most likely add the key to dirty, or,
			// for a Store or Swap, store a box whatever it finds; its
			// slot then holds the box itself (see dirtySlot). Allocate
			// the box now, so that the lock is not held while the
			// allocator works (or makes this goroutine help the
			// collector). If the key turns out to be present after all,
			// a Store stores the box there, and a LoadOrStore drops it
			// unseen. A LoadOrStore of a key that may wait in dirty
			// (always so under emptyAmended, whose shared filter rules
			// nothing out) allocates nothing here: a hit, the common
			// case of a LoadOrStore, allocates nothing at all. A map of
			// inline values needs no box for its dirty slots.
			w.prepare()
		}
	}
	if e != nil {
		// The commonest writes that change nothing, decided by one
		// load without entering update's loop: a delete or compare of
		// a deleted key, a LoadOrStore of a present one (a value, or a
		// compute's mark over one: see loadsMark). They linearize at
		// the load, as update's would.
		if b := e.p.Load(); b == nil {
			if !w.op.creates() {
				return nil, false
			}
		} else if w.op == opLoadOrStore && (b.kind == kindValue || w.loadsMark(b)) {
			return b, false
		}
		prev, changed, busy, stale := e.update(t, w)
		if busy == nil && !stale {
			if changed && (prev == nil || w.op.deletes()) {
				// A revival or a delete: count it (see counted). A
				// write over a live value, the commonest, changes no
				// count and makes no call. The segment exists: its
				// read map holds e.
				t.segs[i].Load().counted(t, r, prev)
			}
			return prev, changed
		}
		// A compute owns the key, and the locked path waits for it; or
		// the entry was expunged or moved, and r is stale: the locked
		// path sees the current read map.
	}
	lacking := r // r has no entry for key, unless e is a stale one
	if e != nil {
		lacking = nil
	}
	return t.segment(i).writeLocked(t, h, key, w, lacking)
}

// counted updates the counts after a lock-free write that revived (prev
// nil) or deleted an entry of read r; write calls it for nothing else,
// since a write over a live value changes no count, and has already told
// the two apart.
func (s *segment[K, V]) counted(t *table[K, V], r *readOnly[K, V], prev *box[K, V]) {
	if prev == nil { // added: a deleted entry revived
		s.tally.Add(tallyDelta(1, -1))
		return
	}
	s.deleted(t, r, s.tally.Add(tallyDelta(-1, 1)))
}

// writeLocked is write's slow path, with the segment locked. If a compute
// owns the key, it waits for the compute to end (see waitLocked), with mu
// released meanwhile, and tries again.
//
// lacking, if not nil, is the read map in which write found no entry for
// key (see findLocked).
func (s *segment[K, V]) writeLocked(t *table[K, V], h uint64, key K, w *write[K, V], lacking *readOnly[K, V]) (prev *box[K, V], changed bool) {
	s.mu.Lock()
	if w.op.compares() {
		// Only the compare operations call equal, the one call here
		// that can panic: old and the key's value may hold one dynamic
		// type that is not comparable (see equal). It panics before
		// anything changes, and the deferred unlock keeps the lock
		// from staying held. The
		// other operations unlock at the one exit below: a deferred
		// unlock, whose wrapper ran at every return, cost them 15-30
		// instructions a call (scripts/cachesim.sh, SwapMostlyMisses:
		// 1299 -> 1272-1283 per operation, two locked writes each).
		defer s.mu.Unlock()
	}
	for {
		// read may have been promoted while we waited for mu: findLocked
		// looks at the current one.
		e, sl := s.findLocked(t, h, key, lacking)
		inDirty := sl.ok()
		if e == nil && !inDirty {
			if w.op.creates() {
				// Every creating write stores its value into an absent
				// key: the new slot holds w's value from the start.
				s.addDirtyLocked(t, h, key).storeWrite(t, w)
				s.addLiveLocked(1)
				changed = true
			} else if s.loadRead(t).amended() {
				s.missLocked(t)
			}
			break
		}
		var busy *box[K, V]
		if inDirty {
			prev, changed, busy = sl.update(t, w)
		} else {
			prev, changed, busy, _ = e.update(t, w) // never expunged: e is current
		}
		if busy != nil {
			s.waitLocked(t, h, key, busy)
			lacking = nil // the read map may have changed while we waited
			continue
		}
		deleted := false
		switch {
		case !changed:
		case prev == nil:
			if inDirty {
				s.addLiveLocked(1)
				s.revivedDirtyLocked()
			} else {
				s.tally.Add(tallyDelta(1, -1)) // revived a deleted entry of read
			}
		case w.op.deletes():
			deleted = true
			if inDirty {
				s.addLiveLocked(-1)
				s.deletedDirtyLocked(t)
			} else {
				s.deletedLocked(t, s.loadRead(t), s.tally.Add(tallyDelta(-1, 1)))
			}
		}
		if inDirty && !deleted && s.loadRead(t).amended() {
			// The key lives in dirty: a lock trip that promotion would
			// save. (Deleting it is not: a deleted new key need not reach
			// read.)
			s.missLocked(t)
		}
		break
	}
	if !w.op.compares() {
		s.mu.Unlock()
	}
	return prev, changed
}

// Clear deletes all the entries, resulting in an empty Map.
//
// Clear takes effect at one instant for every key, and the map drops its
// references to every old key and value at once. A map whose keys all
// wait in small dirty maps (a map of a few keys, filled since it was made
// or cleared, and not yet promoted) is emptied in place, segment by
// segment under their locks, allocating nothing: O(keys), at most 64 per
// segment. A dirty map is small while it has never held more than 64 keys
// and was not presized for more: a map made with [WithCapacity] of 1,024
// or more has big dirty maps from its first key. Any other map has its
// whole table replaced by an empty one: O(1), plus the allocation of the
// new table (and, at the next writes, of each segment and dirty map, the
// latter presized again); writes racing with it finish on the old table
// and are ordered before it.
func (m *Map[K, V]) Clear() {
	t := m.t.Load()
	if t == nil || t.holdsNoKey() {
		// No key in the map at that load: Clear linearizes there. (If
		// another Clear replaced t after our load of m.t, the map held
		// no key just after the replacement, within this call.)
		return
	}
	// No defer: nothing between Lock and Unlock calls user code (no key
	// is hashed or compared) or can panic.
	m.initMu.Lock()
	t = m.t.Load()
	if t.clearInPlace() {
		m.initMu.Unlock()
		return
	}
	m.t.Store(t.cleared())
	m.initMu.Unlock()
	for s := range t.madeSegments() {
		s.stopSweep()
	}
}
