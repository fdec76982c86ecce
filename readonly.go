package safemap

import (
	"math/bits"
	"sync/atomic"
)

// slotsPerBucket is the number of keys in a bucket: one tag byte each, and
// the overflow mark, fill the tag word. The tag word and the seven entries
// (one pointer each) then fill exactly 64 bytes, a cache line's worth, and
// the keys lie in an array of their own (see bucket).
const slotsPerBucket = 7

// maxLoadPercent caps the read map's load at 75%: with the overflow marks
// (see bucket), most probes for absent keys stop at their first bucket.
const maxLoadPercent = 75

// coldKeyBuckets is the size, in buckets, past which Load reports a key
// absent from a deleted entry with the key's tag without reading the slot's
// key, when nothing else can hold the key (see Map.Load). 64 buckets in
// each segment hold about 5,400 keys, whose key arrays, 57 KiB with int
// keys and twice that with strings, outgrow the L1 cache: loads of deleted
// keys over 131,072 keys took 5.8% less time with int keys and 18.5% less
// with string keys (BenchmarkLoadDeleted, 12 alternating rounds, p=0.005
// and 0.033); over 1,024 keys, where the key array stays in the cache, the
// checks took longer than the read (int keys +15-21%, p <= 0.010, when
// they applied to every map).
const coldKeyBuckets = 64

// A bucket is seven slots of a read map: slot i of bucket n is its entry,
// entries[i], and its key, the read map's keys[n][i] (see readOnly.keys).
// Byte i of tags is the tag of slot i (0x80 | the low 7 bits of the key's
// hash) or 0 if the slot is empty. Byte 7 is the overflow mark: when
// building the map passes over this bucket, full, to place a key further
// on, it sets that key's bit there (see overflowBit), one of the byte's
// eight bits. A probe stops at the first bucket without its key's bit: no
// key with that bit can lie beyond. One bit per key, rather than one for
// the whole bucket, lets most misses whose home bucket overflowed stop
// there too: at 75% load about a quarter of the buckets overflow, and with
// one mark per bucket about a quarter of misses went on to the next
// bucket, against about a tenth now (TestBucketSpread -v prints the
// shares).
//
// Entries sit in the bucket itself, not behind pointers, beside the tags: a
// value box holds its key (see box), so a Load hit reads the tag word and
// the entry, then the box, and compares the key there, without touching
// the keys. With 131,072 int keys in random order this cut a one-goroutine
// Load from 48.5 to 32.9 ns (benchstat, n=16, p=0.003, a throwaway
// benchmark that BenchmarkLoadHitRandom now replaces; see
// benchmarks/JOURNAL.md).
//
// The keys are read on the other paths (misses whose tag matched, deleted
// and moved entries, writes, rebuilds and Range), so they live in a
// parallel array: a bucket is exactly 64 bytes, with no keys between the
// lines that hits read. Go's allocator starts arrays of up to 8 buckets and
// of 512 or more (32 KiB) on a cache line, so there each bucket is one
// line; arrays of 9 to 511 buckets, objects with pointers of 576 bytes to
// 32 KiB, start 8 bytes into a line, after the allocator's header, and
// there the seventh entry of each bucket lies in the next line (a
// throwaway program checked the addresses of arrays of 1 to 5,000
// buckets, Go 1.26.8). When the keys followed the entries in the bucket
// (120 bytes with int keys, 176 with strings), half of the hits read two
// lines, and a map's hit lines were spread over twice the memory or more:
// splitting them cut the simulated last-level misses of LoadHitRandom from
// 2.70 to 2.33 per load, and made reads over 100,000 keys up to 30% faster
// where the A/Bs could tell, the most with string keys
// (benchmarks/JOURNAL.md).
//
// tags and keys are written only before publication; entries change only
// by CAS (see entry).
type bucket[K comparable, V any] struct {
	tags    uint64
	entries [slotsPerBucket]entry[K, V]
}

