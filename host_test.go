package safemap

import "testing"

// BenchmarkHost measures what a pointer store costs on the machine at hand:
// plainly, with an atomic store, and with a CAS. On amd64 the atomic store
// and the CAS are locked instructions (XCHG, LOCK CMPXCHG), as are a
// mutex's lock and unlock and the segment counts' adds; what they cost
// differs from host to host far more than plain instructions do (10-11.5
// ns each on the Intel host of run r27, against 0.8-1.0 ns for a plain
// store; an atomic add took about 6.5 ns on the host of 2026-11-30; see
// benchmarks/JOURNAL.md), and with it the write rows' ratios to peers that use
// more or fewer of them. Run it beside a benchmark run to tell hosts apart:
//
//	go test -run '^$' -bench Host -benchtime 200ms -count 4 -cpu 1 .
//
// Each iteration stores into one of 64 entries in turn, so every store
// finds its line in the L1 cache: the figures are the instructions' own
// cost, without cache misses or contention.
func BenchmarkHost(b *testing.B) {
	var boxes [64]*box[int, int]
	for i := range boxes {
		boxes[i] = &box[int, int]{value: i, key: i}
	}
	b.Run("op=plainStore", func(b *testing.B) {
		var slots [64]*box[int, int]
		for i := 0; i < b.N; i++ {
			slots[i&63] = boxes[i&63]
		}
		sinkBox = slots[b.N&63]
	})
	b.Run("op=atomicStore", func(b *testing.B) {
		var es [64]entry[int, int]
		for i := 0; i < b.N; i++ {
			es[i&63].p.Store(boxes[i&63])
		}
	})
	b.Run("op=cas", func(b *testing.B) {
		var es [64]entry[int, int]
		for i := 0; i < b.N; i++ {
			e := &es[i&63]
			e.p.CompareAndSwap(e.p.Load(), boxes[i&63])
		}
	})
}

// sinkBox keeps the plain stores of BenchmarkHost from being optimized away.
var sinkBox *box[int, int]
