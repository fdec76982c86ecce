package safemap

// Linearizability checks aimed at what TestLinearizability
// (linearizability_test.go) leaves out. There, the four keys share no segment in two
// histories of three, nothing but misses promotes while a history runs
// (no sweep, purge or compaction), no Load follows a moved entry (loadMoved
// is not reached), and no read map is big enough for Load's cold
// shortcuts. Here:
//
//   - the keys share one segment, often as tag twins, or sit in a read map
//     of more than coldKeyBuckets buckets, in pairs whose probes pass a
//     twin's slot (TestLinChaosBigSegment);
//   - a chaos step (lcChaos) promotes, sweeps, compacts, purges, grows and
//     ranges the keys' segment, and holds its lock, while the history runs:
//     on a goroutine of its own, or from the recorded goroutines, which
//     then run in lockstep, one per P, so that lock-free calls overlap;
//   - callbacks of Compute and LoadOrCompute yield while they hold their
//     key, panic, Load their own key and call Clear (the inner calls are
//     calls of their own in the history);
//   - Clear, in place and replacing, races everything on two to four
//     segments, and one scripted test makes an in-place Clear wait for a
//     segment's lock while keys go into segments before and after it
//     (TestLinChaosClearNewSegment).
//
// Histories without Clear are checked key by key, with Clear as one.
// -safemap.lcbudget=D runs each test for D instead of 2s (0.5s with
// -short). The operations (lcIn, lcCall), their models (lcKeyModel,
// lcMapModel) and the broken maps serve TestLinearizability too.

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

const (
	lcMaxKeys = 4
	lcValues  = 3 // few values: CompareAndSwap and CompareAndDelete often succeed
	lcDiscard = 99
	lcTimeout = 10 * time.Second
)

type lcKind uint8

const (
	lcLoad lcKind = iota
	lcStore
	lcLoadOrStore
	lcLoadAndDelete
	lcDelete
	lcSwap
	lcCompareAndSwap
	lcCompareAndDelete
	lcComputeUpdate
	lcComputeDelete
	lcComputeCancel
	lcComputeIfPresent
	lcLoadOrCompute
	lcClear
	// Compute/Panic's callback panics: the key stays as it was.
	lcComputePanic
	// LoadOrCompute/Panic's valueFn panics: the key stays absent.
	lcLoadOrComputePanic
	// Compute/Clear is Compute/Update whose callback calls Clear, and
	// LoadOrCompute/Clear a LoadOrCompute whose valueFn does: the inner
	// Clear goes in the history as a call of its own, within the outer
	// one, and the documentation says the compute takes effect before it.
	lcComputeClear
	lcLoadOrComputeClear
	lcNumKinds
)

var lcKindNames = [lcNumKinds]string{
	"Load", "Store", "LoadOrStore", "LoadAndDelete", "Delete", "Swap", "CompareAndSwap",
	"CompareAndDelete", "Compute/Update", "Compute/Delete", "Compute/Cancel", "Compute/IfPresent",
	"LoadOrCompute", "Clear", "Compute/Panic", "LoadOrCompute/Panic", "Compute/Clear", "LoadOrCompute/Clear",
}

// lcIn is a porcupine input; key is an index into the history's keys. a is
// the value, the old value or the delta; b is CompareAndSwap's new value;
// slow makes a compute's callback yield, so that others run while it holds
// its key.
type lcIn struct {
	kind lcKind
	key  int
	a, b int
	slow bool
}

type lcOut struct {
	v        int
	ok       bool
	fnOld    int
	fnLoaded bool
	panicked bool
}

type lcSlot struct {
	present bool
	v       int
}

type lcState [lcMaxKeys]lcSlot

func lcComputeFn(in lcIn) func(old int, loaded bool) (int, ComputeOp) {
	return func(old int, loaded bool) (int, ComputeOp) {
		switch {
		case in.kind == lcComputeUpdate, in.kind == lcComputeClear, in.kind == lcComputeIfPresent && loaded:
			return (old + in.a) % lcValues, UpdateOp
		case in.kind == lcComputeDelete:
			return lcDiscard, DeleteOp
		default:
			return lcDiscard, CancelOp
		}
	}
}

// lcStep is the sequential specification of every operation but Clear.
func lcStep(s lcSlot, in lcIn) (lcOut, lcSlot) {
	switch in.kind {
	case lcLoad:
		return lcOut{v: s.v, ok: s.present}, s
	case lcStore:
		return lcOut{}, lcSlot{true, in.a}
	case lcLoadOrStore:
		if s.present {
			return lcOut{v: s.v, ok: true}, s
		}
		return lcOut{v: in.a}, lcSlot{true, in.a}
	case lcLoadAndDelete:
		return lcOut{v: s.v, ok: s.present}, lcSlot{}
	case lcDelete:
		return lcOut{}, lcSlot{}
	case lcSwap:
		return lcOut{v: s.v, ok: s.present}, lcSlot{true, in.a}
	case lcCompareAndSwap:
		if s.present && s.v == in.a {
			return lcOut{ok: true}, lcSlot{true, in.b}
		}
		return lcOut{}, s
	case lcCompareAndDelete:
		if s.present && s.v == in.a {
			return lcOut{ok: true}, lcSlot{}
		}
		return lcOut{}, s
	case lcComputeUpdate, lcComputeDelete, lcComputeCancel, lcComputeIfPresent, lcComputeClear:
		nv, op := lcComputeFn(in)(s.v, s.present)
		next := s
		switch op {
		case UpdateOp:
			next = lcSlot{true, nv}
		case DeleteOp:
			next = lcSlot{}
		}
		return lcOut{v: next.v, ok: next.present, fnOld: s.v, fnLoaded: s.present}, next
	case lcLoadOrCompute, lcLoadOrComputeClear:
		if s.present {
			return lcOut{v: s.v, ok: true}, s
		}
		return lcOut{v: in.a, fnLoaded: true}, lcSlot{true, in.a}
	case lcComputePanic:
		return lcOut{fnOld: s.v, fnLoaded: s.present, panicked: true}, s
	case lcLoadOrComputePanic:
		if s.present {
			return lcOut{v: s.v, ok: true}, s
		}
		return lcOut{fnLoaded: true, panicked: true}, s
	}
	panic(fmt.Sprintf("lcStep: %v", in))
}

