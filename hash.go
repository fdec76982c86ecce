package safemap

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
)

// A hasher hashes keys with seeds chosen at random for each map, so that no
// one who does not know them can pile keys on one segment or one bucket.
//
// The hash function is chosen once, when the map's first table is made:
// keys of the predeclared integer types int, int8..int64 and uint,
// uint8..uint64 get a seeded multiply-fold, keys of type string a seeded
// multiply-fold over 8-byte words (after wyhash), and every other type,
// named integer and string types included, [maphash.Comparable],
// which panics, as a Go map does, for a key whose dynamic type is not
// comparable. Choosing once saves a type switch per call, about half the
// cost of hashing an int. Interface keys (a Map[any, V], sync.Map's
// drop-in) hold ints and strings more often than not: their function
// hashes dynamic int and string values with the functions above, and the
// rest, int64 and the other integer types included, with
// maphash.Comparable.
type hasher[K comparable] struct {
	hash func(K) uint64
	// a and b are the seeds of hashWord in hash's closure, for Load and
	// write, which hash int keys inline, without the call (see Map.Load).
	a, b uint64
}

func newHasher[K comparable]() hasher[K] {
	return newHasherSeeded[K](rand.Uint64(), rand.Uint64())
}

// newHasherSeeded is newHasher with the seeds of the int and string hashes
// given (tests choose them; maphash's seeds stay random).
func newHasherSeeded[K comparable](s0, s1 uint64) hasher[K] {
	a, b := s0^k0, s1^k1 // the seeds of hashWord
	var f any
	switch any(*new(K)).(type) {
	case string:
		f = stringHasher(s0, s1)
	case int:
		f = func(k int) uint64 { return hashWord(uint64(k), a, b) }
	case int64:
		f = func(k int64) uint64 { return hashWord(uint64(k), a, b) }
	case int32:
		f = func(k int32) uint64 { return hashWord(uint64(k), a, b) }
	case int16:
		f = func(k int16) uint64 { return hashWord(uint64(k), a, b) }
	case int8:
		f = func(k int8) uint64 { return hashWord(uint64(k), a, b) }
	case uint:
		f = func(k uint) uint64 { return hashWord(uint64(k), a, b) }
	case uint64:
		f = func(k uint64) uint64 { return hashWord(k, a, b) }
	case uint32:
		f = func(k uint32) uint64 { return hashWord(uint64(k), a, b) }
	case uint16:
		f = func(k uint16) uint64 { return hashWord(uint64(k), a, b) }
	case uint8:
		f = func(k uint8) uint64 { return hashWord(uint64(k), a, b) }
	}
	h := hasher[K]{a: a, b: b}
	switch fn, ok := f.(func(K) uint64); {
	case ok:
		// K is one of the types above: f has type func(K) uint64 exactly.
		h.hash = fn
	case any(*new(K)) != nil:
		// Not an interface type: no dynamic type to switch on.
		seed := maphash.MakeSeed()
		h.hash = func(k K) uint64 { return maphash.Comparable(seed, k) }
	default:
		// An interface type. Its ints must hash as Load and write
		// hash them inline, and its strings as string keys do.
		seed := maphash.MakeSeed()
		hs := stringHasher(s0, s1)
		h.hash = func(k K) uint64 {
			switch v := any(k).(type) {
			case int:
				return hashWord(uint64(v), a, b)
			case string:
				return hs(v)
			}
			return maphash.Comparable(seed, k)
		}
	}
	return h
}

// mum multiplies a and b into 128 bits and folds the halves together: every
// bit of each input reaches the high bits (segment), the middle bits
// (bucket) and the low bits (tag) of the result.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

const (
	k0 = 0xa0761d6478bd642f
	k1 = 0xe7037ed1a0b428db
	k2 = 0x8ebc6af09c88c6e3
)

