package safemap

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// wedgeTimeout bounds how long a test waits for goroutines that should
// finish. It only detects a wedge; no result depends on elapsed time.
const wedgeTimeout = 60 * time.Second

// waitOrFail waits for wg, failing the test with every goroutine's stack if
// it does not finish in wedgeTimeout.
func waitOrFail(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	if stacks := wedged(wg); stacks != "" {
		t.Fatalf("goroutines wedged:\n%s", stacks)
	}
}

// wedged waits for wg up to wedgeTimeout: it returns "" if wg finished,
// and every goroutine's stack if not.
func wedged(wg *sync.WaitGroup) string {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return ""
	case <-time.After(wedgeTimeout):
		buf := make([]byte, 1<<20)
		return string(buf[:runtime.Stack(buf, true)])
	}
}

// runWorkers runs f on workers() goroutines at once, g being each one's
// index, and waits for them all, failing with every goroutine's stack if
// they wedge (see waitOrFail).
func runWorkers(t *testing.T, f func(g int)) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(g)
		}()
	}
	waitOrFail(t, &wg)
}

func workers() int { return max(4, runtime.GOMAXPROCS(0)) }

func iterations(n int) int {
	if testing.Short() {
		return n / 10
	}
	return n
}

// TestConcurrentValueMatchesKey has goroutines store, swap, compute and
// delete values that encode their key, while others load and range: every
// value seen must belong to its key, whatever the interleaving.
func TestConcurrentValueMatchesKey(t *testing.T) {
	var m Map[int, int]
	const keys = 256
	n := iterations(20000)
	runWorkers(t, func(g int) {
		rng := rand.New(rand.NewPCG(uint64(g), 1))
		for i := range n {
			k := rng.IntN(keys)
			v := k*1_000_000 + i
			switch rng.IntN(10) {
			case 0:
				m.Store(k, v)
			case 1:
				m.Swap(k, v)
			case 2:
				m.Delete(k)
			case 3:
				m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
					if loaded && old/1_000_000 != k {
						t.Errorf("Compute(%d) saw %d", k, old)
					}
					return v, UpdateOp
				})
			case 4:
				if old, ok := m.Load(k); ok {
					m.CompareAndSwap(k, old, v)
				}
			case 5:
				if i%64 == 0 {
					m.Range(func(k, v int) bool {
						if v/1_000_000 != k {
							t.Errorf("Range: key %d has value %d", k, v)
						}
						return true
					})
				}
			default:
				if v, ok := m.Load(k); ok && v/1_000_000 != k {
					t.Errorf("Load(%d) = %d", k, v)
				}
			}
		}
	})
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentDeletedKeyStaysDeleted gives each goroutine its own keys.
// After it deletes one, no load may find it until it stores it again,
// while the other goroutines' churn promotes, sweeps and rebuilds segments.
func TestConcurrentDeletedKeyStaysDeleted(t *testing.T) {
	var m Map[int, int]
	n := iterations(20000)
	runWorkers(t, func(g int) {
		rng := rand.New(rand.NewPCG(uint64(g), 2))
		present := map[int]int{}
		for i := range n {
			k := g*1000 + rng.IntN(100)
			switch rng.IntN(4) {
			case 0:
				m.Store(k, i)
				present[k] = i
			case 1:
				m.Delete(k)
				delete(present, k)
			default:
				v, ok := m.Load(k)
				want, wantOK := present[k]
				if ok != wantOK || v != want {
					t.Errorf("goroutine %d: Load(%d) = %d, %v; want %d, %v", g, k, v, ok, want, wantOK)
					return
				}
			}
		}
		for k, want := range present {
			if v, ok := m.Load(k); !ok || v != want {
				t.Errorf("final Load(%d) = %d, %v; want %d", k, v, ok, want)
			}
		}
	})
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentLenAtQuiescence checks that Len is exact once a concurrent
// workload of inserts, deletes, computes and Clears has stopped.
func TestConcurrentLenAtQuiescence(t *testing.T) {
	var m Map[int, int]
	n := iterations(20000)
	runWorkers(t, func(g int) {
		rng := rand.New(rand.NewPCG(uint64(g), 3))
		for i := range n {
			k := rng.IntN(2000)
			switch rng.IntN(8) {
			case 0, 1:
				m.Store(k, i)
			case 2:
				m.LoadOrStore(k, i)
			case 3:
				m.Delete(k)
			case 4:
				m.Compute(k, func(_ int, loaded bool) (int, ComputeOp) {
					if loaded {
						return 0, DeleteOp
					}
					return i, UpdateOp
				})
			case 5:
				m.LoadOrCompute(k, func() int { return i })
			case 6:
				if rng.IntN(2000) == 0 {
					m.Clear()
				}
			default:
				if m.Len() < 0 {
					t.Error("Len() < 0")
				}
			}
		}
	})
	count := 0
	for range m.All() {
		count++
	}
	if m.Len() != count {
		t.Fatalf("Len() = %d at quiescence; All yields %d keys", m.Len(), count)
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestLoadOrComputeExactlyOnce races many goroutines on each absent key:
// valueFn must run exactly once per key, and every caller must get its value.
func TestLoadOrComputeExactlyOnce(t *testing.T) {
	var m Map[int, int]
	keys := iterations(2000)
	var calls atomic.Int64
	perKey := make([]atomic.Int32, keys)
	var wg sync.WaitGroup
	for g := range 2 * workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				k := (i + g*7) % keys // start apart, then collide
				v, _ := m.LoadOrCompute(k, func() int {
					calls.Add(1)
					perKey[k].Add(1)
					runtime.Gosched() // widen the window for racers
					return k * 10
				})
				if v != k*10 {
					t.Errorf("LoadOrCompute(%d) = %d; want %d", k, v, k*10)
				}
			}
		}()
	}
	waitOrFail(t, &wg)
	if got := calls.Load(); got != int64(keys) {
		t.Errorf("valueFn ran %d times for %d keys", got, keys)
	}
	for k := range perKey {
		if c := perKey[k].Load(); c != 1 {
			t.Errorf("valueFn ran %d times for key %d", c, k)
		}
	}
}