func lcDescribe(input, output any) string {
	in, out := input.(lcIn), output.(lcOut)
	name := lcKindNames[in.kind]
	switch in.kind {
	case lcClear:
		return name + "()"
	case lcLoad, lcLoadAndDelete, lcDelete:
		return fmt.Sprintf("%s(k%d) -> %d, %v", name, in.key, out.v, out.ok)
	case lcCompareAndSwap:
		return fmt.Sprintf("%s(k%d, %d, %d) -> %v", name, in.key, in.a, in.b, out.ok)
	case lcCompareAndDelete:
		return fmt.Sprintf("%s(k%d, %d) -> %v", name, in.key, in.a, out.ok)
	case lcComputeUpdate, lcComputeDelete, lcComputeCancel, lcComputeIfPresent, lcComputeClear, lcComputePanic:
		return fmt.Sprintf("%s(k%d, +%d) -> %d, %v (fn saw %d, %v; panicked %v)",
			name, in.key, in.a, out.v, out.ok, out.fnOld, out.fnLoaded, out.panicked)
	case lcLoadOrCompute, lcLoadOrComputeClear, lcLoadOrComputePanic:
		return fmt.Sprintf("%s(k%d, %d) -> %d, %v (valueFn ran: %v; panicked %v)",
			name, in.key, in.a, out.v, out.ok, out.fnLoaded, out.panicked)
	}
	return fmt.Sprintf("%s(k%d, %d) -> %d, %v", name, in.key, in.a, out.v, out.ok)
}

func lcDescribeSlot(s lcSlot) string {
	if !s.present {
		return "-"
	}
	return fmt.Sprint(s.v)
}

// lcKeyModel checks one key's operations: it serves histories without
// Clear, partitioned by key.
var lcKeyModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		var parts [lcMaxKeys][]porcupine.Operation
		for _, op := range history {
			k := op.Input.(lcIn).key
			parts[k] = append(parts[k], op)
		}
		out := make([][]porcupine.Operation, 0, lcMaxKeys)
		for _, p := range parts {
			if len(p) > 0 {
				out = append(out, p)
			}
		}
		return out
	},
	Init: func() any { return lcSlot{} },
	Step: func(state, input, output any) (bool, any) {
		out, next := lcStep(state.(lcSlot), input.(lcIn))
		return out == output.(lcOut), next
	},
	Hash: func(state any) uint64 {
		s := state.(lcSlot)
		if !s.present {
			return 0
		}
		return uint64(s.v) + 1
	},
	DescribeOperation: lcDescribe,
	DescribeState:     func(state any) string { return lcDescribeSlot(state.(lcSlot)) },
}

// lcMapModel checks a whole history as one: Clear touches every key, so
// histories with Clear cannot be partitioned.
var lcMapModel = porcupine.Model{
	Init: func() any { return lcState{} },
	Step: func(state, input, output any) (bool, any) {
		s, in := state.(lcState), input.(lcIn)
		if in.kind == lcClear {
			return output.(lcOut) == lcOut{}, lcState{}
		}
		out, next := lcStep(s[in.key], in)
		s[in.key] = next // s is a copy: the array is passed by value
		return out == output.(lcOut), s
	},
	Hash: func(state any) uint64 {
		var h uint64
		for _, s := range state.(lcState) {
			h *= lcValues + 1
			if s.present {
				h += uint64(s.v) + 1
			}
		}
		return h
	},
	DescribeOperation: lcDescribe,
	DescribeState: func(state any) string {
		var b strings.Builder
		for k, s := range state.(lcState) {
			fmt.Fprintf(&b, "k%d:%s ", k, lcDescribeSlot(s))
		}
		return strings.TrimSpace(b.String())
	},
}

// lcMap is the part of the Map API that histories exercise, so that the
// broken variants of TestLinChaosCatchesBrokenMaps can stand in for it.
type lcMap interface {
	Load(key int) (int, bool)
	Store(key, value int)
	LoadOrStore(key, value int) (int, bool)
	LoadAndDelete(key int) (int, bool)
	Delete(key int)
	Swap(key, value int) (int, bool)
	CompareAndSwap(key, old, new int) bool
	CompareAndDelete(key, old int) bool
	Compute(key int, fn func(old int, loaded bool) (int, ComputeOp)) (int, bool)
	LoadOrCompute(key int, valueFn func() int) (int, bool)
	Clear()
}

// lcInner records a call made inside a compute's callback (a Load of its
// own key, a Clear) as a call of its own: it runs f, and the history gets
// in with f's result, between the outer call's call and return.
type lcInner func(in lcIn, f func() lcOut)

// lcCall runs in on m, with key index in.key standing for keys[in.key],
// and returns what the history records. Calls made inside a callback go
// through inner. For a Compute whose callback did not run exactly once,
// fnOld records minus the number of runs: an output no model state gives.
func lcCall(m lcMap, keys []int, in lcIn, inner lcInner) (out lcOut) {
	k := keys[in.key]
	switch in.kind {
	case lcLoad:
		out.v, out.ok = m.Load(k)
	case lcStore:
		m.Store(k, in.a)
	case lcLoadOrStore:
		out.v, out.ok = m.LoadOrStore(k, in.a)
	case lcLoadAndDelete:
		out.v, out.ok = m.LoadAndDelete(k)
	case lcDelete:
		m.Delete(k)
	case lcSwap:
		out.v, out.ok = m.Swap(k, in.a)
	case lcCompareAndSwap:
		out.ok = m.CompareAndSwap(k, in.a, in.b)
	case lcCompareAndDelete:
		out.ok = m.CompareAndDelete(k, in.a)
	case lcComputeUpdate, lcComputeDelete, lcComputeCancel, lcComputeIfPresent, lcComputeClear, lcComputePanic:
		fn, calls := lcComputeFn(in), 0
		func() {
			defer lcRecover(&out)
			out.v, out.ok = m.Compute(k, func(old int, loaded bool) (int, ComputeOp) {
				calls++
				out.fnOld, out.fnLoaded = old, loaded
				lcInCallback(m, k, in, inner, lcComputeClear, lcComputePanic)
				return fn(old, loaded)
			})
		}()
		if calls != 1 {
			out.fnOld = -calls
		}
	case lcLoadOrCompute, lcLoadOrComputeClear, lcLoadOrComputePanic:
		func() {
			defer lcRecover(&out)
			out.v, out.ok = m.LoadOrCompute(k, func() int {
				out.fnLoaded = true
				lcInCallback(m, k, in, inner, lcLoadOrComputeClear, lcLoadOrComputePanic)
				return in.a
			})
		}()
	case lcClear:
		m.Clear()
	}
	return out
}

// lcPanic is what the callbacks of lcComputePanic and lcLoadOrComputePanic
// panic with; lcRecover recovers it and no other value.
const lcPanic = "lin-chaos callback panic"

