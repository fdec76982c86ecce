package safemap

import (
	"sync/atomic"
	"time"
	"weak"
)

// This file holds what becomes of deleted entries: the rebuild that drops
// them at once when a read map is mostly tombstones, and the timed sweeps
// that drop the rest within two sweep delays.

// deleted records that a write deleted an entry of read r. Deleted entries
// keep their key alive until a rebuild drops them; this makes sure one
// comes: at once when more than three quarters of the entries, and at
// least compactMin, are deleted (amortised O(1), since each of them was a
// delete), otherwise by the sweeps. A read map of more than
// maxTalliedEntries entries (4,194,304, in a map of some 67 million keys)
// leaves them all to the sweeps: its tombstone count may have wrapped
// (see tally.go).
//
// The threshold is high on purpose: under churn (keys deleted and soon
// stored again) about half the entries are deleted at any time, and
// rebuilding then would push the re-stored keys through the dirty map.
//
// tally is the segment's tally as the delete's add left it: the delete
// counts itself, live and tombstone at once, with that one add (see
// tally.go).
func (s *segment[K, V]) deleted(t *table[K, V], r *readOnly[K, V], tally int64) {
	if tooManyReadTombs(tally, r.n) {
		s.mu.Lock()
		s.compactLocked(t)
		s.mu.Unlock()
		return
	}
	s.armSweep(t, r.n)
}

// deletedLocked is deleted for a caller that holds mu.
func (s *segment[K, V]) deletedLocked(t *table[K, V], r *readOnly[K, V], tally int64) {
	if tooManyReadTombs(tally, r.n) {
		s.compactLocked(t)
		return
	}
	s.armSweepLocked(t, r.n)
}

// tooManyTombs reports whether tombs of the n entries of a read map are
// deleted enough to rebuild it at once, or of a dirty map to purge it.
func tooManyTombs(tombs int64, n int) bool {
	// Below compactMin tombstones the sweeps suffice: rebuilding a small
	// read map on each delete would make a key that churns (deleted and
	// stored again, lock-free) rebuild its segment on every cycle.
	return tombs >= compactMin && tombs*4 > int64(n)*3
}

// compactMin is the fewest tombstones that make a read map rebuild at once.
const compactMin = 32

// compactLocked rebuilds read if it still has too many tombstones (another
// goroutine may have rebuilt it while we waited for mu).
func (s *segment[K, V]) compactLocked(t *table[K, V]) {
	if r := s.loadRead(t); tooManyReadTombs(s.tally.Load(), r.n) {
		s.promoteLocked(t)
	}
}

// sweepDelay is the time between sweeps: 500ms plus 100µs per entry, at
// most 1s. A rebuild costs well under 100ns per entry, so sweeps take a
// fraction of a percent of a core even on huge segments. A key deleted and
// stored again within a sweep delay (churn) keeps its entry, so the delay
// is long on purpose: with 100ms plus 10µs per entry, stores and deletes at random
// over 100,000 keys at 2 CPUs dropped a sixth of the tombstones at each
// sweep, only for their keys to come back through dirty and promotions (a
// store or delete every 40-80ms per key; 120-320ns per operation, against
// 40-50ns with this delay). A deleted key stays reachable for at most two
// sweep delays: 2s.
func sweepDelay(n int) time.Duration {
	return min(500*time.Millisecond+time.Duration(n)*100*time.Microsecond, time.Second)
}

// armSweep makes sure a sweep will run. Only the goroutine that flips
// sweepArmed arms the timer; the sweep clears the flag before it rebuilds,
// so a delete after that arms a new one, and a delete before it is seen by
// the rebuild.
func (s *segment[K, V]) armSweep(t *table[K, V], n int) {
	if s.sweepArmed.Load() || !s.sweepArmed.CompareAndSwap(false, true) {
		return
	}
	s.mu.Lock()
	s.startSweepLocked(t, n)
	s.mu.Unlock()
}

// armSweepLocked is armSweep for a caller that holds mu.
func (s *segment[K, V]) armSweepLocked(t *table[K, V], n int) {
	if s.sweepArmed.Load() || !s.sweepArmed.CompareAndSwap(false, true) {
		return
	}
	s.startSweepLocked(t, n)
}

