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
// static reports whether V itself guarantees comparability (see
// staticallyComparable); then the check costs nothing.
func mustBeComparable[V any](method string, v V, static bool) {
	if static {
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
