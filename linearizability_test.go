package safemap_test

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

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/safemap-go/safemap"
)

var (
	linHistories = flag.Int("safemap.linhistories", 0,
		"number of histories TestLinearizability records and checks (0: 1000, or 200 with -short)")
	linSeed = flag.Uint64("safemap.linseed", 0,
		"base seed of TestLinearizability; history i uses seed+i (0: a random base)")
)

const (
	linKeys    = 4  // keys 0..linKeys-1: few keys, so that calls collide
	linValues  = 4  // values 0..linValues-1: few values, so that CompareAndSwap often succeeds
	linClients = 4  // goroutines per history
	linOps     = 50 // operations per goroutine
	// linTimeout bounds porcupine's search on one history. Histories this
	// small are checked in milliseconds; a timeout only guards against a
	// pathological search, and the test fails if it happens often.
	linTimeout = 10 * time.Second
	// linDiscard is the value a Compute callback returns with DeleteOp or
	// CancelOp; the map must ignore it, and the model never produces it.
	linDiscard = 99
)

// A linKind is one operation of the map, as a history records it. The
// Compute variants differ in the op their callback returns; linComputeIfPresent
// chooses it from the old value, which keeps the callback deterministic.
type linKind uint8

const (
	linLoad linKind = iota
	linStore
	linLoadOrStore
	linLoadAndDelete
	linDelete
	linSwap
	linCompareAndSwap
	linCompareAndDelete
	linComputeUpdate    // UpdateOp with (old+a) mod linValues
	linComputeDelete    // DeleteOp
	linComputeCancel    // CancelOp
	linComputeIfPresent // UpdateOp with (old+a) mod linValues if loaded, else CancelOp
	linLoadOrCompute    // valueFn returns a
	linClear
	linNumKinds
)

var linKindNames = [linNumKinds]string{
	"Load", "Store", "LoadOrStore", "LoadAndDelete", "Delete", "Swap", "CompareAndSwap",
	"CompareAndDelete", "Compute/Update", "Compute/Delete", "Compute/Cancel", "Compute/IfPresent",
	"LoadOrCompute", "Clear",
}

// linInput is a porcupine input: an operation and its arguments. a is the
// value (Store, LoadOrStore, Swap, LoadOrCompute), the old value
// (CompareAndSwap, CompareAndDelete) or the delta (Compute); b is
// CompareAndSwap's new value.
type linInput struct {
	kind linKind
	key  int
	a, b int
}

// linOutput is a porcupine output. v and ok are the call's two results (ok
// stands for ok, loaded, swapped or deleted); calls without results leave
// them zero. For Compute, fnOld and fnLoaded are the arguments the callback
// saw; for LoadOrCompute, fnLoaded records whether valueFn ran.
type linOutput struct {
	v        int
	ok       bool
	fnOld    int
	fnLoaded bool
}

// linSlot is the sequential state of one key.
type linSlot struct {
	present bool
	v       int
}

// linState is the sequential state of the whole map; being an array, it is
// an immutable value that == compares.
type linState [linKeys]linSlot

// linStep is the sequential specification of every operation but Clear: the
// output a plain map would give for in when its key holds s, and the key's
// state afterwards.
func linStep(s linSlot, in linInput) (linOutput, linSlot) {
	switch in.kind {
	case linLoad:
		return linOutput{v: s.v, ok: s.present}, s
	case linStore:
		return linOutput{}, linSlot{true, in.a}
	case linLoadOrStore:
		if s.present {
			return linOutput{v: s.v, ok: true}, s
		}
		return linOutput{v: in.a}, linSlot{true, in.a}
	case linLoadAndDelete:
		return linOutput{v: s.v, ok: s.present}, linSlot{}
	case linDelete:
		return linOutput{}, linSlot{}
	case linSwap:
		return linOutput{v: s.v, ok: s.present}, linSlot{true, in.a}
	case linCompareAndSwap:
		if s.present && s.v == in.a {
			return linOutput{ok: true}, linSlot{true, in.b}
		}
		return linOutput{}, s
	case linCompareAndDelete:
		if s.present && s.v == in.a {
			return linOutput{ok: true}, linSlot{}
		}
		return linOutput{}, s
	case linComputeUpdate, linComputeDelete, linComputeCancel, linComputeIfPresent:
		newValue, op := linComputeFn(in)(s.v, s.present)
		next := s
		switch op {
		case safemap.UpdateOp:
			next = linSlot{true, newValue}
		case safemap.DeleteOp:
			next = linSlot{}
		}
		return linOutput{v: next.v, ok: next.present, fnOld: s.v, fnLoaded: s.present}, next
	case linLoadOrCompute:
		if s.present {
			return linOutput{v: s.v, ok: true}, s
		}
		return linOutput{v: in.a, fnLoaded: true}, linSlot{true, in.a}
	}
	panic(fmt.Sprintf("linStep: unexpected %v", in))
}

