package safemap

import (
	"encoding/json"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	var m Map[string, int]
	m.Store("b", 2)
	m.Store("a", 1)
	data, err := json.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"a":1,"b":2}` {
		t.Fatalf("Marshal = %s", data)
	}
	var back Map[string, int]
	back.Store("c", 3)
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Len() != 3 {
		t.Fatalf("Unmarshal did not merge: Len() = %d; want 3", back.Len())
	}
	if err := json.Unmarshal([]byte("null"), &back); err != nil || back.Len() != 3 {
		t.Fatalf("Unmarshal(null) = %v, Len() = %d", err, back.Len())
	}
}

func TestJSONKeyKinds(t *testing.T) {
	var ints Map[int64, string]
	ints.Store(-5, "x")
	ints.Store(10, "y")
	data, err := json.Marshal(&ints)
	if err != nil || string(data) != `{"-5":"x","10":"y"}` {
		t.Fatalf("int keys: %s, %v", data, err)
	}
	var back Map[int64, string]
	if err := json.Unmarshal(data, &back); err != nil || back.Len() != 2 {
		t.Fatalf("int keys back: %v, Len() = %d", err, back.Len())
	}
	// encoding.TextMarshaler keys.
	var addrs Map[netip.Addr, bool]
	addrs.Store(netip.MustParseAddr("10.0.0.1"), true)
	data, err = json.Marshal(&addrs)
	if err != nil || string(data) != `{"10.0.0.1":true}` {
		t.Fatalf("TextMarshaler keys: %s, %v", data, err)
	}
	var addrsBack Map[netip.Addr, bool]
	if err := json.Unmarshal(data, &addrsBack); err != nil {
		t.Fatal(err)
	}
	if v, ok := addrsBack.Load(netip.MustParseAddr("10.0.0.1")); !ok || !v {
		t.Fatal("TextMarshaler key lost in the round trip")
	}
}

func TestJSONUnsupportedKeys(t *testing.T) {
	var floats Map[float64, int]
	floats.Store(1.5, 1)
	if _, err := json.Marshal(&floats); err == nil {
		t.Error("Marshal with float64 keys: no error")
	}
	// Newer encoding/json releases accept float keys; safemap keeps the
	// documented set on every toolchain.
	if err := json.Unmarshal([]byte(`{"1.5":2}`), &floats); err == nil {
		t.Error("Unmarshal into float64 keys: no error")
	}
	var anys Map[any, int]
	anys.Store(true, 1)
	if _, err := json.Marshal(&anys); err == nil || !strings.Contains(err.Error(), "safemap") {
		t.Errorf("Marshal with interface keys: %v, want a safemap error", err)
	}
	type point struct{ X, Y int }
	var structs Map[point, int]
	if err := json.Unmarshal([]byte(`{"a":1}`), &structs); err == nil {
		t.Error("Unmarshal into struct keys: no error")
	}
	var m Map[string, int]
	if err := json.Unmarshal([]byte(`{"a":"not a number"}`), &m); err == nil || m.Len() != 0 {
		t.Errorf("Unmarshal of a bad value: err %v, Len() %d; want an error and nothing stored", err, m.Len())
	}
	if err := json.Unmarshal([]byte(`[1,2]`), &m); err == nil || !strings.Contains(err.Error(), "json") {
		t.Errorf("Unmarshal of an array: %v", err)
	}
}

// TestJSONStructFieldMigration pins MIGRATING.md's JSON section: where a
// struct's exported sync.Map field encoded as {}, a Map[any, any] field
// fails to encode, even empty, a `json:"-"` tag restores the skip, an
// unexported field is never encoded, and a key type JSON can hold has its
// contents encoded.
func TestJSONStructFieldMigration(t *testing.T) {
	type before struct{ Sessions sync.Map }
	got, err := json.Marshal(&before{})
	if err != nil || string(got) != `{"Sessions":{}}` {
		t.Fatalf("sync.Map field: %s, %v; want {\"Sessions\":{}}", got, err)
	}

	type after struct{ Sessions Map[any, any] }
	if got, err := json.Marshal(&after{}); err == nil || !strings.Contains(err.Error(), "key type interface {}") {
		t.Errorf("empty Map[any, any] field: %s, %v; want the key type's error", got, err)
	}
	if err := json.Unmarshal([]byte(`{"Sessions":{"a":1}}`), &after{}); err == nil {
		t.Error("decoding into a Map[any, any] field: no error")
	}

	type skipped struct {
		Sessions Map[any, any] `json:"-"`
		N        int
	}
	var s skipped
	s.Sessions.Store("a", 1)
	if got, err := json.Marshal(&s); err != nil || string(got) != `{"N":0}` {
		t.Errorf(`json:"-" field: %s, %v; want {"N":0}`, got, err)
	}

	type unexported struct {
		sessions Map[any, any]
		N        int
	}
	var u unexported
	u.sessions.Store("a", 1)
	if got, err := json.Marshal(&u); err != nil || string(got) != `{"N":0}` {
		t.Errorf("unexported field: %s, %v; want {\"N\":0}", got, err)
	}
	if v, ok := u.sessions.Load("a"); !ok || v != 1 {
		t.Errorf("unexported field after Marshal: Load = %v, %v", v, ok)
	}

	type typed struct{ Sessions Map[string, int] }
	var ty typed
	ty.Sessions.Store("a", 1)
	if got, err := json.Marshal(&ty); err != nil || string(got) != `{"Sessions":{"a":1}}` {
		t.Errorf("Map[string, int] field: %s, %v", got, err)
	}
}
