package safemap

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// helpers

// docPanics reports whether f panicked, and with what.
func docPanics(f func()) (p bool, v any) {
	defer func() {
		if r := recover(); r != nil {
			p, v = true, r
		}
	}()
	f()
	return false, nil
}

// docSnap returns what Range visits, failing on a key visited twice.
func docSnap[K comparable, V any](t *testing.T, m *Map[K, V]) map[K]V {
	t.Helper()
	got := map[K]V{}
	m.Range(func(k K, v V) bool {
		if _, dup := got[k]; dup {
			t.Errorf("Range visited %v twice", k)
		}
		got[k] = v
		return true
	})
	return got
}

// docConsistent checks, with no write in flight, that Len, Range, All, Keys,
// Values and Stats agree with each other (and with want if not nil).
func docConsistent[K comparable, V comparable](t *testing.T, what string, m *Map[K, V], want map[K]V) {
	t.Helper()
	snap := docSnap(t, m)
	n := m.Len()
	st := m.Stats()
	keys, vals, all := 0, 0, 0
	for range m.Keys() {
		keys++
	}
	for range m.Values() {
		vals++
	}
	for k, v := range m.All() {
		all++
		if k != k { // a NaN key: nothing finds it
			continue
		}
		if sv, ok := snap[k]; !ok || sv != v {
			t.Errorf("%s: All gave %v=%v, Range %v (%v)", what, k, v, sv, ok)
		}
	}
	if n != len(snap) || keys != n || vals != n || all != n || st.ReadKeys+st.DirtyKeys != n {
		t.Errorf("%s: Len %d, Range %d, Keys %d, Values %d, All %d, Stats.ReadKeys+DirtyKeys %d+%d",
			what, n, len(snap), keys, vals, all, st.ReadKeys, st.DirtyKeys)
	}
	if st.Amended != (st.AmendedSegments > 0) || st.Segments != 16 || st.AmendedSegments > 16 || st.Tombstones < 0 || st.Misses < 0 {
		t.Errorf("%s: Stats inconsistent: %+v", what, st)
	}
	for k, v := range snap {
		if k != k {
			continue
		}
		if lv, ok := m.Load(k); !ok || lv != v {
			t.Errorf("%s: Range gave %v=%v, Load %v, %v", what, k, v, lv, ok)
		}
	}
	if want != nil {
		require.Equal(t, want, snap, what)
	}
	if err := m.checkInvariants(); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// ---------------------------------------------------------------------------
// JSON

// Key types for the JSON tests.
type (
	docStr    string
	docInt    int16
	docUptr   uintptr
	docTMInt  int // an integer kind that is a TextMarshaler/TextUnmarshaler
	docTMStr  string
	docPoint  struct{ X, Y int }
	docBadTM  struct{ N int } // MarshalText fails for N < 0
	docPtrKey struct{ S string }
	docUpper  string // a string kind whose *T is a TextUnmarshaler
	// docUnmarshalOnly is a struct whose *T is a TextUnmarshaler, and
	// which is no TextMarshaler: a key type that a Go map decodes into
	// but cannot encode.
	docUnmarshalOnly struct{ S string }
)

func (k docTMInt) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("i%d", int(k))), nil }
func (k *docTMInt) UnmarshalText(b []byte) error {
	if len(b) == 0 || b[0] != 'i' {
		return errors.New("docTMInt: no i")
	}
	var n int
	if _, err := fmt.Sscanf(string(b[1:]), "%d", &n); err != nil {
		return err
	}
	*k = docTMInt(n)
	return nil
}
func (k docTMStr) MarshalText() ([]byte, error) { return []byte("tm:" + string(k)), nil }
func (p docPoint) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("%d,%d", p.X, p.Y)), nil }
func (p *docPoint) UnmarshalText(b []byte) error {
	_, err := fmt.Sscanf(string(b), "%d,%d", &p.X, &p.Y)
	return err
}
func (k docBadTM) MarshalText() ([]byte, error) {
	if k.N < 0 {
		return nil, errors.New("docBadTM: negative")
	}
	return []byte(fmt.Sprint(k.N)), nil
}
func (k *docPtrKey) MarshalText() ([]byte, error) { return []byte("p:" + k.S), nil }
func (k *docUpper) UnmarshalText(b []byte) error {
	*k = docUpper(strings.ToUpper(string(b)))
	return nil
}
func (k *docUnmarshalOnly) UnmarshalText(b []byte) error {
	k.S = "u:" + string(b)
	return nil
}

// docSameMarshal checks that Map.MarshalJSON (called directly and through
// json.Marshal) gives what json.Marshal gives for the Go map with the same
// entries: the same bytes, or an error (and never a panic) where it errs.
func docSameMarshal[K comparable, V any](t *testing.T, name string, entries map[K]V) {
	t.Helper()
	var m Map[K, V]
	for k, v := range entries {
		m.Store(k, v)
	}
	want, werr := json.Marshal(entries)
	var got []byte
	var gerr error
	if p, v := docPanics(func() { got, gerr = m.MarshalJSON() }); p {
		t.Errorf("%s: MarshalJSON panicked: %v (json.Marshal of the Go map: %s, %v)", name, v, want, werr)
		return
	}
	if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
		t.Errorf("%s: MarshalJSON = %s, %v; json.Marshal(map) = %s, %v", name, got, gerr, want, werr)
	}
	viaJSON, jerr := json.Marshal(&m)
	if (jerr != nil) != (werr != nil) || !bytes.Equal(viaJSON, want) {
		t.Errorf("%s: json.Marshal(&m) = %s, %v; want %s, %v", name, viaJSON, jerr, want, werr)
	}
}

