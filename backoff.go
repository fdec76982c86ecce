package safemap

// This file holds what a lock-free writer does when it loses a race for an
// entry: it waits a while before it tries again.

// casBackoffSpins is how long a writer waits after a failed CAS on an
// entry, in iterations of backoff's loop (about a cycle each): a
// microsecond or two on today's processors, about what a contended
// sync.Mutex spins before it parks.
//
// A failed CAS means that another goroutine wrote the entry between our
// load and our CAS. Where goroutines on several cores write one key without
// pause, retrying at once makes every write move the entry's cache line
// from core to core, and about a third of the CASes fail. Waiting lets the
// other core write the key many times over while the line stays in its
// cache, as the holder of a mutex does. Measured at 2 CPUs (eight
// alternating rounds, benchmarks/JOURNAL.md, the session of 2026-12-03 from
// 08:37): SwapCollision 162.9 -> 59.6 ns, CompareAndSwapCollision 154.9 ->
// 88.4 ns. A goroutine alone on its key never fails a CAS, and never
// waits; nothing else changed (Go's set and the write mixes at 1 and 2
// CPUs).
//
// Deletes do not wait (see entry.update). A delete that lost its CAS
// mostly finds, on its next load, the key deleted by the winner, or its
// compare failing, and returns without writing; and a delete that does
// write ends the key's value, so it does not come back for the same line
// as a loop of Stores or CompareAndSwaps does. Waiting cost them time for
// nothing: without it, CompareAndDeleteCollision 46.9 -> 34.6 ns and
// LoadAndDeleteCollision 31.8 -> 25.7 ns (eight alternating rounds at 2
// CPUs, the session of 2026-12-03 from 11:34). Waiting only when the
// retry would write, whatever the operation (not kept), spared those rows
// too, but left CompareAndSwapCollision at 143.7 ns: a loser whose
// compare fails returns, and its next CompareAndSwap takes the line from
// the winner again at once.
const casBackoffSpins = 4096

// backoff spins for casBackoffSpins iterations. It touches no memory, so
// the waiting core takes no cache line from the others. It returns the
// loop's sum, which callers drop, and is not inlined: the compiler cannot
// then see that the sum is unused, and keeps the loop.
//
//go:noinline
func backoff() uint {
	x := uint(0)
	for i := uint(0); i < casBackoffSpins; i++ {
		x += i
	}
	return x
}
