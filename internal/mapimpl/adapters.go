package mapimpl

import (
	"sync"

	"github.com/puzpuzpuz/xsync/v3"
	xsyncv4 "github.com/puzpuzpuz/xsync/v4"
	"github.com/safemap-go/safemap"
)

// safemap.Map has every operation with the interface's signatures; WithCapacity
// is its presizing option.
func newSafemap[K comparable](capacity int) Map[K] {
	if capacity > 0 {
		return safemap.New[K, int](safemap.WithCapacity(capacity))
	}
	return new(safemap.Map[K, int])
}

// syncMap adapts sync.Map: every call converts the key and the value to and
// from any, as a user of sync.Map pays too. sync.Map has no presizing.
type syncMap[K comparable] struct{ m sync.Map }

func newSyncMap[K comparable](int) Map[K] { return new(syncMap[K]) }

func (s *syncMap[K]) Load(key K) (int, bool) {
	v, ok := s.m.Load(key)
	if !ok {
		return 0, false
	}
	return v.(int), true
}

func (s *syncMap[K]) Store(key K, value int) { s.m.Store(key, value) }

func (s *syncMap[K]) LoadOrStore(key K, value int) (int, bool) {
	v, loaded := s.m.LoadOrStore(key, value)
	return v.(int), loaded
}

func (s *syncMap[K]) LoadAndDelete(key K) (int, bool) {
	v, loaded := s.m.LoadAndDelete(key)
	if !loaded {
		return 0, false
	}
	return v.(int), true
}

func (s *syncMap[K]) Delete(key K) { s.m.Delete(key) }

func (s *syncMap[K]) Swap(key K, value int) (int, bool) {
	v, loaded := s.m.Swap(key, value)
	if !loaded {
		return 0, false
	}
	return v.(int), true
}

func (s *syncMap[K]) CompareAndSwap(key K, old, new int) bool {
	return s.m.CompareAndSwap(key, old, new)
}

func (s *syncMap[K]) CompareAndDelete(key K, old int) bool { return s.m.CompareAndDelete(key, old) }

func (s *syncMap[K]) Range(f func(K, int) bool) {
	s.m.Range(func(k, v any) bool { return f(k.(K), v.(int)) })
}

func (s *syncMap[K]) Clear() { s.m.Clear() }

// xsyncV3 adapts xsync v3's MapOf. Swap is LoadAndStore; CompareAndSwap and
// CompareAndDelete go through Compute, which v3 offers instead. v3's
// Compute cannot cancel, so a failed CompareAndSwap writes the old value
// back, as a v3 user would have to.
type xsyncV3[K comparable] struct{ *xsync.MapOf[K, int] }

func newXsyncV3[K comparable](capacity int) Map[K] {
	if capacity > 0 {
		return xsyncV3[K]{xsync.NewMapOf[K, int](xsync.WithPresize(capacity))}
	}
	return xsyncV3[K]{xsync.NewMapOf[K, int]()}
}

// Swap is LoadAndStore, which returns the new value when the key was
// absent; sync.Map's Swap returns the zero value then.
func (x xsyncV3[K]) Swap(key K, value int) (int, bool) {
	if prev, loaded := x.LoadAndStore(key, value); loaded {
		return prev, true
	}
	return 0, false
}

func (x xsyncV3[K]) CompareAndSwap(key K, old, new int) (swapped bool) {
	x.MapOf.Compute(key, func(v int, loaded bool) (int, bool) {
		if !loaded {
			return 0, true // delete an absent key: nothing changes
		}
		if v != old {
			return v, false
		}
		swapped = true
		return new, false
	})
	return swapped
}

func (x xsyncV3[K]) CompareAndDelete(key K, old int) (deleted bool) {
	x.MapOf.Compute(key, func(v int, loaded bool) (int, bool) {
		if !loaded {
			return 0, true
		}
		deleted = v == old
		return v, deleted
	})
	return deleted
}

// xsyncV4 adapts xsync v4's Map, whose Compute can cancel.
type xsyncV4[K comparable] struct{ *xsyncv4.Map[K, int] }

