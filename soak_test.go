package safemap_test

// A soak: every operation, the iterators, Len and Clear race with each other
// and with a garbage collector that runs all the time, while the workers
// check invariants that hold at every moment. Between rounds the workers
// stop and the map must agree with their models exactly.
//
// The duration only bounds how many rounds run; no check depends on time.
// Set it with -safemap.soak=DURATION or the environment variable
// SAFEMAP_SOAK (for example SAFEMAP_SOAK=10m); the flag wins. The default is
// 30s, and 2s with -short.

import (
	"flag"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safemap-go/safemap"
)

var soakFlag = flag.Duration("safemap.soak", 0,
	"how long TestSoak runs (default: $SAFEMAP_SOAK, else 30s, or 2s with -short)")

const (
	soakShared   = 32   // keys 0..soakShared-1 are written by every worker
	soakOwned    = 64   // keys each worker alone writes (Clear aside)
	soakRoundOps = 4000 // operations per worker per round
	soakBlobSize = 4 << 10
)

// soakDuration returns how long TestSoak runs.
func soakDuration(t *testing.T) time.Duration {
	if *soakFlag > 0 {
		return *soakFlag
	}
	if env := os.Getenv("SAFEMAP_SOAK"); env != "" {
		d, err := time.ParseDuration(env)
		if err != nil {
			t.Fatalf("SAFEMAP_SOAK=%q: %v", env, err)
		}
		return d
	}
	if testing.Short() {
		return 2 * time.Second
	}
	return 30 * time.Second
}

// A soakValue names the key it was stored under, so that a value found
// under another key shows at once. The writer and its counter make values
// unique, so that CompareAndSwap on an old value cannot succeed by
// accident. Some values carry a blob, so that the heap shows whether the
// map keeps deleted values.
type soakValue struct {
	key, by, n int
	blob       *[soakBlobSize]byte
}

// soakOwnedState is a worker's model of one of its own keys.
type soakOwnedState struct {
	present bool
	value   soakValue
	// epoch is soakClears.done as read before the write that set this
	// state. A Clear can have undone the write only if a Clear had started
	// that was not done by then; see sure.
	epoch int64
}

// soakClears counts the Clear calls that started and that returned. Each
// Clear increments started before it begins and done after it returns.
type soakClears struct{ started, done atomic.Int64 }

// sure reports whether the state of an own key is certain, given
// startedNow, soakClears.started read after the observation. An absent key
// stays absent (only its owner stores it), so that is always certain. A
// present key is certain unless a Clear that was not done at the write
// started before the observation: if startedNow equals the epoch, every
// Clear started by now was done at the write, and none could have removed
// the value since.
func (o soakOwnedState) sure(startedNow int64) bool {
	return !o.present || startedNow == o.epoch
}

// soakWorker runs operations on m and checks them against its model of its
// own keys. Its keys are base..base+soakOwned-1.
type soakWorker struct {
	t       *testing.T
	m       *safemap.Map[int, soakValue]
	clears  *soakClears
	id      int
	base    int
	maxKey  int // keys are 0..maxKey-1
	workers int
	rng     *rand.Rand
	n       int // counter for unique values
	own     [soakOwned]soakOwnedState
}

// value returns a new value for key, with a blob now and then.
func (w *soakWorker) value(key int) soakValue {
	w.n++
	v := soakValue{key: key, by: w.id, n: w.n}
	if w.rng.IntN(16) == 0 {
		v.blob = new([soakBlobSize]byte)
	}
	return v
}

// checkBelongs reports a value found under key that was stored under
// another key.
func (w *soakWorker) checkBelongs(op string, key int, v soakValue, ok bool) {
	if ok && v.key != key {
		w.t.Errorf("%s(%d) = %+v, which was stored under key %d", op, key, v, v.key)
	}
}