func TestDocJSONMarshalMatchesGoMap(t *testing.T) {
	docSameMarshal(t, "odd strings", map[string]int{
		"": 0, "<a&b>": 1, "\u2028\u2029": 2, "\xff\xfe": 3, "\x00\x1f": 4, `"q"\`: 5, "é": 6, "\ufffd": 7,
	})
	docSameMarshal(t, "named string", map[docStr]string{"b": "<", "a": "&"})
	docSameMarshal(t, "int8", map[int8]bool{math.MinInt8: true, math.MaxInt8: false, 0: true, -1: true})
	docSameMarshal(t, "int16 named", map[docInt]int{math.MinInt16: 1, math.MaxInt16: 2})
	docSameMarshal(t, "int32", map[int32]int{math.MinInt32: 1, 7: 2})
	docSameMarshal(t, "int64", map[int64]int{math.MinInt64: 1, math.MaxInt64: 2, 10: 3, 9: 4, 100: 5})
	docSameMarshal(t, "int", map[int]int{-10: 1, -9: 2, 1: 3, 10: 4, 2: 5})
	docSameMarshal(t, "uint8", map[uint8]int{0: 1, 255: 2})
	docSameMarshal(t, "uint16", map[uint16]int{math.MaxUint16: 1})
	docSameMarshal(t, "uint32", map[uint32]int{math.MaxUint32: 1})
	docSameMarshal(t, "uint64", map[uint64]int{math.MaxUint64: 1, 0: 0})
	docSameMarshal(t, "uint", map[uint]int{math.MaxUint: 1})
	docSameMarshal(t, "uintptr", map[uintptr]int{1 << 30: 1})
	docSameMarshal(t, "named uintptr", map[docUptr]int{3: 1})
	docSameMarshal(t, "TextMarshaler int kind", map[docTMInt]int{1: 1, -2: 2, 30: 3})
	docSameMarshal(t, "TextMarshaler string kind (string wins)", map[docTMStr]int{"x": 1, "y": 2})
	docSameMarshal(t, "TextMarshaler struct", map[docPoint]string{{1, 2}: "a", {-1, 0}: "b"})
	docSameMarshal(t, "netip.Addr", map[netip.Addr]int{netip.MustParseAddr("::1"): 1, netip.MustParseAddr("10.0.0.1"): 2, {}: 3})
	docSameMarshal(t, "MarshalText error", map[docBadTM]int{{1}: 1, {-1}: 2})
	docSameMarshal(t, "TextUnmarshaler only (refused)", map[docUnmarshalOnly]int{{"x"}: 1})
	// (Two keys with equal texts give duplicate members, in an order
	// json.Marshal leaves unspecified: not compared.)
	a, b := &docPtrKey{"a"}, &docPtrKey{"b"}
	docSameMarshal(t, "pointer TextMarshaler", map[*docPtrKey]int{a: 1, b: 2})
	docSameMarshal(t, "nil pointer TextMarshaler", map[*docPtrKey]int{nil: 1, a: 2})
	docSameMarshal(t, "TextMarshaler-by-pointer struct used by value", map[docPtrKey]int{{"a"}: 1})
	docSameMarshal(t, "TextMarshaler interface keys", map[encoding.TextMarshaler]int{docPoint{1, 1}: 1, netip.MustParseAddr("1.2.3.4"): 2})
	docSameMarshal(t, "bool keys", map[bool]int{true: 1})
	docSameMarshal(t, "array keys", map[[2]int]int{{1, 2}: 1})
	docSameMarshal(t, "struct keys", map[struct{ A int }]int{{1}: 1})
	docSameMarshal(t, "NaN value", map[string]float64{"a": math.NaN()})
	docSameMarshal(t, "func value", map[string]func(){"a": nil})
	docSameMarshal(t, "empty", map[string]int{})
}

// docMarshalRefused checks that MarshalJSON returns the key-type error for a
// key type outside the documented set, whatever the running encoding/json
// does with a Go map of it.
func docMarshalRefused[K comparable](t *testing.T, name string, key K) {
	t.Helper()
	var m Map[K, int]
	m.Store(key, 1)
	_, err := m.MarshalJSON()
	require.ErrorContains(t, err, "JSON object keys must be", name)
	_, err = json.Marshal(&m)
	require.ErrorContains(t, err, "JSON object keys must be", name)
}

// TestDocJSONKeySetFixedAcrossReleases: float and interface keys are
// refused on every Go release, as documented, although encoding/json from Go
// 1.27 on marshals map[float64]V and map[any]V (with string or number
// dynamic keys) that Go 1.24 to 1.26 refuse. Matching the running release
// would make a program's output change with its toolchain.
func TestDocJSONKeySetFixedAcrossReleases(t *testing.T) {
	docMarshalRefused(t, "float64 keys", 1.5)
	docMarshalRefused(t, "float32 keys", float32(2.25))
	docMarshalRefused[any](t, "any keys (string)", "a")
	docMarshalRefused[any](t, "any keys (int)", 1)
	docMarshalRefused(t, "complex keys", complex(1, 2))
	if _, err := json.Marshal(map[float64]int{1.5: 1}); err == nil {
		t.Logf("this release's encoding/json marshals float keys; MarshalJSON still refuses them, as documented")
	}
}

// TestDocJSONNilInterfaceKey: Map[encoding.TextMarshaler, V] is a key
// type MarshalJSON accepts, and "never a panic" is claimed for the others;
// a nil key makes encoding/json panic ("unexpected map key type").
func TestDocJSONNilInterfaceKey(t *testing.T) {
	var m Map[encoding.TextMarshaler, int]
	m.Store(nil, 1)
	var err error
	p, v := docPanics(func() { _, err = m.MarshalJSON() })
	_, goV := docPanics(func() { _, _ = json.Marshal(map[encoding.TextMarshaler]int{nil: 1}) })
	t.Logf("Map.MarshalJSON with a nil interface key: panicked=%v (%v), error %v; json.Marshal of the Go map panics with %v", p, v, err, goV)
	if p {
		t.Errorf("MarshalJSON panicked (%v) on a nil key of an accepted key type; the doc says it returns an error", v)
	}
	require.ErrorContains(t, err, "nil key")
}

// docSameUnmarshal decodes data into a Go map and into a Map, both holding
// pre first, and checks that they agree when json.Unmarshal succeeds, and
// that the Map is left exactly as pre when it fails.
func docSameUnmarshal[K comparable, V comparable](t *testing.T, name string, pre map[K]V, data string) {
	t.Helper()
	goMap := map[K]V{}
	for k, v := range pre {
		goMap[k] = v
	}
	var m Map[K, V]
	for k, v := range pre {
		m.Store(k, v)
	}
	werr := json.Unmarshal([]byte(data), &goMap)
	var gerr error
	if p, pv := docPanics(func() { gerr = m.UnmarshalJSON([]byte(data)) }); p {
		t.Errorf("%s: UnmarshalJSON(%q) panicked: %v", name, data, pv)
		return
	}
	got := docSnap(t, &m)
	if (werr != nil) != (gerr != nil) {
		t.Errorf("%s: UnmarshalJSON(%q) = %v; json.Unmarshal into a Go map = %v", name, data, gerr, werr)
	}
	if gerr != nil {
		if !reflect.DeepEqual(got, pre) && !(len(got) == 0 && len(pre) == 0) {
			t.Errorf("%s: UnmarshalJSON(%q) failed (%v) but changed the map: %v; was %v", name, data, gerr, got, pre)
		}
		return
	}
	if strings.TrimSpace(data) == "null" {
		// Documented: null leaves the map unchanged (a Go map is set to nil).
		goMap = pre
	}
	if !reflect.DeepEqual(got, goMap) && !(len(got) == 0 && len(goMap) == 0) {
		t.Errorf("%s: UnmarshalJSON(%q) gave %v; a Go map gets %v", name, data, got, goMap)
	}
	if m.Len() != len(got) {
		t.Errorf("%s: Len %d after UnmarshalJSON; Range %d", name, m.Len(), len(got))
	}
}

func TestDocJSONUnmarshalMatchesGoMap(t *testing.T) {
	pre := map[string]int{"a": 1, "z": 26}
	for _, data := range []string{
		`{}`, `null`, " \n\tnull \r", `{"a":2}`, `{"b":3,"b":4}`, `{"a":null}`, `{"\u0041":5,"A":6}`,
		`{"` + "\xff" + `":1}`, `{"":0}`, ` {"c" : 3 } `,
		// errors
		``, ` `, `nul`, `nullx`, `{"a":1} x`, `{"a":1}{}`, `[]`, `"s"`, `1`, `true`, `{"a":1,}`, `{"a":1,"b":"x","c":3}`,
		`{"a":1.5}`, `{"a":9223372036854775808}`, `{a:1}`, `{"a":1`,
	} {
		docSameUnmarshal(t, "string keys", pre, data)
	}
	ipre := map[int8]string{1: "one"}
	for _, data := range []string{
		`{"01":"x"}`, `{"-0":"z"}`, `{"+1":"p"}`, `{"127":"m","-128":"n"}`, `{"1":"a","01":"b"}`,
		`{"128":"o"}`, `{" 1":"s"}`, `{"1e1":"e"}`, `{"0x1":"h"}`, `{"":"e"}`, `{"2":"ok","999":"bad"}`,
	} {
		docSameUnmarshal(t, "int8 keys", ipre, data)
	}
	upre := map[uint64]int{1: 1}
	for _, data := range []string{`{"18446744073709551615":2}`, `{"18446744073709551616":2}`, `{"-1":2}`, `{"007":7}`} {
		docSameUnmarshal(t, "uint64 keys", upre, data)
	}
	for _, data := range []string{`{"abc":1}`, `{"abc":1,"ABC":2}`} {
		docSameUnmarshal(t, "string kind with *T TextUnmarshaler", map[docUpper]int{"X": 0}, data)
	}
	for _, data := range []string{`{"i1":1,"i-2":2}`, `{"1":1}`, `{"i1":1,"zz":2}`} {
		docSameUnmarshal(t, "int kind TextUnmarshaler", map[docTMInt]int{5: 5}, data)
	}
	for _, data := range []string{`{"1,2":"a"}`, `{"1,2":"a","bad":"b"}`} {
		docSameUnmarshal(t, "struct TextUnmarshaler", map[docPoint]string{{0, 0}: "o"}, data)
	}
	// UnmarshalJSON asks for a TextUnmarshaler, not a TextMarshaler: a
	// check of the wrong one, which refused this type, failed no test (a
	// mutant of jsonKeyError's argument, 2026-12-07).
	for _, data := range []string{`{"a":1}`, `{"a":1,"b":2}`, `{}`} {
		docSameUnmarshal(t, "struct with only *T TextUnmarshaler", map[docUnmarshalOnly]int{{"x"}: 0}, data)
	}
	for _, data := range []string{`{"::1":1}`, `{"1.2.3.4":1,"::ffff:1.2.3.4":2}`, `{"nope":1}`, `{"":3}`} {
		docSameUnmarshal(t, "netip.Addr", map[netip.Addr]int{}, data)
	}
	// Pointer values are replaced, as encoding/json replaces a Go map's
	// elements, not merged into.
	type pv struct{ A, B int }
	var m Map[string, pv]
	m.Store("k", pv{1, 2})
	require.NoError(t, m.UnmarshalJSON([]byte(`{"k":{"A":9}}`)))
	v, _ := m.Load("k")
	require.Equal(t, pv{9, 0}, v, "a member replaces the value, as for a Go map")
}

// TestDocJSONUnmarshalKeyTypes checks the key types UnmarshalJSON must
// refuse with an error (not a panic), nothing stored, and the ones it must
// take.
func TestDocJSONUnmarshalKeyTypes(t *testing.T) {
	check := func(name string, f func() (int, error)) {
		t.Helper()
		var err error
		var n int
		if p, v := docPanics(func() { n, err = f() }); p {
			t.Errorf("%s: panicked: %v", name, v)
			return
		}
		if err == nil || n != 0 {
			t.Errorf("%s: err %v, Len %d; want an error and nothing stored", name, err, n)
		}
	}
	check("float keys", func() (int, error) {
		var m Map[float64, int]
		err := m.UnmarshalJSON([]byte(`{"1":1}`))
		return m.Len(), err
	})
	check("bool keys", func() (int, error) {
		var m Map[bool, int]
		err := m.UnmarshalJSON([]byte(`{"true":1}`))
		return m.Len(), err
	})
	check("any keys", func() (int, error) {
		var m Map[any, int]
		err := m.UnmarshalJSON([]byte(`{"a":1}`))
		return m.Len(), err
	})
	check("MarshalText-only struct", func() (int, error) {
		var m Map[docBadTM, int]
		err := m.UnmarshalJSON([]byte(`{"1":1}`))
		return m.Len(), err
	})
	check("pointer keys (**T is no TextUnmarshaler)", func() (int, error) {
		var m Map[*docPoint, int]
		err := m.UnmarshalJSON([]byte(`{"1,2":1}`))
		return m.Len(), err
	})
	check("array keys", func() (int, error) {
		var m Map[[1]int, int]
		err := m.UnmarshalJSON([]byte(`{"1":1}`))
		return m.Len(), err
	})
	// The key type is checked before the input, but null decodes into
	// any map type, as encoding/json's does.
	var fm Map[float64, int]
	require.NoError(t, fm.UnmarshalJSON([]byte(`null`)))
	var goFloat map[struct{ A int }]int
	require.NoError(t, json.Unmarshal([]byte(`null`), &goFloat))
	require.Error(t, fm.UnmarshalJSON([]byte(`{}`)))
}

// TestDocJSONErrorStoresNothing: "On an error nothing is stored", also
// when encoding/json itself would have stored the good members (it goes on
// after an UnmarshalTypeError), and when a key's UnmarshalText fails late.
func TestDocJSONErrorStoresNothing(t *testing.T) {
	var m Map[string, int]
	m.Store("keep", 1)
	err := m.UnmarshalJSON([]byte(`{"a":1,"b":"x","c":3}`))
	var ute *json.UnmarshalTypeError
	require.ErrorAs(t, err, &ute)
	require.Equal(t, map[string]int{"keep": 1}, docSnap(t, &m))
	goMap := map[string]int{}
	_ = json.Unmarshal([]byte(`{"a":1,"b":"x","c":3}`), &goMap)
	t.Logf("a Go map after the same error: %v (encoding/json stores the good members)", goMap)

	var pm Map[docPoint, int]
	pm.Store(docPoint{7, 7}, 7)
	require.Error(t, pm.UnmarshalJSON([]byte(`{"1,1":1,"2,2":2,"no":3}`)))
	require.Equal(t, map[docPoint]int{{7, 7}: 7}, docSnap(t, &pm))
	require.Equal(t, 1, pm.Len())
}

// TestDocJSONRoundTrips: Marshal then Unmarshal into a zero Map gives
// the same contents, for every key kind MarshalJSON documents.
func TestDocJSONRoundTrips(t *testing.T) {
	roundTrip := func(name string, marshal func() ([]byte, error), unmarshal func([]byte) error, equal func() bool) {
		t.Helper()
		data, err := marshal()
		require.NoError(t, err, name)
		require.True(t, json.Valid(data), "%s: invalid JSON %s", name, data)
		require.NoError(t, unmarshal(data), name)
		require.True(t, equal(), "%s: round trip changed the contents (%s)", name, data)
	}
	{
		var a, b Map[string, []int]
		a.Store("", nil)
		a.Store("<&>", []int{1})
		a.Store("\u2028", []int{})
		a.Store("é\t\n", []int{1, 2})
		roundTrip("string", a.MarshalJSON, b.UnmarshalJSON, func() bool {
			return reflect.DeepEqual(docSnap(t, &a), docSnap(t, &b))
		})
	}
	{
		var a, b Map[int64, int]
		for _, k := range []int64{math.MinInt64, -1, 0, 1, math.MaxInt64} {
			a.Store(k, int(k%1000))
		}
		roundTrip("int64", a.MarshalJSON, b.UnmarshalJSON, func() bool { return reflect.DeepEqual(docSnap(t, &a), docSnap(t, &b)) })
	}
	{
		var a, b Map[uintptr, bool]
		a.Store(^uintptr(0), true)
		a.Store(0, false)
		roundTrip("uintptr", a.MarshalJSON, b.UnmarshalJSON, func() bool { return reflect.DeepEqual(docSnap(t, &a), docSnap(t, &b)) })
	}
	{
		var a, b Map[docTMInt, string]
		a.Store(-3, "m")
		a.Store(4, "p")
		roundTrip("TextMarshaler int", a.MarshalJSON, b.UnmarshalJSON, func() bool { return reflect.DeepEqual(docSnap(t, &a), docSnap(t, &b)) })
	}
	{
		var a, b Map[docPoint, int]
		a.Store(docPoint{1, -2}, 1)
		a.Store(docPoint{0, 0}, 0)
		roundTrip("TextMarshaler struct", a.MarshalJSON, b.UnmarshalJSON, func() bool { return reflect.DeepEqual(docSnap(t, &a), docSnap(t, &b)) })
	}
	{
		var a, b Map[netip.Prefix, int]
		a.Store(netip.MustParsePrefix("10.0.0.0/8"), 8)
		a.Store(netip.MustParsePrefix("::/0"), 0)
		roundTrip("netip.Prefix", a.MarshalJSON, b.UnmarshalJSON, func() bool { return reflect.DeepEqual(docSnap(t, &a), docSnap(t, &b)) })
	}
	{
		// A round trip through a struct field, pointer and value.
		type holder struct {
			P *Map[string, int]
			V Map[string, int]
		}
		h := holder{P: new(Map[string, int])}
		h.P.Store("p", 1)
		h.V.Store("v", 2)
		data, err := json.Marshal(&h)
		require.NoError(t, err)
		require.Equal(t, `{"P":{"p":1},"V":{"v":2}}`, string(data))
		var back holder
		require.NoError(t, json.Unmarshal(data, &back))
		require.Equal(t, map[string]int{"p": 1}, docSnap(t, back.P))
		require.Equal(t, map[string]int{"v": 2}, docSnap(t, &back.V))
		// null for the value field calls UnmarshalJSON(null): unchanged;
		// null for the pointer field sets it to nil, as for any pointer.
		require.NoError(t, json.Unmarshal([]byte(`{"P":null,"V":null}`), &back))
		require.Nil(t, back.P)
		require.Equal(t, map[string]int{"v": 2}, docSnap(t, &back.V))
		// A second document merges into the value field.
		require.NoError(t, json.Unmarshal([]byte(`{"V":{"w":3}}`), &back))
		require.Equal(t, map[string]int{"v": 2, "w": 3}, docSnap(t, &back.V))
	}
}

// TestDocJSONNilAndZero: a nil *Map marshals as null through
// encoding/json, a zero Map as {}, and UnmarshalJSON on a zero Map works.
func TestDocJSONNilAndZero(t *testing.T) {
	var nilMap *Map[string, int]
	data, err := json.Marshal(nilMap)
	require.NoError(t, err)
	require.Equal(t, "null", string(data))
	var zero Map[string, int]
	data, err = zero.MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, "{}", string(data))
	require.NoError(t, zero.UnmarshalJSON([]byte("null")))
	require.Nil(t, zero.t.Load(), "UnmarshalJSON(null) on a zero Map made a table")
	require.NoError(t, zero.UnmarshalJSON([]byte("{}")))
	require.Equal(t, 0, zero.Len())
	// Direct calls on a nil *Map, as documented: null, an error, nothing.
	data, err = nilMap.MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, "null", string(data))
	require.Error(t, nilMap.UnmarshalJSON([]byte(`{"a":1}`)))
	require.NoError(t, nilMap.UnmarshalJSON([]byte(` null `)))
	// null decodes into any map type, as json.Unmarshal into a Go map
	// whose key type JSON cannot express.
	var floats Map[float64, int]
	floats.Store(1.5, 1)
	require.NoError(t, floats.UnmarshalJSON([]byte("null")))
	require.Equal(t, 1, floats.Len())
	goFloats := map[float64]int{1.5: 1}
	require.NoError(t, json.Unmarshal([]byte("null"), &goFloats))
	require.Error(t, floats.UnmarshalJSON([]byte(`{"1.5":2}`)))
}

// TestDocJSONConcurrent: MarshalJSON racing with UnmarshalJSON and
// stores gives valid JSON holding every key stored before it began (keys
// are only added here), and concurrent UnmarshalJSON calls all land.
func TestDocJSONConcurrent(t *testing.T) {
	var m Map[int, int]
	const writers, per = 4, 300
	var stored [writers]atomic.Int64 // keys w*per .. w*per+stored[w]-1 are in
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i += 10 {
				var b strings.Builder
				b.WriteByte('{')
				for j := i; j < i+10; j++ {
					if j > i {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `"%d":%d`, w*per+j, -(w*per + j))
				}
				b.WriteByte('}')
				if err := m.UnmarshalJSON([]byte(b.String())); err != nil {
					t.Error(err)
					return
				}
				stored[w].Store(int64(i + 10))
			}
		}()
	}
	var bad atomic.Value
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				var before [writers]int64
				for w := range writers {
					before[w] = stored[w].Load()
				}
				data, err := m.MarshalJSON()
				if err != nil {
					bad.Store(err.Error())
					return
				}
				var got map[int]int
				if err := json.Unmarshal(data, &got); err != nil {
					bad.Store("invalid JSON: " + err.Error())
					return
				}
				for k, v := range got {
					if v != -k {
						bad.Store(fmt.Sprintf("key %d has %d", k, v))
					}
				}
				for w := range writers {
					for j := range int(before[w]) {
						if _, ok := got[w*per+j]; !ok {
							bad.Store(fmt.Sprintf("MarshalJSON missed key %d, stored before it began", w*per+j))
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if b := bad.Load(); b != nil {
		t.Fatal(b)
	}
	want := map[int]int{}
	for k := range writers * per {
		want[k] = -k
	}
	docConsistent(t, "after concurrent UnmarshalJSON", &m, want)
	data, err := m.MarshalJSON()
	require.NoError(t, err)
	wantData, _ := json.Marshal(want)
	require.Equal(t, string(wantData), string(data))
}

// ---------------------------------------------------------------------------
// Len and Stats

// docOp applies one random operation to m, recovering the panics it
// provokes on purpose (panicking callbacks, an invalid ComputeOp).
func docOp(m *Map[int, int], rng *rand.Rand, keyspace int, allowClear bool) {
	k := rng.IntN(keyspace)
	v := rng.IntN(1000)
	switch op := rng.IntN(18); op {
	case 0, 1:
		m.Store(k, v)
	case 2:
		m.Delete(k)
	case 3:
		m.LoadAndDelete(k)
	case 4:
		m.Swap(k, v)
	case 5:
		m.LoadOrStore(k, v)
	case 6:
		if old, ok := m.Load(k); ok {
			m.CompareAndSwap(k, old, v)
		}
	case 7:
		if old, ok := m.Load(k); ok {
			m.CompareAndDelete(k, old)
		} else {
			m.CompareAndDelete(k, v)
		}
	case 8:
		m.Compute(k, func(old int, loaded bool) (int, ComputeOp) { return old + 1, UpdateOp })
	case 9:
		m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
	case 10:
		m.Compute(k, func(int, bool) (int, ComputeOp) { return v, CancelOp })
	case 11:
		docPanics(func() { m.Compute(k, func(int, bool) (int, ComputeOp) { panic("boom") }) })
	case 12:
		m.LoadOrCompute(k, func() int { return v })
	case 13:
		docPanics(func() { m.LoadOrCompute(k, func() int { panic("boom") }) })
	case 14:
		docPanics(func() { m.Compute(k, func(int, bool) (int, ComputeOp) { return v, ComputeOp(9) }) })
	case 15:
		n := 0
		m.Range(func(k, _ int) bool {
			if n%3 == 0 {
				m.Delete(k)
			}
			n++
			return n < 20
		})
	case 16:
		m.Load(k)
	case 17:
		if allowClear && rng.IntN(40) == 0 {
			m.Clear()
		} else {
			m.Store(k, v)
		}
	}
}

// TestDocLenAfterChurn runs every kind of write at once, then checks
// that Len, Range, the iterators and Stats agree once the writes are done
// (Len is documented exact with no write in flight), that Len stayed in
// [0, keyspace+writers] meanwhile, and that the counts stay exact through a
// sequential phase checked against a model.
func TestDocLenAfterChurn(t *testing.T) {
	for _, keyspace := range []int{20, 300, 2000} {
		for round, allowClear := range []bool{false, true, false} {
			name := fmt.Sprintf("keyspace %d round %d", keyspace, round)
			var m Map[int, int]
			const workers = 6
			var stop atomic.Bool
			var lenBad atomic.Int64
			lenBad.Store(math.MinInt64)
			var watch sync.WaitGroup
			watch.Add(1)
			go func() {
				defer watch.Done()
				for !stop.Load() {
					if n := m.Len(); n < 0 || n > keyspace+workers {
						lenBad.Store(int64(n))
					}
				}
			}()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(keyspace), uint64(w*10+round)))
					for range 1500 {
						docOp(&m, rng, keyspace, allowClear)
					}
				}()
			}
			wg.Wait()
			stop.Store(true)
			watch.Wait()
			if n := lenBad.Load(); n != math.MinInt64 {
				t.Errorf("%s: Len reported %d during the writes; want within [0, %d]", name, n, keyspace+workers)
			}
			docConsistent(t, name+", after the writes", &m, nil)
			m.sweepAll()
			m.sweepAll()
			docConsistent(t, name+", after two sweeps", &m, nil)
			// Sequential phase against a model.
			model := docSnap(t, &m)
			rng := rand.New(rand.NewPCG(7, uint64(keyspace)))
			for i := range 2000 {
				k, v := rng.IntN(keyspace), rng.IntN(1000)
				switch rng.IntN(5) {
				case 0:
					m.Store(k, v)
					model[k] = v
				case 1:
					m.Delete(k)
					delete(model, k)
				case 2:
					m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
					delete(model, k)
				case 3:
					m.Compute(k, func(old int, _ bool) (int, ComputeOp) { return old + 1, UpdateOp })
					model[k]++
				case 4:
					if _, loaded := m.LoadOrCompute(k, func() int { return v }); !loaded {
						model[k] = v
					}
				}
				if n := m.Len(); n != len(model) {
					t.Fatalf("%s: sequential op %d: Len %d; model %d", name, i, n, len(model))
				}
			}
			docConsistent(t, name+", after the sequential phase", &m, model)
		}
	}
}

// TestDocLenBoundsDuringWrites: Len "may be off by the number of writes
// in flight". With writers that only add (or only delete) distinct keys,
// each with at most one write in flight, every Len must lie between the
// writes completed before it began and those begun before it returned.
func TestDocLenBoundsDuringWrites(t *testing.T) {
	const writers, per = 4, 2000
	t.Run("adds", func(t *testing.T) {
		var m Map[int, int]
		var done [writers]atomic.Int64
		var stop atomic.Bool
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					k := w*per + i
					switch i % 4 {
					case 0:
						m.Store(k, k)
					case 1:
						m.LoadOrStore(k, k)
					case 2:
						m.Compute(k, func(int, bool) (int, ComputeOp) { return k, UpdateOp })
					case 3:
						m.LoadOrCompute(k, func() int { return k })
					}
					done[w].Add(1)
				}
			}()
		}
		sum := func() (s int64) {
			for w := range writers {
				s += done[w].Load()
			}
			return s
		}
		go func() { wg.Wait(); stop.Store(true) }()
		checks := 0
		for !stop.Load() {
			lo := sum()
			n := m.Len()
			hi := sum() + writers
			checks++
			if int64(n) < lo || int64(n) > hi {
				t.Fatalf("Len %d during adds; want within [%d, %d]", n, lo, hi)
			}
		}
		wg.Wait()
		require.Equal(t, writers*per, m.Len())
		t.Logf("%d Len checks", checks)
	})
	t.Run("deletes", func(t *testing.T) {
		var m Map[int, int]
		total := writers * per
		for k := range total / 2 {
			m.Store(k, k)
		}
		m.promoteAll() // half in read (lock-free deletes), half in dirty
		for k := total / 2; k < total; k++ {
			m.Store(k, k)
		}
		var done [writers]atomic.Int64
		var stop atomic.Bool
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					k := i*writers + w // interleaved over both halves
					switch i % 4 {
					case 0:
						m.Delete(k)
					case 1:
						m.LoadAndDelete(k)
					case 2:
						m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
					case 3:
						m.CompareAndDelete(k, k)
					}
					done[w].Add(1)
				}
			}()
		}
		sum := func() (s int64) {
			for w := range writers {
				s += done[w].Load()
			}
			return s
		}
		go func() { wg.Wait(); stop.Store(true) }()
		for !stop.Load() {
			hi := int64(total) - sum() // deletes done before Len began
			n := m.Len()
			lo := int64(total) - sum() - writers // and those begun before it returned
			if int64(n) < lo || int64(n) > hi {
				t.Fatalf("Len %d during deletes; want within [%d, %d]", n, lo, hi)
			}
		}
		wg.Wait()
		docConsistent(t, "after the deletes", &m, map[int]int{})
	})
}

// TestDocStatsExact walks one segment through known states and checks
// every Stats field against the documentation.
func TestDocStatsExact(t *testing.T) {
	var m Map[int, int]
	require.Equal(t, Stats{Segments: 16}, m.Stats(), "zero Map")
	ks := keysInSegment(&m, 0, 3, 0)
	for _, k := range ks {
		m.Store(k, k)
	}
	require.Equal(t, Stats{Segments: 16, DirtyKeys: 3, AmendedSegments: 1, Amended: true}, m.Stats(), "3 new keys")
	m.Load(ks[0]) // a lock trip: a miss
	require.Equal(t, 1, m.Stats().Misses, "one load of a dirty key")
	m.Delete(ks[2])
	st := m.Stats()
	require.Equal(t, Stats{Segments: 16, DirtyKeys: 2, Tombstones: 1, AmendedSegments: 1, Amended: true, Misses: 1}, st, "a dirty key deleted")
	require.Equal(t, 2, m.Len())
	m.promoteAll()
	require.Equal(t, Stats{Segments: 16, ReadKeys: 2, Promotions: 1, Reclaimed: 1}, m.Stats(), "promoted")
	m.Delete(ks[0])
	require.Equal(t, Stats{Segments: 16, ReadKeys: 1, Tombstones: 1, Promotions: 1, Reclaimed: 1}, m.Stats(), "a read key deleted")
	m.Store(ks[0], 5)
	require.Equal(t, Stats{Segments: 16, ReadKeys: 2, Promotions: 1, Reclaimed: 1}, m.Stats(), "revived")
	// Promotions and Reclaimed count "since the map was made": a Clear
	// that replaces the table keeps them.
	m.Clear()
	st = m.Stats()
	require.Equal(t, Stats{Segments: 16, Promotions: 1, Reclaimed: 1}, st, "after Clear")
	require.Equal(t, 0, m.Len())
	// Misses start again at zero after a purge that leaves dirty without
	// keys: compactMin new keys, one lock trip, then every key deleted.
	ks = keysInSegment(&m, 0, compactMin, 0)
	for _, k := range ks {
		m.Store(k, k)
	}
	m.Load(ks[0])
	require.Equal(t, 1, m.Stats().Misses, "one load of a dirty key, after Clear")
	for _, k := range ks {
		m.Delete(k)
	}
	require.Equal(t, Stats{Segments: 16, Promotions: 1, Reclaimed: 1 + uint64(compactMin)}, m.Stats(), "dirty purged")
}

// TestDocMassDeleteRebuildsAtOnce: a segment is rebuilt at once "when
// more than three quarters of its entries (and at least 32) are deleted":
// 48 of 64 waits for the sweeps, 49 rebuilds.
func TestDocMassDeleteRebuildsAtOnce(t *testing.T) {
	var m Map[int, int]
	ks := promotedKeys(&m, 0, 64)
	before := m.Stats()
	for _, k := range ks[:48] {
		m.Delete(k)
	}
	st := m.Stats()
	require.Equal(t, 48, st.Tombstones, "48 of 64 deleted, exactly three quarters: kept for the sweeps")
	require.Equal(t, before.Promotions, st.Promotions)
	m.Delete(ks[48])
	st49 := m.Stats()
	require.Equal(t, 0, st49.Tombstones, "49 of 64: rebuilt at once")
	require.Equal(t, before.Promotions+1, st49.Promotions)
	require.Equal(t, before.Reclaimed+49, st49.Reclaimed)
	require.Equal(t, 15, m.Len())
}

// TestDocSweepDropsTombstone: a deleted key is dropped "within two
// sweep delays (500ms plus 100µs per entry, at most 1s) with no further
// call on the map".
func TestDocSweepDropsTombstone(t *testing.T) {
	var m Map[int, int]
	ks := promotedKeys(&m, 0, 4)
	before := m.Stats()
	start := time.Now()
	m.Delete(ks[0])
	require.Equal(t, 1, m.Stats().Tombstones)
	// The documented bound is 2*sweepDelay(4); keyReleaseWait leaves room
	// for a loaded machine. Stats, a diagnostic, neither sweeps nor
	// rebuilds.
	for time.Since(start) < keyReleaseWait && m.Stats().Tombstones != 0 {
		time.Sleep(20 * time.Millisecond)
	}
	st := m.Stats()
	require.Equal(t, 0, st.Tombstones, "tombstone still there %v after the delete", time.Since(start))
	require.Equal(t, before.Reclaimed+1, st.Reclaimed)
	require.Equal(t, 3, m.Len())
}

// ---------------------------------------------------------------------------
// Range and the iterators

// docStates returns maps of int keys (value -k) in the states Range treats
// apart: small dirty maps (copied), big ones (promoted), promoted, mixed
// with tombstones and new keys.
func docStates() map[string]func() *Map[int, int] {
	return map[string]func() *Map[int, int]{
		"small dirty": func() *Map[int, int] {
			m := new(Map[int, int])
			for k := range 40 {
				m.Store(k, -k)
			}
			return m
		},
		"big dirty": func() *Map[int, int] {
			m := new(Map[int, int])
			for k := range 800 {
				m.Store(k, -k)
			}
			return m
		},
		"promoted": func() *Map[int, int] {
			m := new(Map[int, int])
			for k := range 300 {
				m.Store(k, -k)
			}
			m.promoteAll()
			return m
		},
		"mixed": func() *Map[int, int] {
			m := new(Map[int, int])
			for k := range 300 {
				m.Store(k, -k)
			}
			m.promoteAll()
			for k := 300; k < 340; k++ {
				m.Store(k, -k)
			}
			for k := 0; k < 340; k += 5 {
				m.Delete(k)
			}
			return m
		},
	}
}

// TestDocPullIteratorHoldsNoLock suspends All, Keys and Values (through
// iter.Pull) after each element, and meanwhile writes to every key,
// including new keys of every segment, and calls Clear: "the body runs with
// no lock held". It then resumes; each key is yielded at most once, and
// stopping early then starting again gives a full iteration.
func TestDocPullIteratorHoldsNoLock(t *testing.T) {
	for name, mk := range docStates() {
		m := mk()
		want := docSnap(t, m)
		rvWithin(t, name+" pull", func() {
			next, stop := iter.Pull2(m.All())
			seen := map[int]bool{}
			fresh := 100000
			for i := 0; ; i++ {
				k, v, ok := next()
				if !ok {
					break
				}
				if seen[k] {
					t.Errorf("%s: All yielded %d twice", name, k)
				}
				seen[k] = true
				if v != -k && v != k {
					t.Errorf("%s: All yielded %d=%d", name, k, v)
				}
				// Writes while the iterator is suspended in its yield.
				m.Store(k, k)
				m.Delete(k + 1)
				m.Compute(k+2, func(old int, _ bool) (int, ComputeOp) { return old, CancelOp })
				m.LoadOrCompute(fresh, func() int { return fresh })
				m.Store(fresh+1, fresh+1)
				fresh += 2
				_ = m.Len()
				_ = m.Stats()
				if i == 20 {
					m.Clear()
				}
			}
			stop()
		})
		// Stop early, then iterate again from the start.
		m = mk()
		rvWithin(t, name+" stop early", func() {
			next, stop := iter.Pull(m.Keys())
			next()
			next()
			stop()
			m.Store(-1, 1) // a write after stop
			m.Delete(-1)
			n := 0
			for range m.Keys() {
				n++
			}
			if n != len(want) {
				t.Errorf("%s: a new iteration after an early stop gave %d keys; want %d", name, n, len(want))
			}
			vals := 0
			next2, stop2 := iter.Pull(m.Values())
			for {
				if _, ok := next2(); !ok {
					break
				}
				vals++
			}
			stop2()
			if vals != len(want) {
				t.Errorf("%s: Values gave %d; want %d", name, vals, len(want))
			}
		})
		// A Seq is reusable: two full loops over one value of All.
		seq := m.All()
		a, b := 0, 0
		for range seq {
			a++
		}
		for range seq {
			b++
		}
		require.Equal(t, len(want), a, name)
		require.Equal(t, len(want), b, name)
	}
}

// TestDocRangePanicLeavesMapUnchanged: a panic in f at the first, a
// middle and the last element propagates, and the map is unchanged and
// usable (every key writable at once, from another goroutine).
func TestDocRangePanicLeavesMapUnchanged(t *testing.T) {
	for name, mk := range docStates() {
		m := mk()
		want := docSnap(t, m)
		for _, at := range []int{0, len(want) / 2, len(want) - 1} {
			type sentinel struct{ at int }
			i := 0
			p, v := docPanics(func() {
				for range m.All() {
					if i == at {
						panic(sentinel{at})
					}
					i++
				}
			})
			require.True(t, p, name)
			require.Equal(t, sentinel{at}, v, "%s: the panic value was changed", name)
			p, v = docPanics(func() {
				i = 0
				m.Range(func(int, int) bool {
					if i == at {
						panic(sentinel{at})
					}
					i++
					return true
				})
			})
			require.True(t, p, name)
			require.Equal(t, sentinel{at}, v)
			docConsistent(t, fmt.Sprintf("%s, panic at %d", name, at), m, want)
			rvWithin(t, name+" writes after the panic", func() {
				for k := range 900 {
					m.Compute(k, func(old int, ok bool) (int, ComputeOp) { return old, CancelOp })
				}
				m.Store(-5, 5)
				m.Delete(-5)
			})
		}
	}
}

// TestDocRangeConcurrentGuarantees: while other goroutines add keys,
// churn others (store, delete, compute, swap), delete whole batches (mass
// deletes rebuild segments), and load misses (promotions), every Range,
// All and Keys visits each stable key exactly once with its value, never a
// key that was never stored, and only values the key had.
func TestDocRangeConcurrentGuarantees(t *testing.T) {
	const stable, churn = 400, 100
	var m Map[int, int]
	for k := range stable {
		m.Store(k, 10*k)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	run := func(f func(rng *rand.Rand)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			for !stop.Load() {
				f(rng)
			}
		}()
	}
	// Churned keys 1000..1099 hold 10k+1 or 10k+2, or are absent.
	for range 2 {
		run(func(rng *rand.Rand) {
			k := 1000 + rng.IntN(churn)
			switch rng.IntN(5) {
			case 0:
				m.Store(k, 10*k+1)
			case 1:
				m.Delete(k)
			case 2:
				m.Compute(k, func(int, bool) (int, ComputeOp) { return 10*k + 2, UpdateOp })
			case 3:
				m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
			case 4:
				m.Swap(k, 10*k+2)
			}
		})
	}
	// Added keys 100000.. hold 10k; batches of them are deleted again.
	var next atomic.Int64
	next.Store(100000)
	run(func(rng *rand.Rand) {
		base := int(next.Add(200)) - 200
		for k := base; k < base+200; k++ {
			m.Store(k, 10*k)
		}
		if rng.IntN(2) == 0 {
			for k := base; k < base+200; k++ {
				m.Delete(k)
			}
		}
	})
	run(func(rng *rand.Rand) { m.Load(-1 - rng.IntN(1000)) }) // misses on amended segments
	check := func(what string, k, v int) {
		switch {
		case k < 0 || (k >= stable && k < 1000) || (k >= 1000+churn && k < 100000):
			t.Errorf("%s visited %d, never stored", what, k)
		case k < stable && v != 10*k:
			t.Errorf("%s visited stable %d=%d", what, k, v)
		case k >= 1000 && k < 1000+churn && v != 10*k+1 && v != 10*k+2:
			t.Errorf("%s visited churned %d=%d", what, k, v)
		case k >= 100000 && v != 10*k:
			t.Errorf("%s visited added %d=%d", what, k, v)
		}
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	for iter := 0; time.Now().Before(deadline) && !t.Failed(); iter++ {
		seen := map[int]int{}
		visit := func(what string, k, v int) {
			if seen[k]++; seen[k] > 1 {
				t.Errorf("%s visited %d twice", what, k)
			}
			check(what, k, v)
		}
		switch iter % 3 {
		case 0:
			m.Range(func(k, v int) bool { visit("Range", k, v); return true })
		case 1:
			for k, v := range m.All() {
				visit("All", k, v)
			}
		case 2:
			for k := range m.Keys() {
				v, ok := m.Load(k)
				if !ok {
					v = 10 * k // deleted since: check the key only
					if k >= 1000 && k < 1000+churn {
						v = 10*k + 1
					}
				}
				visit("Keys", k, v)
			}
		}
		for k := range stable {
			if seen[k] != 1 {
				t.Errorf("iteration %d: stable key %d visited %d times", iter, k, seen[k])
				break
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	docConsistent(t, "after the concurrent Ranges", &m, nil)
}

// TestDocRangeBodyWrites: f deletes and stores back the key it visits,
// adds keys to the segment being visited (past the copy limit, so that
// segments promote under the Range), mass-deletes keys (rebuilds), calls
// Range, Len, Stats and MarshalJSON: every key present throughout is
// visited once, none twice.
func TestDocRangeBodyWrites(t *testing.T) {
	for name, mk := range docStates() {
		m := mk()
		base := docSnap(t, m)
		// Keys present throughout: those f never deletes (it deletes and
		// re-stores only the key it visits, which stays visited).
		seen := map[int]int{}
		fresh := 200000
		rvWithin(t, name, func() {
			m.Range(func(k, v int) bool {
				if seen[k]++; seen[k] > 1 {
					t.Errorf("%s: visited %d twice", name, k)
				}
				m.Delete(k)
				m.Store(k, v)
				if fresh < 200000+20*100 { // bounded: added keys may be visited too
					for range 20 {
						m.Store(fresh, -fresh)
						fresh++
					}
				}
				if len(seen)%7 == 0 {
					for j := fresh - 20; j < fresh; j++ {
						m.Delete(j)
					}
				}
				if len(seen)%150 == 0 {
					n := 0
					m.Range(func(int, int) bool { n++; return n < 5 })
					_ = m.Len()
					_ = m.Stats()
					if _, err := m.MarshalJSON(); err != nil {
						t.Error(err)
					}
				}
				return true
			})
		})
		for k := range base {
			if seen[k] != 1 {
				t.Errorf("%s: key %d, present throughout, visited %d times", name, k, seen[k])
			}
		}
		docConsistent(t, name+" after", m, nil)
	}
}

// TestDocRangeAllocs: Range "allocates nothing but what such promotions
// build" (a segment with more than 16 new keys is promoted first), and All
// "does not allocate per element": in every state a second Range allocates
// nothing, and the first allocates only in "big dirty", at most a few
// objects per promoted segment and one per boxChunk values it promotes.
func TestDocRangeAllocs(t *testing.T) {
	f := func(int, int) bool { return true }
	// The first Range of a fresh state, counted through MemStats, which
	// counts every goroutine's allocations: the fewest of three tries, so
	// that a runtime or timer goroutine's allocation does not count.
	first := func(mk func() *Map[int, int]) (allocs, promoted uint64) {
		allocs = math.MaxUint64
		for range 3 {
			m := mk()
			p := m.Stats().Promotions
			var a, b runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&a)
			m.Range(f)
			runtime.ReadMemStats(&b)
			allocs, promoted = min(allocs, b.Mallocs-a.Mallocs), m.Stats().Promotions-p
		}
		return allocs, promoted
	}
	for name, mk := range docStates() {
		n, promoted := first(mk)
		m := mk()
		m.Range(f)
		second := testing.AllocsPerRun(20, func() { m.Range(f) })
		t.Logf("%s: first Range %d allocations (%d promotions), later ones %v", name, n, promoted, second)
		// A few objects per promotion, and the boxes of the values it
		// promotes, boxChunk to an object (see dirtySlot): at most one
		// chunk more than that per promotion.
		if limit := 5*promoted + uint64(m.Len()/boxChunk); n > limit {
			t.Errorf("%s: Range allocated %d times for %d promotions of at most %d keys (limit %d)", name, n, promoted, m.Len(), limit)
		}
		if name == "big dirty" && promoted == 0 {
			t.Errorf("%s: Range promoted nothing; the state is not what the test means", name)
		}
		if second != 0 {
			t.Errorf("%s: a later Range allocated %v times", name, second)
		}
	}
}

// ---------------------------------------------------------------------------
// New, WithCapacity, the zero Map, ComputeOp

// TestDocZeroMapEveryReader: reads on a zero Map make no table and
// report it empty; the first write makes one.
func TestDocZeroMapEveryReader(t *testing.T) {
	var m Map[string, int]
	_, ok := m.Load("a")
	require.False(t, ok)
	require.Equal(t, 0, m.Len())
	require.Equal(t, Stats{Segments: 16}, m.Stats())
	m.Range(func(string, int) bool { t.Error("Range called f"); return true })
	for range m.All() {
		t.Error("All yielded")
	}
	for range m.Keys() {
		t.Error("Keys yielded")
	}
	for range m.Values() {
		t.Error("Values yielded")
	}
	m.Delete("a")
	m.LoadAndDelete("a")
	m.CompareAndDelete("a", 0)
	m.CompareAndSwap("a", 0, 1)
	m.Clear()
	data, err := m.MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, "{}", string(data))
	require.Nil(t, m.t.Load(), "a read or a no-op write made a table")
	_, ok = m.Load("a")
	require.False(t, ok, "CompareAndSwap on an absent key stored it")
	m.Store("a", 1)
	require.Equal(t, 1, m.Len())
}

// TestDocNewOptions: odd capacities, several options (the last wins),
// and a nil Option.
func TestDocNewOptions(t *testing.T) {
	for _, n := range []int{math.MinInt, -1, 0, 1, 15, 16, 17, maxCapacity, maxCapacity + 1, math.MaxInt} {
		m := New[int, string](WithCapacity(n))
		require.Equal(t, 0, m.Len(), "WithCapacity(%d)", n)
		require.Equal(t, Stats{Segments: 16}, m.Stats(), "WithCapacity(%d)", n)
		m.Clear()
		data, err := m.MarshalJSON()
		require.NoError(t, err)
		require.Equal(t, "{}", string(data))
		if n <= 1<<16 { // the bigger ones allocate their presized room at the first Store
			for k := range 100 {
				m.Store(k, "x")
			}
			require.Equal(t, 100, m.Len(), "WithCapacity(%d)", n)
			require.NoError(t, m.checkInvariants())
		}
		if n <= 0 {
			require.Equal(t, int32(0), m.t.Load().counts.dirtyHint, "WithCapacity(%d) presized", n)
		}
	}
	// The last option wins.
	require.Equal(t, int32(0), New[int, int](WithCapacity(1000), WithCapacity(-1)).loadOrInit().counts.dirtyHint)
	require.Equal(t, int32(1000/16+1), New[int, int](WithCapacity(-1), WithCapacity(1000)).loadOrInit().counts.dirtyHint)
	// nil options are ignored.
	require.Equal(t, int32(1000/16+1), New[int, int](nil, WithCapacity(1000), nil).loadOrInit().counts.dirtyHint)
	require.Equal(t, 0, New[int, int](nil).Len())
}

// docBytes returns the bytes f allocates.
func docBytes(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// docFewestBytes returns the fewest bytes f allocates over five rounds,
// each on a fresh state from mk, and the last round's state. MemStats
// counts every goroutine's allocations, and another goroutine's can only
// add to f's: a sweep timer of an earlier test's map may fire meanwhile
// (CI once measured 6,712 B for a Store that allocates 1,208 B). A lower
// bound on f's bytes must therefore hold for the fewest.
func docFewestBytes[S any](mk func() S, f func(S)) (uint64, S) {
	fewest := uint64(math.MaxUint64)
	var s S
	for range 5 {
		s = mk()
		fewest = min(fewest, docBytes(func() { f(s) }))
	}
	return fewest, s
}

// TestDocCapacityAndClear: WithCapacity presizes each segment's first
// dirty map, and "the presizing lasts as long as the map: after a Clear,
// each segment presizes again at its first new key", whether the Clear
// emptied the map in place (a small capacity, no big dirty map) or
// replaced its table.
func TestDocCapacityAndClear(t *testing.T) {
	for _, capacity := range []int{16 * 40, 16 * 2000} {
		keyOf := func(mm *Map[int, int], seg int) int { return keysInSegment(mm, seg, 1, 1000)[0] }
		storeFirst := func(mm *Map[int, int]) { mm.Store(keyOf(mm, 0), 1) }
		// The plain map's bytes are the bound: the fewest of five rounds.
		// The presized map's only need to exceed it once; the fewest of
		// five keeps the logged figure free of other goroutines' bytes.
		first, m := docFewestBytes(func() *Map[int, int] { return New[int, int](WithCapacity(capacity)) }, storeFirst)
		base, _ := docFewestBytes(func() *Map[int, int] { return new(Map[int, int]) }, storeFirst)
		require.Greater(t, first, base, "capacity %d: the first Store did not presize", capacity)
		tb := m.t.Load()
		m.Clear()
		inPlace := m.t.Load() == tb
		require.Equal(t, 0, m.Len())
		// A segment that held no key, and the one that did.
		other := docBytes(func() { m.Store(keyOf(m, 1), 1) })
		k2 := keysInSegment(m, 0, 2, 1000)[1]
		again := docBytes(func() { m.Store(k2, 1) })
		t.Logf("capacity %d: first Store %d B (plain map %d B); after Clear (in place %v): Store in an untouched segment %d B, in the used one %d B",
			capacity, first, base, inPlace, other, again)
		require.Greater(t, other, base, "capacity %d: after Clear an untouched segment's first Store did not presize", capacity)
		if !inPlace {
			require.Greater(t, again, base, "capacity %d: after Clear the used segment's first Store did not presize", capacity)
		}
		want := map[int]bool{keyOf(m, 1): true, k2: true}
		for k := range capacity {
			m.Store(k, k)
			want[k] = true
		}
		require.Equal(t, len(want), m.Len())
		require.NoError(t, m.checkInvariants())
	}
}

func TestDocComputeOpString(t *testing.T) {
	require.Equal(t, "UpdateOp", UpdateOp.String())
	require.Equal(t, "DeleteOp", DeleteOp.String())
	require.Equal(t, "CancelOp", CancelOp.String())
	require.Equal(t, "CancelOp", fmt.Sprint(CancelOp))
	require.Equal(t, "[UpdateOp DeleteOp]", fmt.Sprint([]ComputeOp{UpdateOp, DeleteOp}))
	seen := map[string]ComputeOp{}
	for _, op := range []ComputeOp{-1, 3, 4, math.MaxInt, math.MinInt} {
		s := op.String()
		require.Equal(t, fmt.Sprintf("ComputeOp(%d)", int(op)), s, "documented: \"ComputeOp(n)\" for a value that names no operation")
		if prev, dup := seen[s]; dup {
			t.Errorf("ComputeOp(%d) and ComputeOp(%d) both print %q", int(prev), int(op), s)
		}
		seen[s] = op
	}
	// Compute's panic for an invalid op names it.
	var m Map[int, int]
	_, v := docPanics(func() { m.Compute(1, func(int, bool) (int, ComputeOp) { return 0, 7 }) })
	require.Contains(t, fmt.Sprint(v), "7")
	require.Equal(t, 0, m.Len())
}

// TestDocNaNKeysLikeGoMap: a NaN key is never equal to itself, so, as
// in a Go map, each Store of NaN adds a key, and nothing finds it again;
// Len, Range and Stats count them all, Clear removes them.
func TestDocNaNKeysLikeGoMap(t *testing.T) {
	var m Map[float64, int]
	goMap := map[float64]int{}
	nan := math.NaN()
	for i := range 300 {
		m.Store(nan, i)
		goMap[nan] = i
		m.Store(float64(i), i)
		goMap[float64(i)] = i
	}
	_, loaded := m.LoadOrStore(nan, -1)
	require.False(t, loaded)
	goMap[nan] = -1
	_, loaded = m.Swap(nan, -2)
	require.False(t, loaded)
	goMap[nan] = -2
	m.Compute(nan, func(_ int, loaded bool) (int, ComputeOp) {
		require.False(t, loaded)
		return -3, UpdateOp
	})
	goMap[nan] = -3
	m.Delete(nan)
	delete(goMap, nan)
	require.False(t, m.CompareAndDelete(nan, -3))
	require.Equal(t, len(goMap), m.Len())
	docConsistent(t, "NaN keys", &m, nil)
	m.promoteAll()
	docConsistent(t, "NaN keys promoted", &m, nil)
	nans := 0
	for k := range m.Keys() {
		if k != k {
			nans++
		}
	}
	require.Equal(t, 303, nans)
	m.Clear()
	require.Equal(t, 0, m.Len())
	require.Equal(t, 0, len(docSnap(t, &m)))
}

// TestDocLenClearRace: many short rounds of Clear racing with computes,
// deletes, revivals and new keys on a few keys (in-place Clears of small
// dirty maps and table replacements both), each followed by a check that
// Len, Range and Stats agree.
func TestDocLenClearRace(t *testing.T) {
	deadline := time.Now().Add(1500 * time.Millisecond)
	rounds := 0
	for ; time.Now().Before(deadline) && !t.Failed(); rounds++ {
		var m Map[int, int]
		keyspace := 8 + rounds%3*60 // small (in-place Clear) or larger (replaced)
		if rounds%2 == 0 {
			for k := range keyspace {
				m.Store(k, k)
			}
			if rounds%4 == 0 {
				m.promoteAll()
			}
		}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(rounds), uint64(w)))
				for range 60 {
					k := rng.IntN(keyspace)
					switch rng.IntN(8) {
					case 0:
						m.Clear()
					case 1:
						m.Compute(k, func(o int, _ bool) (int, ComputeOp) { return o + 1, UpdateOp })
					case 2:
						m.Compute(k, func(int, bool) (int, ComputeOp) { return 0, DeleteOp })
					case 3:
						m.LoadOrCompute(k, func() int { return k })
					case 4:
						m.Delete(k)
					case 5:
						m.Store(k, k)
					case 6:
						m.Compute(k, func(o int, _ bool) (int, ComputeOp) {
							if rng.IntN(4) == 0 {
								m.Clear() // allowed: the compute takes effect before it
							}
							return o, UpdateOp
						})
					case 7:
						m.LoadAndDelete(k)
					}
				}
			}()
		}
		wg.Wait()
		docConsistent(t, fmt.Sprintf("round %d", rounds), &m, nil)
	}
	t.Logf("%d rounds", rounds)
}

// TestDocLenStableDuringSweeps: with no call writing the map, the
// sweeps (timer goroutines that rebuild segments to drop tombstones) must
// not move Len or the Stats' key counts: "Len is exact whenever no write is
// in flight".
func TestDocLenStableDuringSweeps(t *testing.T) {
	var m Map[int, int]
	for k := range 400 {
		m.Store(k, k)
	}
	m.promoteAll()
	for k := 400; k < 450; k++ {
		m.Store(k, k) // in dirty maps
	}
	for k := 0; k < 450; k += 3 {
		m.Delete(k) // tombstones in read and dirty: sweeps armed
	}
	want := 450 - 150
	before := m.Stats()
	require.Positive(t, before.Tombstones)
	deadline := time.Now().Add(2*time.Second + 200*time.Millisecond)
	checks := 0
	for time.Now().Before(deadline) {
		if n := m.Len(); n != want {
			t.Fatalf("Len %d during sweeps after %d checks; want %d", n, checks, want)
		}
		if checks%200 == 0 {
			if st := m.Stats(); st.ReadKeys+st.DirtyKeys != want {
				t.Fatalf("Stats during sweeps: %+v; want %d keys", st, want)
			}
		}
		checks++
	}
	st := m.Stats()
	t.Logf("before: %+v; after 2.2s: %+v", before, st)
	require.Equal(t, 0, st.Tombstones, "tombstones left after two sweep delays")
	require.Greater(t, st.Reclaimed, before.Reclaimed)
	docConsistent(t, "after the sweeps", &m, nil)
}

// TestDocReclaimedCountsPurges: Stats.Reclaimed counts the deleted
// keys that a purge of a dirty map drops, which Promotions does not count.
func TestDocReclaimedCountsPurges(t *testing.T) {
	var m Map[int, int]
	ks := keysInSegment(&m, 0, 40, 0)
	for _, k := range ks {
		m.Store(k, k) // 40 new keys in segment 0's dirty map
	}
	for _, k := range ks[:32] {
		m.Delete(k) // 32 of 40 deleted: the dirty map is purged
	}
	st := m.Stats()
	t.Logf("%+v", st)
	require.Equal(t, 8, m.Len())
	require.Equal(t, uint64(0), st.Promotions)
	require.Equal(t, uint64(32), st.Reclaimed)
	require.Equal(t, 8, st.DirtyKeys)
}

// TestDocComputeConcurrentClear: a Clear from another goroutine does not
// wait for a compute's callback; the compute takes effect just before it.
// Loads inside the callback, after that Clear, see the key absent, and so
// do loads after the call, while the call reports the value it wrote.
func TestDocComputeConcurrentClear(t *testing.T) {
	for _, size := range []int{0, 100} { // the key alone, or among others
		// Keys only in dirty maps: Clear empties the table in place;
		// promoted: it replaces the table.
		for _, promote := range []bool{false, true} {
			name := fmt.Sprintf("others=%d/promoted=%v", size, promote)
			var m Map[int, int]
			m.Store(1, 1)
			for i := range size {
				m.Store(100+i, i)
			}
			if promote {
				m.promoteAll()
			}
			inFn, cleared := make(chan struct{}), make(chan struct{})
			go func() { <-inFn; m.Clear(); close(cleared) }()
			var during, duringOK any
			v, ok := m.Compute(1, func(old int, loaded bool) (int, ComputeOp) {
				close(inFn)
				<-cleared
				during, duringOK = m.Load(1)
				return old + 10, UpdateOp
			})
			require.Equal(t, []any{11, true}, []any{v, ok}, name+": Compute's result")
			require.Equal(t, []any{0, false}, []any{during, duringOK}, name+": Load in fn after the Clear")
			_, after := m.Load(1)
			require.False(t, after, name+": the Clear came after the compute")
			require.Zero(t, m.Len(), name)

			inFn, cleared = make(chan struct{}), make(chan struct{})
			go func() { <-inFn; m.Clear(); close(cleared) }()
			v, ok = m.LoadOrCompute(2, func() int {
				close(inFn)
				<-cleared
				return 7
			})
			require.Equal(t, []any{7, false}, []any{v, ok}, name+": LoadOrCompute's result")
			_, after = m.Load(2)
			require.False(t, after, name+": the Clear came after the LoadOrCompute")
		}
	}
}
