package main

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safemap-go/safemap/internal/mapimpl"
)

// probe is a workload that records how measure drives it: the start value
// of every Worker call and the steps each worker ran.
type probe struct {
	mu     sync.Mutex
	starts []int
	setups int
	steps  atomic.Uint64
}

// workload returns the probe as a workload whose step does f (nothing if
// nil).
func (p *probe) workload(f func()) mapimpl.Workload[int] {
	return mapimpl.Workload[int]{
		Name:     "probe",
		Capacity: 10,
		Setup: func(m mapimpl.Map[int]) {
			p.mu.Lock()
			p.setups++
			p.mu.Unlock()
			m.Store(1, 1)
		},
		Worker: func(m mapimpl.Map[int], start int) func() {
			p.mu.Lock()
			p.starts = append(p.starts, start)
			p.mu.Unlock()
			var n uint64
			return func() {
				n++
				if n%batch == 0 {
					p.steps.Add(batch)
				}
				if f != nil {
					f()
				}
			}
		},
	}
}

// impl returns the first implementation, safemap.
func impl(t *testing.T) mapimpl.Impl[int] {
	t.Helper()
	impls, err := mapimpl.Lookup[int]([]string{"safemap"})
	if err != nil {
		t.Fatal(err)
	}
	return impls[0]
}

// Each goroutine gets its worker once, with start g*(MaxInt/(goroutines+1)),
// and keeps it from the warmup into the timed phase; the timed phase counts
// whole batches only.
func TestMeasureDrivesWorkers(t *testing.T) {
	var p probe
	const goroutines = 4
	r := measure(context.Background(), impl(t), p.workload(nil), goroutines, 5*time.Millisecond, 10*time.Millisecond, nil)
	if r.impl != "safemap" || r.interrupted || r.ops == 0 || r.ops%batch != 0 || r.elapsed < 10*time.Millisecond {
		t.Errorf("result %+v", r)
	}
	if p.setups != 1 {
		t.Errorf("setup ran %d times", p.setups)
	}
	slices.Sort(p.starts)
	stride := math.MaxInt / (goroutines + 1)
	want := []int{0, stride, 2 * stride, 3 * stride}
	if !slices.Equal(p.starts, want) {
		t.Errorf("starts %v, want %v", p.starts, want)
	}
	// The warmup's steps come on top of the timed ones.
	if total := p.steps.Load(); total <= r.ops {
		t.Errorf("%d steps in all, %d timed: no warmup", total, r.ops)
	}
}

// allocs/op and B/op come from the timed phase: a step that allocates one
// 64-byte object shows about 1 alloc/op and 64 B/op.
func TestMeasureAllocations(t *testing.T) {
	var p probe
	w := p.workload(nil)
	w.Worker = func(m mapimpl.Map[int], start int) func() {
		var keep []byte
		return func() { keep = make([]byte, 64); _ = keep }
	}
	r := measure(context.Background(), impl(t), w, 2, time.Millisecond, 20*time.Millisecond, nil)
	if a := r.allocsPerOp(); a < 0.99 || a > 1.1 {
		t.Errorf("allocs/op = %v, want about 1", a)
	}
	if b := r.bytesPerOp(); b < 63 || b > 72 {
		t.Errorf("B/op = %v, want about 64", b)
	}

	// A step that allocates nothing shows about nothing.
	r = measure(context.Background(), impl(t), p.workload(nil), 2, time.Millisecond, 20*time.Millisecond, nil)
	if a := r.allocsPerOp(); a > 0.01 {
		t.Errorf("allocs/op = %v for a step that does not allocate", a)
	}
}

func TestMeasureInterrupted(t *testing.T) {
	var p probe

	// Stopped in the warmup: no result.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := measure(ctx, impl(t), p.workload(nil), 2, time.Hour, time.Hour, nil)
	if !r.interrupted || r.ops != 0 {
		t.Errorf("cancelled before the start: %+v", r)
	}

	// Stopped in the timed phase: a partial result, promptly.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	r = measure(ctx, impl(t), p.workload(nil), 2, 0, time.Hour, nil)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v to stop", took)
	}
	if !r.interrupted || r.ops == 0 || r.elapsed > 5*time.Second {
		t.Errorf("cancelled in the timed phase: %+v", r)
	}
}

// Progress ticks arrive during both phases, with counts that only grow.
func TestMeasureTicks(t *testing.T) {
	var p probe
	var mu sync.Mutex
	var warm, timed int
	var last uint64
	tick := func(warmup bool, elapsed time.Duration, ops uint64) {
		mu.Lock()
		defer mu.Unlock()
		if warmup {
			warm++
			return
		}
		timed++
		if ops < last {
			t.Errorf("ops went back from %d to %d", last, ops)
		}
		last = ops
	}
	slow := func() { time.Sleep(10 * time.Microsecond) }
	measure(context.Background(), impl(t), p.workload(slow), 1, 5*progressTick/2, 5*progressTick/2, tick)
	if warm == 0 || timed == 0 {
		t.Errorf("%d warmup ticks, %d timed ticks", warm, timed)
	}
}