func newXsyncV4[K comparable](capacity int) Map[K] {
	if capacity > 0 {
		return xsyncV4[K]{xsyncv4.NewMap[K, int](xsyncv4.WithPresize(capacity))}
	}
	return xsyncV4[K]{xsyncv4.NewMap[K, int]()}
}

// Swap is LoadAndStore, which returns the new value when the key was
// absent; sync.Map's Swap returns the zero value then.
func (x xsyncV4[K]) Swap(key K, value int) (int, bool) {
	if prev, loaded := x.LoadAndStore(key, value); loaded {
		return prev, true
	}
	return 0, false
}

func (x xsyncV4[K]) CompareAndSwap(key K, old, new int) (swapped bool) {
	x.Map.Compute(key, func(v int, loaded bool) (int, xsyncv4.ComputeOp) {
		if !loaded || v != old {
			return v, xsyncv4.CancelOp
		}
		swapped = true
		return new, xsyncv4.UpdateOp
	})
	return swapped
}

func (x xsyncV4[K]) CompareAndDelete(key K, old int) (deleted bool) {
	x.Map.Compute(key, func(v int, loaded bool) (int, xsyncv4.ComputeOp) {
		if !loaded || v != old {
			return v, xsyncv4.CancelOp
		}
		deleted = true
		return v, xsyncv4.DeleteOp
	})
	return deleted
}

// rwMutex is a plain Go map behind a sync.RWMutex: the simplest correct
// concurrent map, and the one to beat on write-heavy work.
type rwMutex[K comparable] struct {
	mu sync.RWMutex
	m  map[K]int
}

func newRWMutex[K comparable](capacity int) Map[K] {
	return &rwMutex[K]{m: make(map[K]int, capacity)}
}

func (r *rwMutex[K]) Load(key K) (int, bool) {
	r.mu.RLock()
	v, ok := r.m[key]
	r.mu.RUnlock()
	return v, ok
}

func (r *rwMutex[K]) Store(key K, value int) {
	r.mu.Lock()
	r.m[key] = value
	r.mu.Unlock()
}

func (r *rwMutex[K]) LoadOrStore(key K, value int) (int, bool) {
	r.mu.RLock()
	v, ok := r.m[key]
	r.mu.RUnlock()
	if ok {
		return v, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.m[key]; ok {
		return v, true
	}
	r.m[key] = value
	return value, false
}

func (r *rwMutex[K]) LoadAndDelete(key K) (int, bool) {
	r.mu.Lock()
	v, ok := r.m[key]
	delete(r.m, key)
	r.mu.Unlock()
	return v, ok
}

func (r *rwMutex[K]) Delete(key K) {
	r.mu.Lock()
	delete(r.m, key)
	r.mu.Unlock()
}

func (r *rwMutex[K]) Swap(key K, value int) (int, bool) {
	r.mu.Lock()
	v, ok := r.m[key]
	r.m[key] = value
	r.mu.Unlock()
	return v, ok
}

func (r *rwMutex[K]) CompareAndSwap(key K, old, new int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.m[key]; !ok || v != old {
		return false
	}
	r.m[key] = new
	return true
}

func (r *rwMutex[K]) CompareAndDelete(key K, old int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.m[key]; !ok || v != old {
		return false
	}
	delete(r.m, key)
	return true
}

// Range copies the contents under the read lock and calls f without it, so
// that f may write the map (as sync.Map allows) without deadlocking. The
// copy is O(n) per call: the price of the simple design, which the Range
// benchmark shows.
func (r *rwMutex[K]) Range(f func(K, int) bool) {
	type kv struct {
		k K
		v int
	}
	r.mu.RLock()
	snapshot := make([]kv, 0, len(r.m))
	for k, v := range r.m {
		snapshot = append(snapshot, kv{k, v})
	}
	r.mu.RUnlock()
	for _, e := range snapshot {
		if !f(e.k, e.v) {
			return
		}
	}
}

func (r *rwMutex[K]) Clear() {
	r.mu.Lock()
	clear(r.m)
	r.mu.Unlock()
}