// A readOnly is a read map: an open-addressing table of keys and their
// entries, built once under mu and then published through the segment's
// read pointer. No goroutine writes its tags or keys after publication, so
// readers probe it without locks; values change only inside its entries.
//
// Keys hash to a bucket by the bits below the segment bits, and a probe walks
// forward bucket by bucket until it finds the key or a bucket without the
// key's overflow bit. Building never fills every slot, so every probe ends.
type readOnly[K comparable, V any] struct {
	// 96 bytes (a size class of its own), none of them written after
	// publication but link: loads read buckets, and misses of an amended map
	// filter, the first 48. The count of deleted entries, which lock-free
	// writers update, lives in the segment (see segment.tally).

	buckets []bucket[K, V]

	// filter is a Bloom filter of the dirty map's keys, present exactly
	// when the map is amended: when the dirty map holds keys that buckets
	// lack (see amended). addDirtyLocked sets a key's bits before the key
	// enters dirty, and bits are never cleared; so while r is the current
	// read map, a clear bit proves that the key is not in dirty, and a miss
	// can return without the lock (linearizing at the load of r). Keys
	// deleted from dirty leave their bits set: a false positive costs a
	// lock trip. The map's shared emptyAmended has fullFilter instead, whose
	// bits are all set and never written (see addDirtyLocked).
	filter []atomic.Uint64

	// keys[i] are the keys of buckets[i]: keys[i][j] is slot j's (see
	// bucket). It has as many elements as buckets, and copies of r that
	// share buckets share it.
	keys [][slotsPerBucket]K

	// next leads from buckets to the read map built from them, once a
	// rebuild has begun to move their entries there. It is set, under mu,
	// before the first entry moves, and never changes again; so a reader
	// that loads a moved entry finds next set, and the key, with its
	// current entry, in the map it points to. Every copy of r that shares
	// buckets (see amend) shares next. It is nil only when buckets is
	// empty: then there is nothing to move.
	next *atomic.Pointer[readOnly[K, V]]

	n int // entries in buckets, live or not

	// link is the pointer that next points to in the read map that
	// newReadOnly built, in the 8 bytes that the 96-byte size class left
	// over, rather than an allocation of its own. Copies (see amend) leave
	// theirs unused and point to the original's: they keep the original
	// alive, which holds nothing they do not share but its 96 bytes (it
	// has no filter; see amend).
	link atomic.Pointer[readOnly[K, V]]
}

// A smallReadOnly is a read map of one bucket, with its bucket and keys in
// the same allocation: a segment of at most five keys (bucketsFor) gets its
// read map from one allocation rather than three. Copies of the map (see
// amend) point into it through buckets, keys and next, which keeps it
// whole while any of them lives, as separate allocations would be kept.
type smallReadOnly[K comparable, V any] struct {
	r    readOnly[K, V]
	b    [1]bucket[K, V]
	keys [1][slotsPerBucket]K
}

// newReadOnly returns an empty read map with room for n entries. Its filter
// is nil: amend makes the amended copies.
func newReadOnly[K comparable, V any](n int) *readOnly[K, V] {
	if n <= 0 {
		return new(readOnly[K, V])
	}
	var r *readOnly[K, V]
	if nb := bucketsFor(n); nb == 1 {
		s := new(smallReadOnly[K, V])
		r = &s.r
		r.buckets, r.keys = s.b[:], s.keys[:]
	} else {
		r = new(readOnly[K, V])
		r.buckets = make([]bucket[K, V], nb)
		r.keys = make([][slotsPerBucket]K, nb)
	}
	r.next = &r.link
	return r
}

// amended reports whether the dirty map may hold keys that r's buckets
// lack: whether r has a filter. It does hold some, except in a segment that
// Clear emptied in place, whose read map stays the shared emptyAmended over
// an empty dirty map until its next key or its first miss (see
// segment.clearLocked).
func (r *readOnly[K, V]) amended() bool {
	return r.filter != nil
}

// amend returns a copy of r, sharing its buckets, keys and next link, with
// filter as its dirty filter: amended with a filter, not amended with nil.
func (r *readOnly[K, V]) amend(filter []atomic.Uint64) *readOnly[K, V] {
	return &readOnly[K, V]{buckets: r.buckets, filter: filter, keys: r.keys, next: r.next, n: r.n}
}

// unamended returns r not amended: the table's shared empty read map if r
// has no buckets (emptyAmended, or an empty map amended by a later key), so
// that a segment whose dirty map empties without a promotion allocates
// nothing; otherwise a copy of r (see amend).
func (r *readOnly[K, V]) unamended(t *table[K, V]) *readOnly[K, V] {
	if len(r.buckets) == 0 {
		return t.empty
	}
	return r.amend(nil)
}

// tagOf returns the tag byte of hash h.
func tagOf(h uint64) uint64 {
	return 0x80 | h&0x7f
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
	// fullBits has the high bit of the seven slot bytes: a bucket whose tags
	// have all of them set has no empty slot. Masks of slots use it, not
	// highBits, which would take in the overflow byte.
	fullBits = 0x0080808080808080
)

