package safemap

import (
	"reflect"
	"strconv"
	"testing"
)

// TestLayout checks the sizes and offsets that the padding comments of
// segment and table promise, on 64-bit platforms (the padding is written
// for them). It uses reflect, not unsafe.
func TestLayout(t *testing.T) {
	if strconv.IntSize != 64 {
		t.Skip("the padding is computed for 64-bit platforms")
	}
	check := func(typ reflect.Type, field string, want uintptr) {
		t.Helper()
		f, ok := typ.FieldByName(field)
		if !ok {
			t.Fatalf("%v has no field %s", typ, field)
		}
		if f.Offset != want {
			t.Errorf("%v.%s at offset %d, want %d", typ, field, f.Offset, want)
		}
	}
	seg := reflect.TypeFor[segment[string, int]]()
	if seg.Size() != 128 {
		t.Errorf("segment is %d bytes, want 128 (two cache lines)", seg.Size())
	}
	check(seg, "tally", 64)
	check(seg, "pending", 80)

	// A read map: the slice that loads read first, then the filter that
	// misses of an amended map read (see readOnly).
	ro := reflect.TypeFor[readOnly[string, int]]()
	if ro.Size() != 96 {
		t.Errorf("readOnly is %d bytes, want 96 (a size class)", ro.Size())
	}
	check(ro, "buckets", 0)
	check(ro, "filter", 24)

	// The table: what loads and writes read (the hasher, the sentinels, the
	// shared maps and counts, the read pointers) first; 352 bytes, exactly
	// one of the allocator's size classes: the size of a Clear's
	// allocation.
	tab := reflect.TypeFor[table[string, int]]()
	check(tab, "counts", 56)
	check(tab, "reads", 64)
	if tab.Size() != 352 {
		t.Errorf("table is %d bytes, want 352 (a 352-byte allocation)", tab.Size())
	}

	// The shared counts fill a 64-byte size class: computes, which writes
	// read, shares its line with no other object.
	if mc := reflect.TypeFor[mapCounts](); mc.Size() != 64 {
		t.Errorf("mapCounts is %d bytes, want 64", mc.Size())
	}

	// A bucket: the tag word and the seven entries, exactly 64 bytes,
	// a cache line's worth, what a hit reads; the keys lie elsewhere (see
	// bucket). Both key types give the same 64 bytes.
	for _, b := range []reflect.Type{reflect.TypeFor[bucket[int, int]](), reflect.TypeFor[bucket[string, []byte]]()} {
		check(b, "entries", 8)
		if b.Size() != 64 {
			t.Errorf("%v is %d bytes, want 64", b, b.Size())
		}
	}
	bx := reflect.TypeFor[box[int, int]]()
	if bx.Size() != 24 {
		t.Errorf("a box of int keys and values is %d bytes, want 24", bx.Size())
	}
	// No pointer of its own: the allocator and the collector then treat
	// a box of pointer-free keys and values as plain bytes.
	for i := range bx.NumField() {
		switch f := bx.Field(i); f.Type.Kind() {
		case reflect.Int, reflect.Uint8:
		default:
			t.Errorf("a box of int keys and values has field %s of kind %v", f.Name, f.Type.Kind())
		}
	}
	if e := reflect.TypeFor[entry[int, int]](); e.Size() != 8 {
		t.Errorf("an entry is %d bytes, want 8 (one pointer)", e.Size())
	}
}
