package safemap

// An Option configures a Map made by [New].
type Option func(*options)

type options struct {
	capacity int
}

// WithCapacity presizes the map for about n keys, so that the first n
// stores do not grow its dirty maps step by step. A value of n <= 0 asks for
// no presizing, and a value over maxCapacity (67,108,864) presizes for that
// many keys: each segment allocates its part of the room at its first new
// key, and a hint too big to allocate would be a fatal error there, where
// Go's make ignores one. The dirty maps grow past it as keys come. The
// presizing lasts as long as the map: after a Clear, each segment presizes
// again at its first new key, as Go's clear keeps a map's room.
func WithCapacity(n int) Option {
	return func(o *options) { o.capacity = n }
}

// maxCapacity is the largest capacity that WithCapacity presizes for: 2^26
// keys, 4,194,304 per segment, whose first dirty map then takes 128 MiB with
// int keys. firstTable applies it.
const maxCapacity = 1 << 26

// New returns an empty Map configured by opts, the last of them winning
// where two set one thing; nil options are ignored. New is needed only for
// options: the zero Map is ready to use.
func New[K comparable, V any](opts ...Option) *Map[K, V] {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	m := &Map[K, V]{capacity: o.capacity}
	if o.capacity > 0 {
		m.t.Store(firstTable[K, V](o.capacity))
	}
	return m
}
