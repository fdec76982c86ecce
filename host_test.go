package safemap

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
)

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

// BenchmarkHostChase measures the latency of a load that misses the caches
// by a given amount: each iteration loads the next of a random cycle of
// cache lines spread over a working set of the named size, and each load's
// address comes from the one before, so no two overlap and the prefetcher
// cannot guess them. 16 KiB stays in the L1 cache, 256 KiB in the L2 (512
// KiB per core on the AMD EPYC host of the recorded runs), 4 MiB in the
// shared L3 unless another tenant has taken it, and 64 MiB goes to memory
// (the TLB's misses included). Beside BenchmarkHost it tells a host whose
// cores are slow from one whose caches are shared or whose memory is far:
//
//	go test -run '^$' -bench 'HostChase' -benchtime 200ms -count 4 -cpu 1 .
func BenchmarkHostChase(b *testing.B) {
	for _, kib := range []int{16, 256, 4 << 10, 64 << 10} {
		name := fmt.Sprintf("bytes=%dK", kib)
		if kib >= 1<<10 {
			name = fmt.Sprintf("bytes=%dM", kib>>10)
		}
		b.Run(name, func(b *testing.B) {
			const stride = 8 // ints per 64-byte line
			lines := kib << 10 / 64
			next := make([]int, lines*stride)
			// A random order of every line (Sattolo's shuffle; any
			// shuffle would do), each line linked to the next in that
			// order and the last to the first: one cycle through all.
			order := make([]int, lines)
			for i := range order {
				order[i] = i
			}
			r := rand.New(rand.NewPCG(1, 2))
			for i := lines - 1; i > 0; i-- {
				j := r.IntN(i)
				order[i], order[j] = order[j], order[i]
			}
			for i, l := range order {
				next[l*stride] = order[(i+1)%lines] * stride
			}
			at := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				at = next[at]
			}
			sinkInt = at
		})
	}
}

// BenchmarkHostPingPong measures what it costs to pass a cache line from
// one core to another and back: two goroutines take turns with one
// counter, each waiting (spinning) for the other's store before it stores
// the next value, and an iteration is one round trip, two hand-offs. It
// needs two Ps (-cpu 2) and skips with fewer.
//
// Rows where two goroutines write the same lines, Go's Clear workload
// above all, are bound by that cost: on the hosts of the recorded runs it
// changes from hour to hour, and Clear's samples at 2 CPUs fall in a fast
// and a slow mode (benchmarks/JOURNAL.md, the session of 2026-12-06 from
// 19:39). scripts/bench.sh records it after each round, to tell which
// rounds ran in which:
//
//	go test -run '^$' -bench 'HostPingPong' -benchtime 100ms -count 4 -cpu 2 .
func BenchmarkHostPingPong(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two Ps to run both goroutines at once: use -cpu 2")
	}
	// The counter alone on its line, so that nothing else the goroutines
	// touch moves with it.
	var line struct {
		_    [64]byte
		turn atomic.Int64
		_    [56]byte
	}
	turn := &line.turn
	n := int64(b.N)
	done := make(chan struct{})
	b.ResetTimer()
	go func() {
		defer close(done)
		for i := int64(1); i < 2*n; i += 2 {
			for turn.Load() != i { // the main goroutine's hand-off
			}
			turn.Store(i + 1)
		}
	}()
	for i := int64(0); i < 2*n; i += 2 {
		for turn.Load() != i { // the other goroutine's hand-off
		}
		turn.Store(i + 1)
	}
	<-done
}

// sinkInt keeps BenchmarkHostChase's loads from being optimized away.
var sinkInt int

// sinkBox keeps the plain stores of BenchmarkHost from being optimized away.
var sinkBox *box[int, int]
