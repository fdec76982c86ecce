package safemap

// Linearizability: goroutines run random operations on a few keys of one
// map while a shared logical clock records when each call started and
// returned; porcupine then searches for a sequential order of the calls that
// respects those intervals and that a plain map would have produced.
//
// Flags:
//
//	-safemap.linhistories=N  record and check N histories (default 1000, 200 with -short)
//	-safemap.linseed=S       base seed; history i uses seed S+i (default: random)
//
// A seed fixes the operations each goroutine runs, not how the scheduler
// interleaves them, so rerunning a failing seed replays the same scripts but
// not necessarily the same history; the visualization written on failure
// shows the history that failed.
//
// The operations, their sequential model and the broken maps are
// lin_chaos_test.go's (lc*), whose tests aim at what these random
// histories seldom reach.

import (
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

var (
	linHistories = flag.Int("safemap.linhistories", 0,
		"number of histories TestLinearizability records and checks (0: 1000, or 200 with -short)")
	linSeed = flag.Uint64("safemap.linseed", 0,
		"base seed of TestLinearizability; history i uses seed+i (0: a random base)")
)

const (
	linKeys    = lcMaxKeys // keys 0..linKeys-1: few keys, so that calls collide
	linClients = 4         // goroutines per history
	linOps     = 50        // operations per goroutine
	// linTimeout bounds porcupine's search on one history. Histories this
	// small are checked in milliseconds; a timeout only guards against a
	// pathological search, and the test fails if it happens often.
	linTimeout = 10 * time.Second
)

// linKeyIndex maps the models' key indexes to the map's keys: themselves.
var linKeyIndex = func() (keys []int) {
	for k := range linKeys {
		keys = append(keys, k)
	}
	return keys
}()

// linScript returns the operations of one goroutine of a history: every
// kind up to LoadOrCompute (no callback panics or calls Clear), and Clear
// one time in 25 if clear is set. With clear unset the history can be
// partitioned by key.
func linScript(rng *rand.Rand, clear bool) []lcIn {
	ops := make([]lcIn, linOps)
	for i := range ops {
		kind := lcKind(rng.IntN(int(lcClear)))
		if clear && rng.IntN(25) == 0 {
			kind = lcClear
		}
		ops[i] = lcIn{kind: kind, key: rng.IntN(linKeys), a: rng.IntN(lcValues), b: rng.IntN(lcValues)}
	}
	return ops
}

// linPrepare returns the map a history runs on: fresh, or with background
// keys (never used by the scripts) and with deleted entries for the scripts'
// keys, so that the history starts in a read map with tombstones, next to
// crowded or amended segments. Either way the scripts' keys are absent, as
// the models' initial states say.
func linPrepare(rng *rand.Rand) *Map[int, int] {
	var m *Map[int, int]
	switch rng.IntN(3) {
	case 0:
		return new(Map[int, int])
	case 1:
		m = New[int, int](WithCapacity(64))
	default:
		m = New[int, int]()
	}
	background := rng.IntN(200)
	for k := range background {
		m.Store(linKeys+k, k)
	}
	for k := range linKeys {
		m.Store(k, k)
	}
	for range 4 * (background + linKeys) {
		m.Load(linKeys + background) // misses promote the dirty maps
	}
	for k := range linKeys {
		m.Delete(k)
	}
	// Some background keys go back to dirty maps, to leave segments amended.
	for k := range rng.IntN(8) {
		m.Store(linKeys+background+k, k)
	}
	return m
}

// linRecord runs scripts on m, one goroutine each, and returns the history.
// Call and Return come from one atomic counter, read just before a call and
// just after it returns: if a call returned before another started, its
// Return is smaller than the other's Call. A Load that a compute's callback
// makes (see lcCall) is a call of its own, of client c+100.
func linRecord(m lcMap, scripts [][]lcIn, yieldRng *rand.Rand) []porcupine.Operation {
	var (
		clock   atomic.Int64
		wg      sync.WaitGroup
		start   = make(chan struct{})
		history = make([][]porcupine.Operation, len(scripts))
	)
	for c, script := range scripts {
		// Each goroutine yields between calls at its own random points, so
		// that the interleavings vary beyond what two cores give.
		yields := yieldRng.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops := make([]porcupine.Operation, 0, len(script))
			inner := func(in lcIn, f func() lcOut) {
				call := clock.Add(1)
				out := f()
				ret := clock.Add(1)
				ops = append(ops, porcupine.Operation{ClientId: c + 100, Input: in, Call: call, Output: out, Return: ret})
			}
			<-start
			for i, in := range script {
				if yields>>(i%64)&1 == 0 && i%3 == 0 {
					runtime.Gosched()
				}
				call := clock.Add(1)
				out := lcCall(m, linKeyIndex, in, inner)
				ret := clock.Add(1)
				ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
			}
			history[c] = ops
		}()
	}
	close(start)
	wg.Wait()
	var all []porcupine.Operation
	for _, ops := range history {
		all = append(all, ops...)
	}
	return all
}

