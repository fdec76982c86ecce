package safemap

import (
	"math"
	"testing"
)

// quickAgrees checks that h.quick either declines key or returns h.hash's
// result, and that it takes key exactly when want says so.
func quickAgrees[K comparable](t *testing.T, h hasher[K], key K, want bool) {
	t.Helper()
	got, ok := h.quick(key)
	if ok != want {
		t.Fatalf("%T: quick(%v) took the key: %v; want %v", key, key, ok, want)
	}
	if ok && got != h.hash(key) {
		t.Fatalf("%T: quick(%v) = %#x; hash = %#x", key, key, got, h.hash(key))
	}
}

// TestQuickHash checks that the inline hash of Load and write agrees with
// the hasher's function, and that it takes int keys only: a named int type,
// or an int inside an interface key, is hashed by the function (for any,
// maphash.Comparable; a different hash for the same integer).
func TestQuickHash(t *testing.T) {
	ints := newHasher[int]()
	for _, k := range []int{0, 1, -1, 42, math.MaxInt32, math.MaxInt, math.MinInt} {
		quickAgrees(t, ints, k, true)
	}
	type myInt int
	quickAgrees(t, newHasher[myInt](), 42, false)
	quickAgrees(t, newHasher[any](), any(42), false)
	quickAgrees(t, newHasher[int64](), 42, false)
	quickAgrees(t, newHasher[string](), "42", false)

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