// lcRecover, deferred, records that the call panicked with lcPanic.
func lcRecover(out *lcOut) {
	if r := recover(); r != nil {
		if r != lcPanic {
			panic(r)
		}
		out.panicked = true
	}
}

// lcInCallback is what a compute's callback does besides computing: it
// yields if in.slow, loads its own key (in.b == 0), and calls Clear or
// panics when in.kind is clearKind or panicKind.
func lcInCallback(m lcMap, k int, in lcIn, inner lcInner, clearKind, panicKind lcKind) {
	if in.slow {
		runtime.Gosched()
	}
	if in.b == 0 {
		inner(lcIn{kind: lcLoad, key: in.key}, func() (o lcOut) { o.v, o.ok = m.Load(k); return })
	}
	switch in.kind {
	case clearKind:
		inner(lcIn{kind: lcClear}, func() lcOut { m.Clear(); return lcOut{} })
	case panicKind:
		panic(lcPanic)
	}
}

// lcScenario describes one kind of history.
type lcScenario struct {
	clients, ops int
	// weights of the operation kinds (indexed by lcKind); lcClear's weight
	// makes the history one for lcMapModel.
	weights [lcNumKinds]int
	// setup makes the map, and returns it with the keys of the history
	// (absent, as the models start) and background keys that chaos may
	// use (never one of keys).
	setup func(rng *rand.Rand) (m *Map[int, int], keys, background []int)
	// chaos, if set, returns a step function, with state of its own (id
	// tells the goroutines apart), each call of which changes the map's
	// internal state without touching keys: promotions, sweeps, new and
	// deleted background keys. Free-running histories call it in a loop
	// on a goroutine of its own; lockstep ones from the recorded
	// goroutines, between their calls.
	chaos func(m *Map[int, int], background []int, id int) func(rng *rand.Rand)
	// wrap, if set, replaces the map the recorded goroutines call.
	wrap func(m *Map[int, int]) lcMap
}

func (sc *lcScenario) clear() bool {
	return sc.weights[lcClear] > 0 || sc.weights[lcComputeClear] > 0 || sc.weights[lcLoadOrComputeClear] > 0
}

func (sc *lcScenario) script(rng *rand.Rand, nkeys, nops int) []lcIn {
	total := 0
	for _, w := range sc.weights {
		total += w
	}
	ops := make([]lcIn, nops)
	for i := range ops {
		x := rng.IntN(total)
		kind := lcKind(0)
		for ; x >= sc.weights[kind]; kind++ {
			x -= sc.weights[kind]
		}
		ops[i] = lcIn{kind: kind, key: rng.IntN(nkeys), a: rng.IntN(lcValues), b: rng.IntN(lcValues), slow: rng.IntN(3) == 0}
	}
	return ops
}

// lcStats counts what the histories exercised, for the log.
type lcStats struct {
	histories, ops, overlapped [2]int // by mode: free-running, lockstep
	clearsReplaced, clearsSame atomic.Int64
}

// lcLockstepClients is the number of goroutines of a lockstep history:
// one per P, so that they all run at once.
func lcLockstepClients() int {
	return min(max(runtime.GOMAXPROCS(0), 2), 4)
}

// lcSpread and lcLead tune lockstep's delays (see lcRecord), in
// iterations of lcSpin, about a nanosecond each.
const lcSpread, lcLead = 200, 100

// lcSpin waits about n nanoseconds, touching no shared memory. Its
// result only keeps the loop from being compiled away.
//
//go:noinline
func lcSpin(n int) int {
	x := 0
	for i := range n {
		x += i ^ x>>3
	}
	return x
}

// lcRecord runs the scripts on m and returns the history.
//
// Free-running (lockstep unset), each goroutine spins or yields at random
// between calls. With few cores and more goroutines than cores, calls that
// take no lock seldom overlap then: the goroutines run a few at a time,
// each many calls in a row. So in lockstep, there is one goroutine per P,
// they meet at a spinning barrier before each call, and then each waits a
// short random time (or runs a chaos step) before it calls: their calls
// start within nanoseconds of each other, in every order.
func lcRecord(m lcMap, keys []int, scripts [][]lcIn, seed uint64, st *lcStats, tm *Map[int, int],
	lockstep bool, chaos func(id int) func(rng *rand.Rand)) []porcupine.Operation {
	var (
		clock   atomic.Int64
		arrived atomic.Int64
		first   atomic.Int64 // the last step whose barrier a goroutine went through first
		wg      sync.WaitGroup
		ready   sync.WaitGroup
		start   = make(chan struct{})
		history = make([][]porcupine.Operation, len(scripts))
		n       = int64(len(scripts))
	)
	for c, script := range scripts {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)+1000))
			var step func(*rand.Rand)
			if lockstep && chaos != nil {
				step = chaos(c)
			}
			ops := make([]porcupine.Operation, 0, len(script))
			ready.Done()
			<-start
			for i, in := range script {
				if lockstep {
					arrived.Add(1)
					for spins := 0; arrived.Load() < int64(i+1)*n; spins++ {
						if spins%64 == 63 {
							runtime.Gosched()
						}
					}
					if step != nil && rng.IntN(8) == 0 {
						step(rng)
					} else {
						// The first through the barrier, usually the last
						// to arrive, which saw it open at once, leads the
						// others by a cache miss: it waits about as long
						// more, so that any may call first.
						d := rng.IntN(lcSpread)
						if first.Swap(int64(i+1)) != int64(i+1) {
							d += lcLead
						}
						_ = lcSpin(d)
					}
				} else {
					switch rng.IntN(4) {
					case 0:
						runtime.Gosched()
					case 1:
						for range rng.IntN(200) {
							clock.Load()
						}
					}
				}
				var before *table[int, int]
				if in.kind == lcClear {
					before = tm.t.Load()
				}
				inner := func(in lcIn, f func() lcOut) {
					call := clock.Add(1)
					out := f()
					ret := clock.Add(1)
					ops = append(ops, porcupine.Operation{ClientId: c + 100, Input: in, Call: call, Output: out, Return: ret})
				}
				call := clock.Add(1)
				out := lcCall(m, keys, in, inner)
				ret := clock.Add(1)
				if in.kind == lcClear {
					if tm.t.Load() != before {
						st.clearsReplaced.Add(1)
					} else {
						st.clearsSame.Add(1)
					}
				}
				ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
			}
			history[c] = ops
		}()
	}
	ready.Wait()
	close(start)
	if stacks := wedged(&wg); stacks != "" {
		panic("history wedged:\n" + stacks)
	}
	var all []porcupine.Operation
	for _, ops := range history {
		all = append(all, ops...)
	}
	mode := 0
	if lockstep {
		mode = 1
	}
	st.histories[mode]++
	st.ops[mode] += len(all)
	st.overlapped[mode] += lcOverlapped(all)
	return all
}