// sweeper is a segment's sweep timer and what the timer sweeps. An armed
// timer is in the runtime's timer heap, which the GC scans, and so is a
// stopped one until the P that holds it next checks its timers (Go 1.23
// and later leave it there as a "zombie"). So the timer's function reaches
// the segment and its table only through target, whose pointers are weak:
// a Map that the program drops, and a table that Clear dropped, are
// collected at the next GC with their keys and values, armed timer or not;
// the timer then fires with nothing to sweep. stopSweep also clears target
// at once, so that a dropped table is seldom swept while the GC has yet to
// collect it: a timer that fired before stopSweep, or that a write in
// flight on the dropped table arms after it, may still sweep it, under the
// segment's lock, as it would a live one. The timer holds only this small
// struct and target.
type sweeper[K comparable, V any] struct {
	timer  *time.Timer
	target atomic.Pointer[sweepTarget[K, V]]
}

// sweepTarget is the segment a sweeper sweeps and its table, weakly (see
// sweeper); it never changes once stored. The segment is weak too: the
// table reaches it, and it reaches the read and dirty maps, so a strong
// pointer would keep every key and value of a dropped table.
type sweepTarget[K comparable, V any] struct {
	s weak.Pointer[segment[K, V]]
	t weak.Pointer[table[K, V]]
}

// fire is the timer's function: it sweeps the target, if stopSweep has
// not dropped it and the GC has not collected its table. Value gives a
// strong pointer, or nil once the object is unreachable; the table
// reaches the segment (t.segs), so a live table means a live segment.
func (w *sweeper[K, V]) fire() {
	g := w.target.Load()
	if g == nil {
		return
	}
	if s, t := g.s.Value(), g.t.Value(); s != nil && t != nil {
		s.sweepNow(t)
	}
}

// startSweepLocked starts the sweep timer; mu guards the slow field.
func (s *segment[K, V]) startSweepLocked(t *table[K, V], n int) {
	sl := s.slowLocked()
	sl.sweepDelay = sweepDelay(n)
	if sl.sweep == nil {
		w := &sweeper[K, V]{}
		w.target.Store(&sweepTarget[K, V]{s: weak.Make(s), t: weak.Make(t)})
		w.timer = time.AfterFunc(sl.sweepDelay, w.fire)
		sl.sweep = w
		return
	}
	sl.sweep.timer.Reset(sl.sweepDelay)
}

// sweepNow drops the entries that have stayed deleted since the previous
// sweep, and marks the ones deleted since then (swept), to be dropped by the
// next sweep if they are still deleted then. It runs on the timer's
// goroutine, and arms the next sweep while marked entries wait.
//
// Two rounds instead of one keep churn cheap: a key deleted and stored
// again within a sweep delay keeps its entry in read, and its store stays
// lock-free.
func (s *segment[K, V]) sweepNow(t *table[K, V]) {
	s.sweepArmed.Store(false)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := 0
	s.eachLocked(t, func(e *entry[K, V]) {
		if e.p.Load() == t.swept {
			old++
		}
	})
	for sl := range s.dirty.all() {
		if sl.code() == dirtyCodeSwept {
			old++
		}
	}
	if old > 0 {
		s.rebuildLocked(t, true)
	}
	young := 0
	s.eachLocked(t, func(e *entry[K, V]) {
		if e.trySweepLocked(t) {
			young++
		}
	})
	for sl := range s.dirty.all() {
		if sl.code() == dirtyCodeDeleted {
			sl.setState(t.swept)
			young++
		}
	}
	if young > 0 {
		s.armSweepLocked(t, s.loadRead(t).n+s.dirty.len())
	}
}

// eachLocked calls f for every entry of read; mu must be held.
func (s *segment[K, V]) eachLocked(t *table[K, V], f func(e *entry[K, V])) {
	s.loadRead(t).each(func(_ K, e *entry[K, V]) bool { f(e); return true })
}

// stopSweep stops the sweep timer of a table that Clear dropped, so that
// the timer seldom sweeps it while the GC has yet to collect it (the
// timer's weak pointers do not keep it reachable; see sweeper). It takes
// mu whatever sweepArmed says: a sweep that has fired clears the flag,
// then waits for mu, and may re-arm the timer when it finds deleted
// entries. If the sweep has mu first, taking mu waits for it to end and
// clears the target it re-armed (TestClearRacingSweep); if not, the sweep
// runs after this, on the dropped table, and re-arms a timer that fires
// with no target.
// A write still in flight on the dropped table may arm a timer after
// this: a segment's first, which sweeps the table when it fires if the GC
// has not collected it yet, or an existing one, which fires with no target.
func (s *segment[K, V]) stopSweep() {
	s.mu.Lock()
	if s.slow != nil && s.slow.sweep != nil {
		w := s.slow.sweep
		w.timer.Stop()
		// Stop does not take the timer out of the runtime's heap at once
		// (see sweeper); dropping the target means it never sweeps the
		// dropped table. A timer that a write in flight re-arms after this
		// fires with no target and does nothing.
		w.target.Store(nil)
	}
	s.mu.Unlock()
}