// observe checks what an operation reported about own key i (present, with
// value v) against the model, and settles the model if the observation
// shows that a Clear removed the key. Call it after the operation returns.
func (w *soakWorker) observe(op string, i int, v soakValue, present bool) {
	o := &w.own[i]
	sure := o.sure(w.clears.started.Load())
	switch {
	case present && !o.present:
		w.t.Errorf("%s(%d) found %+v; want absent: the key was deleted and not stored again", op, w.base+i, v)
	case present && v != o.value:
		w.t.Errorf("%s(%d) found %+v; want %+v, the last value its only writer stored", op, w.base+i, v, o.value)
	case !present && o.present && sure:
		w.t.Errorf("%s(%d) found the key absent; want %+v (no Clear ran since it was stored)", op, w.base+i, o.value)
	case !present:
		*o = soakOwnedState{} // a Clear removed it, or it was absent already
	}
}

// set records that a write of own key i left it so; epoch is
// soakClears.done read before the write began.
func (w *soakWorker) set(i int, present bool, v soakValue, epoch int64) {
	if !present {
		w.own[i] = soakOwnedState{}
		return
	}
	w.own[i] = soakOwnedState{present: true, value: v, epoch: epoch}
}

// run performs ops random operations.
func (w *soakWorker) run(ops int) {
	for range ops {
		if w.t.Failed() {
			return // one report is enough; the rest would repeat it
		}
		switch r := w.rng.IntN(100); {
		case r < 45:
			w.ownOp(w.rng.IntN(soakOwned))
		case r < 90:
			w.sharedOp(w.rng.IntN(soakShared))
		case r < 97:
			w.iterate()
		case r < 99:
			// Len may count a write in flight before its twin that undoes
			// it, so it may exceed the keys in use by one per worker.
			if n, most := w.m.Len(), w.maxKey+w.workers; n < 0 || n > most {
				w.t.Errorf("Len() = %d; want between 0 and %d (keys in use, plus one per worker)", n, most)
			}
		default:
			if w.rng.IntN(20) == 0 {
				w.clears.started.Add(1)
				w.m.Clear()
				w.clears.done.Add(1)
			}
		}
	}
}

// ownOp runs a random operation on own key i and checks it against the
// model.
func (w *soakWorker) ownOp(i int) {
	k, o, epoch := w.base+i, w.own[i], w.clears.done.Load()
	switch w.rng.IntN(11) {
	case 0, 1:
		v, ok := w.m.Load(k)
		w.observe("Load", i, v, ok)
	case 2:
		v := w.value(k)
		w.m.Store(k, v)
		w.set(i, true, v, epoch)
	case 3:
		v := w.value(k)
		actual, loaded := w.m.LoadOrStore(k, v)
		if loaded {
			w.observe("LoadOrStore", i, actual, true)
		} else {
			w.observe("LoadOrStore", i, soakValue{}, false)
			if actual != v {
				w.t.Errorf("LoadOrStore(%d, %+v) stored, but returned %+v", k, v, actual)
			}
		}
		w.set(i, true, actual, epoch)
	case 4:
		v, loaded := w.m.LoadAndDelete(k)
		w.observe("LoadAndDelete", i, v, loaded)
		w.set(i, false, soakValue{}, epoch)
	case 5:
		w.m.Delete(k)
		w.set(i, false, soakValue{}, epoch)
	case 6:
		v := w.value(k)
		prev, loaded := w.m.Swap(k, v)
		w.observe("Swap", i, prev, loaded)
		w.set(i, true, v, epoch)
	case 7:
		w.ownCompareAnd(i, k, o, epoch)
	case 8, 9:
		w.ownCompute(i, k, epoch)
	case 10:
		v := w.value(k)
		ran := false
		actual, loaded := w.m.LoadOrCompute(k, func() soakValue { ran = true; return v })
		if loaded == ran || (!loaded && actual != v) {
			w.t.Errorf("LoadOrCompute(%d) = %+v, %v with valueFn run: %v; want the value of valueFn exactly when it ran", k, actual, loaded, ran)
		}
		if loaded {
			w.observe("LoadOrCompute", i, actual, true)
		} else {
			w.observe("LoadOrCompute", i, soakValue{}, false)
		}
		w.set(i, true, actual, epoch)
	}
}