// home returns the first bucket to probe for hash h among n buckets, scaling
// the bits below the segment bits to [0, n) with a multiply (no division, and
// n need not be a power of two).
func home(h uint64, n int) int {
	i, _ := bits.Mul64(h<<segmentBits, uint64(n))
	return int(i)
}

// match returns a mask with the high bit set in the byte of each slot of b
// whose tag may be hash h's: bytes of x are zero where the tag matches, and
// the bit trick finds zero bytes, with rare false hits just above a true
// one, which the key comparison weeds out. Empty slots never match, since
// every tag has its high bit set; the overflow byte, which may equal a
// tag, is masked out.
func (b *bucket[K, V]) match(h uint64) uint64 {
	x := b.tags ^ tagOf(h)*lowBits
	return (x - lowBits) &^ x & fullBits
}

// slotOf returns the slot of the lowest byte set in a mask from match.
func slotOf(m uint64) int {
	return bits.TrailingZeros64(m) >> 3
}

// overflowBit returns the bit of the overflow byte that marks the buckets
// a key with hash h was carried past: one of the byte's eight bits, chosen
// by three hash bits that neither the tag (the low 7) nor the bucket (the
// high ones) use: a shift and a mask, where one of seven bits took a
// multiply.
func overflowBit(h uint64) uint64 {
	return 1 << (56 + h>>7&7)
}

// overflowed reports whether building b's read map passed over b, full, to
// place a key with hash h's overflow bit further on (see bucket). If not,
// the key with hash h is in no bucket after b.
func (b *bucket[K, V]) overflowed(h uint64) bool {
	return b.tags&overflowBit(h) != 0
}

// find returns the entry for key, or nil. h is the key's hash.
func (r *readOnly[K, V]) find(h uint64, key K) *entry[K, V] {
	bs, ks := r.buckets, r.keys
	if len(bs) == 0 {
		return nil
	}
	for i := home(h, len(bs)); ; {
		b := &bs[i]
		for m := b.match(h); m != 0; m &= m - 1 {
			if j := slotOf(m); ks[i][j] == key {
				return &b.entries[j]
			}
		}
		if !b.overflowed(h) {
			return nil // no key with h's overflow bit was placed past this bucket
		}
		if i++; i == len(bs) {
			i = 0
		}
	}
}

// findBox is find for Load: it returns the box that the key's entry held
// when it was loaded (nil: deleted), and found false if r lacks the key.
// A slot whose tag matches and whose entry holds a value box is decided by
// the box, which holds its key, without reading the slot's key: a value box
// is only ever stored in its key's entry (see box), so a box of another key
// says that the slot is another key's. The key array, a cache line apart
// from the buckets, is read only for the other states. For keys placed
// past their home bucket, about one in ten at the load cap, this saves a
// load that misses the caches in a big map.
func (r *readOnly[K, V]) findBox(h uint64, key K) (p *box[K, V], found bool) {
	bs, ks := r.buckets, r.keys
	if len(bs) == 0 {
		return nil, false
	}
	for i := home(h, len(bs)); ; {
		b := &bs[i]
		for m := b.match(h); m != 0; m &= m - 1 {
			j := slotOf(m)
			p = b.entries[j].p.Load()
			if p != nil && p.kind == kindValue {
				if p.key == key {
					return p, true
				}
				continue // another key's slot
			}
			if ks[i][j] == key {
				return p, true
			}
		}
		if !b.overflowed(h) {
			return nil, false // no key with h's overflow bit was placed past this bucket
		}
		if i++; i == len(bs) {
			i = 0
		}
	}
}

// bucketsFor returns how many buckets hold n entries within the load cap,
// always leaving at least one slot empty.
func bucketsFor(n int) int {
	return n*100/(slotsPerBucket*maxLoadPercent) + 1
}

// insert puts key, whose hash is h, in the first free slot of its probe,
// and returns the slot's entry, deleted, for the caller to fill. Only the
// builder of a read map calls it, before publication.
func (r *readOnly[K, V]) insert(h uint64, key K) *entry[K, V] {
	for i := home(h, len(r.buckets)); ; {
		b := &r.buckets[i]
		if b.tags&fullBits != fullBits {
			j := bits.TrailingZeros64(^b.tags&fullBits) >> 3
			b.tags |= tagOf(h) << (8 * j)
			r.keys[i][j] = key
			r.n++
			return &b.entries[j]
		}
		b.tags |= overflowBit(h) // overflow: the key goes past this full bucket
		if i++; i == len(r.buckets) {
			i = 0
		}
	}
}

