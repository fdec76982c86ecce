package safemap

// An Option configures a Map made by [New].
type Option func(*options)

type options struct {
	capacity int
}

// WithCapacity presizes the map for about n keys, so that the first n
// stores do not grow its dirty maps step by step. A value of n <= 0 asks for
// no presizing.
func WithCapacity(n int) Option {
	return func(o *options) { o.capacity = n }
}

// New returns an empty Map configured by opts. New is needed only for
// options: the zero Map is ready to use.
func New[K comparable, V any](opts ...Option) *Map[K, V] {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	m := &Map[K, V]{capacity: o.capacity}
	if o.capacity > 0 {
		m.t.Store(firstTable[K, V](o.capacity))
	}
	return m
}