// lcOverlapped counts the calls that overlap a call of another goroutine.
func lcOverlapped(h []porcupine.Operation) int {
	sorted := slices.Clone(h)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Call < sorted[j].Call })
	n := 0
	for i, op := range sorted {
		over := false
		for j := i - 1; j >= 0 && !over; j-- {
			if sorted[j].Return > op.Call && sorted[j].ClientId%100 != op.ClientId%100 {
				over = true
			}
			if op.Call-sorted[j].Call > 64 {
				break
			}
		}
		for j := i + 1; j < len(sorted) && !over && sorted[j].Call < op.Return; j++ {
			if sorted[j].ClientId%100 != op.ClientId%100 {
				over = true
			}
		}
		if over {
			n++
		}
	}
	return n
}

// lcNoOp reports whether op changes no state in any linearization that
// accepts its output: removing it from a linearizable history leaves one
// linearizable, so a history that stays illegal without it was illegal.
func lcNoOp(op porcupine.Operation) bool {
	in, out := op.Input.(lcIn), op.Output.(lcOut)
	switch in.kind {
	case lcLoad:
		return true
	case lcLoadOrStore, lcLoadOrCompute:
		return out.ok
	case lcCompareAndSwap, lcCompareAndDelete, lcLoadAndDelete:
		return !out.ok
	case lcComputeCancel, lcComputePanic, lcLoadOrComputePanic:
		return true
	case lcComputeIfPresent, lcComputeDelete:
		return !out.fnLoaded
	}
	return false
}

// lcShrink drops the no-op calls (see lcNoOp) that the history does not
// need to stay illegal, and the partitions that are legal.
func lcShrink(model porcupine.Model, h []porcupine.Operation) []porcupine.Operation {
	if model.Partition != nil {
		for _, p := range model.Partition(h) {
			if porcupine.CheckOperationsTimeout(model, p, lcTimeout) == porcupine.Illegal {
				h = p
				break
			}
		}
	}
	for i := 0; i < len(h); {
		if !lcNoOp(h[i]) {
			i++
			continue
		}
		cut := slices.Concat(h[:i:i], h[i+1:])
		if porcupine.CheckOperationsTimeout(model, cut, lcTimeout) == porcupine.Illegal {
			h = cut
			continue
		}
		i++
	}
	return h
}

// lcReport describes an illegal history: the calls of a shrunk one, in
// order of call, and, if visualize is set, the path of porcupine's
// visualization of the shrunk history.
func lcReport(model porcupine.Model, h []porcupine.Operation, visualize bool) string {
	small := lcShrink(model, h)
	sorted := slices.Clone(small)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Call < sorted[j].Call })
	var b strings.Builder
	fmt.Fprintf(&b, "%d calls, shrunk to %d that stay illegal (client [call, return] op):\n", len(h), len(small))
	for i, op := range sorted {
		if i == 60 {
			fmt.Fprintf(&b, "  ... %d more\n", len(sorted)-i)
			break
		}
		fmt.Fprintf(&b, "  c%d [%d, %d] %s\n", op.ClientId, op.Call, op.Return, lcDescribe(op.Input, op.Output))
	}
	if !visualize {
		return b.String()
	}
	_, info := porcupine.CheckOperationsVerbose(model, small, lcTimeout)
	if dir, err := os.MkdirTemp("", "safemap-lin-chaos-"); err == nil {
		path := filepath.Join(dir, "history.html")
		if err := porcupine.VisualizePath(model, info, path); err == nil {
			fmt.Fprintf(&b, "visualization: %s\n", path)
		}
	}
	return b.String()
}

var lcBudgetFlag = flag.Duration("safemap.lcbudget", 0,
	"how long each TestLinChaos* test records histories (0: 2s, or 0.5s with -short)")

// lcBudget is how long each test records histories.
func lcBudget() time.Duration {
	if *lcBudgetFlag > 0 {
		return *lcBudgetFlag
	}
	if testing.Short() {
		return 500 * time.Millisecond
	}
	return 2 * time.Second
}

// lcRun records and checks histories of sc for lcBudget (at least min),
// failing at the first illegal one. Histories alternate between the two
// modes of lcRecord.
func lcRun(t *testing.T, sc *lcScenario, minHistories int) *lcStats {
	t.Helper()
	st, err := lcRunQuiet(sc, minHistories, lcBudget())
	if err != "" {
		t.Fatal(err)
	}
	pct := func(mode int) float64 { return 100 * float64(st.overlapped[mode]) / float64(max(st.ops[mode], 1)) }
	t.Logf("free-running: %d histories, %d calls, %.0f%% overlapping another goroutine's; "+
		"lockstep: %d histories, %d calls, %.0f%% overlapping; Clears: %d replaced the table, %d kept it",
		st.histories[0], st.ops[0], pct(0), st.histories[1], st.ops[1], pct(1),
		st.clearsReplaced.Load(), st.clearsSame.Load())
	return st
}

// lcRunQuiet is lcRun without a test: it returns the report of the first
// illegal history, or "".
func lcRunQuiet(sc *lcScenario, minHistories int, budget time.Duration) (*lcStats, string) {
	st := new(lcStats)
	base := rand.Uint64() >> 1
	model := lcKeyModel
	if sc.clear() {
		model = lcMapModel
	}
	deadline := time.Now().Add(budget)
	unknown, total := 0, 0
	for i := 0; i < minHistories || time.Now().Before(deadline); i++ {
		total++
		seed := base + uint64(i)
		rng := rand.New(rand.NewPCG(seed, 0x11e))
		m, keys, background := sc.setup(rng)
		lockstep := i%2 == 1
		clients, nops := sc.clients, sc.ops
		if lockstep {
			clients = lcLockstepClients()
			nops = sc.ops * sc.clients / clients
		}
		scripts := make([][]lcIn, clients)
		for c := range scripts {
			scripts[c] = sc.script(rng, len(keys), nops)
		}
		var chaos func(id int) func(*rand.Rand)
		if sc.chaos != nil {
			chaos = func(id int) func(*rand.Rand) { return sc.chaos(m, background, id) }
		}
		var stop atomic.Bool
		var bgDone sync.WaitGroup
		if chaos != nil && !lockstep {
			bgDone.Add(1)
			crng := rand.New(rand.NewPCG(seed, 0xc4a05))
			go func() {
				defer bgDone.Done()
				for step := chaos(99); !stop.Load(); {
					step(crng)
				}
			}()
		}
		var lm lcMap = m
		if sc.wrap != nil {
			lm = sc.wrap(m)
		}
		history := lcRecord(lm, keys, scripts, seed, st, m, lockstep, chaos)
		stop.Store(true)
		bgDone.Wait()
		switch porcupine.CheckOperationsTimeout(model, history, lcTimeout) {
		case porcupine.Illegal:
			return st, fmt.Sprintf("history %d (seed %d, lockstep %v) is not linearizable: %s", i, seed, lockstep, lcReport(model, history, sc.wrap == nil))
		case porcupine.Unknown:
			unknown++
		}
		if sc.wrap == nil {
			if err := m.checkInvariants(); err != nil {
				return st, fmt.Sprintf("history %d (seed %d): invariant: %v", i, seed, err)
			}
		}
	}
	if unknown > total/20 {
		return st, fmt.Sprintf("porcupine timed out on %d of %d histories", unknown, total)
	}
	return st, ""
}