// linComputeFn returns the Compute callback of in. It depends only on its
// arguments, so the model can replay it.
func linComputeFn(in linInput) func(old int, loaded bool) (int, safemap.ComputeOp) {
	return func(old int, loaded bool) (int, safemap.ComputeOp) {
		switch {
		case in.kind == linComputeUpdate, in.kind == linComputeIfPresent && loaded:
			return (old + in.a) % linValues, safemap.UpdateOp
		case in.kind == linComputeDelete:
			return linDiscard, safemap.DeleteOp
		default:
			return linDiscard, safemap.CancelOp
		}
	}
}

// linKeyModel checks one key's operations: it serves histories without
// Clear, partitioned by key.
var linKeyModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		var parts [linKeys][]porcupine.Operation
		for _, op := range history {
			k := op.Input.(linInput).key
			parts[k] = append(parts[k], op)
		}
		out := make([][]porcupine.Operation, 0, linKeys)
		for _, p := range parts {
			if len(p) > 0 {
				out = append(out, p)
			}
		}
		return out
	},
	Init: func() any { return linSlot{} },
	Step: func(state, input, output any) (bool, any) {
		out, next := linStep(state.(linSlot), input.(linInput))
		return out == output.(linOutput), next
	},
	Hash: func(state any) uint64 {
		s := state.(linSlot)
		if !s.present {
			return 0
		}
		return uint64(s.v) + 1
	},
	DescribeOperation: linDescribe,
	DescribeState:     func(state any) string { return linDescribeSlot(state.(linSlot)) },
}

// linMapModel checks a whole history as one: Clear touches every key, so
// histories with Clear cannot be partitioned.
var linMapModel = porcupine.Model{
	Init: func() any { return linState{} },
	Step: func(state, input, output any) (bool, any) {
		s, in := state.(linState), input.(linInput)
		if in.kind == linClear {
			return output.(linOutput) == linOutput{}, linState{}
		}
		out, next := linStep(s[in.key], in)
		s[in.key] = next // s is a copy: the array is passed by value
		return out == output.(linOutput), s
	},
	Hash: func(state any) uint64 {
		var h uint64
		for _, s := range state.(linState) {
			h *= 2 * (linValues + 1)
			if s.present {
				h += uint64(s.v) + 1
			}
		}
		return h
	},
	DescribeOperation: linDescribe,
	DescribeState: func(state any) string {
		var b strings.Builder
		for k, s := range state.(linState) {
			fmt.Fprintf(&b, "%d:%s ", k, linDescribeSlot(s))
		}
		return strings.TrimSpace(b.String())
	},
}

func linDescribeSlot(s linSlot) string {
	if !s.present {
		return "-"
	}
	return fmt.Sprint(s.v)
}

func linDescribe(input, output any) string {
	in, out := input.(linInput), output.(linOutput)
	name := linKindNames[in.kind]
	switch in.kind {
	case linClear:
		return name + "()"
	case linLoad, linLoadAndDelete, linDelete:
		return fmt.Sprintf("%s(%d) -> %d, %v", name, in.key, out.v, out.ok)
	case linCompareAndSwap:
		return fmt.Sprintf("%s(%d, %d, %d) -> %v", name, in.key, in.a, in.b, out.ok)
	case linComputeUpdate, linComputeDelete, linComputeCancel, linComputeIfPresent:
		return fmt.Sprintf("%s(%d, +%d) -> %d, %v (fn saw %d, %v)",
			name, in.key, in.a, out.v, out.ok, out.fnOld, out.fnLoaded)
	case linLoadOrCompute:
		return fmt.Sprintf("%s(%d, %d) -> %d, %v (valueFn ran: %v)", name, in.key, in.a, out.v, out.ok, out.fnLoaded)
	}
	return fmt.Sprintf("%s(%d, %d) -> %d, %v", name, in.key, in.a, out.v, out.ok)
}

// linMap is the part of the Map API that histories exercise, so that the
// broken test-only variants below can stand in for it.
type linMap interface {
	Load(key int) (int, bool)
	Store(key, value int)
	LoadOrStore(key, value int) (int, bool)
	LoadAndDelete(key int) (int, bool)
	Delete(key int)
	Swap(key, value int) (int, bool)
	CompareAndSwap(key, old, new int) bool
	CompareAndDelete(key, old int) bool
	Compute(key int, fn func(old int, loaded bool) (int, safemap.ComputeOp)) (int, bool)
	LoadOrCompute(key int, valueFn func() int) (int, bool)
	Clear()
}

