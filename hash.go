package safemap

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
)

// A hasher hashes keys with a seed chosen at random for each map, so that no
// one who does not know it can pile keys on one segment or one bucket.
//
// Common key types get a specialised hash: integers a single multiply-fold,
// strings [maphash.String]. Every other type goes through
// [maphash.Comparable], which panics, as a Go map does, for a key whose
// dynamic type is not comparable.
type hasher[K comparable] struct {
	seed maphash.Seed
	word uint64 // the seed of the integer mixer
}

func newHasher[K comparable]() hasher[K] {
	return hasher[K]{seed: maphash.MakeSeed(), word: rand.Uint64()}
}

// mixWord is a multiply-fold integer hash (as in wyhash): the 128-bit product
// of the seeded key and an odd constant, its halves folded together, so every
// bit of the key reaches the high bits (segment), the middle bits (bucket)
// and the low bits (tag).
func mixWord(x, seed uint64) uint64 {
	hi, lo := bits.Mul64(x^seed, 0x9e3779b97f4a7c15)
	return hi ^ lo
}

// hash returns the hash of k. The type switch on a non-escaping interface
// does not allocate; BenchmarkHash measures its cost.
func (h *hasher[K]) hash(k K) uint64 {
	switch x := any(k).(type) {
	case int:
		return mixWord(uint64(x), h.word)
	case string:
		return maphash.String(h.seed, x)
	case int64:
		return mixWord(uint64(x), h.word)
	case uint64:
		return mixWord(x, h.word)
	case int32:
		return mixWord(uint64(x), h.word)
	case uint32:
		return mixWord(uint64(x), h.word)
	case uint:
		return mixWord(uint64(x), h.word)
	case uintptr:
		return mixWord(uint64(x), h.word)
	}
	return maphash.Comparable(h.seed, k)
}