// Weights.

var (
	// lcAllButClear weighs every operation but Clear alike.
	lcAllButClear = [lcNumKinds]int{3, 3, 2, 2, 2, 2, 3, 2, 2, 1, 1, 1, 2, 0}
	// lcNoCompute leaves out the computes, so that the map never sets
	// counts.computed and Store, Swap and Delete take their blind paths.
	lcNoCompute = [lcNumKinds]int{4, 3, 2, 2, 2, 2, 3, 2, 0, 0, 0, 0, 0, 0}
	// lcComputeHeavy: computes, some panicking, against deletes, stores
	// and compares.
	lcComputeHeavy = [lcNumKinds]int{3, 2, 1, 2, 2, 1, 2, 2, 4, 2, 1, 2, 4, 0, 1, 1}
	// lcWithClear adds Clear to lcAllButClear, from callbacks too.
	lcWithClear = [lcNumKinds]int{4, 4, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 1, 1, 1, 1}
)

// Setups.

// lcNewMap returns an empty map, zero, presized (small or big hint) or not.
func lcNewMap(rng *rand.Rand) *Map[int, int] {
	switch rng.IntN(4) {
	case 0:
		return new(Map[int, int])
	case 1:
		return New[int, int](WithCapacity(8 * segments))
	case 2:
		return New[int, int](WithCapacity(200 * segments))
	}
	return New[int, int]()
}

// lcKeysIn returns n keys of segment seg, from a random start below
// 1<<20, that pass ok and are not in exclude, and nbg background keys of
// the same segment, from 1<<22 on (so never one of the keys).
func lcKeysIn(m *Map[int, int], rng *rand.Rand, seg, n, nbg int, ok func(k int) bool, exclude ...int) (keys, bg []int) {
	for k := rng.IntN(1 << 20); len(keys) < n; k++ {
		if m.segmentOf(k) == seg && !slices.Contains(exclude, k) && (ok == nil || ok(k)) {
			keys = append(keys, k)
		}
	}
	for k := 1<<22 + rng.IntN(1<<20); len(bg) < nbg; k++ {
		if m.segmentOf(k) == seg {
			bg = append(bg, k)
		}
	}
	return keys, bg
}

// lcTagTwins returns a filter that accepts keys of the first accepted
// key's tag, with probability p each for others too.
func lcTagTwins(m *Map[int, int], rng *rand.Rand, p float64) func(k int) bool {
	t := m.loadOrInit()
	tag := uint64(0)
	return func(k int) bool {
		h := tagOf(t.hasher.hash(k))
		if tag == 0 {
			tag = h
			return true
		}
		return h == tag || rng.Float64() < p
	}
}

// lcPrepareKeys leaves keys absent in one of the states an absent key can
// be in: never stored; deleted in dirty; a tombstone of read; swept. Some
// of the background keys are stored and promoted with them, so that the
// read map has other entries.
func lcPrepareKeys(m *Map[int, int], rng *rand.Rand, keys, bg []int) {
	nbg := 0
	if len(bg) > 0 {
		nbg = rng.IntN(len(bg) + 1)
	}
	for _, k := range bg[:nbg] {
		m.Store(k, -k)
	}
	state := rng.IntN(4)
	if state == 0 {
		if rng.IntN(2) == 0 {
			m.promoteAll()
		}
		return
	}
	for _, k := range keys {
		m.Store(k, -1)
	}
	if state >= 2 {
		m.promoteAll()
	}
	for _, k := range keys {
		m.Delete(k)
	}
	if state == 3 {
		m.sweepAll() // swept, or dropped with their segment's other tombstones
	}
	if rng.IntN(2) == 0 {
		m.nearPromotion()
	}
}

// lcInternalStep makes one of the changes the map makes on its own: a
// promotion of every segment (which 0), a sweep of every segment (1), or
// every amended segment brought one miss short of promotion (2).
func lcInternalStep(m *Map[int, int], which int) {
	switch which {
	case 0:
		m.promoteAll()
	case 1:
		m.sweepAll()
	case 2:
		m.nearPromotion()
	}
}

// lcChaos returns a chaos step (see lcScenario.chaos) that drives the
// segment of the background keys through promotions, sweeps, refilters,
// purges, compactions, dirty growth and Range's promotions, without
// touching the history's keys.
func lcChaos(m *Map[int, int], bg []int, id int) func(rng *rand.Rand) {
	fresh := 1<<30 + id<<24 // keys no one else uses
	seg := -1
	if len(bg) > 0 {
		seg = m.segmentOf(bg[0])
	}
	var added []int
	return func(rng *rand.Rand) {
		switch c := rng.IntN(13); c {
		case 0, 1, 2:
			lcInternalStep(m, c)
		case 3, 4:
			if len(bg) > 0 {
				k := bg[rng.IntN(len(bg))]
				m.Store(k, k)
			}
		case 5:
			if len(bg) > 0 {
				m.Delete(bg[rng.IntN(len(bg))])
			}
		case 6:
			// Misses in the segment: they promote its dirty map.
			if len(bg) > 0 {
				m.Load(bg[rng.IntN(len(bg))] + 1<<29)
			}
		case 7:
			// New keys in the segment: dirty grows (and its filter),
			// and is purged when they go.
			for range rng.IntN(40) {
				for fresh++; seg >= 0 && m.segmentOf(fresh) != seg; fresh++ {
				}
				m.Store(fresh, fresh)
				added = append(added, fresh)
			}
		case 8:
			for _, k := range added {
				m.Delete(k)
			}
			added = added[:0]
		case 9:
			m.Range(func(int, int) bool { return true })
		case 10:
			// Delete most background keys: a compaction, then revive.
			for _, k := range bg {
				m.Delete(k)
			}
			for _, k := range bg[:len(bg)/2] {
				m.Store(k, k)
			}
		case 11:
			// Hold the segment's lock a few microseconds, as a slow
			// writer would: calls that need it span many others, and
			// lock-free ones go on meanwhile.
			if seg < 0 {
				break
			}
			if s := m.t.Load().segs[seg].Load(); s != nil {
				s.mu.Lock()
				_ = lcSpin(rng.IntN(5000))
				s.mu.Unlock()
			}
		default:
			runtime.Gosched()
		}
	}
}

