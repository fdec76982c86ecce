package safemap

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// This file reviews the hashing of keys (hash.go) and the use of the hash
// bits by segments (segmentOf), read maps (home, tagOf) and dirty maps.
//
// Statistical bounds: every bound below is many standard deviations away
// from what a random function gives, so that a test can only fail for a
// hash that is broken or correlated, never by chance with a random seed.
// Each test explains its bound where it sets it.

type (
	hashPropInt   int
	hashPropInt64 int64
	// hashPropPadded has 7 bytes of padding after a and 2 after c.
	hashPropPadded struct {
		a int8
		b int64
		c int16
		d int32
	}
	hashPropFloats struct {
		f float64
		g float32
	}
)

// hashPropRace reports whether the test binary was built with -race, which
// makes map operations about ten times slower.
func hashPropRace() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "-race" {
				return st.Value == "true"
			}
		}
	}
	return false
}

// hashPropHash is the hash a map's Load and write give key: int keys (and
// interface keys holding ints) inline, with the hasher's seeds, and the
// rest through the hasher's function.
func hashPropHash[K comparable](h hasher[K], key K) uint64 {
	if k, ok := any(key).(int); ok {
		return hashWord(uint64(k), h.a, h.b)
	}
	return h.hash(key)
}

// hashPropCheckRef checks that m holds exactly the keys and values of ref: Len,
// Load of every key, Range (each key once, with its value), and the
// invariants.
func hashPropCheckRef[K comparable](t *testing.T, what string, m *Map[K, int], ref map[K]int) {
	t.Helper()
	if got := m.Len(); got != len(ref) {
		t.Fatalf("%s: Len() = %d; want %d", what, got, len(ref))
	}
	for k, want := range ref {
		if v, ok := m.Load(k); !ok || v != want {
			t.Fatalf("%s: Load(%v) = %d, %v; want %d, true", what, k, v, ok, want)
		}
	}
	seen := make(map[K]bool, len(ref))
	m.Range(func(k K, v int) bool {
		want, ok := ref[k]
		if !ok {
			t.Fatalf("%s: Range yields %v (value %d), which is not in the map", what, k, v)
		}
		if seen[k] {
			t.Fatalf("%s: Range yields %v twice", what, k)
		}
		seen[k] = true
		if v != want {
			t.Fatalf("%s: Range yields %v: %d; want %d", what, k, v, want)
		}
		return true
	})
	if len(seen) != len(ref) {
		t.Fatalf("%s: Range yields %d keys; want %d", what, len(seen), len(ref))
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// hashPropEqualPairs checks, for each pair of equal keys (a == b, perhaps with
// different bits: +0 and -0, strings with different backing arrays,
// structs with different padding), that both hash alike on every path, and
// that a map finds under b what was stored under a, in a dirty map and
// after a promotion, and deletes it under b.
func hashPropEqualPairs[K comparable](t *testing.T, pairs [][2]K) {
	t.Helper()
	h := newHasher[K]()
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Fatalf("%T: test bug: %v != %v", p[0], p[0], p[1])
		}
		if x, y := hashPropHash(h, p[0]), hashPropHash(h, p[1]); x != y {
			t.Errorf("%T: equal keys %#v and %#v hash to %#x and %#x", p[0], p[0], p[1], x, y)
		}
		if x, y := h.hash(p[0]), h.hash(p[1]); x != y {
			t.Errorf("%T: equal keys %#v and %#v: hasher.hash gives %#x and %#x", p[0], p[0], p[1], x, y)
		}
		if x, y := hashPropHash(h, p[0]), h.hash(p[0]); x != y {
			t.Errorf("%T: key %#v: inline hash %#x, hasher.hash %#x", p[0], p[0], x, y)
		}
	}
	for _, promote := range []bool{false, true} {
		var m Map[K, int]
		for i, p := range pairs {
			m.Store(p[0], i)
		}
		if promote {
			m.promoteAll()
		}
		for i, p := range pairs {
			if v, ok := m.Load(p[1]); !ok || v != i {
				t.Fatalf("%T (promoted %v): stored under %#v, Load(%#v) = %d, %v; want %d, true", p[0], promote, p[0], p[1], v, ok, i)
			}
			if v, loaded := m.LoadOrStore(p[1], -1); !loaded || v != i {
				t.Fatalf("%T (promoted %v): LoadOrStore(%#v) = %d, %v; want %d, true", p[0], promote, p[1], v, loaded, i)
			}
		}
		if got := m.Len(); got != len(pairs) {
			t.Fatalf("%T (promoted %v): Len() = %d; want %d", pairs[0][0], promote, got, len(pairs))
		}
		for i, p := range pairs {
			if v, ok := m.LoadAndDelete(p[1]); !ok || v != i {
				t.Fatalf("%T (promoted %v): LoadAndDelete(%#v) = %d, %v; want %d, true", p[0], promote, p[1], v, ok, i)
			}
			if _, ok := m.Load(p[0]); ok {
				t.Fatalf("%T (promoted %v): %#v still present after LoadAndDelete(%#v)", p[0], promote, p[0], p[1])
			}
		}
		if err := m.checkInvariants(); err != nil {
			t.Fatal(err)
		}
	}
}

// hashPropDistinct checks that keys, pairwise unequal, are distinct keys of a map
// (through every write path): each keeps its own value, in a dirty map
// and after a promotion, and deleting one leaves the others.
func hashPropDistinct[K comparable](t *testing.T, keys []K) {
	t.Helper()
	for i := range keys {
		for j := range i {
			if keys[i] == keys[j] {
				t.Fatalf("test bug: keys %d and %d (%#v) are equal", j, i, keys[i])
			}
		}
	}
	for _, promote := range []bool{false, true} {
		var m Map[K, int]
		ref := make(map[K]int)
		for i, k := range keys {
			switch i % 4 {
			case 0:
				m.Store(k, i)
			case 1:
				if _, loaded := m.LoadOrStore(k, i); loaded {
					t.Fatalf("LoadOrStore(%#v) loaded a value: it took another key for it", k)
				}
			case 2:
				if _, loaded := m.Swap(k, i); loaded {
					t.Fatalf("Swap(%#v) loaded a value: it took another key for it", k)
				}
			case 3:
				m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
					if loaded {
						t.Fatalf("Compute(%#v) found a value: it took another key for it", k)
					}
					return i, UpdateOp
				})
			}
			ref[k] = i
		}
		if promote {
			m.promoteAll()
		}
		hashPropCheckRef(t, fmt.Sprintf("%T keys (promoted %v)", keys[0], promote), &m, ref)
		for i, k := range keys {
			if i%2 == 0 {
				m.Delete(k)
				delete(ref, k)
			}
		}
		hashPropCheckRef(t, fmt.Sprintf("%T keys, half deleted (promoted %v)", keys[0], promote), &m, ref)
	}
}

