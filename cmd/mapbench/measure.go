package main

import (
	"context"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/safemap-go/safemap/internal/mapimpl"
)

// batch is how many steps a goroutine runs between two looks at the stop
// flag: enough that the atomic load is lost among them, few enough that a
// stop is prompt.
const batch = 64

// progressTick is how often a measurement reports its progress when
// someone listens.
const progressTick = 100 * time.Millisecond

// result is one implementation's measurement.
type result struct {
	impl        string
	ops         uint64        // steps completed in the timed phase, all goroutines
	elapsed     time.Duration // wall time of the timed phase
	mallocs     uint64        // heap allocations during the timed phase
	bytes       uint64        // heap bytes allocated during the timed phase
	interrupted bool          // the context stopped the timed phase early
	inSetup     bool          // the context stopped the run in the setup
}

// opsPerSec is the throughput of all goroutines together.
func (r result) opsPerSec() float64 { return float64(r.ops) / r.elapsed.Seconds() }

// nsPerOp is wall time per operation, as go test -bench reports it for
// RunParallel: the inverse of opsPerSec, in nanoseconds.
func (r result) nsPerOp() float64 { return float64(r.elapsed.Nanoseconds()) / float64(r.ops) }

// allocsPerOp is the mean number of heap allocations per operation.
func (r result) allocsPerOp() float64 { return float64(r.mallocs) / float64(r.ops) }

// bytesPerOp is the mean number of bytes allocated per operation.
func (r result) bytesPerOp() float64 { return float64(r.bytes) / float64(r.ops) }

// outcome is what a whole run measured.
type outcome struct {
	// results holds every measurement with a timed phase, in -impl order.
	results []result
	// skipped names the implementations the interruption left without a
	// result: not started, or stopped in their warmup.
	skipped []string
	// interrupted reports that the context stopped the run early.
	interrupted bool
}

// runAll measures c's implementations on w one after another, reporting to
// prog. Once ctx is cancelled it stops the running measurement and skips
// the rest.
func runAll[K comparable](ctx context.Context, c config, w mapimpl.Workload[K], prog *progress) outcome {
	impls, err := mapimpl.Lookup[K](c.impls)
	if err != nil {
		panic("mapbench: implementations passed validation but " + err.Error())
	}
	var out outcome
	for i, impl := range impls {
		if ctx.Err() != nil {
			out.skipped = append(out.skipped, c.impls[i:]...)
			break
		}
		prog.begin(i, impl.Name, c)
		r := measure(ctx, impl, w, c.goroutines, c.warmup(), c.duration, prog.ticker())
		prog.end(r)
		if r.interrupted {
			out.interrupted = true
		}
		if r.ops == 0 {
			out.skipped = append(out.skipped, impl.Name)
			continue
		}
		out.results = append(out.results, r)
	}
	if len(out.skipped) > 0 {
		out.interrupted = true
		prog.skip(out.skipped)
	}
	return out
}

// tickFunc hears how a measurement is going: whether it is in its warmup,
// the time into the phase and the operations counted in it so far.
type tickFunc func(warmup bool, elapsed time.Duration, ops uint64)

// measure runs workload w on a fresh map of impl: setup, a warmup of
// warmup, a garbage collection, then the timed phase of d, with goroutines
// goroutines. onTick, if not nil, hears about progress every progressTick.
// A cancelled ctx ends the current phase at once, the setup included; the
// result is then marked interrupted, with no operations if the warmup did
// not finish.
func measure[K comparable](ctx context.Context, impl mapimpl.Impl[K], w mapimpl.Workload[K], goroutines int, warmup, d time.Duration, onTick tickFunc) result {
	r := result{impl: impl.Name}
	runtime.GC() // collect the previous implementation's map before filling this one
	m := impl.New(w.Capacity)
	if w.Setup != nil && !finished(ctx, func() { w.Setup(m) }) {
		r.interrupted, r.inSetup = true, true // no operations: reported as skipped
		return r
	}
	// Each goroutine keeps its step function, and so its counter and key
	// sequence, from the warmup into the timed phase: a workload of unique
	// keys must not meet the warmup's keys again.
	steps := make([]func(), goroutines)
	stride := math.MaxInt / (goroutines + 1)
	for g := range steps {
		steps[g] = w.Worker(m, g*stride)
	}

	if warmup > 0 {
		var tick func(time.Duration, uint64)
		if onTick != nil {
			tick = func(e time.Duration, n uint64) { onTick(true, e, n) }
		}
		if _, _, stopped := runPhase(ctx, steps, warmup, tick); stopped {
			r.interrupted = true
			return r
		}
	}

	var tick func(time.Duration, uint64)
	if onTick != nil {
		tick = func(e time.Duration, n uint64) { onTick(false, e, n) }
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r.ops, r.elapsed, r.interrupted = runPhase(ctx, steps, d, tick)
	runtime.ReadMemStats(&after)
	r.mallocs = after.Mallocs - before.Mallocs
	r.bytes = after.TotalAlloc - before.TotalAlloc
	return r
}

// finished runs f on a goroutine of its own and waits until it returns or
// ctx is cancelled, whichever comes first, and reports whether f returned.
// It is for the setups, which cannot look at ctx themselves: filling a map
// with -keys 100000000 takes minutes, and an interrupt must not wait for
// it. An abandoned f runs on until it ends or the process exits; its
// caller must not touch what f writes.
func finished(ctx context.Context, f func()) bool {
	if ctx.Err() != nil {
		return false
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// counter is one goroutine's operation count, alone on its cache lines so
// that goroutines do not slow each other down by publishing their counts.
type counter struct {
	n atomic.Uint64
	_ [120]byte
}

// runPhase runs one goroutine per step function, each calling its step in
// batches until d has passed or ctx is cancelled (stopped is then true),
// and returns the steps done by all and the wall time from starting the
// goroutines to their last one's return. Every goroutine runs at least one
// batch. tick, if not nil, is called every progressTick with the time into
// the phase and the steps so far.
func runPhase(ctx context.Context, steps []func(), d time.Duration, tick func(time.Duration, uint64)) (ops uint64, elapsed time.Duration, stopped bool) {
	counters := make([]counter, len(steps))
	sum := func() uint64 {
		var n uint64
		for i := range counters {
			n += counters[i].n.Load()
		}
		return n
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for g, step := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &counters[g]
			var n uint64
			for {
				for range batch {
					step()
				}
				n += batch
				c.n.Store(n)
				if stop.Load() {
					return
				}
			}
		}()
	}

	timer := time.NewTimer(d)
	defer timer.Stop()
	var ticks <-chan time.Time
	if tick != nil {
		t := time.NewTicker(progressTick)
		defer t.Stop()
		ticks = t.C
	}
wait:
	for {
		select {
		case <-timer.C:
			break wait
		case <-ctx.Done():
			stopped = true
			break wait
		case <-ticks:
			tick(time.Since(start), sum())
		}
	}
	stop.Store(true)
	wg.Wait()
	return sum(), time.Since(start), stopped
}