// each calls f for every key of r and its entry until f returns false. It
// reports whether it went through all of them.
func (r *readOnly[K, V]) each(f func(key K, e *entry[K, V]) bool) bool {
	for i := range r.buckets {
		b, ks := &r.buckets[i], &r.keys[i]
		for j := range b.entries {
			if b.tags>>(8*j)&0x80 == 0 {
				break // slots fill in order: the rest are empty
			}
			if !f(ks[j], &b.entries[j]) {
				return false
			}
		}
	}
	return true
}

// loadMoved returns the value of key, whose hash is h and whose entry in r
// has moved: it follows the next links to the read map that holds the
// key's current entry. Each map on the way holds the key, since a rebuild
// inserts a key before it moves the key's entry. The loop ends: each link
// leads to a newer map, and the entries of the newest are not moved.
func (r *readOnly[K, V]) loadMoved(h uint64, key K) (value V, ok bool) {
	value, ok, _ = r.movedBox(h, key).read()
	return value, ok
}

// movedBox is loadMoved's walk: it returns the box (nil: deleted) of the
// key's current entry, for a caller that needs the box's key too (see
// rangeRead).
func (r *readOnly[K, V]) movedBox(h uint64, key K) *box[K, V] {
	for {
		r = r.next.Load()
		if p := r.find(h, key).p.Load(); p == nil || p.kind != kindMoved {
			return p
		}
	}
}

// filterBitsPerKey sizes the dirty filter: with two bits per key in one
// word, 16 bits per key give about 1.5% false positives.
const filterBitsPerKey = 16

// maxFilterWords caps a dirty filter at 8 KiB (4,096 keys at the designed
// rate). Each new key sets its bits, and so touches one word at random: in
// a filter sized for a dirty map of 100,000s of keys (a stream of new keys
// that nothing reads, LoadOrStoreUnique), that was a cache miss per key, and
// the filters of 16 segments took megabytes. Past the cap the filter fills
// up instead: its false positives grow with the keys until, saturated, it
// sends every miss of the segment to the lock, as the classic design does,
// and the misses count toward a promotion (see missLocked).
// Counted with scripts/cachesim.sh (N=200,000): LoadOrStoreUnique went
// from 1591 to 1335 instructions per key and from 4.0 to 2.5 simulated
// last-level misses; AdversarialAlloc and the 100,000-key mixes, whose
// dirty maps stay small, did not change.
const maxFilterWords = 1024

// newFilter returns a filter for about keys keys: a power of two of words,
// at least 8 and at most maxFilterWords.
func newFilter(keys int) []atomic.Uint64 {
	words := 8
	for words*64 < keys*filterBitsPerKey && words < maxFilterWords {
		words *= 2
	}
	return make([]atomic.Uint64, words)
}

// fullFilter is a filter of one word with every bit set: it reports every
// key as maybe in dirty, so an amended read map that has it sends every
// miss to the lock, as the classic design does. It stands for up to
// filterCapacity(fullFilter) = 4 keys without being written: the maps that
// have it (each map's emptyAmended) are shared, and no goroutine ever adds
// to it (see addDirtyLocked).
var fullFilter = func() []atomic.Uint64 {
	f := make([]atomic.Uint64, 1)
	f[0].Store(^uint64(0))
	return f
}()

// filterCapacity is how many keys filter f holds at its designed
// false-positive rate.
func filterCapacity(f []atomic.Uint64) int {
	return len(f) * 64 / filterBitsPerKey
}

// filterWord returns the index of hash h's word in a filter of n words
// (a power of two), and h's two bits in it. It uses bits of h that neither
// the segment nor the tag uses.
func filterWord(h uint64, n int) (int, uint64) {
	return int(h>>7) & (n - 1), 1<<(h>>32&63) | 1<<(h>>40&63)
}

// mayHaveDirty reports whether the dirty map may hold the key of hash h.
// r must be amended.
func (r *readOnly[K, V]) mayHaveDirty(h uint64) bool {
	i, bits := filterWord(h, len(r.filter))
	return r.filter[i].Load()&bits == bits
}

// addToFilter sets the bits of hash h in r's filter, with mu held.
func (r *readOnly[K, V]) addToFilter(h uint64) {
	i, bits := filterWord(h, len(r.filter))
	r.filter[i].Or(bits)
}
