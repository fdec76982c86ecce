package safemap

import (
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestSwapChainOnOneKey has goroutines Swap unique values into one key as
// fast as they can, so that their CASes on its entry fail and back off (see
// casBackoffSpins), while a churner promotes, sweeps and churns the
// segments around it. Every Swap's previous value must be the value of
// exactly one other Swap, or the key's first value: the Swaps form one
// chain, with no write lost to a retry and none seen twice. The last value
// is the one left in the map.
func TestSwapChainOnOneKey(t *testing.T) {
	workers := max(4, runtime.GOMAXPROCS(0))
	perWorker := 20000
	if testing.Short() {
		perWorker = 4000
	}
	const key = 7
	m := new(Map[int, int])
	m.Store(key, -1)

	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Add(1)
	go auditChurner(m, stop, &churn, auditChurnKey)

	prevs := make([][]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]int, 0, perWorker)
			for i := range perWorker {
				prev, loaded := m.Swap(key, w*perWorker+i)
				if !loaded {
					t.Errorf("Swap found key %d absent", key)
					return
				}
				got = append(got, prev)
			}
			prevs[w] = got
		}()
	}
	wg.Wait()
	close(stop)
	churn.Wait()

	last, ok := m.Load(key)
	if !ok {
		t.Fatalf("key %d absent after the Swaps", key)
	}
	// The values seen as previous, and the last one, are each stored value
	// (the first, -1, and every Swap's) exactly once.
	seen := []int{last}
	for _, p := range prevs {
		seen = append(seen, p...)
	}
	slices.Sort(seen)
	if len(seen) != workers*perWorker+1 {
		t.Fatalf("%d values seen, want %d", len(seen), workers*perWorker+1)
	}
	for i, v := range seen {
		if v != i-1 {
			t.Fatalf("value %d seen where %d was due: a Swap's write was lost or seen twice", v, i-1)
		}
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}
