// Package safemap provides Map, a generic concurrent map that can replace
// [sync.Map] with a one-line change, built without package unsafe.
//
// # When to use it
//
// Map[K, V] is for the cases sync.Map serves: a cache whose keys are written
// once and read many times, or goroutines working on disjoint sets of keys.
// It adds what sync.Map lacks: typed keys and values (no type assertions),
// [Map.Len], iterators ([Map.All], [Map.Keys], [Map.Values]), atomic
// read-modify-write ([Map.Compute], [Map.LoadOrCompute]), [Map.Stats] and
// JSON encoding. Map[any, any] has every method of sync.Map, with the same
// signatures and behaviour.
//
// A plain Go map guarded by a [sync.Mutex] or [sync.RWMutex] is the better
// choice when one goroutine does most of the work, when you need a
// consistent snapshot of several keys at once, or when keys are added and
// deleted far more often than they are read: it is simpler, smaller, and
// under such churn often as fast.
//
// # At a glance
//
//	var m safemap.Map[string, int] // was: var m sync.Map
//	m.Store("a", 1)
//	if n, ok := m.Load("a"); ok {
//		fmt.Println(n + 1) // n is an int: no type assertion
//	}
//
// Use [Map.Load], [Map.Store], [Map.LoadOrStore], [Map.LoadAndDelete],
// [Map.Delete], [Map.Swap], [Map.CompareAndSwap], [Map.CompareAndDelete],
// [Map.Range] and [Map.Clear] as with sync.Map. Use [Map.Compute] for an
// atomic read-modify-write of one key (counters, lists of values);
// [Map.LoadOrCompute] for a cache whose values are expensive to build (the
// constructor runs once per key); [Map.All], [Map.Keys] and [Map.Values]
// in range-over-func loops; [Map.Len] for the number of keys in O(1);
// [New] with [WithCapacity] to presize; [Map.Stats] to see the internal
// state; [Map.MarshalJSON] and [Map.UnmarshalJSON] for encoding/json.
//
// # Design
//
// Keys are spread over 16 segments by a hash seeded at random for each map;
// a segment's locked state is allocated when a write first needs it, so a
// small map, or one just cleared, costs a few hundred bytes. Each segment is
// the read/dirty/misses design of sync.Map:
//
//	         lock-free loads and updates of existing keys
//	                          |
//	                          v
//	read  (atomic pointer) -> hash table of keys, each with its entry inline --> value box
//	dirty (under mu)       -> hash table of new keys only, each with its value
//	                          inline (pointer-free types) or its value box
//
//	misses >= threshold: promote: build a new read table from read + dirty,
//	drop the entries a sweep found deleted (recent tombstones stay),
//	move the others' entries into it, publish it
//
// A read table is built once, under the segment's lock: an open addressing
// table of 64-byte buckets, each holding a word of hash tags and seven
// entries, with the keys in an array beside them. Its tags and keys never
// change after it is published, so readers probe it without locks, and a
// hit goes from the bucket straight to the value. Values live in immutable
// boxes, each with a copy of its key; an entry is a pointer to its key's
// current box, and every write swaps that pointer with a compare-and-swap;
// a write whose compare-and-swap loses to another writer of the key spins
// for about a microsecond before it tries again (a delete retries at once),
// so that a key written from many cores at once is written in runs from
// one core at a time, as under a mutex, rather than passed from core to
// core at every write. A load hit reads the tag word and the entry, then
// the box, and compares the key there. New keys go to the segment's dirty
// map, under its lock, whose slots hold their states directly: only holders
// of the lock reach them, so plain stores do there what compare-and-swaps
// do in read. Where neither the key nor the value type holds a pointer, a
// slot holds the value itself, which writes change in place, and the value
// gets its box when a promotion takes it to a read table; otherwise the
// slot holds the box.
// After enough loads have had to take the lock (misses), the dirty map is
// merged into a new read table: only the segment's keys are copied, and the
// dirty map is not rebuilt when the next new key comes. Each entry then
// moves to the new table: its box pointer is copied and the old entry is
// marked moved with a compare-and-swap, so a write racing with the move is
// never lost, and a reader still on the old table follows a link to the
// new one.
//
// # Cost
//
// Len is O(1). Range, the iterators, Stats and the JSON methods are O(n),
// and Clear is O(1) or O(keys) (see [Map.Clear]). Every other method is
// O(1) amortised. The call that triggers a rebuild of a segment
// pays for it, O(n) in the segment's entries (about a sixteenth of the
// map), under the segment's lock: a Load or a write that takes the lock
// and finds the miss count high enough promotes the segment's dirty map,
// and a delete that leaves most of a read map or dirty map deleted
// rebuilds or purges it (the threshold is under Guarantees below). A
// promotion needs at least as many misses as it copies new keys, and a
// quarter of the segment's entries, and a rebuild as many deletes as it
// drops entries, so the cost per call stays O(1) amortised, as in
// sync.Map, whose promotions copy the whole map. Loads that take no lock
// (the common case, see [Map.Load]) never rebuild anything.
//
// # Guarantees
//
// Every method is safe for concurrent use. Every method that reads or writes
// one key is linearizable, and so is Clear; Range and the iterators give
// sync.Map's Range guarantees, and MarshalJSON with them; Len and Stats are
// exact only while no write is in flight; UnmarshalJSON stores its members
// one by one. A write
// synchronizes before any read that observes it, as the Go memory model
// defines it for sync.Map; see [Map].
//
// Deleting drops the map's reference to the value at once: a deleted value
// is collectable at the next garbage collection (where neither K nor V
// holds a pointer, a value a promotion boxed shares one allocation with up
// to 15 others, see [Map.Store], and its bytes go with the last of them;
// it holds no pointer, so it keeps nothing else alive). Its key and entry stay in
// the segment as a tombstone, so that a key deleted and stored again keeps
// its lock-free entry, until a rebuild of the segment drops them: at once
// when more than three quarters of its entries (and at least 32) are
// deleted, and
// otherwise within two sweep delays (a sweep delay is 500ms plus 100µs per
// entry of the segment, at most 1s) with no further call on the map.
// Nothing ever writes into a value box a reader may hold. A Map the program
// drops is collected at the next garbage collection, deleted keys waiting
// for a sweep or not.
//
// Callbacks (Range, the iterators, Compute, LoadOrCompute) run with no lock
// held. A panic in a callback propagates to the caller and leaves the map
// unchanged and usable. Like Go maps and sync.Map, every method panics on a
// key whose dynamic type is not comparable, and CompareAndSwap and
// CompareAndDelete panic, as sync.Map's do, when old and the key's value
// hold the same dynamic type and that type is not comparable (and at every
// call when V itself is not comparable); the map stays usable.
package safemap
