package safemap

// Helpers for the differential and adversarial tests (the *_test.go files
// model_diff, states, callbacks, oddkeys and conservation): keys of many
// dynamic types, a Go map model with sync.Map's semantics, and a check of
// every view of a Map against it.

import (
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"
)

// auditWithin runs f on a goroutine and fails if it does not return within d.
func auditWithin(t *testing.T, what string, d time.Duration, f func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		t.Errorf("%s did not return within %v:\n%s", what, d, buf[:runtime.Stack(buf, true)])
		return false
	}
}

// auditFmt formats a value with its dynamic type, so that int(1) and
// int64(1), +0 and -0 differ.
func auditFmt(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("float64(%v,signbit=%v)", f, math.Signbit(f))
	}
	return fmt.Sprintf("%T(%#v)", v, v)
}

type auditStruct struct {
	A int
	B string
}

var (
	auditPtrA = new(int)
	auditPtrB = new(int)
	auditChan = make(chan int)
)

// auditKeys are hashable keys of many dynamic types, some equal as numbers
// but not as interface values, and the two float zeros (equal keys with
// different forms).
var auditKeys = []any{
	0, 1, 2, 3, int64(0), int64(1), int32(1), uint8(1), uint(1), uintptr(1),
	"", "0", "1", "a", auditStruct{1, "x"}, auditStruct{}, [2]int{1, 2}, [2]any{1, "a"},
	[2]any{int64(1), "a"}, auditPtrA, auditPtrB, auditChan, 0.0, math.Copysign(0, -1), 1.5,
	true, false, nil, complex(1, 2), struct{}{}, [0]int{}, struct{ A any }{1}, struct{ A any }{int64(1)},
}

// auditUnhashable are keys a Go map rejects.
var auditUnhashable = []any{
	[]int{1}, map[int]int{}, func() {}, struct{ S []int }{}, [1]any{[]int{}}, struct{ A any }{[]int{}},
}

// auditValues are values, some not comparable, one NaN.
var auditValues = []any{
	0, 1, 2, int64(1), "a", nil, []int{1}, map[string]int{}, struct{ X any }{1}, struct{ X any }{[]int{}},
	math.NaN(), 1.5, auditStruct{1, "x"},
}

// auditModel is a Go map with sync.Map's semantics, and key forms: Go maps
// update a float key's form on assignment, as safemap reports the form of
// the last write.
type auditModel map[any]any

func (m auditModel) cas(k, old, nw any) bool {
	cur, ok := m[k]
	if !ok || cur != old { // panics like sync.Map on two non-comparable values of one type
		return false
	}
	m[k] = nw
	return true
}

func (m auditModel) cad(k, old any) bool {
	cur, ok := m[k]
	if !ok || cur != old {
		return false
	}
	delete(m, k)
	return true
}

// auditCompare checks m against the model: Range (with key forms), All,
// Keys, Values, Load of every key, Len, Stats and the invariants.
func auditCompare(t *testing.T, step string, m *Map[any, any], model auditModel) {
	t.Helper()
	got := docSnap(t, m)
	if len(got) != len(model) {
		t.Fatalf("%s: Range saw %d keys %v; model has %d %v", step, len(got), got, len(model), model)
	}
	for mk, mv := range model {
		gv, ok := got[mk]
		if !ok {
			t.Fatalf("%s: Range missed key %s", step, auditFmt(mk))
		}
		if auditFmt(gv) != auditFmt(mv) {
			t.Fatalf("%s: Range gave %s=%s; model %s", step, auditFmt(mk), auditFmt(gv), auditFmt(mv))
		}
		if lv, ok := m.Load(mk); !ok || auditFmt(lv) != auditFmt(mv) {
			t.Fatalf("%s: Load(%s) = %s, %v; model %s", step, auditFmt(mk), auditFmt(lv), ok, auditFmt(mv))
		}
	}
	// Key forms: for each float key, the form of the last write.
	for gk := range got {
		if f, ok := gk.(float64); ok {
			for mk := range model {
				if mf, ok := mk.(float64); ok && mf == f && math.Signbit(mf) != math.Signbit(f) {
					t.Fatalf("%s: Range reported key %s, model's last write was %s", step, auditFmt(gk), auditFmt(mk))
				}
			}
		}
	}
	n := 0
	for range m.All() {
		n++
	}
	nk := 0
	for range m.Keys() {
		nk++
	}
	nv := 0
	for range m.Values() {
		nv++
	}
	if n != len(model) || nk != len(model) || nv != len(model) || m.Len() != len(model) {
		t.Fatalf("%s: All %d, Keys %d, Values %d, Len %d; model %d", step, n, nk, nv, m.Len(), len(model))
	}
	st := m.Stats()
	if st.ReadKeys+st.DirtyKeys != len(model) {
		t.Fatalf("%s: Stats ReadKeys %d + DirtyKeys %d != %d", step, st.ReadKeys, st.DirtyKeys, len(model))
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}
