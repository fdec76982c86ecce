package safemap

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// seededMap returns a map whose table hashes int keys with the given seeds,
// so that a test can pick keys by their hash (segment, bucket, tag).
func seededMap(s0, s1 uint64) *Map[int, int] {
	m := new(Map[int, int])
	tb := firstTable[int, int](0)
	tb.hasher = newHasherSeeded[int](s0, s1)
	m.t.Store(tb)
	return m
}

// TestOwnedKeysUnderRebuilds runs owners, each the only writer of its keys,
// in one big segment (read map over coldKeyBuckets buckets, so that Load's
// cold shortcut applies), against churners that add and delete new keys in
// the same segment (dirty growth, filter growth, purges), force promotions
// (misses), compactions and sweeps, and Range. It checks:
//   - every owner op's result against the owner's exact knowledge of its
//     key (LoadOrStore, CompareAndSwap, CompareAndDelete, Swap,
//     LoadAndDelete, Load right after the write);
//   - readers of other goroutines: a Load after seeing a published
//     version returns that version or a newer state (never older);
//   - permanent keys: never absent for Load, visited exactly once by Range.
func TestOwnedKeysUnderRebuilds(t *testing.T) {
	m := seededMap(0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9)
	const seg = 3
	tb := m.t.Load()
	inSeg := func(from, n int) []int {
		var ks []int
		for k := from; len(ks) < n; k++ {
			if _, i := tb.locate(k); i == seg {
				ks = append(ks, k)
			}
		}
		return ks
	}
	perm := inSeg(0, 600)
	for _, k := range perm {
		m.Store(k, -k)
	}
	const owners, perOwner = 4, 40
	owned := inSeg(1_000_000, owners*perOwner)
	for _, k := range owned {
		m.Store(k, 0) // version 0: stored
	}
	m.promoteAll()
	if r := tb.loadRead(seg); len(r.buckets) <= coldKeyBuckets {
		t.Fatalf("read map of %d buckets: the cold shortcut does not apply", len(r.buckets))
	}
	// pub[k] is the owner's last completed version of k, intent[k] the one
	// it is writing (stored before the write): even versions are stores of
	// that value, odd ones deletes.
	pub := make(map[int]*atomic.Int64, len(owned))
	intent := make(map[int]*atomic.Int64, len(owned))
	for _, k := range owned {
		pub[k], intent[k] = new(atomic.Int64), new(atomic.Int64)
	}
	dur := 3 * time.Second
	if testing.Short() {
		dur = time.Second
	}
	deadline := time.Now().Add(dur)
	var stop atomic.Bool
	var failed atomic.Bool
	fail := func(format string, args ...any) {
		if failed.CompareAndSwap(false, true) {
			t.Errorf(format, args...)
		}
		stop.Store(true)
	}
	var wg, bg sync.WaitGroup
	for o := range owners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys := owned[o*perOwner : (o+1)*perOwner]
			rng := rand.New(rand.NewPCG(uint64(o), 7))
			for !stop.Load() && time.Now().Before(deadline) {
				k := keys[rng.IntN(len(keys))]
				v := int(pub[k].Load())
				next := v + 1
				intent[k].Store(int64(next))
				if v%2 == 0 { // present with value v: delete it
					switch rng.IntN(3) {
					case 0:
						if got, ok := m.LoadAndDelete(k); !ok || got != v {
							fail("LoadAndDelete(%d) = %d, %v; want %d, true", k, got, ok, v)
						}
					case 1:
						if !m.CompareAndDelete(k, v) {
							fail("CompareAndDelete(%d, %d) = false on a present key", k, v)
						}
					default:
						m.Delete(k)
					}
					if got, ok := m.Load(k); ok {
						fail("Load(%d) after its delete = %d, true", k, got)
					}
				} else { // deleted: store next (even)
					switch rng.IntN(3) {
					case 0:
						if got, loaded := m.LoadOrStore(k, next); loaded {
							fail("LoadOrStore(%d) on a deleted key loaded %d", k, got)
						}
					case 1:
						if prev, loaded := m.Swap(k, next); loaded {
							fail("Swap(%d) on a deleted key loaded %d", k, prev)
						}
					default:
						if m.CompareAndSwap(k, v-1, next) {
							fail("CompareAndSwap(%d) swapped a deleted key", k)
						}
						m.Store(k, next)
						if !m.CompareAndSwap(k, next, next) {
							fail("CompareAndSwap(%d, %d, %d) = false on a present key", k, next, next)
						}
					}
					if got, ok := m.Load(k); !ok || got != next {
						fail("Load(%d) after storing %d = %d, %v", k, next, got, ok)
					}
				}
				pub[k].Store(int64(next))
			}
		}()
	}
	// Readers: a Load never returns a state older than the version
	// published before it began.
	for r := range 2 {
		bg.Add(1)
		go func() {
			defer bg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 11))
			for !stop.Load() {
				k := owned[rng.IntN(len(owned))]
				// The key's state during the Load is one of the versions
				// [done, in]: done before it, in after it.
				done := pub[k].Load()
				v, ok := m.Load(k)
				in := intent[k].Load()
				switch {
				case !ok && done%2 == 0 && in == done:
					fail("Load(%d) absent; version %d (stored) throughout", k, done)
				case ok && (v%2 != 0 || int64(v) < done || int64(v) > in):
					fail("Load(%d) = %d; versions %d..%d", k, v, done, in)
				}
				p := perm[rng.IntN(len(perm))]
				if v, ok := m.Load(p); !ok || v != -p {
					fail("Load(%d) of a permanent key = %d, %v", p, v, ok)
				}
			}
		}()
	}
	// Churners: new keys in the segment, deleted soon after; misses that
	// promote; sweeps and compaction; Range.
	bg.Add(1)
	go func() {
		defer bg.Done()
		fresh := inSeg(2_000_000, 4000)
		rng := rand.New(rand.NewPCG(5, 5))
		for i := 0; !stop.Load(); i++ {
			batch := fresh[rng.IntN(len(fresh)-200):]
			n := 1 + rng.IntN(150)
			for _, k := range batch[:n] {
				m.Store(k, k)
			}
			for _, k := range batch[:n] {
				m.Load(k) // misses: promotions
			}
			for _, k := range batch[:n] {
				if rng.IntN(4) != 0 {
					m.Delete(k)
				}
			}
			switch i % 7 {
			case 0:
				m.sweepAll()
			case 3:
				m.promoteAll()
			case 5:
				if i%5 != 0 {
					break
				}
				// Many promoted keys deleted lock-free: the deletes'
				// tombstone count compacts read (deleted, compactLocked).
				for _, k := range fresh {
					m.Store(k, k)
				}
				m.promoteAll()
				for _, k := range fresh {
					m.Delete(k)
				}
			}
		}
	}()
	bg.Add(1)
	go func() {
		defer bg.Done()
		for !stop.Load() {
			seen := make(map[int]bool, 2000)
			m.Range(func(k, v int) bool {
				if seen[k] {
					fail("Range visited %d twice", k)
				}
				seen[k] = true
				return true
			})
			for _, p := range perm {
				if !seen[p] {
					fail("Range missed permanent key %d", p)
					break
				}
			}
		}
	}()
	waitOrFail(t, &wg)
	stop.Store(true)
	waitOrFail(t, &bg)
	m.mustCheck()
}

