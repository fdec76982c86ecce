package safemap

import (
	"fmt"
	"math"
	"runtime"
	"testing"
)

// TestAllocsEveryState measures the documented allocation budgets (0
// for Load hit and miss, LoadOrStore hit, Delete, Range; at most 1 for a
// Store over an existing key) in states TestAllocs does not use: keys in
// small and large dirty maps, interface and string keys, a fresh small
// map, after a Clear.
func TestAllocsEveryState(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	type budget struct {
		name string
		max  float64
		f    func()
	}
	check := func(state string, bs []budget) {
		for _, b := range bs {
			if got := testing.AllocsPerRun(100, b.f); got > b.max {
				t.Errorf("%s: %s: %v allocations per call; budget %v", state, b.name, got, b.max)
			}
		}
	}
	// Keys waiting in a dirty map of 200 (no promotion: misses reset).
	{
		m := new(Map[string, int])
		keys := make([]string, 200)
		for i := range keys {
			keys[i] = fmt.Sprintf("key-%03d", i)
			m.Store(keys[i], i)
		}
		i := 0
		check("dirty, string keys", []budget{
			{"Load hit", 0, func() { m.Load(keys[i%200]); i++ }},
			{"Load miss", 0, func() { m.Load("absent"); i++ }},
			{"LoadOrStore hit", 0, func() { m.LoadOrStore(keys[i%200], 0); i++ }},
			{"Store over existing", 1, func() { m.Store(keys[i%200], i); i++ }},
			{"Range", 0, func() { m.Range(func(string, int) bool { return true }) }},
			{"Len", 0, func() { m.Len() }},
		})
	}
	// Map[any, any] with boxed keys and values made beforehand.
	{
		m := new(Map[any, any])
		keys := make([]any, 300)
		vals := make([]any, 300)
		for i := range keys {
			keys[i] = fmt.Sprint("k", i)
			vals[i] = fmt.Sprint("v", i)
			m.Store(keys[i], vals[i])
		}
		m.promoteAll()
		var absent any = "absent"
		i := 0
		check("any keys, promoted", []budget{
			{"Load hit", 0, func() { m.Load(keys[i%300]); i++ }},
			{"Load miss", 0, func() { m.Load(absent) }},
			{"LoadOrStore hit", 0, func() { m.LoadOrStore(keys[i%300], vals[0]); i++ }},
			{"Store over existing", 1, func() { m.Store(keys[i%300], vals[i%300]); i++ }},
			{"Swap over existing", 1, func() { m.Swap(keys[i%300], vals[i%300]); i++ }},
			{"CompareAndSwap hit", 1, func() {
				v, _ := m.Load(keys[i%300])
				m.CompareAndSwap(keys[i%300], v, vals[i%300])
				i++
			}},
			{"Range", 0, func() { m.Range(func(any, any) bool { return true }) }},
		})
		j := 0
		check("any keys, Delete", []budget{
			{"Delete present", 0, func() { m.Delete(keys[j%300]); j++ }},
		})
	}
	// A fresh small map: four keys of one segment in the dirty map of an
	// empty read map (the shared emptyAmended), where a LoadOrStore hit
	// takes the lock and counts a miss without promoting (4 keys need 4
	// misses). One call at a time, measured with MemStats, since
	// AllocsPerRun's warm-up call would change the state.
	// MemStats counts every goroutine's allocations (a sweep timer of an
	// earlier test's map may fire meanwhile), so each hit's count is the
	// fewest over three fresh maps.
	{
		fewest := [3]uint64{math.MaxUint64, math.MaxUint64, math.MaxUint64}
		control := uint64(math.MaxUint64)
		var promotions uint64
		for range 3 {
			m := new(Map[int, int])
			ks := keysInSegment(m, m.segmentOf(0), 4, 0)
			for _, k := range ks {
				m.Store(k, k)
			}
			var before, after runtime.MemStats
			// Control: the measurement itself allocates nothing.
			runtime.ReadMemStats(&before)
			m.Len()
			runtime.ReadMemStats(&after)
			control = min(control, after.Mallocs-before.Mallocs)
			for i, k := range ks[:3] {
				runtime.ReadMemStats(&before)
				v, loaded := m.LoadOrStore(k, -1)
				runtime.ReadMemStats(&after)
				if !loaded || v != k {
					t.Fatalf("LoadOrStore(%d) = %d, %v", k, v, loaded)
				}
				fewest[i] = min(fewest[i], after.Mallocs-before.Mallocs)
			}
			promotions = m.Stats().Promotions
		}
		if control != 0 {
			t.Fatalf("control measurement made %d allocations", control)
		}
		for i, n := range fewest {
			if n > 0 {
				t.Errorf("fresh small map: LoadOrStore hit #%d (no promotion: Promotions=%d) made %d allocations; budget 0",
					i+1, promotions, n)
			}
		}
	}
}