// ownCompareAnd runs CompareAndSwap or CompareAndDelete on own key i, with
// the modelled value (o) as old most of the time.
func (w *soakWorker) ownCompareAnd(i, k int, o soakOwnedState, epoch int64) {
	old := o.value
	if !o.present || w.rng.IntN(4) == 0 {
		old = w.value(k) // a value the key never held: must not match
	}
	matches := o.present && old == o.value
	var done bool
	var op string
	if w.rng.IntN(2) == 0 {
		op = "CompareAndSwap"
		v := w.value(k)
		done = w.m.CompareAndSwap(k, old, v)
		if done {
			w.set(i, true, v, epoch)
		}
	} else {
		op = "CompareAndDelete"
		done = w.m.CompareAndDelete(k, old)
		if done {
			w.set(i, false, soakValue{}, epoch)
		}
	}
	switch {
	case done && !matches:
		w.t.Errorf("%s(%d, %+v) succeeded; the key held %+v (present: %v)", op, k, old, o.value, o.present)
	case !done && matches && o.sure(w.clears.started.Load()):
		w.t.Errorf("%s(%d, %+v) failed; the key held that value and no Clear ran", op, k, old)
	case !done && matches:
		w.own[i] = soakOwnedState{} // the value was there unless a Clear removed it
	}
}

// ownCompute runs Compute on own key i: the callback checks the old value
// against the model and updates, deletes or cancels.
func (w *soakWorker) ownCompute(i, k int, epoch int64) {
	v, op := w.value(k), safemap.ComputeOp(w.rng.IntN(3))
	var old soakValue
	var loaded bool
	calls := 0
	actual, ok := w.m.Compute(k, func(o soakValue, l bool) (soakValue, safemap.ComputeOp) {
		calls++
		old, loaded = o, l
		return v, op
	})
	if calls != 1 {
		w.t.Errorf("Compute(%d) ran its callback %d times; want 1", k, calls)
	}
	w.observe("Compute (callback)", i, old, loaded)
	want, wantOK := old, loaded // CancelOp
	switch op {
	case safemap.UpdateOp:
		want, wantOK = v, true
	case safemap.DeleteOp:
		want, wantOK = soakValue{}, false
	}
	if actual != want || ok != wantOK {
		w.t.Errorf("Compute(%d) with %v = %+v, %v; want %+v, %v", k, op, actual, ok, want, wantOK)
	}
	w.set(i, wantOK, want, epoch)
}

// sharedOp runs a random operation on shared key k. Other workers write it
// too, so only the key of every value it sees is checked.
func (w *soakWorker) sharedOp(k int) {
	switch w.rng.IntN(10) {
	case 0:
		v, ok := w.m.Load(k)
		w.checkBelongs("Load", k, v, ok)
	case 1:
		w.m.Store(k, w.value(k))
	case 2:
		v, _ := w.m.LoadOrStore(k, w.value(k))
		w.checkBelongs("LoadOrStore", k, v, true)
	case 3:
		v, ok := w.m.LoadAndDelete(k)
		w.checkBelongs("LoadAndDelete", k, v, ok)
	case 4:
		w.m.Delete(k)
	case 5:
		v, ok := w.m.Swap(k, w.value(k))
		w.checkBelongs("Swap", k, v, ok)
	case 6:
		if old, ok := w.m.Load(k); ok {
			if w.rng.IntN(2) == 0 {
				w.m.CompareAndSwap(k, old, w.value(k))
			} else {
				w.m.CompareAndDelete(k, old)
			}
		}
	case 7, 8:
		v, ok := w.m.Compute(k, func(old soakValue, loaded bool) (soakValue, safemap.ComputeOp) {
			w.checkBelongs("Compute (callback)", k, old, loaded)
			if loaded && old.n%5 == 0 {
				return soakValue{}, safemap.DeleteOp
			}
			return w.value(k), safemap.UpdateOp
		})
		w.checkBelongs("Compute", k, v, ok)
	case 9:
		v, _ := w.m.LoadOrCompute(k, func() soakValue { return w.value(k) })
		w.checkBelongs("LoadOrCompute", k, v, true)
	}
}

