package safemap

import "iter"

// All returns an iterator over the map's keys and values, for use in a
// range-over-func loop: for k, v := range m.All() { ... }.
//
// It gives Range's guarantees: no consistent snapshot (a key written during
// the loop may be seen with any value it had during the loop, or not at
// all), each key visited at most once, every key present throughout the
// loop visited, and the loop body may call any method of m, including
// writes. The body runs with no lock held; a break stops the iteration, and
// a panic propagates with the map unchanged and usable.
//
// A full iteration is O(n). Like Range, it copies or promotes the new keys
// of a segment's dirty map before visiting the segment (see [Map.Range]),
// and it does not allocate per element.
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	return m.Range
}

// Keys returns an iterator over the map's keys, with the guarantees and
// costs of [Map.All].
func (m *Map[K, V]) Keys() iter.Seq[K] {
	return func(yield func(K) bool) {
		m.Range(func(k K, _ V) bool { return yield(k) })
	}
}

// Values returns an iterator over the map's values, with the guarantees and
// costs of [Map.All].
func (m *Map[K, V]) Values() iter.Seq[V] {
	return func(yield func(V) bool) {
		m.Range(func(_ K, v V) bool { return yield(v) })
	}
}