// TestStaleReadMapChain holds a segment's read map across several
// rebuilds (promotions that move entries, a compaction that expunges,
// a sweep, dirty keys promoted over tombstones) and reads through it
// afterwards, as a reader that loaded it long ago would: loadSlow and
// rangeRead must follow the next links to each key's current entry. Keys
// never deleted must read as their latest value; deleted keys as absent
// (or, for one deleted and stored again, either). Both a one-bucket read
// map (smallReadOnly, d628852) and a big one.
func TestStaleReadMapChain(t *testing.T) {
	for _, n := range []int{1, 2, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var m Map[int, int]
			tb := m.loadOrInit()
			keys := keysInSegment(&m, 0, 3*n+40, 0)
			stable, churn, extra := keys[:n], keys[n:2*n], keys[2*n:]
			for _, k := range keys[:2*n] {
				m.Store(k, k)
			}
			m.promoteAll()
			old := tb.loadRead(0)
			if 2*n <= 5 && len(old.buckets) != 1 {
				t.Fatalf("read map of %d keys has %d buckets", 2*n, len(old.buckets))
			}
			want := map[int]int{}
			maybe := map[int]bool{}
			for i, k := range stable {
				m.Store(k, k+1000*i)
				want[k] = k + 1000*i
			}
			// Rebuild 1: new keys promoted; every entry of old moves.
			for _, k := range extra {
				m.Store(k, -k)
				want[k] = -k
			}
			m.promoteAll()
			// Rebuild 2: the churn keys deleted, then a full rebuild
			// expunges them; half come back through dirty.
			for _, k := range churn {
				m.Delete(k)
			}
			tb.segs[0].Load().mu.Lock()
			tb.segs[0].Load().promoteLocked(tb)
			tb.segs[0].Load().mu.Unlock()
			for i, k := range churn {
				if i%2 == 0 {
					m.Store(k, 7*k)
					maybe[k] = true
				}
			}
			// Rebuild 3 (promotion), 4 and 5 (sweeps), with values written
			// in between.
			m.promoteAll()
			for _, k := range stable {
				want[k]++
				m.Store(k, want[k])
			}
			m.sweepAll()
			m.sweepAll()
			if old.next.Load() == nil {
				t.Fatal("the old read map has no next link")
			}
			h := func(k int) uint64 { return tb.hasher.hash(k) }
			for _, k := range keys[:2*n] { // the keys of old
				v, ok := tb.loadSlow(old, h(k), k)
				cur, curOK := m.Load(k)
				switch w, present := want[k]; {
				case present && (!ok || v != w || cur != w || !curOK):
					t.Fatalf("key %d: through the old read map %d, %v; Load %d, %v; want %d", k, v, ok, cur, curOK, w)
				case !present && ok && !(maybe[k] && v == 7*k):
					t.Fatalf("key %d (deleted): through the old read map %d, %v", k, v, ok)
				}
			}
			seen := map[int]int{}
			tb.rangeRead(old, 0, func(k, v int) bool {
				if _, dup := seen[k]; dup {
					t.Fatalf("rangeRead of the old map visited %d twice", k)
				}
				seen[k] = v
				return true
			})
			for _, k := range keys[:2*n] {
				if w, present := want[k]; present && seen[k] != w {
					t.Fatalf("rangeRead of the old map: key %d = %d, want %d", k, seen[k], w)
				}
			}
			m.mustCheck()
		})
	}
}

