package safemap

import "reflect"

// mustBeComparable panics, naming the method, if v's dynamic type is not
// comparable, so that CompareAndSwap and CompareAndDelete fail before they
// touch the map, as sync.Map's do.
//
// Comparing v with itself also catches comparable types that hold a
// non-comparable value in an interface field: that comparison walks every
// field that any later comparison of v could reach, and panics here, with no
// lock held, rather than under a segment's lock.
//
// The callers skip it when the map's table says that V itself guarantees
// comparability (table.valuesComparable, computed once per map by
// staticallyComparable): a load and a test inline, where a call that
// returned at once cost about 23 instructions per operation (cachesim,
// CompareAndDeleteMostlyMisses). noTable says that the map has no table
// yet to tell: then V is examined here (a walk of its type; such a map is
// empty, and the call rare).
func mustBeComparable[V any](method string, v V, noTable bool) {
	if noTable && staticallyComparable[V]() {
		return
	}
	// An int or a string in an interface (a Map[any, any], sync.Map's
	// drop-in) is comparable: told by its type, without reflection or the
	// comparison below. CompareAndDelete on a Map[any, any] of int values,
	// a throwaway benchmark: 23.75 -> 21.59 ns (12 alternating runs).
	if _, ok := any(v).(int); ok {
		return
	}
	if _, ok := any(v).(string); ok {
		return
	}
	if t := reflect.TypeOf(any(v)); t != nil && !t.Comparable() {
		panic("safemap: " + method + " called with a value of non-comparable type " + t.String())
	}
	_ = any(v) == any(v)
}

// staticallyComparable reports whether every value of type V compares
// without panicking: V has no interface inside it.
func staticallyComparable[V any]() bool {
	return deepComparable(reflect.TypeFor[V]())
}

func deepComparable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface, reflect.Func, reflect.Map, reflect.Slice:
		return false
	case reflect.Array:
		return deepComparable(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !deepComparable(t.Field(i).Type) {
				return false
			}
		}
	}
	return true
}
