package safemap

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

// auditText is a key type that encodes itself as text, by value;
// auditPtrText does so by pointer only.
type auditText struct{ A, B int }

func (x auditText) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("%d-%d", x.A, x.B)), nil }

func (x *auditText) UnmarshalText(b []byte) error {
	_, err := fmt.Sscanf(string(b), "%d-%d", &x.A, &x.B)
	return err
}

type auditPtrText struct{ S string }

func (x *auditPtrText) MarshalText() ([]byte, error) {
	if x == nil {
		return []byte("nilptr"), nil
	}
	return []byte(x.S), nil
}

// auditJSONSame marshals m and the Go map gm and compares; both must
// either succeed with the same bytes or fail, and neither may panic.
func auditJSONSame[K comparable, V any](t *testing.T, name string, m *Map[K, V], gm map[K]V, wantErr bool) {
	t.Helper()
	var got []byte
	var err error
	if p, v := docPanics(func() { got, err = m.MarshalJSON() }); p {
		t.Errorf("%s: MarshalJSON panicked: %v", name, v)
		return
	}
	if wantErr {
		if err == nil {
			t.Errorf("%s: MarshalJSON = %s; want an error", name, got)
		}
		return
	}
	want, werr := json.Marshal(gm)
	if err != nil || werr != nil || string(got) != string(want) {
		t.Errorf("%s: MarshalJSON = %s, %v; encoding/json on a Go map = %s, %v", name, got, err, want, werr)
	}
}