// TestRangeVisitsPermanentKeysOnce adds keys that are never deleted to one
// segment, a few at a time (so that Range finds a small dirty map, copied,
// or a larger one, promoted), while others delete and revive other keys
// there and readers' misses promote: each Range must visit every key that
// was stored before it began exactly once, with its value, and never a key
// twice.
func TestRangeVisitsPermanentKeysOnce(t *testing.T) {
	var m Map[int, int]
	keys := keysInSegment(&m, 2, 21000, 0)
	perm, churn := keys[:20000], keys[20000:]
	for _, k := range churn {
		m.Store(k, k)
	}
	var stored atomic.Int64 // perm[:stored] are stored
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer stop.Store(true)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < len(perm); {
			n := min(1+rng.IntN(20), len(perm)-i)
			for _, k := range perm[i : i+n] {
				m.Store(k, -k)
			}
			i += n
			stored.Store(int64(i))
			if rng.IntN(3) == 0 {
				m.Load(perm[rng.IntN(i)]) // a miss if in dirty
			}
			runtime.Gosched()
		}
	}()
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; !stop.Load(); i++ {
			k := churn[rng.IntN(len(churn))]
			if rng.IntN(2) == 0 {
				m.Delete(k)
			} else {
				m.Store(k, k)
			}
			if i%64 == 0 {
				// At GOMAXPROCS=1 the adder, which yields after each
				// batch, would otherwise wait out this loop's whole
				// time slice (10ms) per batch: over a minute in all.
				runtime.Gosched()
			}
		}
	}()
	ranges := 0
	go func() {
		defer wg.Done()
		for !stop.Load() {
			ranges++
			n := int(stored.Load())
			seen := make(map[int]bool, n+len(churn))
			m.Range(func(k, v int) bool {
				if seen[k] {
					t.Errorf("Range visited %d twice", k)
				}
				seen[k] = true
				if v != k && v != -k {
					t.Errorf("Range: key %d with value %d", k, v)
				}
				return true
			})
			for _, k := range perm[:n] {
				if !seen[k] {
					t.Errorf("Range missed key %d, stored before it began", k)
					return
				}
			}
			runtime.Gosched() // likewise
		}
	}()
	waitOrFail(t, &wg)
	t.Logf("%d Ranges", ranges)
	m.mustCheck()
}