// iterate runs one of Range, All, Keys and Values. Every key must show up
// at most once and with a value of its own; the worker's own keys must show
// up exactly as its model says, unless a Clear ran meanwhile. Now and then
// the loop body writes a shared key, as it may.
func (w *soakWorker) iterate() {
	seen := make(map[int]soakValue)
	stopAt := -1
	if w.rng.IntN(4) == 0 {
		stopAt = 1 + w.rng.IntN(w.maxKey) // stop early, at a random point
	}
	visit := func(k int, v soakValue, how string) bool {
		if k < 0 || k >= w.maxKey {
			w.t.Errorf("%s visited key %d, which no worker uses", how, k)
		}
		if prev, dup := seen[k]; dup {
			w.t.Errorf("%s visited key %d twice (%+v, then %+v)", how, k, prev, v)
		}
		seen[k] = v
		w.checkBelongs(how, k, v, true)
		if w.rng.IntN(64) == 0 {
			k := w.rng.IntN(soakShared)
			w.m.Store(k, w.value(k)) // the loop body may write
		}
		return len(seen) != stopAt
	}
	withValues := true
	switch w.rng.IntN(4) {
	case 0:
		w.m.Range(func(k int, v soakValue) bool { return visit(k, v, "Range") })
	case 1:
		for k, v := range w.m.All() {
			if !visit(k, v, "All") {
				break
			}
		}
	case 2:
		withValues = false
		for k := range w.m.Keys() {
			if !visit(k, soakValue{key: k}, "Keys") {
				break
			}
		}
	case 3:
		// A value names its key, so a key visited twice shows as its
		// value visited twice.
		for v := range w.m.Values() {
			if !visit(v.key, v, "Values") {
				break
			}
		}
	}
	w.checkOwnSeen(seen, withValues, stopAt < 0)
}

// checkOwnSeen compares what an iteration saw of the worker's own keys with
// the model. The worker does not write its own keys during the loop, so a
// key it had deleted must not show, one it had stored must show with the
// value it stored if at all, and if the loop ran to the end, a key present
// throughout must show, unless a Clear ran.
func (w *soakWorker) checkOwnSeen(seen map[int]soakValue, withValues, complete bool) {
	started := w.clears.started.Load()
	for i, o := range w.own {
		v, ok := seen[w.base+i]
		switch {
		case ok && !o.present:
			w.t.Errorf("iteration visited own key %d with %+v; want absent: it was deleted", w.base+i, v)
		case ok && withValues && v != o.value:
			w.t.Errorf("iteration visited own key %d with %+v; want %+v", w.base+i, v, o.value)
		case !ok && complete && o.present && o.sure(started):
			w.t.Errorf("iteration missed own key %d, present with %+v throughout", w.base+i, o.value)
		}
	}
}

// settle loads every own key once the workers stopped, checks it against
// the model, and returns the number present.
func (w *soakWorker) settle() int {
	n := 0
	for i := range w.own {
		v, ok := w.m.Load(w.base + i)
		w.observe("Load", i, v, ok)
		if ok {
			n++
		}
	}
	return n
}

