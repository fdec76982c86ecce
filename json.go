package safemap

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// jsonKeyError reports whether K can be a JSON object key under the rules
// of encoding/json for map keys, the same on every Go release: a string
// kind, an integer kind, or a type implementing encoding.TextMarshaler (to
// marshal) or encoding.TextUnmarshaler (to unmarshal). Newer encoding/json
// releases accept more (floats, for one); safemap keeps the documented set so
// that a program's output does not change with the toolchain.
func jsonKeyError[K comparable](unmarshal bool) error {
	t := reflect.TypeFor[K]()
	switch t.Kind() {
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return nil
	}
	if unmarshal && reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return nil
	}
	if !unmarshal && t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
		return nil
	}
	return fmt.Errorf("safemap: JSON object keys must be strings, integers or encoding.TextMarshaler/TextUnmarshaler; key type %v is none of these", t)
}

// MarshalJSON encodes the map as a JSON object, with the rules that
// encoding/json applies to a Go map[K]V: keys of string kinds are used as
// they are, keys of integer kinds are written in decimal, and keys that
// implement encoding.TextMarshaler are marshaled as text; the object's keys
// are sorted. Any other key type yields an error, never a panic, and so
// does a nil key of an interface key type (where encoding/json panics on a
// Go map). The set of key types is the same on every Go release: from Go
// 1.27, encoding/json also marshals a Go map with float keys, or interface
// keys holding strings or numbers, and MarshalJSON still refuses them. A nil
// *Map encodes as null.
//
// The map is not locked: MarshalJSON encodes what [Map.All] visits, with its
// guarantees; it is not one atomic read of the map. O(n), and it allocates
// a copy of the contents.
func (m *Map[K, V]) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	if err := jsonKeyError[K](false); err != nil {
		return nil, err
	}
	keyIsInterface := reflect.TypeFor[K]().Kind() == reflect.Interface
	snapshot := make(map[K]V, m.Len())
	for k, v := range m.All() {
		if keyIsInterface && any(k) == nil {
			return nil, fmt.Errorf("safemap: MarshalJSON: a nil key of interface type %v has no JSON form", reflect.TypeFor[K]())
		}
		snapshot[k] = v
	}
	return json.Marshal(snapshot)
}

// UnmarshalJSON decodes a JSON object into the map, with the rules that
// encoding/json applies to a Go map[K]V (see [Map.MarshalJSON]), and stores
// each of its members: it merges into the map rather than replacing it.
// JSON null leaves the map unchanged, whatever the key type. On an error
// nothing is stored, where encoding/json keeps in a Go map the members it
// decoded before the error. The members are stored one by one, with
// [Map.Store]: a concurrent reader may see some of them and not others.
// On a nil *Map it returns an error for any input but JSON null, which it
// accepts and ignores, as above.
func (m *Map[K, V]) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil // as encoding/json decodes null into any map type
	}
	if m == nil {
		return errors.New("safemap: UnmarshalJSON on a nil *Map")
	}
	if err := jsonKeyError[K](true); err != nil {
		return err
	}
	var decoded map[K]V
	if err := json.Unmarshal(data, &decoded); err != nil {
		return err
	}
	for k, v := range decoded {
		m.Store(k, v)
	}
	return nil
}