// TestLoadOrStoreOneWinner races goroutines on each new key with
// LoadOrStore, each offering its own value: exactly one call per key
// stores, and every call returns the stored value. The losers allocate an
// entry and a box before they take the lock and find the key added (see
// Map.write); neither may reach the map.
func TestLoadOrStoreOneWinner(t *testing.T) {
	var m Map[int, int]
	keys := iterations(5000)
	g := 2 * workers()
	wins := make([]atomic.Int32, keys)
	got := make([][]int, g) // got[w][k]: what worker w's call on k returned
	var wg sync.WaitGroup
	for w := range g {
		got[w] = make([]int, keys)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				k := (i + w*13) % keys // start apart, then collide
				v, loaded := m.LoadOrStore(k, k*100+w)
				if !loaded {
					wins[k].Add(1)
				}
				got[w][k] = v
				if i%64 == 0 {
					m.Load(k + keys) // a miss now and then counts toward promotion
				}
			}
		}()
	}
	waitOrFail(t, &wg)
	for k := range keys {
		if n := wins[k].Load(); n != 1 {
			t.Fatalf("key %d: %d LoadOrStore calls stored; want 1", k, n)
		}
		v, ok := m.Load(k)
		if !ok || v/100 != k {
			t.Fatalf("Load(%d) = %d, %v; want a value of key %d", k, v, ok, k)
		}
		for w := range g {
			if got[w][k] != v {
				t.Fatalf("worker %d: LoadOrStore(%d) returned %d; the map holds %d", w, k, got[w][k], v)
			}
		}
	}
	if m.Len() != keys {
		t.Fatalf("Len() = %d; want %d", m.Len(), keys)
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestComputeIsAtomic increments counters with Compute from many goroutines,
// mixed with Stores to other keys: no increment may be lost.
func TestComputeIsAtomic(t *testing.T) {
	var m Map[int, int]
	n := iterations(5000)
	runWorkers(t, func(g int) {
		for i := range n {
			m.Compute(i%8, func(old int, _ bool) (int, ComputeOp) { return old + 1, UpdateOp })
			m.Store(100+g, i)
		}
	})
	total := 0
	for k := range 8 {
		v, _ := m.Load(k)
		total += v
	}
	if want := workers() * n; total != want {
		t.Fatalf("counters sum to %d; want %d", total, want)
	}
}

// TestCallbackBlocksOnlyItsKey blocks a Compute callback and a LoadOrCompute
// callback on channels, and checks that loads of any key (the blocked ones
// included) and stores and deletes of other present keys go on meanwhile,
// while a write of the blocked key waits for the callback.
func TestCallbackBlocksOnlyItsKey(t *testing.T) {
	for _, st := range []string{"dirty", "promoted"} {
		t.Run(st, func(t *testing.T) {
			var m Map[int, int]
			for k := range 100 {
				m.Store(k, k)
			}
			if st == "promoted" {
				m.promoteAll()
			}
			release := make(chan struct{})
			entered := make(chan struct{}, 2)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				m.Compute(1, func(old int, _ bool) (int, ComputeOp) {
					entered <- struct{}{}
					<-release
					return old + 1000, UpdateOp
				})
			}()
			go func() {
				defer wg.Done()
				m.LoadOrCompute(500, func() int {
					entered <- struct{}{}
					<-release
					return 500
				})
			}()
			<-entered
			<-entered

			others := make(chan struct{})
			go func() {
				defer close(others)
				if v, ok := m.Load(1); !ok || v != 1 {
					t.Errorf("Load(1) during Compute = %d, %v; want the old value 1, true", v, ok)
				}
				if _, ok := m.Load(500); ok {
					t.Error("Load(500) during LoadOrCompute found it")
				}
				for k := 2; k < 100; k++ {
					m.Store(k, -k)
					m.Load(k)
				}
				m.Delete(2)
				m.Store(2, 2)
				m.Range(func(int, int) bool { return true })
				m.Len()
			}()
			select {
			case <-others:
			case <-time.After(wedgeTimeout):
				t.Fatal("operations on other keys waited for a blocked callback")
			}

			stored := make(chan struct{})
			go func() { m.Store(1, 7); close(stored) }()
			select {
			case <-stored:
				t.Fatal("Store(1) did not wait for the Compute of key 1")
			case <-time.After(10 * time.Millisecond):
				// Expected: it waits. (If the scheduler was slow, this
				// branch is taken as well; it cannot cause a false failure.)
			}
			close(release)
			waitOrFail(t, &wg)
			<-stored
			if v, _ := m.Load(1); v != 7 {
				t.Errorf("Load(1) = %d; want 7: the Store ordered after the Compute", v)
			}
			if v, _ := m.Load(500); v != 500 {
				t.Errorf("Load(500) = %d; want 500", v)
			}
			m.mustCheck()
		})
	}
}

