package safemap

import (
	"math"
	"testing"
)

// TestRangeKeyFormDuringCompute: Range reports a key "as the last
// write gave it, as Go's maps report it" (rangeRead; TestHashProp*KeyForm).
// A key stored as +0 and then overwritten as -0 must be reported as -0 by
// Range and Keys, also while a Compute on it runs (the compute has not
// taken effect, so the key is as the last write left it: -0 with value 2).
// The pair (+0, 2) never existed in the map.
func TestRangeKeyFormDuringCompute(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, place := range []string{"read", "dirty"} {
		t.Run(place, func(t *testing.T) {
			var m Map[float64, int]
			for i := 1; i <= 20; i++ {
				m.Store(float64(i), i)
			}
			m.Store(0, 1)
			if place == "read" {
				m.promoteAll()
			}
			m.Store(negZero, 2) // the key's form is now -0
			form := func() (neg bool, v int, n int) {
				m.Range(func(k float64, val int) bool {
					if k == 0 {
						neg, v = math.Signbit(k), val
						n++
					}
					return true
				})
				return
			}
			if neg, v, n := form(); n != 1 || !neg || v != 2 {
				t.Fatalf("before the compute: Range saw zero key signbit=%v value %d (%d times); want -0, 2", neg, v, n)
			}
			entered, release := make(chan struct{}), make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				m.Compute(negZero, func(old int, _ bool) (int, ComputeOp) {
					close(entered)
					<-release
					return old, CancelOp
				})
			}()
			<-entered
			neg, v, n := form()
			keysNeg := false
			for k := range m.Keys() {
				if k == 0 {
					keysNeg = math.Signbit(k)
				}
			}
			close(release)
			<-done
			if n != 1 || !neg || v != 2 {
				t.Errorf("during a Compute: Range saw the zero key as signbit=%v with value %d; want -0 (its last write) with 2", neg, v)
			}
			if !keysNeg {
				t.Errorf("during a Compute: Keys gave +0 for a key whose last write was -0")
			}
			if neg, v, _ := form(); !neg || v != 2 {
				t.Errorf("after the cancelled Compute: Range saw signbit=%v value %d; want -0, 2", neg, v)
			}
		})
	}
}