// TestJSONAgainstGoMaps checks MarshalJSON and UnmarshalJSON against encoding/json
// on Go maps for every key kind the docs accept, a clear error (never a
// panic) for the others, merging, and nothing stored on an error.
func TestJSONAgainstGoMaps(t *testing.T) {
	{
		var m Map[string, any]
		gm := map[string]any{"<a&b>": 1, "é": "x", "": nil, "\u2028": []int{1}}
		for k, v := range gm {
			m.Store(k, v)
		}
		auditJSONSame(t, "string keys", &m, gm, false)
	}
	{
		var m Map[int64, int]
		gm := map[int64]int{math.MinInt64: 1, -1: 2, 0: 3, math.MaxInt64: 4}
		for k, v := range gm {
			m.Store(k, v)
		}
		auditJSONSame(t, "int64 keys", &m, gm, false)
		var back Map[int64, int]
		b, _ := m.MarshalJSON()
		if err := back.UnmarshalJSON(b); err != nil || back.Len() != 4 {
			t.Errorf("int64 round trip: %v, Len %d", err, back.Len())
		}
	}
	{
		var m Map[uint64, int]
		m.Store(math.MaxUint64, 1)
		auditJSONSame(t, "uint64 keys", &m, map[uint64]int{math.MaxUint64: 1}, false)
	}
	{
		var m Map[uintptr, int]
		m.Store(7, 1)
		auditJSONSame(t, "uintptr keys", &m, map[uintptr]int{7: 1}, false)
	}
	{
		var m Map[auditText, int]
		m.Store(auditText{1, 2}, 3)
		auditJSONSame(t, "TextMarshaler keys", &m, map[auditText]int{{1, 2}: 3}, false)
		var back Map[auditText, int]
		if err := back.UnmarshalJSON([]byte(`{"4-5":6}`)); err != nil {
			t.Errorf("TextUnmarshaler keys: %v", err)
		} else if v, ok := back.Load(auditText{4, 5}); !ok || v != 6 {
			t.Errorf("TextUnmarshaler keys: Load = %d, %v", v, ok)
		}
	}
	{
		var m Map[*auditPtrText, int]
		a := &auditPtrText{"a"}
		m.Store(a, 1)
		m.Store(nil, 2)
		auditJSONSame(t, "pointer TextMarshaler keys with a nil key", &m, map[*auditPtrText]int{a: 1, nil: 2}, false)
	}
	{
		var m Map[auditTextMarshaler, int]
		m.Store(auditText{1, 1}, 1)
		auditJSONSame(t, "interface TextMarshaler keys", &m, map[auditTextMarshaler]int{auditText{1, 1}: 1}, false)
		m.Store(nil, 2)
		auditJSONSame(t, "interface TextMarshaler keys with nil", &m, nil, true)
	}
	// Key types encoding/json refuses: an error, never a panic, on a map
	// with keys and on an empty one.
	for name, f := range map[string]func() ([]byte, error){
		"bool":      func() ([]byte, error) { var m Map[bool, int]; m.Store(true, 1); return m.MarshalJSON() },
		"float64":   func() ([]byte, error) { var m Map[float64, int]; m.Store(1.5, 1); return m.MarshalJSON() },
		"any":       func() ([]byte, error) { var m Map[any, int]; m.Store("a", 1); return m.MarshalJSON() },
		"any nil":   func() ([]byte, error) { var m Map[any, int]; m.Store(nil, 1); return m.MarshalJSON() },
		"struct":    func() ([]byte, error) { var m Map[auditStruct, int]; m.Store(auditStruct{}, 1); return m.MarshalJSON() },
		"array":     func() ([]byte, error) { var m Map[[2]int, int]; return m.MarshalJSON() },
		"pointer":   func() ([]byte, error) { var m Map[*int, int]; m.Store(new(int), 1); return m.MarshalJSON() },
		"chan":      func() ([]byte, error) { var m Map[chan int, int]; m.Store(make(chan int), 1); return m.MarshalJSON() },
		"bad value": func() ([]byte, error) { var m Map[string, any]; m.Store("a", make(chan int)); return m.MarshalJSON() },
		"NaN value": func() ([]byte, error) { var m Map[string, float64]; m.Store("a", math.NaN()); return m.MarshalJSON() },
	} {
		var err error
		var out []byte
		if p, v := docPanics(func() { out, err = f() }); p {
			t.Errorf("%s: MarshalJSON panicked: %v", name, v)
		} else if err == nil {
			t.Errorf("%s: MarshalJSON = %s; want an error", name, out)
		}
	}
	for name, f := range map[string]func() error{
		"bool":    func() error { var m Map[bool, int]; return m.UnmarshalJSON([]byte(`{"true":1}`)) },
		"float64": func() error { var m Map[float64, int]; return m.UnmarshalJSON([]byte(`{"1.5":1}`)) },
		"any":     func() error { var m Map[any, int]; return m.UnmarshalJSON([]byte(`{"a":1}`)) },
		"struct":  func() error { var m Map[auditStruct, int]; return m.UnmarshalJSON([]byte(`{}`)) },
		"pointer": func() error { var m Map[*auditPtrText, int]; return m.UnmarshalJSON([]byte(`{"a":1}`)) },
		"array":   func() error { var m Map[string, int]; return m.UnmarshalJSON([]byte(`[1]`)) },
		"garbage": func() error { var m Map[string, int]; return m.UnmarshalJSON([]byte(`{"a":`)) },
		"empty":   func() error { var m Map[string, int]; return m.UnmarshalJSON(nil) },
	} {
		var err error
		if p, v := docPanics(func() { err = f() }); p {
			t.Errorf("%s: UnmarshalJSON panicked: %v", name, v)
		} else if err == nil {
			t.Errorf("%s: UnmarshalJSON succeeded; want an error", name)
		}
	}
	// Merging, and nothing stored on an error.
	{
		var m Map[int8, int]
		m.Store(1, 100)
		m.Store(2, 200)
		if err := m.UnmarshalJSON([]byte(`{"2":2,"3":3}`)); err != nil {
			t.Fatal(err)
		}
		want := map[int8]int{1: 100, 2: 2, 3: 3}
		if got := docSnap(t, &m); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("merge: %v; want %v", got, want)
		}
		if err := m.UnmarshalJSON([]byte(`{"4":4,"300":5}`)); err == nil {
			t.Error("int8 key 300: no error")
		}
		if _, ok := m.Load(4); ok || m.Len() != 3 {
			t.Errorf("a failed UnmarshalJSON stored members: Len %d", m.Len())
		}
		if err := m.UnmarshalJSON([]byte(" null ")); err != nil || m.Len() != 3 {
			t.Errorf("null: %v, Len %d", err, m.Len())
		}
	}
	// Through encoding/json, as a field.
	{
		type holder struct {
			M Map[string, int] `json:"m"`
		}
		var h holder
		if err := json.Unmarshal([]byte(`{"m":{"a":1,"b":2}}`), &h); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(&h)
		if err != nil || string(b) != `{"m":{"a":1,"b":2}}` {
			t.Errorf("field round trip: %s, %v", b, err)
		}
	}
}

type auditTextMarshaler interface{ MarshalText() ([]byte, error) }