// linCall runs in on m and returns what the history records.
func linCall(m linMap, in linInput) (out linOutput) {
	switch in.kind {
	case linLoad:
		out.v, out.ok = m.Load(in.key)
	case linStore:
		m.Store(in.key, in.a)
	case linLoadOrStore:
		out.v, out.ok = m.LoadOrStore(in.key, in.a)
	case linLoadAndDelete:
		out.v, out.ok = m.LoadAndDelete(in.key)
	case linDelete:
		m.Delete(in.key)
	case linSwap:
		out.v, out.ok = m.Swap(in.key, in.a)
	case linCompareAndSwap:
		out.ok = m.CompareAndSwap(in.key, in.a, in.b)
	case linCompareAndDelete:
		out.ok = m.CompareAndDelete(in.key, in.a)
	case linComputeUpdate, linComputeDelete, linComputeCancel, linComputeIfPresent:
		fn, calls := linComputeFn(in), 0
		out.v, out.ok = m.Compute(in.key, func(old int, loaded bool) (int, safemap.ComputeOp) {
			calls++
			out.fnOld, out.fnLoaded = old, loaded
			return fn(old, loaded)
		})
		if calls != 1 {
			// The model cannot express a callback that ran twice; make the
			// output one it never produces.
			out.fnOld = -calls
		}
	case linLoadOrCompute:
		out.v, out.ok = m.LoadOrCompute(in.key, func() int {
			// Only the goroutine whose valueFn ran reports loaded false;
			// the model requires fnLoaded exactly then.
			out.fnLoaded = true
			return in.a
		})
	case linClear:
		m.Clear()
	}
	return out
}

// linScript returns the operations of one goroutine of a history. With
// clear unset it never chooses Clear, so the history can be partitioned.
func linScript(rng *rand.Rand, clear bool) []linInput {
	ops := make([]linInput, linOps)
	for i := range ops {
		kind := linKind(rng.IntN(int(linClear)))
		if clear && rng.IntN(25) == 0 {
			kind = linClear
		}
		ops[i] = linInput{kind: kind, key: rng.IntN(linKeys), a: rng.IntN(linValues), b: rng.IntN(linValues)}
	}
	return ops
}

// linPrepare returns the map a history runs on: fresh, or with background
// keys (never used by the scripts) and with deleted entries for the scripts'
// keys, so that the history starts in a read map with tombstones, next to
// crowded or amended segments. Either way the scripts' keys are absent, as
// the models' initial states say.
func linPrepare(rng *rand.Rand) *safemap.Map[int, int] {
	var m *safemap.Map[int, int]
	switch rng.IntN(3) {
	case 0:
		return new(safemap.Map[int, int])
	case 1:
		m = safemap.New[int, int](safemap.WithCapacity(64))
	default:
		m = safemap.New[int, int]()
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
// Return is smaller than the other's Call.
func linRecord(m linMap, scripts [][]linInput, yieldRng *rand.Rand) []porcupine.Operation {
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
			<-start
			for i, in := range script {
				if yields>>(i%64)&1 == 0 && i%3 == 0 {
					runtime.Gosched()
				}
				call := clock.Add(1)
				out := linCall(m, in)
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
func linHistory(seed uint64, m linMap) (history []porcupine.Operation, model porcupine.Model, clear bool) {
	rng := rand.New(rand.NewPCG(seed, 0x5afe))
	clear = seed%2 == 1
	if m == nil {
		m = linPrepare(rng)
	}
	scripts := make([][]linInput, linClients)
	for c := range scripts {
		scripts[c] = linScript(rng, clear)
	}
	history = linRecord(m, scripts, rng)
	if clear {
		return history, linMapModel, true
	}
	return history, linKeyModel, false
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
type racyCASMap struct{ *safemap.Map[int, int] }

func (m racyCASMap) CompareAndSwap(key, old, new int) bool {
	if v, ok := m.Load(key); !ok || v != old {
		return false
	}
	runtime.Gosched() // widen the window between the compare and the swap
	m.Store(key, new)
	return true
}

// staleLoadMap breaks Load: every third call returns the value that the
// previous Load of the key returned, from a private cache, however the key
// has changed since.
type staleLoadMap struct {
	*safemap.Map[int, int]
	calls *atomic.Int64
	cache *[linKeys]atomic.Pointer[linSlot]
}

func (m staleLoadMap) Load(key int) (int, bool) {
	if c := m.cache[key].Load(); c != nil && m.calls.Add(1)%3 == 0 {
		return c.v, c.present
	}
	v, ok := m.Map.Load(key)
	m.cache[key].Store(&linSlot{ok, v})
	return v, ok
}

// keyByKeyClearMap breaks Clear: it deletes the keys one at a time, so a
// Clear can remove a key stored after one it left in place.
type keyByKeyClearMap struct{ *safemap.Map[int, int] }

func (m keyByKeyClearMap) Clear() {
	for k := range linKeys {
		m.Delete(k)
		runtime.Gosched() // let writers in between the deletes
	}
}

// TestLinearizabilityCatchesBrokenMap shows that the histories and the
// checker find real bugs: for each broken variant, some history among the
// first linBrokenHistories must be reported as not linearizable.
func TestLinearizabilityCatchesBrokenMap(t *testing.T) {
	const linBrokenHistories = 500
	variants := []struct {
		name string
		make func() linMap
	}{
		{"racyCompareAndSwap", func() linMap { return racyCASMap{new(safemap.Map[int, int])} }},
		{"keyByKeyClear", func() linMap { return keyByKeyClearMap{new(safemap.Map[int, int])} }},
		{"staleLoad", func() linMap {
			return staleLoadMap{new(safemap.Map[int, int]), new(atomic.Int64), new([linKeys]atomic.Pointer[linSlot])}
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