// TestColdShortcutTagTwins checks Load's shortcuts on a big read map (over
// coldKeyBuckets buckets) where they are most at risk: a key whose tag
// equals that of a deleted key placed before it, in the same bucket (tag
// twins) or in its home bucket while the key overflowed to a later one.
// Load, LoadOrStore and CompareAndSwap must still find the key, and Delete
// must delete it; absent keys with a deleted twin must read absent.
func TestColdShortcutTagTwins(t *testing.T) {
	var m Map[int, int]
	tb := m.loadOrInit()
	promotedKeys(&m, 0, 4000)
	r := tb.loadRead(0)
	if len(r.buckets) <= coldKeyBuckets {
		t.Fatalf("%d buckets", len(r.buckets))
	}
	type pair struct{ dead, live int }
	var twins, overflowed []pair
	for i := range r.buckets {
		b := &r.buckets[i]
		for j := 0; j < slotsPerBucket && b.tags>>(8*j)&0x80 != 0; j++ {
			dead := r.keys[i][j]
			hd := tb.hasher.hash(dead)
			// Twins in the same bucket, after slot j.
			for j2 := j + 1; j2 < slotsPerBucket && b.tags>>(8*j2)&0x80 != 0; j2++ {
				if live := r.keys[i][j2]; tagOf(tb.hasher.hash(live)) == tagOf(hd) {
					twins = append(twins, pair{dead, live})
				}
			}
			// Keys whose home is bucket i, with dead's tag, placed further on.
			if !b.overflowed(hd) && home(hd, len(r.buckets)) != i {
				continue
			}
			for d := 1; d < 4; d++ {
				i2 := (i + d) % len(r.buckets)
				b2 := &r.buckets[i2]
				for j2 := 0; j2 < slotsPerBucket && b2.tags>>(8*j2)&0x80 != 0; j2++ {
					live := r.keys[i2][j2]
					hl := tb.hasher.hash(live)
					if home(hl, len(r.buckets)) == i && tagOf(hl) == tagOf(hd) {
						overflowed = append(overflowed, pair{dead, live})
					}
				}
			}
		}
	}
	t.Logf("%d tag twins in one bucket, %d past their home bucket", len(twins), len(overflowed))
	if len(twins) == 0 || len(overflowed) == 0 {
		t.Skip("no case found for this map's seed")
	}
	check := func(kind string, ps []pair) {
		for _, p := range ps {
			m.Delete(p.dead)
			if v, ok := m.Load(p.dead); ok {
				t.Fatalf("%s: Load(%d) after Delete = %d", kind, p.dead, v)
			}
			if v, ok := m.Load(p.live); !ok || v != p.live {
				t.Fatalf("%s: Load(%d) = %d, %v with its twin %d deleted", kind, p.live, v, ok, p.dead)
			}
			if v, loaded := m.LoadOrStore(p.live, -1); !loaded || v != p.live {
				t.Fatalf("%s: LoadOrStore(%d) = %d, %v", kind, p.live, v, loaded)
			}
			if !m.CompareAndSwap(p.live, p.live, p.live) {
				t.Fatalf("%s: CompareAndSwap(%d) failed", kind, p.live)
			}
			m.Delete(p.live)
			if v, ok := m.Load(p.live); ok {
				t.Fatalf("%s: Load(%d) after Delete = %d", kind, p.live, v)
			}
			m.Store(p.live, p.live)
			m.Store(p.dead, p.dead)
		}
	}
	check("twins", twins)
	check("overflowed", overflowed)
	if tb.loadRead(0) != r {
		t.Log("read map rebuilt during the checks")
	}
	m.mustCheck()
}