// hashWord hashes an integer key with the seeds a and b (s0^k0 and s1^k1
// of newHasher): two rounds of multiply-fold, each of whose factors carries
// a seed, so no key value makes a product zero for every seed.
//
// One round (mum(x^a, b)) was too weak: over the keys 0..99,999 the share
// of a map's buckets that overflowed ranged from 0.03% to 67% with the
// seed, and with it the share of misses that probe a second bucket, from
// 4% to 87%; a map's speed depended on its seed.
//
// The second round multiplies the first's result as it is. An xor with a
// constant there (k2) added an instruction to the chain that every Load of
// an int key waits on, and changed no spread: over 300 seeds and seven key
// patterns (consecutive, negative, multiples of 1,000, shifted by 16, 32
// and 48 bits, scattered), the fullest of 16 segments held at most 1.04x to
// 1.06x its share of 100,000 keys, and 16.6% of buckets (21.7% with the
// keys shifted by 48, which repeat) had more than seven keys, with it and
// without it alike (a throwaway test). Serial int hit 7.88 -> 7.60 ns at 2
// CPUs (-3.5%, p=0.010, 12 alternating runs); the other read rows within
// their noise.
func hashWord(x, a, b uint64) uint64 {
	return mum(mum(x^a, b), a^k1)
}

// stringHasher returns the hash function of string keys with the seeds s0
// and s1: it hashes a key 16 bytes at a time, seeding both factors of every
// multiply (see hashWord).
//
// The function is the closure itself, not a closure that calls a named
// function: the hasher calls it through a pointer, and the second call
// level cost about 10 instructions a hash. It must not be inlined into
// newHasher: the closure would then be compiled as part of that big
// generic function, where the compiler inlined neither mum nor load64.
// Counted (scripts/cachesim.sh, serial string hit, keys of 15 to 18
// bytes): 192.0 instructions with a named function, 190.2 with the lanes
// below, 180.3 with them in the closure, 246.7 with the closure inlined
// into newHasher. Timed, both changes: 13.96 -> 12.75 ns at 1 CPU and
// 13.74 -> 12.72 ns at 2 (10 alternating runs, p <= 0.001), against a
// plain map's 10.4.
//
//go:noinline
func stringHasher(s0, s1 uint64) func(string) uint64 {
	// The seeds xored with the constants once, here, rather than at every
	// call, where each xor with a 64-bit constant took two instructions:
	// the same hashes, 185.3 -> 176.2 instructions per serial string hit,
	// 11.74 -> 11.29 ns at 1 CPU (p=0.002, 10 alternating runs; unchanged
	// at 2 CPUs).
	x0, x1, y1 := s0^k0, s0^k1, s1^k1
	return func(s string) uint64 {
		n := len(s)
		var a, b uint64
		y := y1 // what b is xored with: s1^k1, or the loop's seed^k1
		switch {
		case n > 32:
			seed := s1
			for rest := s; len(rest) > 16; rest = rest[16:] {
				seed = mum(load64(rest)^x1, load64(rest[8:])^seed)
			}
			y = seed ^ k1
			a, b = load64(s[n-16:]), load64(s[n-8:])
		case n > 16:
			// The commonest long keys (identifiers, paths) fit in 32
			// bytes. Their first 16 bytes and their last 16 (which
			// overlap below 32) are two lanes, each multiplied with
			// seeds of its own, that do not wait for each other as the
			// loop's rounds do; the last round takes one lane in each
			// factor, so that two keys whose lanes trade places do not
			// collide (TestHashStringLanes). Alone, the lanes took a
			// serial string hit from 12.43 to 12.21 ns (p=0.010, 10
			// alternating runs).
			l1 := mum(load64(s)^x1, load64(s[8:])^s1)
			l2 := mum(load64(s[n-16:])^x0, load64(s[n-8:])^y1)
			return mum(l1^k2, l2^uint64(n)^x1)
		case n >= 8:
			a, b = load64(s), load64(s[n-8:])
		case n >= 4:
			a, b = load32(s), load32(s[n-4:])
		case n > 0:
			a = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
		}
		return mum(mum(a^x0, b^y)^k2, uint64(n)^x1)
	}
}

// load64 reads 8 bytes of s, little-endian; the compiler turns it into one
// load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load32 reads 4 bytes of s, little-endian.
func load32(s string) uint64 {
	_ = s[3]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}