// lcSegmentSetup returns a setup whose keys share one segment, tag twins
// with probability twins, with nbg background keys.
func lcSegmentSetup(nkeys, nbg int, twins float64) func(rng *rand.Rand) (*Map[int, int], []int, []int) {
	return func(rng *rand.Rand) (*Map[int, int], []int, []int) {
		if rng.IntN(10) == 0 {
			// A zero Map, untouched: the history's first writes race to
			// make its table. The keys cannot be placed in one segment
			// without the table's seeds.
			var keys []int
			for len(keys) < nkeys {
				if k := rng.IntN(1 << 20); !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
			return new(Map[int, int]), keys, nil
		}
		m := lcNewMap(rng)
		var ok func(int) bool
		if rng.Float64() < twins {
			ok = lcTagTwins(m, rng, 0)
		}
		keys, bg := lcKeysIn(m, rng, rng.IntN(segments), nkeys, nbg, ok)
		lcPrepareKeys(m, rng, keys, bg)
		return m, keys, bg
	}
}

// TestLinChaosSegmentContention: two to four keys in one segment (tag
// twins half the time), many goroutines, while the segment is promoted,
// swept, grown and purged under them.
func TestLinChaosSegmentContention(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights [lcNumKinds]int
	}{
		{"all", lcAllButClear},
		{"noCompute", lcNoCompute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lcRun(t, &lcScenario{
				clients: 6, ops: 40, weights: tc.weights,
				setup: func(rng *rand.Rand) (*Map[int, int], []int, []int) {
					return lcSegmentSetup(2+rng.IntN(3), 24, 0.5)(rng)
				},
				chaos: lcChaos,
			}, 50)
		})
	}
}

// TestLinChaosComputeRaces: Compute and LoadOrCompute, whose callbacks
// yield while they hold the key, against Delete, Store, the compares and
// each other, with promotions moving their marks.
func TestLinChaosComputeRaces(t *testing.T) {
	lcRun(t, &lcScenario{
		clients: 5, ops: 40, weights: lcComputeHeavy,
		setup: lcSegmentSetup(2, 24, 0.5),
		chaos: lcChaos,
	}, 50)
}

// lcClearChaos is gentler than lcChaos: background keys would keep
// Clear from its in-place path.
func lcClearChaos(m *Map[int, int], bg []int, id int) func(rng *rand.Rand) {
	return func(rng *rand.Rand) {
		switch c := rng.IntN(8); c {
		case 0, 1, 2:
			lcInternalStep(m, c)
		case 3:
			m.Load(bg[0] + 1<<29)
		case 4, 5:
			// Hold the lock of a background key's segment for a while,
			// as a slow writer would: a Clear then waits to lock it, with
			// the segments before it locked and the others not yet.
			if s := m.t.Load().segs[m.segmentOf(bg[rng.IntN(len(bg))])].Load(); s != nil {
				s.mu.Lock()
				_ = lcSpin(rng.IntN(20000))
				s.mu.Unlock()
			}
		default:
			runtime.Gosched()
		}
	}
}

// TestLinChaosClear: Clear, in place and replacing the table, from plain
// calls and from callbacks, racing every other operation on keys of one
// or two segments (some promoted, so written lock-free), or of four, while
// the chaos goroutine promotes and sweeps.
func TestLinChaosClear(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(rng *rand.Rand) (*Map[int, int], []int, []int)
	}{
		{"twoSegments", func(rng *rand.Rand) (*Map[int, int], []int, []int) {
			m := lcNewMap(rng)
			seg := rng.IntN(segments)
			keys, bg := lcKeysIn(m, rng, seg, 2, 8, nil)
			other, _ := lcKeysIn(m, rng, (seg+1+rng.IntN(segments-1))%segments, 2, 0, nil)
			if rng.IntN(3) == 0 {
				other, _ = lcKeysIn(m, rng, seg, 2, 0, nil, keys...)
			}
			keys = append(keys, other...)
			lcPrepareKeys(m, rng, keys, bg)
			return m, keys, bg
		}},
		{"fourSegments", func(rng *rand.Rand) (*Map[int, int], []int, []int) {
			m := lcNewMap(rng)
			var keys, bg []int
			for _, seg := range rng.Perm(segments)[:lcMaxKeys] {
				k, b := lcKeysIn(m, rng, seg, 1, 1, nil)
				keys, bg = append(keys, k...), append(bg, b...)
			}
			lcPrepareKeys(m, rng, keys, nil)
			return m, keys, bg
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := lcRun(t, &lcScenario{clients: 4, ops: 30, weights: lcWithClear, setup: tc.setup, chaos: lcClearChaos}, 50)
			if st.clearsSame.Load() == 0 || st.clearsReplaced.Load() == 0 {
				t.Logf("only one Clear path exercised")
			}
		})
	}
}

// TestLinChaosClearCrossKey: a writer stores new values into two
// promoted keys of different segments, lock-free, others load the keys in
// both orders, and one goroutine clears: a goroutine that saw a key
// cleared must not then see another key's value from before the Clear.
func TestLinChaosClearCrossKey(t *testing.T) {
	var w [lcNumKinds]int
	w[lcLoad], w[lcStore], w[lcSwap], w[lcClear] = 10, 4, 2, 1
	lcRun(t, &lcScenario{
		clients: 4, ops: 40, weights: w,
		setup: func(rng *rand.Rand) (*Map[int, int], []int, []int) {
			m := lcNewMap(rng)
			seg := rng.IntN(segments)
			a, _ := lcKeysIn(m, rng, seg, 1+rng.IntN(2), 0, nil)
			b, _ := lcKeysIn(m, rng, (seg+1+rng.IntN(segments-1))%segments, 1, 0, nil)
			keys := append(a, b...)
			for _, k := range keys {
				m.Store(k, 0)
			}
			m.promoteAll()
			for _, k := range keys {
				m.Delete(k)
			}
			return m, keys, nil
		},
		chaos: func(m *Map[int, int], bg []int, id int) func(rng *rand.Rand) {
			return func(rng *rand.Rand) {
				if rng.IntN(4) == 0 {
					m.promoteAll()
				}
				runtime.Gosched()
			}
		},
	}, 100)
}

