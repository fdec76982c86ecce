package safemap

import "encoding/json"

// MarshalJSON encodes the map as a JSON object, with the rules that
// encoding/json applies to a Go map[K]V: keys of string kinds are used as
// they are, keys of integer kinds are written in decimal, and keys that
// implement encoding.TextMarshaler are marshaled as text; the object's keys
// are sorted. Any other key type yields an error, never a panic.
//
// The map is not locked: MarshalJSON encodes what [Map.All] visits, with its
// guarantees. O(n), and it allocates a copy of the contents.
func (m *Map[K, V]) MarshalJSON() ([]byte, error) {
	snapshot := make(map[K]V, m.Len())
	for k, v := range m.All() {
		snapshot[k] = v
	}
	return json.Marshal(snapshot)
}

// UnmarshalJSON decodes a JSON object into the map, with the rules that
// encoding/json applies to a Go map[K]V (see [Map.MarshalJSON]), and stores
// each of its members: it merges into the map rather than replacing it.
// JSON null leaves the map unchanged. On an error nothing is stored.
func (m *Map[K, V]) UnmarshalJSON(data []byte) error {
	var decoded map[K]V
	if err := json.Unmarshal(data, &decoded); err != nil {
		return err
	}
	for k, v := range decoded {
		m.Store(k, v)
	}
	return nil
}