// TestHashPropIntegerKinds checks ints in interface keys: ints of every
// kind, and named ints, with the same bits are distinct keys; an int in an
// interface hashes as the inline path hashes it, and as an int key does
// with the same seeds.
func TestHashPropIntegerKinds(t *testing.T) {
	values := []int64{0, 1, -1, 127, -128, 255, 1 << 20, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}
	var keys []any
	for _, v := range values {
		keys = append(keys, int(v), int8(v), int16(v), int32(v), int64(v),
			uint(v), uint8(v), uint16(v), uint32(v), uint64(v), uintptr(v),
			hashPropInt(v), hashPropInt64(v), float64(v)+0.5, strconv.FormatInt(v, 10))
	}
	// int8(v) for many v, and int(v) for v beyond 32 bits, repeat: dedup
	// by equality.
	var distinct []any
	for _, k := range keys {
		if !slices.Contains(distinct, k) {
			distinct = append(distinct, k)
		}
	}
	if len(distinct) < 120 {
		t.Fatalf("test bug: only %d distinct keys", len(distinct))
	}
	hashPropDistinct(t, distinct)

	// The int path of an interface key hashes as an int key does.
	s0, s1 := rand.Uint64(), rand.Uint64()
	ha, hi := newHasherSeeded[any](s0, s1), newHasherSeeded[int](s0, s1)
	for _, v := range values {
		k := int(v)
		if x, y, z := ha.hash(any(k)), hi.hash(k), hashPropHash(ha, any(k)); x != y || x != z {
			t.Errorf("int %d: hashes %#x (any), %#x (int key), %#x (any, inline)", k, x, y, z)
		}
	}
	// Equal ints, converted from different kinds, in interface keys.
	var pairs [][2]any
	for _, v := range values {
		pairs = append(pairs, [2]any{int(v), int(int32(v)) + int(v-int64(int32(v)))})
		pairs = append(pairs, [2]any{hashPropInt(v), hashPropInt(int(v))})
		pairs = append(pairs, [2]any{uintptr(v), uintptr(uint64(v))})
	}
	// With 32-bit ints and uintptrs, values beyond 32 bits repeat an
	// earlier pair's key (int(math.MinInt64) is 0): keep each key's first
	// pair, since the check stores one value per pair.
	var firsts [][2]any
	for _, p := range pairs {
		if !slices.ContainsFunc(firsts, func(q [2]any) bool { return q[0] == p[0] }) {
			firsts = append(firsts, p)
		}
	}
	hashPropEqualPairs(t, firsts)
}

// TestHashPropStrings checks string keys of every length 0..200, taken
// at odd offsets of a larger backing array, against copies in fresh
// memory: equal strings hash alike whatever their address and alignment
// (the hasher reads 8- and 4-byte words), for string keys and interface
// keys, whose strings hash as string keys do. And unequal strings never
// share a 64-bit hash (see the bound below).
func TestHashPropStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 512)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	big := string(src)
	s0, s1 := rand.Uint64(), rand.Uint64()
	hs := newHasherSeeded[string](s0, s1)
	ha := newHasherSeeded[any](s0, s1)
	var pairs [][2]string
	for n := 0; n <= 200; n++ {
		for off := 0; off < 16; off++ {
			sub := big[off : off+n]
			cp := strings.Clone(sub) // its own bytes, at offset 0
			x, y, z := hs.hash(sub), hs.hash(cp), ha.hash(any(cp))
			if x != y || x != z {
				t.Fatalf("len %d, offset %d: hash %#x at the offset, %#x copied, %#x as any", n, off, x, y, z)
			}
			if off == 3 && n > 0 || off == 0 && n == 0 {
				pairs = append(pairs, [2]string{sub, cp})
			}
		}
	}
	hashPropEqualPairs(t, pairs)
	anyPairs := make([][2]any, len(pairs))
	for i, p := range pairs {
		anyPairs[i] = [2]any{p[0], p[1]}
	}
	hashPropEqualPairs(t, anyPairs)

	// Distinct strings: prefixes of one string, runs of zero bytes (equal
	// but for their length), every one-byte change of every length, keys
	// sharing long prefixes or suffixes, and keys whose 16-byte chunks
	// trade places. A 64-bit hash that behaves as a random function gives
	// some pair of these ~45,000 strings one hash with probability about
	// 45,000^2/2^65 = 5.5e-11; a collision is a weakness of the hash.
	set := make(map[string]bool)
	add := func(s string) { set[s] = true }
	for n := 0; n <= 200; n++ {
		add(big[:n])
		add(strings.Repeat("\x00", n))
		add(strings.Repeat("\xff", n))
		for i := range n {
			for _, x := range []byte{0x01, 0x80} {
				b := []byte(big[:n])
				b[i] ^= x
				add(string(b))
			}
		}
	}
	for i := range 2000 {
		add(fmt.Sprintf("/a/shared/prefix/of/thirty/two/bytes/%d", i))
		add(fmt.Sprintf("%d/a/shared/suffix/of/thirty/two/bytes", i))
		add(fmt.Sprintf("%064d", i))
		add(fmt.Sprintf("%016d", i))
		add(fmt.Sprintf("%08d", i))
	}
	for _, n := range []int{33, 48, 49, 64, 65, 100, 160, 200} {
		chunks := []string{}
		for i := 0; i < n; i += 16 {
			chunks = append(chunks, big[i:min(i+16, n)])
		}
		for r := range len(chunks) {
			add(strings.Join(append(slices.Clone(chunks[r:]), chunks[:r]...), ""))
			sw := slices.Clone(chunks)
			if r+1 < len(sw) && len(sw[r]) == len(sw[r+1]) {
				sw[r], sw[r+1] = sw[r+1], sw[r]
				add(strings.Join(sw, ""))
			}
		}
	}
	for _, seeds := range [][2]uint64{{s0, s1}, {rand.Uint64(), rand.Uint64()}, {0, 0}} {
		hash := stringHasher(seeds[0], seeds[1])
		hashes := make(map[uint64]string, len(set))
		for s := range set {
			h := hash(s)
			if o, ok := hashes[h]; ok {
				t.Errorf("seeds %#x: %q (len %d) and %q (len %d) share the hash %#x", seeds, o, len(o), s, len(s), h)
			}
			hashes[h] = s
		}
	}
	t.Logf("%d distinct strings, no 64-bit collision", len(set))

	// The map: every substring of lengths 0..200 at four offsets, stored
	// from the backing array, found by copies.
	var m Map[string, int]
	ref := make(map[string]int)
	for n := 0; n <= 200; n++ {
		for _, off := range []int{0, 1, 3, 7} {
			k := big[off : off+n]
			m.Store(k, n*16+off)
			ref[strings.Clone(k)] = n*16 + off
		}
	}
	hashPropCheckRef(t, "substrings", &m, ref)
	m.promoteAll()
	hashPropCheckRef(t, "substrings, promoted", &m, ref)
}

// TestHashPropShortStrings checks that no two strings of up to three bytes
// share a hash: every string of at most two bytes, and every three-byte
// string that holds a zero byte, so that any two of the three bytes take
// all their values together. Keys under four bytes are hashed from one
// word built of their first, middle and last bytes (see stringHasher); a
// word whose bytes overlapped would give two such keys one hash for every
// seed, a collision that an attacker could make without knowing the seed.
// TestHashPropStrings meets such an overlap only where its one-byte changes
// of one key happen to line up; this test tries every value of every two
// bytes.
// For a 64-bit hash that behaves as a random function, some pair of these
// 261,634 strings shares a hash with probability about
// 261,634^2/2^65 = 1.9e-9.
func TestHashPropShortStrings(t *testing.T) {
	var keys []string
	keys = append(keys, "")
	for a := range 256 {
		keys = append(keys, string([]byte{byte(a)}))
		for b := range 256 {
			keys = append(keys, string([]byte{byte(a), byte(b)}))
			for c := range 256 {
				if a == 0 || b == 0 || c == 0 {
					keys = append(keys, string([]byte{byte(a), byte(b), byte(c)}))
				}
			}
		}
	}
	if len(keys) != 261_634 {
		t.Fatalf("%d keys, want 261,634", len(keys))
	}
	for _, seeds := range [][2]uint64{{rand.Uint64(), rand.Uint64()}, {0, 0}} {
		hash := stringHasher(seeds[0], seeds[1])
		type keyHash struct {
			h uint64
			i int
		}
		hs := make([]keyHash, len(keys))
		for i, k := range keys {
			hs[i] = keyHash{hash(k), i}
		}
		slices.SortFunc(hs, func(x, y keyHash) int { return cmp.Compare(x.h, y.h) })
		for i := 1; i < len(hs); i++ {
			if hs[i].h == hs[i-1].h {
				t.Errorf("seeds %#x: %q and %q share the hash %#x", seeds, keys[hs[i-1].i], keys[hs[i].i], hs[i].h)
			}
		}
	}
}

