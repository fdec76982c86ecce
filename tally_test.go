package safemap

import (
	"math/rand/v2"
	"testing"
)

// TestTally adds random deltas to a tally word and to two plain counters,
// and checks that the word decodes to the counters: live exactly, tombs
// modulo 2^24, however far tombs wanders (below zero, past 2^23) and
// whatever sign live takes.
func TestTally(t *testing.T) {
	const tombsMod = 1 << (64 - tallyLiveBits)
	wrap := func(x int64) int64 { // x as a signed 24-bit number
		x %= tombsMod
		if x >= tombsMod/2 {
			x -= tombsMod
		} else if x < -tombsMod/2 {
			x += tombsMod
		}
		return x
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, start := range [][2]int64{{0, 0}, {-5, 3}, {1 << 38, -(1 << 23)}, {-(1 << 38), 1<<23 - 1}, {12345, 1 << 30}} {
		live, tombs := start[0], start[1]
		w := tallyDelta(live, tombs)
		for range 10_000 {
			dl, dt := rng.Int64N(2001)-1000, rng.Int64N(2_000_001)-1_000_000
			if rng.IntN(4) == 0 {
				dl, dt = rng.Int64N(3)-1, rng.Int64N(3)-1 // the deltas that writes add
			}
			live, tombs = live+dl, tombs+dt
			w += tallyDelta(dl, dt)
			if got := tallyLive(w); got != live {
				t.Fatalf("live = %d, want %d (tombs %d)", got, live, tombs)
			}
			if got, want := tallyTombs(w), wrap(tombs); got != want {
				t.Fatalf("tombs = %d, want %d (%d modulo 2^24; live %d)", got, want, tombs, live)
			}
		}
	}
}

// TestTooManyReadTombs checks the rebuild threshold through the tally: the
// rule of tooManyTombs for read maps up to maxTalliedEntries, and never
// for larger ones, whose count may have wrapped.
func TestTooManyReadTombs(t *testing.T) {
	for _, c := range []struct {
		live, tombs int64
		n           int
		want        bool
	}{
		{0, compactMin - 1, compactMin, false},
		{0, compactMin, compactMin, true},
		{100, 75, 100, false},
		{100, 76, 100, true},
		{-3, 76, 100, true}, // live below zero borrows from tombs' bits
		{5, -2, 100, false},
		{0, maxTalliedEntries, maxTalliedEntries, true},
		{0, maxTalliedEntries + 1, maxTalliedEntries + 1, false},
	} {
		if got := tooManyReadTombs(tallyDelta(c.live, c.tombs), c.n); got != c.want {
			t.Errorf("tooManyReadTombs(live %d, tombs %d, n %d) = %v, want %v", c.live, c.tombs, c.n, got, c.want)
		}
	}
}