// linHistory builds and records the history of one seed. The seed also
// decides whether the history has Clear calls, so that rerunning a seed
// reruns the same kind of history.
func linHistory(seed uint64, m lcMap) (history []porcupine.Operation, model porcupine.Model, clear bool) {
	rng := rand.New(rand.NewPCG(seed, 0x5afe))
	clear = seed%2 == 1
	if m == nil {
		m = linPrepare(rng)
	}
	scripts := make([][]lcIn, linClients)
	for c := range scripts {
		scripts[c] = linScript(rng, clear)
	}
	history = linRecord(m, scripts, rng)
	if clear {
		return history, lcMapModel, true
	}
	return history, lcKeyModel, false
}

// linNumHistories returns how many histories TestLinearizability checks.
func linNumHistories() int {
	switch {
	case *linHistories > 0:
		return *linHistories
	case testing.Short():
		return 200
	}
	return 1000
}

// linBaseSeed returns the -safemap.linseed flag, or a random seed.
func linBaseSeed() uint64 {
	if *linSeed != 0 {
		return *linSeed
	}
	return rand.Uint64() >> 1 // room for seed+i
}

func TestLinearizability(t *testing.T) {
	n, base := linNumHistories(), linBaseSeed()
	unknown := 0
	for i := range n {
		seed := base + uint64(i)
		history, model, clear := linHistory(seed, nil)
		switch porcupine.CheckOperationsTimeout(model, history, linTimeout) {
		case porcupine.Illegal:
			path := linVisualize(t, model, history)
			t.Fatalf("history %d (seed %d, with Clear: %v) is not linearizable; visualization: %s\n"+
				"rerun its scripts with -run '^TestLinearizability$' -safemap.linseed=%d -safemap.linhistories=1",
				i, seed, clear, path, seed)
		case porcupine.Unknown:
			unknown++
			t.Logf("history %d (seed %d): porcupine gave up after %v", i, seed, linTimeout)
		}
	}
	// A history this small that porcupine cannot settle in linTimeout is
	// suspicious in itself; a rare one on a loaded machine is not.
	if unknown > n/100 {
		t.Errorf("porcupine timed out on %d of %d histories (base seed %d)", unknown, n, base)
	}
}

// linVisualize writes porcupine's visualization of history to a file that
// outlives the test, and returns its path (or why there is none).
func linVisualize(t *testing.T, model porcupine.Model, history []porcupine.Operation) string {
	t.Helper()
	_, info := porcupine.CheckOperationsVerbose(model, history, linTimeout)
	dir, err := os.MkdirTemp("", "safemap-linearizability-")
	if err != nil {
		return "none: " + err.Error()
	}
	path := filepath.Join(dir, "history.html")
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return "none: " + err.Error()
	}
	return path
}

// racyCASMap breaks CompareAndSwap: it compares and swaps in two steps, and
// another goroutine may write the key in between.
type racyCASMap struct{ *Map[int, int] }

func (m racyCASMap) CompareAndSwap(key, old, new int) bool {
	if v, ok := m.Load(key); !ok || v != old {
		return false
	}
	runtime.Gosched() // widen the window between the compare and the swap
	m.Store(key, new)
	return true
}

// TestLinearizabilityCatchesBrokenMap shows that the histories and the
// checker find real bugs: for each broken variant (racyCASMap and
// lin_chaos_test.go's), some history among the first linBrokenHistories
// must be reported as not linearizable.
func TestLinearizabilityCatchesBrokenMap(t *testing.T) {
	const linBrokenHistories = 500
	variants := []struct {
		name string
		make func() lcMap
	}{
		{"racyCompareAndSwap", func() lcMap { return racyCASMap{new(Map[int, int])} }},
		{"keyByKeyClear", func() lcMap { return lcKeyByKeyClear{new(Map[int, int])} }},
		{"staleLoad", func() lcMap {
			return lcStaleLoad{new(Map[int, int]), new(sync.Mutex), map[int]lcSlot{}, new(int)}
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			base := linBaseSeed()
			for i := range linBrokenHistories {
				history, model, _ := linHistory(base+uint64(i), v.make())
				if porcupine.CheckOperationsTimeout(model, history, linTimeout) == porcupine.Illegal {
					t.Logf("caught by history %d of %d (seed %d)", i+1, linBrokenHistories, base+uint64(i))
					return
				}
			}
			t.Errorf("no history among %d was reported as not linearizable (base seed %d)", linBrokenHistories, base)
		})
	}
}
