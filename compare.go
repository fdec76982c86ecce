package safemap

import "reflect"

// mustBeComparable panics, naming the method, if V, the map's value type,
// is not comparable (a slice, map or func type, or an array or struct
// holding one): then no two values of V compare, whatever they hold, and
// CompareAndSwap and CompareAndDelete fail before they touch the map, as
// they do on the generic map behind Go's sync.Map (internal/sync's
// HashTrieMap) for such a value type.
//
// A comparable V may still hold a value that is not, in an interface
// (sync.Map's values, a Map[any, any]'s). Those are compared as sync.Map
// compares them: old with the key's value, only if the key is present;
// values of different dynamic types are unequal, and two values of one
// non-comparable dynamic type make the comparison panic (see equal).
//
// The callers skip it when the map's shared counts say that V is
// comparable (mapCounts.valuesComparable, computed once per map): a load and a test
// inline, where a call that returned at once cost about 23 instructions per
// operation (cachesim, CompareAndDeleteMostlyMisses). A map with no table
// yet calls it every time (such a map is empty, and the call rare).
func mustBeComparable[V any](method string) {
	if t := reflect.TypeFor[V](); !t.Comparable() {
		panic("safemap: " + method + " called on a map whose value type " + t.String() + " is not comparable")
	}
}
