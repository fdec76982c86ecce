package safemap

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// inlineAgrees stores keys in a map, whose write path hashes int keys
// inline, without the hasher, and checks that each lies where the hasher's
// function places it (checkLocked rehashes every key with it), then that
// Load, which hashes inline too, finds each after a promotion, which
// rehashes with the function. A key hashed differently inline would lie in
// another segment (15 in 16) or dirty slot, and fail the check.
func inlineAgrees[K comparable](t *testing.T, keys ...K) {
	t.Helper()
	var m Map[K, int]
	for i, k := range keys {
		m.Store(k, i)
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatalf("%T: %v", keys[0], err)
	}
	m.promoteAll()
	for i, k := range keys {
		if v, ok := m.Load(k); !ok || v != i {
			t.Fatalf("%T: Load(%v) = %d, %v after a promotion; want %d, true", k, k, v, ok, i)
		}
	}
}

// TestInlineHash checks that the inline int hash of Load and write agrees
// with the hasher's function: for int keys, ints in interface keys (whose
// function hashes ints the same way), and the types that the inline path
// must leave to the function (a named int type, other integer types,
// strings, interfaces holding any of them).
func TestInlineHash(t *testing.T) {
	ints := []int{0, 1, -1, 42, 1000, math.MaxInt32, math.MaxInt, math.MinInt}
	inlineAgrees(t, ints...)
	type myInt int
	type stringer interface{ String() string }
	var anys []any
	var myInts []myInt
	for _, k := range ints {
		anys = append(anys, k, myInt(k), int64(k), fmt.Sprint(k))
		myInts = append(myInts, myInt(k))
	}
	anys = append(anys, nil)
	inlineAgrees(t, anys...)
	inlineAgrees(t, myInts...)
	inlineAgrees[stringer](t, time.Second, time.Minute, time.Hour)
	inlineAgrees[int64](t, 0, 1, -1, 42, math.MaxInt64)
	inlineAgrees(t, "", "42", "key-123-padding")

	anyHasher := newHasher[any]()
	// An interface key's strings hash with hashString and the hasher's
	// seeds (a and b are the seeds xored with k0 and k1), as string keys do.
	for _, k := range []string{"", "a", "key-123-padding", strings.Repeat("x", 40)} {
		if got, want := anyHasher.hash(any(k)), hashString(k, anyHasher.a^k0, anyHasher.b^k1); got != want {
			t.Fatalf("hash(any(%q)) = %#x; want hashString's %#x", k, got, want)
		}
	}

	// Maps keyed by these types find what they store.
	var m Map[any, int]
	m.Store(42, 1)
	m.Store(myInt(42), 2)
	if v, _ := m.Load(42); v != 1 {
		t.Fatalf("Load(42) = %d; want 1", v)
	}
	if v, _ := m.Load(myInt(42)); v != 2 {
		t.Fatalf("Load(myInt(42)) = %d; want 2", v)
	}
}

// bucketSpread fills a map with keys, promotes it, and returns the share
// of its buckets that overflowed and the share of the probe keys (all
// absent) whose Load would go past the home bucket.
func bucketSpread[K comparable](keys, absent []K) (overflowed, slowMisses float64) {
	var m Map[K, int]
	for i, k := range keys {
		m.Store(k, i)
	}
	m.promoteAll()
	t := m.t.Load()
	over, buckets := 0, 0
	for i := range t.reads {
		bs := t.loadRead(i).buckets
		for j := range bs {
			buckets++
			if bs[j].tags>>56 != 0 {
				over++
			}
		}
	}
	slow := 0
	for _, k := range absent {
		h := t.hasher.hash(k)
		bs := t.loadRead(segmentOf(h)).buckets
		if b := &bs[home(h, len(bs))]; b.match(h) != 0 || b.overflowed(h) {
			slow++
		}
	}
	return float64(over) / float64(buckets), float64(slow) / float64(len(absent))
}

// TestBucketSpread checks that consecutive integer keys, the commonest
// keys there are, spread over a read map's buckets like random ones with
// every seed: about a quarter of the buckets overflow at the 75% load cap,
// and about a tenth of misses probe past their home bucket (a tag match,
// or their overflow bit set). A hash of one multiply-fold round left some
// seeds with two thirds of the buckets overflowed and 87% of misses going
// on; so the test tries many seeds (maps).
func TestBucketSpread(t *testing.T) {
	const n = 20_000
	keys, absent := make([]int, n), make([]int, n)
	for i := range keys {
		keys[i], absent[i] = i, n+i
	}
	var worstOver, worstSlow float64
	for seed := range 24 {
		over, slow := bucketSpread(keys, absent)
		worstOver, worstSlow = max(worstOver, over), max(worstSlow, slow)
		if over > 0.35 || slow > 0.2 {
			t.Fatalf("map %d: %.0f%% of buckets overflowed and %.0f%% of misses go past their home bucket; want about 25%% and 11%%", seed, 100*over, 100*slow)
		}
	}
	t.Logf("int keys 0..%d, 24 maps: at most %.1f%% of buckets overflowed, %.1f%% of misses went past their home bucket", n-1, 100*worstOver, 100*worstSlow)
	strs, sabsent := make([]string, n), make([]string, n)
	for i := range strs {
		strs[i], sabsent[i] = fmt.Sprint("key", i), fmt.Sprint("key", n+i)
	}
	for seed := range 8 {
		over, slow := bucketSpread(strs, sabsent)
		if over > 0.35 || slow > 0.2 {
			t.Fatalf("string map %d: %.0f%% of buckets overflowed and %.0f%% of misses go past their home bucket; want about 25%% and 11%%", seed, 100*over, 100*slow)
		}
	}
}

// TestHashStringRounds checks that hashString's unrolled round for keys of
// 17 to 32 bytes hashes as its loop does for longer keys: the same
// function of the bytes, written out once.
func TestHashStringRounds(t *testing.T) {
	loop := func(s string, s0, s1 uint64) uint64 {
		n := len(s)
		seed := s1
		for rest := s; len(rest) > 16; rest = rest[16:] {
			seed = mum(load64(rest)^s0^k1, load64(rest[8:])^seed)
		}
		a, b := load64(s[n-16:]), load64(s[n-8:])
		return mum(mum(a^s0^k0, b^seed^k1)^k2, uint64(n)^s0^k1)
	}
	const s0, s1 = 0x243f6a8885a308d3, 0x13198a2e03707344
	src := strings.Repeat("the quick brown fox jumps over the lazy dog ", 3)
	for n := 17; n <= 64; n++ {
		for _, s := range []string{src[:n], src[n : 2*n], strings.Repeat("x", n)} {
			if got, want := hashString(s, s0, s1), loop(s, s0, s1); got != want {
				t.Fatalf("hashString(%q) = %#x, want %#x as the loop hashes it", s, got, want)
			}
		}
	}
}