func TestSoak(t *testing.T) {
	d := soakDuration(t)
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	m := new(safemap.Map[int, soakValue])
	var clears soakClears
	nw := max(4, runtime.GOMAXPROCS(0))
	seed := rand.Uint64()
	workers := make([]*soakWorker, nw)
	for i := range workers {
		workers[i] = &soakWorker{t: t, m: m, clears: &clears, id: i, base: soakShared + i*soakOwned,
			maxKey: soakShared + nw*soakOwned, workers: nw, rng: rand.New(rand.NewPCG(seed, uint64(i)))}
	}
	// The collector runs all the time, so that it scans the map while
	// entries, boxes and read maps are swapped.
	stopGC := make(chan struct{})
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for {
			select {
			case <-stopGC:
				return
			default:
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	start, rounds := time.Now(), 0
	ops := soakRoundOps
	if testing.Short() {
		ops /= 4
	}
	for rounds == 0 || time.Since(start) < d {
		rounds++
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Add(1)
			go func() { defer wg.Done(); w.run(ops) }()
		}
		safemap.WaitOrFail(t, &wg)
		soakCheckQuiescent(t, m, workers)
		if t.Failed() {
			break
		}
	}
	close(stopGC)
	<-gcDone
	t.Logf("%d rounds of %d workers x %d operations in %v (seed %d)", rounds, nw, ops, time.Since(start).Round(time.Millisecond), seed)
	if t.Failed() {
		t.Logf("the failure came with seed %d; the seed fixes each worker's choices, not the interleaving", seed)
		return
	}
	soakCheckMemoryReturns(t, m, workers[0].maxKey)
}

// soakCheckQuiescent checks, with no worker running, that Len, the
// iterators and Range all count the keys that Load finds, and that the
// workers' own keys are as their models say.
func soakCheckQuiescent(t *testing.T, m *safemap.Map[int, soakValue], workers []*soakWorker) {
	t.Helper()
	want := 0
	for _, w := range workers {
		want += w.settle()
	}
	for k := range soakShared {
		if _, ok := m.Load(k); ok {
			want++
		}
	}
	all, keys, values, ranged := 0, 0, 0, 0
	for range m.All() {
		all++
	}
	for range m.Keys() {
		keys++
	}
	for range m.Values() {
		values++
	}
	m.Range(func(int, soakValue) bool { ranged++; return true })
	if n := m.Len(); n != want || all != want || keys != want || values != want || ranged != want {
		t.Errorf("with no write in flight: Len() = %d, All visits %d, Keys %d, Values %d, Range %d; want %d, the keys Load finds",
			n, all, keys, values, ranged, want)
	}
}

// soakCheckMemoryReturns fills the soaked map with large values, deletes
// them all, and checks that the heap returns to near where it was: the map
// must not keep deleted values alive.
func soakCheckMemoryReturns(t *testing.T, m *safemap.Map[int, soakValue], keys int) {
	t.Helper()
	debug.SetGCPercent(100)
	n := max(2*keys, 4096) // at least 16 MiB of values: a clear signal
	soakDeleteAll(m, n)
	base := safemap.HeapAlloc()
	for k := range n {
		m.Store(k, soakValue{key: k, blob: new([soakBlobSize]byte)})
	}
	peak := safemap.HeapAlloc()
	soakDeleteAll(m, n)
	after := safemap.HeapAlloc()
	if n := m.Len(); n != 0 {
		t.Errorf("Len() = %d after deleting every key; want 0", n)
	}
	grown, kept := int64(peak)-int64(base), int64(after)-int64(base)
	t.Logf("heap: %d KiB before, %d KiB full, %d KiB after deleting everything", base>>10, peak>>10, after>>10)
	if grown < int64(n*soakBlobSize/2) {
		t.Fatalf("the heap grew by %d bytes for %d values of %d bytes: the measurement does not work", grown, n, soakBlobSize)
	}
	if kept > grown/4 {
		t.Errorf("after deleting every key the heap keeps %d of the %d bytes the values took", kept, grown)
	}
	runtime.KeepAlive(m) // measure what the map keeps, not whether the map is collected
}

// soakDeleteAll deletes keys 0..n-1 with the four deleting operations in
// turn.
func soakDeleteAll(m *safemap.Map[int, soakValue], n int) {
	for k := range n {
		switch k % 4 {
		case 0:
			m.Delete(k)
		case 1:
			m.LoadAndDelete(k)
		case 2:
			if v, ok := m.Load(k); ok {
				m.CompareAndDelete(k, v)
			}
		case 3:
			m.Compute(k, func(soakValue, bool) (soakValue, safemap.ComputeOp) { return soakValue{}, safemap.DeleteOp })
		}
	}
}