// lcTwinPairs returns pairs of keys of segment seg's read map where a
// probe for the second passes the first's slot, whose tag is the same: in
// one bucket, or the first in the second's home bucket, the second placed
// further on.
func lcTwinPairs(m *Map[int, int], seg int) [][2]int {
	t := m.t.Load()
	r := t.loadRead(seg)
	var pairs [][2]int
	for i := range r.buckets {
		b := &r.buckets[i]
		for j := 0; j < slotsPerBucket && b.tags>>(8*j)&0x80 != 0; j++ {
			first := r.keys[i][j]
			hf := t.hasher.hash(first)
			for d := 0; d < 3; d++ {
				i2 := (i + d) % len(r.buckets)
				b2 := &r.buckets[i2]
				for j2 := 0; j2 < slotsPerBucket && b2.tags>>(8*j2)&0x80 != 0; j2++ {
					if d == 0 && j2 <= j {
						continue
					}
					second := r.keys[i2][j2]
					hs := t.hasher.hash(second)
					if tagOf(hs) == tagOf(hf) && home(hs, len(r.buckets)) == i {
						pairs = append(pairs, [2]int{first, second})
					}
				}
			}
		}
	}
	return pairs
}

// TestLinChaosBigSegment: keys in a segment whose read map has more than
// coldKeyBuckets buckets, so that Load's shortcuts for deleted entries of
// big maps apply, chosen (where the map's seed allows) in pairs whose
// probe passes a tag twin's slot, in the same bucket or past a full home
// bucket; swept and rebuilt now and then.
func TestLinChaosBigSegment(t *testing.T) {
	min := 20
	if testing.Short() {
		min = 5
	}
	twins := 0
	lcRun(t, &lcScenario{
		clients: 5, ops: 40, weights: lcAllButClear,
		setup: func(rng *rand.Rand) (*Map[int, int], []int, []int) {
			m := lcNewMap(rng)
			seg := rng.IntN(segments)
			_, bg := lcKeysIn(m, rng, seg, 0, 440, nil)
			for _, k := range bg {
				m.Store(k, k)
			}
			m.promoteAll()
			var keys []int
			pairs := lcTwinPairs(m, seg)
			rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
			for _, p := range pairs {
				if len(keys)+2 <= lcMaxKeys && !slices.Contains(keys, p[0]) && !slices.Contains(keys, p[1]) {
					keys = append(keys, p[0], p[1])
				}
			}
			if len(keys) > 0 {
				twins++
			}
			for _, k := range bg {
				if len(keys) >= 2 {
					break
				}
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
			bg = slices.DeleteFunc(bg, func(k int) bool { return slices.Contains(keys, k) })
			for _, k := range keys {
				m.Delete(k)
			}
			if rng.IntN(3) == 0 {
				m.sweepAll() // tombstones swept, kept until the next sweep
			}
			return m, keys, bg[:40]
		},
		chaos: func(m *Map[int, int], bg []int, id int) func(rng *rand.Rand) {
			return func(rng *rand.Rand) {
				switch rng.IntN(24) {
				case 0:
					m.promoteAll() // drops the deleted keys: the layout changes
				case 1, 2:
					m.sweepAll()
				case 3, 4, 5:
					m.Delete(bg[rng.IntN(len(bg))])
				case 6, 7, 8:
					m.Store(bg[rng.IntN(len(bg))], 1)
				case 9, 10:
					m.Load(bg[0] + 1<<29)
				default:
					runtime.Gosched()
				}
			}
		},
	}, min)
	t.Logf("%d histories had tag-twin keys", twins)
}

// lcDirtyThresholds are dirty map sizes at which something happens to a
// segment's dirty map or filter: the fullFilter's capacity (4), growths
// (past 3, 6, 12, 24, 48, 96 keys) and refilters (at 32, 64, 128 keys).
var lcDirtyThresholds = []int{3, 4, 6, 12, 24, 32, 48, 64, 96, 128}

// TestLinChaosDirtyGrowth: the keys wait in a dirty map filled to just
// below a threshold where it grows (incrementally) or its read map gets a
// bigger filter, and background keys pushed past it while the history
// runs; or in a big dirty map whose background keys are deleted in bulk,
// so that it is purged, its survivors moved to a smaller map with a new
// filter.
func TestLinChaosDirtyGrowth(t *testing.T) {
	lcRun(t, &lcScenario{
		clients: 4, ops: 40, weights: lcAllButClear,
		setup: func(rng *rand.Rand) (*Map[int, int], []int, []int) {
			m := lcNewMap(rng)
			keys, bg := lcKeysIn(m, rng, rng.IntN(segments), 2+rng.IntN(3), 240, nil)
			if rng.IntN(2) == 0 {
				// The keys deleted in dirty: deleted slots.
				for _, k := range keys {
					m.Store(k, -1)
				}
				for _, k := range keys {
					m.Delete(k)
				}
			}
			n := lcDirtyThresholds[rng.IntN(len(lcDirtyThresholds))] - rng.IntN(3)
			if rng.IntN(4) == 0 {
				n = 100 + rng.IntN(100) // big: a purge keeps survivors
			}
			for _, k := range bg[:max(n, 0)] {
				m.Store(k, k)
			}
			return m, keys, bg
		},
		chaos: func(m *Map[int, int], bg []int, id int) func(rng *rand.Rand) {
			// Background keys stored by setup are bg[:n], n < 200; each
			// goroutine adds from its own share of bg[200:], and deletes
			// the stored ones in bulk.
			extra := bg[200+id%4*10 : 200+(id%4+1)*10]
			i := 0
			return func(rng *rand.Rand) {
				switch rng.IntN(8) {
				case 0:
					m.promoteAll()
				case 1:
					m.Range(func(int, int) bool { return true })
				case 2, 3:
					// Delete a run of keys: purges of dirty.
					from := rng.IntN(200)
					for _, k := range bg[from:min(from+40+rng.IntN(100), 200)] {
						m.Delete(k)
					}
				default:
					for range 1 + rng.IntN(4) {
						if i < len(extra) {
							m.Store(extra[i], i)
							i++
						} else {
							m.Delete(extra[i%len(extra)])
							i = (i + 1) % (2 * len(extra))
						}
					}
				}
			}
		},
	}, 50)
}

// TestLinChaosClearNewSegment: an in-place Clear waits for the lock of
// the first segment it found holding keys (a slow writer holds it), while
// another goroutine stores a key into an empty segment and then one into a
// segment that the Clear has yet to lock. The Clear linearizes when it
// holds every filled segment's lock, so it must empty both segments or
// leave both new values: if it clears the later store, it must clear the
// earlier one too. The steps are ordered by channels, not by timing: the
// writer stores once the Clear holds initMu (seen through TryLock), and
// then a little later, when it waits for the segment's lock.
func TestLinChaosClearNewSegment(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 60
	}
	inPlace := 0
	for round := range rounds {
		rng := rand.New(rand.NewPCG(uint64(round), rand.Uint64()))
		m := New[int, int]()
		segs := rng.Perm(segments)[:3]
		if segs[0] > segs[1] {
			segs[0], segs[1] = segs[1], segs[0] // the Clear locks segs[0] first
		}
		var keys []int
		for i, seg := range segs {
			k, bg := lcKeysIn(m, rng, seg, 1, 4, nil)
			keys = append(keys, k[0])
			if i < 2 {
				// Keys that no call uses, so that a store into a dirty
				// key is no miss enough to promote it.
				for _, b := range bg {
					m.Store(b, b)
				}
			}
		}
		// k0 and k1 wait in dirty maps (so the Clear may empty them in
		// place); k2's segment is empty.
		m.Store(keys[0], 0)
		m.Store(keys[1], 0)
		tb := m.t.Load()
		holder := tb.segs[segs[0]].Load()

		var (
			clock   atomic.Int64
			locked  = make(chan struct{})
			stored  = make(chan struct{})
			cleared = make(chan struct{})
			wg      sync.WaitGroup
			mu      sync.Mutex
			history []porcupine.Operation
		)
		record := func(c int, in lcIn) {
			call := clock.Add(1)
			out := lcCall(m, keys, in, nil)
			ret := clock.Add(1)
			mu.Lock()
			history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
			mu.Unlock()
		}
		// The initial stores, as calls that returned before the others.
		for k := range 2 {
			history = append(history, porcupine.Operation{ClientId: 9, Input: lcIn{kind: lcStore, key: k, a: 0},
				Call: clock.Add(1), Output: lcOut{}, Return: clock.Add(1)})
		}
		wg.Add(3)
		go func() { // a slow writer of segs[0]
			defer wg.Done()
			holder.mu.Lock()
			close(locked)
			<-stored
			holder.mu.Unlock()
		}()
		go func() {
			defer wg.Done()
			<-locked
			record(0, lcIn{kind: lcClear})
			close(cleared)
			record(0, lcIn{kind: lcLoad, key: 2})
			record(0, lcIn{kind: lcLoad, key: 1})
			record(0, lcIn{kind: lcLoad, key: 0})
		}()
		go func() {
			defer wg.Done()
			<-locked
			for m.initMu.TryLock() { // the Clear has not taken it yet
				m.initMu.Unlock()
				runtime.Gosched()
			}
			time.Sleep(time.Duration(rng.IntN(50)) * time.Microsecond)
			record(1, lcIn{kind: lcStore, key: 2, a: 1})
			record(1, lcIn{kind: lcStore, key: 1, a: 1})
			close(stored)
			<-cleared
			record(1, lcIn{kind: lcLoad, key: 1})
			record(1, lcIn{kind: lcLoad, key: 2})
		}()
		waitOrFail(t, &wg)
		if m.t.Load() == tb {
			inPlace++
		}
		if porcupine.CheckOperationsTimeout(lcMapModel, history, lcTimeout) == porcupine.Illegal {
			t.Fatalf("round %d (segments %v) is not linearizable: %s", round, segs, lcReport(lcMapModel, history, true))
		}
	}
	t.Logf("%d rounds, %d Clears in place", rounds, inPlace)
	if inPlace == 0 {
		t.Errorf("no Clear emptied the table in place")
	}
}