// TestHashPropFloats checks float keys: +0 and -0 are one key, hash
// alike, and Range reports the key as the last Store gave it (as a Go map
// does); every NaN is a new key, as in a Go map; floats in interface keys
// and in structs alike.
func TestHashPropFloats(t *testing.T) {
	negZero := math.Copysign(0, -1)
	hashPropEqualPairs(t, [][2]float64{{0, negZero}, {1.5, 1.5}})
	hashPropEqualPairs(t, [][2]float32{{0, float32(negZero)}})
	hashPropEqualPairs(t, [][2]any{{0.0, negZero}, {float32(0), float32(negZero)}, {complex(0, 0), complex(negZero, negZero)}})
	hashPropEqualPairs(t, [][2]hashPropFloats{{{0, 0}, {negZero, float32(negZero)}}})
	hashPropEqualPairs(t, [][2]any{{hashPropFloats{0, 0}, hashPropFloats{negZero, float32(negZero)}}, {[2]any{0.0, "x"}, [2]any{negZero, "x"}}})
	hashPropDistinct(t, []any{0.0, float32(0), 0, int64(0), complex(0, 0), "", false, hashPropFloats{}})

	// +0 and -0: one key; Range reports the key of the last Store, as a Go
	// map does.
	for _, promote := range []bool{false, true} {
		var m Map[float64, int]
		ref := map[float64]int{}
		m.Store(0, 1)
		ref[0] = 1
		if promote {
			m.promoteAll()
		}
		m.Store(negZero, 2)
		ref[negZero] = 2
		if got := m.Len(); got != 1 {
			t.Fatalf("promoted %v: Len() = %d after storing +0 and -0; want 1", promote, got)
		}
		var refKey float64
		for k := range ref {
			refKey = k
		}
		m.Range(func(k float64, v int) bool {
			if v != 2 || math.Signbit(k) != math.Signbit(refKey) {
				t.Fatalf("promoted %v: Range yields %v: %d; want %v: 2, as a Go map", promote, k, v, refKey)
			}
			return true
		})
	}

	// NaN: every Store adds a key, Load and Delete never find one, Range
	// yields each, as for a Go map.
	for _, promote := range []bool{false, true} {
		var m Map[float64, int]
		nan := math.NaN()
		for i := range 100 {
			m.Store(nan, i)
			if i == 50 && promote {
				m.promoteAll()
			}
		}
		m.Store(1, 100)
		if promote {
			m.promoteAll()
		}
		if got := m.Len(); got != 101 {
			t.Fatalf("promoted %v: Len() = %d after 100 NaN stores and one key; want 101", promote, got)
		}
		if v, ok := m.Load(nan); ok {
			t.Fatalf("promoted %v: Load(NaN) = %d, true", promote, v)
		}
		m.Delete(nan)
		if _, loaded := m.LoadOrStore(nan, 101); loaded {
			t.Fatalf("promoted %v: LoadOrStore(NaN) loaded", promote)
		}
		vals := make([]int, 0, 102)
		m.Range(func(k float64, v int) bool {
			if k == k && (k != 1 || v != 100) {
				t.Fatalf("promoted %v: Range yields %v: %d", promote, k, v)
			}
			if k != k {
				vals = append(vals, v)
			}
			return true
		})
		slices.Sort(vals)
		want := make([]int, 0, 101)
		for i := range 100 {
			want = append(want, i)
		}
		want = append(want, 101)
		if !slices.Equal(vals, want) {
			t.Fatalf("promoted %v: Range yields NaN values %v; want 0..99 and 101", promote, vals)
		}
		if err := m.checkInvariants(); err != nil {
			t.Fatal(err)
		}
		m.Clear()
		if got := m.Len(); got != 0 {
			t.Fatalf("Len() = %d after Clear", got)
		}
	}
	// NaN in interface keys and structs.
	var m Map[any, int]
	for i := range 10 {
		m.Store(math.NaN(), i)
		m.Store(hashPropFloats{f: math.NaN()}, i)
		m.Store([1]any{math.NaN()}, i)
	}
	if got := m.Len(); got != 30 {
		t.Fatalf("Map[any]: Len() = %d after 30 stores of NaN keys; want 30", got)
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestHashPropComposite checks arrays of substrings, pointers, channels,
// and interfaces holding them. (Padding bytes are maphash's business, and
// setting them takes unsafe, which this repository does not import.)
func TestHashPropComposite(t *testing.T) {
	big := "xxabcdefghijklmnopqrstuvwxyz0123456789"
	a1 := [3]string{big[2:5], big[3:20], big[1:1]}
	a2 := [3]string{strings.Clone(big[2:5]), strings.Clone(big[3:20]), ""}
	hashPropEqualPairs(t, [][2][3]string{{a1, a2}})
	hashPropEqualPairs(t, [][2]any{{a1, a2}, {[2]any{1, "a"}, [2]any{1, strings.Clone("a")}}})

	p1, p2 := new(int), new(int)
	c1, c2 := make(chan int), make(chan int)
	hashPropEqualPairs(t, [][2]*int{{p1, p1}})
	hashPropDistinct(t, []*int{p1, p2, nil})
	hashPropDistinct(t, []chan int{c1, c2, nil})
	hashPropDistinct(t, []any{p1, p2, c1, c2, (*int)(nil), (chan int)(nil), nil, [3]string{}, [2]string{}, struct{}{}, [0]int{}})
	hashPropEqualPairs(t, [][2]any{{p1, p1}, {c1, c1}})

	// Structs and arrays that differ in one field each.
	var ps []hashPropPadded
	var arrs [][4]int
	for i := range 64 {
		ps = append(ps, hashPropPadded{a: int8(i)}, hashPropPadded{b: int64(i) + 1000}, hashPropPadded{c: int16(i) + 1000}, hashPropPadded{d: int32(i) + 1000})
		arrs = append(arrs, [4]int{i + 1}, [4]int{0, i + 1}, [4]int{0, 0, i + 1}, [4]int{0, 0, 0, i + 1})
	}
	ps = slices.CompactFunc(ps, func(a, b hashPropPadded) bool { return a == b })
	hashPropDistinct(t, ps)
	hashPropDistinct(t, arrs)
}

// TestHashPropSeeds checks that maps do not share seeds: the hashes of
// the same keys differ from map to map (for int, string, interface and
// struct keys, maphash's seed included), and so does the order in which
// Range visits the same keys.
func TestHashPropSeeds(t *testing.T) {
	const maps = 200
	// Each map's hashes of 4 keys, as one string: two maps with equal
	// hashes for a key (a 2^-64 chance with independent seeds) would share
	// a seed.
	ints, strs, anys, structs := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	seeds := map[[2]uint64]int{}
	for i := range maps {
		var mi Map[int, int]
		var ms Map[string, int]
		var ma Map[any, int]
		var mp Map[hashPropPadded, int]
		mi.Store(0, 0)
		ms.Store("", 0)
		ma.Store(0, 0)
		mp.Store(hashPropPadded{}, 0)
		ti, ts, ta, tp := mi.t.Load(), ms.t.Load(), ma.t.Load(), mp.t.Load()
		for _, x := range []struct {
			seen map[string]int
			key  string
		}{
			{ints, fmt.Sprint(hashPropHash(ti.hasher, 0), hashPropHash(ti.hasher, 1), hashPropHash(ti.hasher, -1), hashPropHash(ti.hasher, 1<<30))},
			{strs, fmt.Sprint(ts.hasher.hash(""), ts.hasher.hash("a"), ts.hasher.hash("key-0001"), ts.hasher.hash(strings.Repeat("k", 40)))},
			{anys, fmt.Sprint(ta.hasher.hash(0), ta.hasher.hash("a"), ta.hasher.hash(int64(0)), ta.hasher.hash(hashPropPadded{}))},
			{structs, fmt.Sprint(tp.hasher.hash(hashPropPadded{}), tp.hasher.hash(hashPropPadded{a: 1}))},
		} {
			if j, ok := x.seen[x.key]; ok {
				t.Fatalf("maps %d and %d hash the same keys alike: %s", j, i, x.key)
			}
			x.seen[x.key] = i
		}
		for _, ab := range [][2]uint64{{ti.hasher.a, ti.hasher.b}, {ts.hasher.a, ts.hasher.b}, {ta.hasher.a, ta.hasher.b}} {
			if j, ok := seeds[ab]; ok {
				t.Fatalf("maps %d and %d share the seeds %#x", j, i, ab)
			}
			seeds[ab] = i
		}
	}

	// Range order: the same 1,000 keys stored in the same order in two
	// maps. With independent seeds the orders agree with probability far
	// below 2^-1000.
	order := func(m *Map[int, int]) []int {
		var ks []int
		m.Range(func(k, _ int) bool { ks = append(ks, k); return true })
		return ks
	}
	var m1, m2 Map[int, int]
	for i := range 1000 {
		m1.Store(i, i)
		m2.Store(i, i)
	}
	m1.promoteAll()
	m2.promoteAll()
	if o1, o2 := order(&m1), order(&m2); slices.Equal(o1, o2) {
		t.Fatalf("two maps of the same keys range in the same order: %v...", o1[:10])
	}
	// Segment of each key: two maps agree on all 1,000 with probability
	// 16^-1000.
	same := 0
	for i := range 1000 {
		if m1.segmentOf(i) == m2.segmentOf(i) {
			same++
		}
	}
	// Each key agrees with probability 1/16: 62.5 of 1,000 expected,
	// standard deviation 7.7; 200 is 18 deviations away.
	if same > 200 {
		t.Fatalf("two maps put %d of 1,000 keys in the same segment; want about 62", same)
	}
}

// TestHashPropClearKeepsHasher checks that Clear, on both its paths
// (in place and replacing the table), keeps the map's hasher: the same
// seeds and the same hash for every key, maphash's seed included; and
// that the map keeps working across many Clears, against a Go map.
func TestHashPropClearKeepsHasher(t *testing.T) {
	t.Run("int", func(t *testing.T) { hashPropClearCycles(t, func(i int) int { return i * 7919 }) })
	t.Run("string", func(t *testing.T) {
		hashPropClearCycles(t, func(i int) string { return fmt.Sprintf("key-%d-%s", i, strings.Repeat("x", i%40)) })
	})
	t.Run("any", func(t *testing.T) {
		hashPropClearCycles(t, func(i int) any {
			switch i % 4 {
			case 0:
				return i
			case 1:
				return strconv.Itoa(i)
			case 2:
				return int64(i)
			}
			return hashPropPadded{b: int64(i)}
		})
	})
	t.Run("struct", func(t *testing.T) {
		hashPropClearCycles(t, func(i int) hashPropPadded { return hashPropPadded{a: int8(i), d: int32(i)} })
	})
}

func hashPropClearCycles[K comparable](t *testing.T, key func(int) K) {
	var m Map[K, int]
	ref := map[K]int{}
	rng := rand.New(rand.NewPCG(3, 4))
	m.Store(key(0), 0)
	first := m.t.Load()
	probe := make([]K, 200)
	hashes := make([]uint64, len(probe))
	for i := range probe {
		probe[i] = key(i)
		hashes[i] = hashPropHash(first.hasher, probe[i])
	}
	m.Clear()
	replaced, inPlace := 0, 0
	for cycle := range 40 {
		// Small cycles stay in dirty maps (Clear in place); large ones,
		// promoted, make Clear replace the table.
		n := 3 + rng.IntN(20)
		if cycle%2 == 1 {
			n = 500 + rng.IntN(1000)
		}
		for range n {
			k := key(rng.IntN(3000))
			switch rng.IntN(4) {
			case 0, 1:
				v := rng.Int()
				m.Store(k, v)
				ref[k] = v
			case 2:
				m.Delete(k)
				delete(ref, k)
			case 3:
				v := rng.Int()
				act, loaded := m.LoadOrStore(k, v)
				want, ok := ref[k]
				if loaded != ok || (ok && act != want) {
					t.Fatalf("cycle %d: LoadOrStore(%v) = %d, %v; want %d, %v", cycle, k, act, loaded, want, ok)
				}
				if !ok {
					ref[k] = v
				}
			}
		}
		if cycle%2 == 1 {
			m.promoteAll()
			hashPropCheckRef(t, fmt.Sprintf("cycle %d", cycle), &m, ref)
		} else if got := m.Len(); got != len(ref) {
			// Loads would promote the few keys and keep Clear from
			// emptying the map in place: the next cycle checks the
			// hasher after this Clear.
			t.Fatalf("cycle %d: Len() = %d; want %d", cycle, got, len(ref))
		}
		before := m.t.Load()
		m.Clear()
		clear(ref)
		after := m.t.Load()
		if before == after {
			inPlace++
		} else {
			replaced++
		}
		if after.hasher.a != first.hasher.a || after.hasher.b != first.hasher.b {
			t.Fatalf("cycle %d: Clear changed the seeds", cycle)
		}
		for i, k := range probe {
			if h := hashPropHash(after.hasher, k); h != hashes[i] {
				t.Fatalf("cycle %d: after Clear, key %v hashes to %#x; before, %#x", cycle, k, h, hashes[i])
			}
		}
		if got := m.Len(); got != 0 {
			t.Fatalf("cycle %d: Len() = %d after Clear", cycle, got)
		}
		for _, k := range probe[:20] {
			if v, ok := m.Load(k); ok {
				t.Fatalf("cycle %d: Load(%v) = %d after Clear", cycle, k, v)
			}
		}
	}
	if replaced == 0 || inPlace == 0 {
		t.Fatalf("test bug: %d Clears replaced the table, %d emptied it in place; want both paths", replaced, inPlace)
	}
}

// hashPropSpread is the spread of a set of hashes over the structures that use
// their bits.
type hashPropSpread struct {
	fullest, emptiest float64 // keys of the fullest and emptiest segments, over a share
	bucketChi2, df    float64 // chi-square of the keys per bucket, with its degrees of freedom
	maxBucket         int     // keys with the same home bucket, at most
	tagTwins          float64 // share of the pairs of keys with one home bucket that share a tag
	tagFullest        float64 // keys of the commonest tag, over a share
	lowChi2, lowDf    float64 // chi-square of the low 10 bits (dirty maps' homes) within segments
}

// hashPropMeasure places hashes as a map of them would: segments by segmentOf,
// and within each segment home buckets of a read map sized for the
// segment's keys (bucketsFor), tags by tagOf, dirty homes by the low bits.
func hashPropMeasure(hs []uint64) hashPropSpread {
	var sp hashPropSpread
	var segCounts [segments]int
	for _, h := range hs {
		segCounts[segmentOf(h)]++
	}
	share := float64(len(hs)) / segments
	sp.emptiest = math.Inf(1)
	var tags [128]int
	pairs, twins := 0, 0
	var cells []uint16 // cells[b*128+tag]: keys of one segment by home bucket and tag
	var low [1024]int
	for s := range segments {
		sp.fullest = max(sp.fullest, float64(segCounts[s])/share)
		sp.emptiest = min(sp.emptiest, float64(segCounts[s])/share)
		if segCounts[s] == 0 {
			continue
		}
		nb := bucketsFor(segCounts[s])
		counts := make([]int, nb)
		cells = slices.Grow(cells[:0], nb*128)[:nb*128]
		clear(cells)
		clear(low[:])
		for _, h := range hs {
			if segmentOf(h) != s {
				continue
			}
			b := home(h, nb)
			counts[b]++
			tag := int(tagOf(h) & 0x7f)
			cells[b*128+tag]++
			tags[tag]++
			low[h&1023]++
		}
		e := float64(segCounts[s]) / float64(nb)
		for _, c := range counts {
			sp.bucketChi2 += (float64(c) - e) * (float64(c) - e) / e
			sp.maxBucket = max(sp.maxBucket, c)
			pairs += c * (c - 1) / 2
		}
		for _, c := range cells {
			twins += int(c) * (int(c) - 1) / 2
		}
		sp.df += float64(nb - 1)
		el := float64(segCounts[s]) / 1024
		for _, c := range low {
			sp.lowChi2 += (float64(c) - el) * (float64(c) - el) / el
		}
		sp.lowDf += 1023
	}
	sp.tagTwins = float64(twins) / float64(pairs)
	sp.tagFullest = float64(slices.Max(tags[:])) * 128 / float64(len(hs))
	return sp
}

// hashPropCheckSpread fails if the spread is worse than a random function could
// ever give (the bounds are explained in TestHashPropDistribution).
func hashPropCheckSpread(t *testing.T, what string, sp hashPropSpread) {
	t.Helper()
	if sp.fullest > 2 || sp.emptiest < 0.5 {
		t.Errorf("%s: segments hold from %.3fx to %.3fx their share; want within 0.5x..2x", what, sp.emptiest, sp.fullest)
	}
	if sp.bucketChi2 > 2*sp.df {
		t.Errorf("%s: chi-square of keys per home bucket %.0f for %.0f degrees of freedom; want below %.0f", what, sp.bucketChi2, sp.df, 2*sp.df)
	}
	if sp.maxBucket > 40 {
		t.Errorf("%s: %d keys share one home bucket; want at most 40", what, sp.maxBucket)
	}
	if sp.tagTwins > 2.0/128 {
		t.Errorf("%s: %.2f%% of the pairs of keys with one home bucket share a tag; want about %.2f%%", what, 100*sp.tagTwins, 100.0/128)
	}
	if sp.tagFullest > 1.5 {
		t.Errorf("%s: the commonest tag has %.3fx its share; want at most 1.5x", what, sp.tagFullest)
	}
	if sp.lowChi2 > 2*sp.lowDf {
		t.Errorf("%s: chi-square of the low 10 bits within segments %.0f for %.0f degrees of freedom; want below %.0f", what, sp.lowChi2, sp.lowDf, 2*sp.lowDf)
	}
}

// TestHashPropDistribution checks how 100,000 keys of patterns that
// programs use spread over segments, home buckets, tags and the low bits
// that place keys in dirty maps, with a fresh random seed each.
//
// Bounds, for n = 100,000 keys behaving as random:
//   - a segment gets Binomial(n, 1/16) keys, 6,250 ± 77: the bound of 0.5x
//     to 2x a share is 40 deviations away;
//   - home buckets: a read map sized by bucketsFor holds about 5.25 keys
//     per bucket, ~19,000 buckets in all; the chi-square statistic has mean
//     df and deviation sqrt(2 df) ≈ 195, so 2 df is ~97 deviations away;
//     a bucket gets Poisson(5.25) keys, and P(>40) < 1e-20 per bucket;
//   - a pair of keys with one home bucket shares its tag with probability
//     1/128 if tags and buckets are independent; over ~260,000 pairs the
//     share deviates by ~0.02%, and 2/128 is ~45 deviations above;
//   - a tag gets 781 ± 28 keys: 1.5x is 14 deviations above;
//   - low 10 bits: 16 × 1,023 degrees of freedom, 6.1 keys per cell;
//     2 df is ~90 deviations away.
func TestHashPropDistribution(t *testing.T) {
	t.Parallel() // a pure test: see parallel_test.go
	const n = 100_000
	type pattern struct {
		name string
		key  func(i int) int
	}
	patterns := []pattern{
		{"consecutive", func(i int) int { return i }},
		{"negative", func(i int) int { return -i }},
		{"multiples of 1000", func(i int) int { return i * 1000 }},
	}
	maxShift := 47 // i < 2^17: i<<47 keeps every key distinct
	if strconv.IntSize == 32 {
		maxShift = 15
	}
	for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 10, 12, 16, 20, 24, 28, 31, 32, 33, 36, 40, 44, 47} {
		if k > maxShift {
			continue
		}
		patterns = append(patterns, pattern{fmt.Sprintf("multiples of 2^%d", k), func(i int) int { return i << k }})
	}
	hs := make([]uint64, n)
	for pi, p := range patterns {
		h := newHasher[int]()
		for i := range n {
			hs[i] = hashPropHash(h, p.key(i))
		}
		hashPropCheckSpread(t, "int keys, "+p.name, hashPropMeasure(hs))
		if pi%3 != 0 {
			continue // the interface path for a third of the patterns, for time
		}
		ha := newHasher[any]()
		for i := range n {
			hs[i] = hashPropHash(ha, any(p.key(i)))
		}
		hashPropCheckSpread(t, "int in any keys, "+p.name, hashPropMeasure(hs))
	}
	for _, k := range []int{0, 8, 16, 32, 40} {
		h := newHasher[int64]()
		for i := range n {
			hs[i] = h.hash(int64(i) << k)
		}
		hashPropCheckSpread(t, fmt.Sprintf("int64 keys, multiples of 2^%d", k), hashPropMeasure(hs))
		hu := newHasher[uint32]()
		for i := range n {
			hs[i] = hu.hash(uint32(i) << (k % 15))
		}
		hashPropCheckSpread(t, fmt.Sprintf("uint32 keys, multiples of 2^%d", k%15), hashPropMeasure(hs))
	}
	hp := newHasher[hashPropPadded]()
	for i := range n {
		hs[i] = hp.hash(hashPropPadded{b: int64(i) << 20})
	}
	hashPropCheckSpread(t, "struct keys", hashPropMeasure(hs))
}

// TestHashPropDistributionStrings is TestHashPropDistribution for
// string keys (and strings in interface keys), with its bounds.
func TestHashPropDistributionStrings(t *testing.T) {
	t.Parallel() // a pure test: see parallel_test.go
	const n = 100_000
	hs := make([]uint64, n)
	strPatterns := []struct {
		name string
		key  func(i int) string
	}{
		{"key%d", func(i int) string { return "key" + strconv.Itoa(i) }},
		{"%08d", func(i int) string { return fmt.Sprintf("%08d", i) }},
		{"%016d", func(i int) string { return fmt.Sprintf("%016d", i) }},
		{"%017d", func(i int) string { return fmt.Sprintf("%017d", i) }},
		{"%032d", func(i int) string { return fmt.Sprintf("%032d", i) }},
		{"%033d", func(i int) string { return fmt.Sprintf("%033d", i) }},
		{"long prefix", func(i int) string { return "/srv/data/users/profiles/avatars/large/" + strconv.Itoa(i) }},
		{"long suffix", func(i int) string { return strconv.Itoa(i) + "/srv/data/users/profiles/avatars/large" }},
		{"binary 4 bytes", func(i int) string { return string([]byte{byte(i), byte(i >> 8), byte(i >> 16), 0}) }},
		{"binary 3 bytes", func(i int) string { return string([]byte{byte(i), byte(i >> 8), byte(i >> 16)}) }},
		{"zeros, two bytes set", func(i int) string {
			b := make([]byte, 100)
			b[i%50] = byte(1 + i/50%255)
			b[50+i/12750] = 1
			return string(b)
		}},
	}
	for pi, p := range strPatterns {
		keys := make(map[string]bool, n)
		h, ha := newHasher[string](), newHasher[any]()
		hsa := make([]uint64, n)
		for i := range n {
			k := p.key(i)
			keys[k] = true
			hs[i], hsa[i] = h.hash(k), hashPropHash(ha, any(k))
		}
		if len(keys) != n {
			t.Fatalf("test bug: pattern %s makes %d distinct keys", p.name, len(keys))
		}
		hashPropCheckSpread(t, "string keys, "+p.name, hashPropMeasure(hs))
		if pi%2 == 0 { // the interface path for half the patterns, for time
			hashPropCheckSpread(t, "string in any keys, "+p.name, hashPropMeasure(hsa))
		}
	}
}

// TestHashPropRealBuckets checks the spread in a real map after a
// promotion: the share of buckets that overflowed and the tag twins within
// buckets, for keys that collide on their low or high bits.
func TestHashPropRealBuckets(t *testing.T) {
	const n = 50_000
	for _, shift := range []int{0, 16, 32, 40} {
		if shift >= strconv.IntSize-16 {
			continue
		}
		var m Map[int, int]
		for i := range n {
			m.Store(i<<shift, i)
		}
		m.promoteAll()
		tb := m.t.Load()
		buckets, over, pairs, twins := 0, 0, 0, 0
		for i := range tb.reads {
			bs := tb.loadRead(i).buckets
			for bi := range bs {
				b := &bs[bi]
				buckets++
				if b.tags>>56 != 0 {
					over++
				}
				var ts []uint64
				for j := range slotsPerBucket {
					if tg := b.tags >> (8 * j) & 0xff; tg != 0 {
						ts = append(ts, tg)
					}
				}
				for x := range ts {
					for y := range x {
						pairs++
						if ts[x] == ts[y] {
							twins++
						}
					}
				}
			}
		}
		// About a quarter of the buckets overflow at 75% load
		// (TestBucketSpread); half is far beyond what seeds give
		// (at most ~30%). Twins: 1/128 of ~14 pairs per bucket, as in
		// TestHashPropDistribution.
		if f := float64(over) / float64(buckets); f > 0.5 {
			t.Errorf("keys i<<%d: %.1f%% of %d buckets overflowed; want about 25%%", shift, 100*f, buckets)
		}
		if f := float64(twins) / float64(pairs); f > 2.0/128 {
			t.Errorf("keys i<<%d: %.2f%% of %d slot pairs in one bucket share a tag; want about %.2f%%", shift, 100*f, pairs, 100.0/128)
		}
		if err := m.checkInvariants(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHashPropFlooding checks that keys chosen to pile up under one
// map's seeds (all in one segment, or in one segment and one home bucket
// region, or sharing 32 hash bits) spread out under another map's.
func TestHashPropFlooding(t *testing.T) {
	t.Parallel() // a pure test: see parallel_test.go
	hashPropFlood(t, "int", func(i int) int { return i })
	if strconv.IntSize == 64 {
		hashPropFlood(t, "int<<32", func(i int) int { return i << 32 })
	} else {
		// A 32-bit int shifted by 16 wraps at the 65,536th key, and the
		// test needs about a million distinct ones.
		hashPropFlood(t, "int64<<32", func(i int) int64 { return int64(i) << 32 })
	}
	hashPropFlood(t, "string", func(i int) string { return "k" + strconv.Itoa(i) })
	hashPropFlood(t, "long string", func(i int) string { return "/a/long/shared/prefix/of/forty/bytes/" + strconv.Itoa(i) })
	hashPropFlood(t, "any", func(i int) any {
		if i%2 == 0 {
			return i
		}
		return strconv.Itoa(i)
	})
	hashPropFlood(t, "struct", func(i int) hashPropPadded { return hashPropPadded{b: int64(i)} })
}

func hashPropFlood[K comparable](t *testing.T, name string, key func(int) K) {
	t.Helper()
	var a, b Map[K, int]
	a.Store(key(0), 0)
	b.Store(key(0), 0)
	ha, hb := a.t.Load().hasher, b.t.Load().hasher

	// 1. 8,000 keys all in segment 0 of a. Under b, a segment gets
	// Binomial(8000, 1/16): 500 ± 22; 2x is 23 deviations away.
	var seg0 []K
	for i := 0; len(seg0) < 8000; i++ {
		if k := key(i); segmentOf(hashPropHash(ha, k)) == 0 {
			seg0 = append(seg0, k)
		}
	}
	var counts [segments]int
	for _, k := range seg0 {
		counts[b.segmentOf(k)]++
	}
	if mx := slices.Max(counts[:]); mx > 2*len(seg0)/segments {
		t.Errorf("%s: 8,000 keys of one segment of map a: map b's fullest segment holds %d; want about %d (counts %v)", name, mx, len(seg0)/segments, counts)
	}

	// 2. 1,000 keys in one cell of a (one in 1,024): segment 0 and the
	// same top 6 bits below it (home(h, 64)). Under b they fall in 1,024
	// cells, Poisson(~1) each; P(a cell gets 16 or more) < 1e-13.
	var cell []K
	for i := 0; len(cell) < 1000; i++ {
		if h := hashPropHash(ha, key(i)); segmentOf(h) == 0 && home(h, 64) == 0 {
			cell = append(cell, key(i))
		}
	}
	cells := map[int]int{}
	for _, k := range cell {
		h := hashPropHash(hb, k)
		cells[segmentOf(h)*64+home(h, 64)]++
	}
	for c, cnt := range cells {
		if cnt >= 16 {
			t.Errorf("%s: 1,000 keys of one cell of map a: %d fall in one cell of map b (cell %d)", name, cnt, c)
		}
	}

	// 3. Pairs of keys that share 32 hash bits under a (the top 25, which
	// choose segment and bucket, and the tag): found among 2^18 keys,
	// about 2^35/2^32 = 8 pairs. Under b, each pair shares the 32 bits
	// with probability 2^-32: even one such pair is a billion-to-one
	// event; the bound allows 2.
	const mask = 0xffffff8000000000 | 0x7f
	byBits := map[uint64]K{}
	var pairs [][2]K
	for i := range 1 << 18 {
		k := key(i)
		bits := hashPropHash(ha, k) & mask
		if o, ok := byBits[bits]; ok {
			pairs = append(pairs, [2]K{o, k})
		}
		byBits[bits] = k
	}
	still := 0
	for _, p := range pairs {
		if hashPropHash(hb, p[0])&mask == hashPropHash(hb, p[1])&mask {
			still++
		}
	}
	if still > 2 {
		t.Errorf("%s: %d of %d key pairs that share 32 hash bits under map a share them under map b", name, still, len(pairs))
	}

	// 4. The keys of 1 in a real map b: correct, and spread.
	ref := map[K]int{key(0): 0}
	for i, k := range seg0 {
		b.Store(k, i)
		ref[k] = i
	}
	hashPropCheckRef(t, name+" flood keys in map b", &b, ref)
	b.promoteAll()
	hashPropCheckRef(t, name+" flood keys in map b, promoted", &b, ref)
}

// TestHashPropMillionLowBits checks a map of 1,000,000 int keys whose
// low 32 bits are all zero (k<<32) against a Go map: Store, Load of
// present and absent keys, Delete, LoadOrStore, Swap and Range, in dirty
// maps and after promotions. Under -race (where 1,000,000 keys take 40 s)
// and -short, 100,000.
func TestHashPropMillionLowBits(t *testing.T) {
	t.Parallel() // a pure test: see parallel_test.go
	n := 1_000_000
	shift := 32
	if strconv.IntSize == 32 {
		shift = 12
	}
	if testing.Short() || hashPropRace() {
		n = 100_000
	}
	var m Map[int, int]
	ref := make(map[int]int, n)
	for i := range n {
		m.Store(i<<shift, i)
		ref[i<<shift] = i
	}
	if got := m.Len(); got != n {
		t.Fatalf("Len() = %d; want %d", got, n)
	}
	// Load, some before any promotion (misses count toward one).
	for i := range n {
		if v, ok := m.Load(i << shift); !ok || v != i {
			t.Fatalf("Load(%d<<%d) = %d, %v; want %d, true", i, shift, v, ok, i)
		}
		if i%8 == 0 {
			if v, ok := m.Load(i<<shift | 1); ok {
				t.Fatalf("Load(%d<<%d|1) = %d, true; want absent", i, shift, v)
			}
		}
	}
	for i := range n {
		k := i << shift
		switch i % 6 {
		case 0:
			m.Delete(k)
			delete(ref, k)
		case 1:
			if prev, loaded := m.Swap(k, -i); !loaded || prev != i {
				t.Fatalf("Swap(%d) = %d, %v; want %d, true", k, prev, loaded, i)
			}
			ref[k] = -i
		case 2:
			if act, loaded := m.LoadOrStore(k|1, i); loaded {
				t.Fatalf("LoadOrStore(%d) = %d, true; want a new key", k|1, act)
			}
			ref[k|1] = i
		}
	}
	// Compare with the reference: Len, Load of every key in it (and of
	// the deleted ones), and Range (each key once, by a bitmap of the
	// keys' indexes: keys are i<<shift, and i<<shift|1).
	check := func(what string) {
		t.Helper()
		if got := m.Len(); got != len(ref) {
			t.Fatalf("%s: Len() = %d; want %d", what, got, len(ref))
		}
		for i := range n {
			for _, k := range []int{i << shift, i<<shift | 1} {
				v, ok := m.Load(k)
				if want, wok := ref[k]; v != want || ok != wok {
					t.Fatalf("%s: Load(%d) = %d, %v; want %d, %v", what, k, v, ok, want, wok)
				}
			}
		}
		seen := make([]bool, 2*n)
		cnt := 0
		m.Range(func(k, v int) bool {
			if want, ok := ref[k]; !ok || want != v {
				t.Fatalf("%s: Range yields %d: %d; reference %d, %v", what, k, v, want, ok)
			}
			if idx := k>>shift*2 + k&1; seen[idx] {
				t.Fatalf("%s: Range yields %d twice", what, k)
			} else {
				seen[idx] = true
			}
			cnt++
			return true
		})
		if cnt != len(ref) {
			t.Fatalf("%s: Range yields %d keys; want %d", what, cnt, len(ref))
		}
	}
	check("dirty and read")
	m.promoteAll()
	check("promoted")
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	// Spread over segments of the real map.
	tb := m.t.Load()
	var segCounts [segments]int
	for i := range tb.reads {
		segCounts[i] = tb.loadRead(i).n
	}
	share := 0
	for _, c := range segCounts {
		share += c
	}
	share /= segments
	if mx := slices.Max(segCounts[:]); mx > 2*share {
		t.Errorf("the fullest segment holds %d entries; share %d (%v)", mx, share, segCounts)
	}
}

// TestHashPropDegenerateHash checks that the map stays correct, only
// slower, when the hash is as bad as it can be: every key with one hash,
// hashes that differ only in their top bits (one bucket, no tag), only in
// their low bits (one segment, one home bucket), or in their middle bits
// only. It installs such a function in a map of named int keys, which the
// inline int path leaves to the hasher.
func TestHashPropDegenerateHash(t *testing.T) {
	fns := []struct {
		name string
		fn   func(hashPropInt) uint64
	}{
		{"constant", func(hashPropInt) uint64 { return 0x123456789abcdef0 }},
		{"identity", func(k hashPropInt) uint64 { return uint64(k) }},
		{"k<<32", func(k hashPropInt) uint64 { return uint64(k) << 32 }},
		{"k<<50", func(k hashPropInt) uint64 { return uint64(k) << 50 }},
		{"k<<7", func(k hashPropInt) uint64 { return uint64(k) << 7 }},
	}
	const n = 1500
	for _, f := range fns {
		var m Map[hashPropInt, int]
		tb := firstTable[hashPropInt, int](0)
		tb.hasher.hash = f.fn
		m.t.Store(tb)
		ref := map[hashPropInt]int{}
		rng := rand.New(rand.NewPCG(5, 6))
		for round := range 3 {
			for i := range n {
				k := hashPropInt(rng.IntN(2 * n))
				switch rng.IntN(5) {
				case 0, 1:
					m.Store(k, i)
					ref[k] = i
				case 2:
					m.Delete(k)
					delete(ref, k)
				case 3:
					act, loaded := m.LoadOrStore(k, i)
					want, ok := ref[k]
					if loaded != ok || (ok && act != want) {
						t.Fatalf("%s: LoadOrStore(%d) = %d, %v; want %d, %v", f.name, k, act, loaded, want, ok)
					}
					if !ok {
						ref[k] = i
					}
				case 4:
					v, ok := m.Load(k)
					want, wok := ref[k]
					if v != want || ok != wok {
						t.Fatalf("%s: Load(%d) = %d, %v; want %d, %v", f.name, k, v, ok, want, wok)
					}
				}
			}
			hashPropCheckRef(t, fmt.Sprintf("%s, round %d", f.name, round), &m, ref)
			if round == 1 {
				m.promoteAll()
				m.sweepAll()
				hashPropCheckRef(t, fmt.Sprintf("%s, round %d, promoted", f.name, round), &m, ref)
			}
		}
		// Absent keys after a promotion (the cold-key path of Load for
		// read maps of more than 64 buckets with deleted entries).
		m.promoteAll()
		for k := hashPropInt(0); k < 4*n; k++ {
			v, ok := m.Load(k)
			want, wok := ref[k]
			if v != want || ok != wok {
				t.Fatalf("%s: promoted: Load(%d) = %d, %v; want %d, %v", f.name, k, v, ok, want, wok)
			}
		}
	}
}

// TestHashPropColdKeyMisses drives Load's cold-key path (a read map of
// more than 64 buckets in a segment, a deleted entry with the key's tag):
// keys of the same tag as deleted ones must still be found, and deleted
// ones reported absent.
func TestHashPropColdKeyMisses(t *testing.T) {
	var m Map[int, int]
	const n = 40_000 // ~2,500 per segment: ~480 buckets, past coldKeyBuckets
	for i := range n {
		m.Store(i, i)
	}
	m.promoteAll()
	tb := m.t.Load()
	if r := tb.loadRead(0); len(r.keys) <= coldKeyBuckets {
		t.Fatalf("test bug: segment 0 has %d buckets", len(r.keys))
	}
	for i := 0; i < n; i += 3 {
		m.Delete(i)
	}
	for i := range 2 * n {
		v, ok := m.Load(i)
		wok := i < n && i%3 != 0
		if ok != wok || (ok && v != i) {
			t.Fatalf("Load(%d) = %d, %v; want present %v", i, v, ok, wok)
		}
	}
	// Keys that share segment, home bucket and tag with a deleted key.
	twins := 0
	byCell := map[[3]int][]int{}
	for i := range n {
		h := hashPropHash(tb.hasher, i)
		s := segmentOf(h)
		c := [3]int{s, home(h, len(tb.loadRead(s).buckets)), int(tagOf(h))}
		byCell[c] = append(byCell[c], i)
	}
	for c, ks := range byCell {
		if len(ks) < 2 {
			continue
		}
		twins++
		for _, k := range ks {
			v, ok := m.Load(k)
			if wok := k%3 != 0; ok != wok || (ok && v != k) {
				t.Fatalf("cell %v (%v): Load(%d) = %d, %v; want present %v", c, ks, k, v, ok, wok)
			}
		}
	}
	if twins == 0 {
		t.Fatal("test bug: no tag twins")
	}
	// New keys (in dirty maps) that share segment, home bucket and tag
	// with a deleted key of the read map.
	added := 0
	for i := n; added < 200 && i < 50*n; i++ {
		h := hashPropHash(tb.hasher, i)
		s := segmentOf(h)
		c := [3]int{s, home(h, len(tb.loadRead(s).buckets)), int(tagOf(h))}
		for _, k := range byCell[c] {
			if k%3 == 0 {
				m.Store(i, -i)
				if v, ok := m.Load(i); !ok || v != -i {
					t.Fatalf("new key %d, in the cell of deleted key %d: Load = %d, %v", i, k, v, ok)
				}
				if v, ok := m.Load(k); ok {
					t.Fatalf("deleted key %d: Load = %d, true after new key %d", k, v, i)
				}
				added++
				break
			}
		}
	}
	if added < 200 {
		t.Fatalf("test bug: only %d new keys share a cell with a deleted key", added)
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestHashPropZeroKeyForm checks which of two equal keys with different
// bits (+0 and -0) Range reports: the key as the last write gave it (see
// rangeRead), as a Go map reports the key of its last assignment. Writes
// that store a value (Store, Swap, CompareAndSwap, Compute) give the key
// its form; LoadOrStore of a present key writes nothing. Checked for float
// keys, floats in interface keys and in structs, in dirty maps and read
// maps.
func TestHashPropZeroKeyForm(t *testing.T) {
	negZero := math.Copysign(0, -1)
	pos, neg := 0.0, negZero
	hashPropZeroForm(t, "float64", pos, neg, func(k float64) bool { return math.Signbit(k) })
	hashPropZeroForm(t, "any", any(pos), any(neg), func(k any) bool { return math.Signbit(k.(float64)) })
	hashPropZeroForm(t, "struct", hashPropFloats{f: pos}, hashPropFloats{f: neg}, func(k hashPropFloats) bool { return math.Signbit(k.f) })
}

func hashPropZeroForm[K comparable](t *testing.T, name string, pos, neg K, negative func(K) bool) {
	t.Helper()
	for _, promote := range []bool{false, true} {
		var m Map[K, int]
		// The Go map reference, for Store.
		ref := map[K]int{}
		want := false // the form Range must report
		check := func(after string) {
			t.Helper()
			n := 0
			m.Range(func(k K, v int) bool {
				n++
				if negative(k) != want {
					t.Errorf("%s (promoted %v): after %s, Range reports the key as %v; want negative %v", name, promote, after, k, want)
				}
				return true
			})
			if n != 1 {
				t.Fatalf("%s: Range yields %d keys; want 1", name, n)
			}
			if promote {
				m.promoteAll()
			}
		}
		m.Store(pos, 0)
		ref[pos] = 0
		check("Store(+0)")
		m.Store(neg, 1)
		ref[neg] = 1
		for k := range ref {
			if negative(k) != true {
				t.Fatalf("test bug: the Go map reports %v after m[-0] = 1", k)
			}
		}
		want = true
		check("Store(-0)")
		m.Swap(pos, 2)
		want = false
		check("Swap(+0)")
		if !m.CompareAndSwap(neg, 2, 3) {
			t.Fatalf("%s: CompareAndSwap(-0, 2, 3) failed", name)
		}
		want = true
		check("CompareAndSwap(-0)")
		m.Compute(pos, func(old int, loaded bool) (int, ComputeOp) { return old + 1, UpdateOp })
		want = false
		check("Compute(+0)")
		if _, loaded := m.LoadOrStore(neg, 9); !loaded {
			t.Fatalf("%s: LoadOrStore(-0) stored", name)
		}
		check("LoadOrStore(-0), which loads")
		m.Delete(neg)
		m.Store(neg, 5)
		want = true
		check("Delete(-0), Store(-0)")
	}
}

// TestHashPropRangeMovedKeyForm checks the key form Range reports for an
// entry that a rebuild moves while the Range runs (rangeRead's moved
// case): the key as the last write gave it, as for entries not moved. The
// key 0 is stored as +0, promoted, then overwritten as -0 (its box holds
// -0; the read map's slot key stays +0). The Range's callback, at the
// first key of 0's segment that it sees before 0, adds a key to that
// segment and promotes it: the rebuild moves every entry of the read map
// the Range holds, 0's included.
func TestHashPropRangeMovedKeyForm(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for attempt := 0; ; attempt++ {
		if attempt == 50 {
			t.Fatal("test bug: 0 was the first key of its segment in 50 maps")
		}
		var m Map[float64, int]
		for i := range 200 {
			m.Store(float64(i), i)
		}
		m.promoteAll()
		m.Store(negZero, -1) // lock-free, in the read map's entry: the box holds -0
		// Control: a Range that moves nothing reports -0.
		m.Range(func(k float64, v int) bool {
			if k == 0 && !math.Signbit(k) {
				t.Fatalf("Range without a rebuild reports +0 after Store(-0)")
			}
			return true
		})
		seg := m.segmentOf(0)
		triggered, sawZeroFirst := false, false
		var zeroKey float64
		zeroSeen := false
		extra := 1000.5
		m.Range(func(k float64, v int) bool {
			if m.segmentOf(k) != seg {
				return true
			}
			if k == 0 {
				zeroSeen, zeroKey = true, k
				if !triggered {
					sawZeroFirst = true
				}
				return true
			}
			if !triggered && !zeroSeen {
				for m.segmentOf(extra) != seg {
					extra++
				}
				m.Store(extra, 0)
				m.promoteAll()
				triggered = true
			}
			return true
		})
		if sawZeroFirst {
			continue
		}
		if !zeroSeen {
			t.Fatal("Range did not yield 0")
		}
		if !math.Signbit(zeroKey) {
			t.Fatalf("Range reports the key 0 as +0, its read map slot's form, when a rebuild moves its entry during the Range; its last write (Store(-0)) gave -0, which a Range without the rebuild reports")
		}
		if v, ok := m.Load(0); !ok || v != -1 {
			t.Fatalf("Load(0) = %d, %v; want -1, true", v, ok)
		}
		return
	}
}