// TestPanickingValueFnLetsWaitersGoOn blocks valueFn, lines up waiters on
// the same key, then panics: one waiter computes the value, the rest get it.
func TestPanickingValueFnLetsWaitersGoOn(t *testing.T) {
	var m Map[string, int]
	release := make(chan struct{})
	entered := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			if recover() == nil {
				t.Error("the owner's panic did not propagate")
			}
		}()
		m.LoadOrCompute("k", func() int {
			close(entered)
			<-release
			panic("boom")
		})
	}()
	<-entered
	var calls atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _ := m.LoadOrCompute("k", func() int { calls.Add(1); return 42 })
			if v != 42 {
				t.Errorf("waiter got %d; want 42", v)
			}
		}()
	}
	time.Sleep(5 * time.Millisecond) // let some waiters line up; correctness does not depend on it
	close(release)
	waitOrFail(t, &wg)
	if c := calls.Load(); c != 1 {
		t.Errorf("after the panic, %d waiters ran valueFn; want exactly 1", c)
	}
	m.mustCheck()
}

// TestComputeRacesWithClear checks that computes and waiters survive a
// Clear that drops the entry they hold.
func TestComputeRacesWithClear(t *testing.T) {
	var m Map[int, int]
	n := iterations(5000)
	runWorkers(t, func(g int) {
		for i := range n {
			switch (i + g) % 50 {
			case 0:
				m.Clear()
			case 1:
				m.LoadOrCompute(i%4, func() int { return i })
			default:
				m.Compute(i%4, func(old int, _ bool) (int, ComputeOp) { return old + 1, UpdateOp })
			}
		}
	})
	m.mustCheck()
}