// Broken variants of the map, for TestLinChaosCatchesBrokenMaps.

// lcNonAtomicCompute computes in three steps: a Load, the callback and a
// Store or Delete, between which other writes slip.
type lcNonAtomicCompute struct{ *Map[int, int] }

func (m lcNonAtomicCompute) Compute(key int, fn func(int, bool) (int, ComputeOp)) (int, bool) {
	old, loaded := m.Load(key)
	v, op := fn(old, loaded)
	runtime.Gosched()
	switch op {
	case UpdateOp:
		m.Store(key, v)
		return v, true
	case DeleteOp:
		m.Delete(key)
		return 0, false
	}
	return old, loaded
}

// lcKeyByKeyClear deletes the keys one at a time, so that it may delete a
// key stored after another that it leaves.
type lcKeyByKeyClear struct{ *Map[int, int] }

func (m lcKeyByKeyClear) Clear() {
	m.Range(func(k, _ int) bool {
		m.Delete(k)
		runtime.Gosched()
		return true
	})
}

// lcStaleLoad returns, one Load in eight, the result of the previous Load
// of the key.
type lcStaleLoad struct {
	*Map[int, int]
	mu   *sync.Mutex
	last map[int]lcSlot
	n    *int
}

func (m lcStaleLoad) Load(key int) (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	*m.n++
	if s, ok := m.last[key]; ok && *m.n%8 == 0 {
		return s.v, s.present
	}
	v, ok := m.Map.Load(key)
	m.last[key] = lcSlot{ok, v}
	return v, ok
}

// TestLinChaosCatchesBrokenMaps shows that the histories and models
// above can fail: each broken variant of the map, run as one of the
// scenarios, must be reported as not linearizable within a few seconds.
// (Variants broken inside the map, which a wrapper cannot make, were
// checked by hand, on modified copies of the code.)
func TestLinChaosCatchesBrokenMaps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weights [lcNumKinds]int
		wrap    func(m *Map[int, int]) lcMap
	}{
		{"nonAtomicCompute", lcComputeHeavy, func(m *Map[int, int]) lcMap { return lcNonAtomicCompute{m} }},
		// Not lcWithClear: its Clear from callbacks would delete the
		// callback's own key, which deadlocks.
		{"keyByKeyClear", [lcNumKinds]int{4, 4, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2}, func(m *Map[int, int]) lcMap { return lcKeyByKeyClear{m} }},
		{"staleLoad", lcAllButClear, func(m *Map[int, int]) lcMap {
			return lcStaleLoad{m, new(sync.Mutex), map[int]lcSlot{}, new(int)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &lcScenario{clients: 4, ops: 30, weights: tc.weights, setup: lcSegmentSetup(2, 8, 0), chaos: lcChaos, wrap: tc.wrap}
			st, err := lcRunQuiet(sc, 1, 5*time.Second)
			if err == "" {
				t.Fatalf("no history of %d was reported", st.histories[0]+st.histories[1])
			}
			t.Logf("caught after %d histories: %.300s", st.histories[0]+st.histories[1], err)
		})
	}
}
