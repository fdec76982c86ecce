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

// TestLenPublishesLockedCounts follows the live count of keys that go
// through the locked path, which keeps its changes in the segment's
// pending count until Len or a rebuild publishes them: Len must be exact
// at every step, publish what it finds pending, and leave the invariant
// checker (which adds pending to tally's count) satisfied.
func TestLenPublishesLockedCounts(t *testing.T) {
	var m Map[int, int]
	want := 0
	check := func(step string) {
		t.Helper()
		if err := m.checkInvariants(); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := m.Len(); got != want {
			t.Fatalf("%s: Len() = %d, want %d", step, got, want)
		}
		tb := m.t.Load()
		for s := range tb.madeSegments() {
			s.mu.Lock()
			pending, settled := s.pending, s.settled.Load()
			s.mu.Unlock()
			if pending != 0 || !settled {
				t.Fatalf("%s: after Len, a segment holds pending %d (settled %v)", step, pending, settled)
			}
		}
		if err := m.checkInvariants(); err != nil {
			t.Fatalf("%s, after Len: %v", step, err)
		}
	}
	for i := range 1000 { // new keys: dirty, under mu
		m.Store(i, i)
		want++
		if i%97 == 0 {
			check("storing new keys")
		}
	}
	check("after the new keys")
	for i := 0; i < 1000; i += 3 { // deletes of keys still in dirty
		m.Delete(i)
		want--
	}
	for i := 0; i < 1000; i += 9 { // revivals in dirty
		m.Store(i, -i)
		want++
	}
	// Pending again, and no Len between: the promotions must publish.
	tb := m.t.Load()
	pendingSegments := 0
	for s := range tb.madeSegments() {
		s.mu.Lock()
		if s.pending != 0 {
			pendingSegments++
			if s.settled.Load() {
				t.Fatalf("a segment holds pending %d but is settled", s.pending)
			}
		}
		s.mu.Unlock()
	}
	if pendingSegments == 0 {
		t.Fatal("no segment has a pending count after locked writes")
	}
	m.promoteAll()
	for s := range tb.madeSegments() {
		s.mu.Lock()
		pending := s.pending
		s.mu.Unlock()
		if pending != 0 {
			t.Fatalf("after promotion, a segment holds pending %d", pending)
		}
	}
	check("after promotion")
	for i := range 1000 { // lock-free now: tally
		if _, loaded := m.LoadAndDelete(i); loaded {
			want--
		}
	}
	check("after deleting every key")
	if want != 0 {
		t.Fatalf("the test lost count: %d keys left", want)
	}
}

// TestPendingStaysBounded stores new keys (counted in pending, under mu)
// and deletes them with Compute (counted in tally, without mu), over and
// over, with no Len: the rebuilds that the computes' misses bring, and the
// purges of the dirty maps, must add pending to tally, so that neither
// count runs away from the other (without the rebuilds' adds, the test
// fails).
func TestPendingStaysBounded(t *testing.T) {
	var m Map[int, int]
	del := func(int, bool) (int, ComputeOp) { return 0, DeleteOp }
	for round := range 50 {
		for i := range 200 {
			k := round*200 + i
			m.Store(k, k)
			m.Compute(k, del)
		}
		tb := m.t.Load()
		for s := range tb.madeSegments() {
			s.mu.Lock()
			pending, live := s.pending, tallyLive(s.tally.Load())
			s.mu.Unlock()
			// Unpurged keys since the last purge: at most a dirty map's
			// worth before a purge (compactMin and three quarters).
			if pending > 4*compactMin || live < -4*compactMin {
				t.Fatalf("round %d: pending %d, tally's live count %d: the counts drift apart", round, pending, live)
			}
		}
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	if got := m.Len(); got != 0 {
		t.Fatalf("Len() = %d, want 0", got)
	}
}
