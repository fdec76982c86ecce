package safemap

import (
	"math/rand/v2"
	"testing"
)

// TestDirtyMapModel runs random operations on a dirtyMap and on a Go map
// side by side and compares them after each, checking the table's
// invariants too (see dirtyMap.check). The hashes are made to collide: with
// a handful of distinct hashes (and low bits), probes run long and wrap
// around the end of the slots, which is where linear probing and backward
// shift go wrong if they do.
func TestDirtyMapModel(t *testing.T) {
	hashes := map[string]func(int) uint64{
		"one hash":   func(int) uint64 { return 7 },
		"few hashes": func(k int) uint64 { return uint64(k*k) % 5 },
		"end slots":  func(k int) uint64 { return ^uint64(k % 3) }, // homes at the end: probes wrap
		"spread":     func(k int) uint64 { return hashWord(uint64(k), 0x1234, 0x5678) },
	}
	for name, hash := range hashes {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			for round := range 40 {
				d := newDirtyMap[int, int](rng.IntN(3)*round, hash, testDirtyStates(), round%2 == 0)
				model := map[int]*box[int, int]{}
				for range 300 {
					switch op := rng.IntN(20); {
					case op < 12: // put a key d lacks, or get one it has
						k := rng.IntN(64)
						if want, ok := model[k]; ok {
							if got := d.get(hash(k), k); !got.ok() || got.p() != want {
								t.Fatalf("get(%d) = %v, want %p", k, got.ok(), want)
							}
							continue
						}
						if got := d.get(hash(k), k); got.ok() {
							t.Fatalf("get(%d) finds slot %d of an absent key", k, got.i)
						}
						e := new(box[int, int])
						d.put(hash(k), k).setState(e)
						model[k] = e
					case op < 18: // drop about a third of the keys
						drop := map[*box[int, int]]bool{}
						for k, e := range model {
							if rng.IntN(3) == 0 {
								drop[e] = true
								delete(model, k)
							}
						}
						asked := map[*box[int, int]]bool{}
						removed := d.deleteIf(func(sl dirtySlot[int, int]) bool {
							e := sl.p()
							asked[e] = true
							return drop[e]
						})
						if removed != len(drop) {
							t.Fatalf("deleteIf removed %d keys, want %d", removed, len(drop))
						}
						if len(asked) != len(drop)+len(model) {
							t.Fatalf("deleteIf asked about %d entries, want all %d", len(asked), len(drop)+len(model))
						}
					case op < 19:
						d.clear()
						clear(model)
					default: // all visits every key once
						seen := map[int]bool{}
						for sl := range d.all() {
							if seen[sl.key()] || model[sl.key()] != sl.p() {
								t.Fatalf("all yields key %d (again = %v) with entry %p, want %p", sl.key(), seen[sl.key()], sl.p(), model[sl.key()])
							}
							seen[sl.key()] = true
						}
						if len(seen) != len(model) {
							t.Fatalf("all yields %d keys, want %d", len(seen), len(model))
						}
					}
					if err := d.check(); err != nil {
						t.Fatal(err)
					}
					if d.len() != len(model) {
						t.Fatalf("len = %d, want %d", d.len(), len(model))
					}
					for k, e := range model {
						if got := d.get(hash(k), k); !got.ok() || got.p() != e {
							t.Fatalf("get(%d) = %v, want %p", k, got.ok(), e)
						}
					}
				}
			}
		})
	}
}

// TestDirtyMapSizes checks the sizes: a map made for n keys holds them
// without growing, a small one uses its inline slots, and a nil map is
// empty.
func TestDirtyMapSizes(t *testing.T) {
	var nilMap *dirtyMap[int, int]
	if nilMap.len() != 0 {
		t.Fatal("a nil dirty map is not empty")
	}
	for range nilMap.all() {
		t.Fatal("a nil dirty map yields a key")
	}
	for _, n := range []int{0, 1, 3, 4, 6, 7, 100, 1000} {
		d := newDirtyMap[int, int](n, func(k int) uint64 { return uint64(k) }, testDirtyStates(), true)
		size := len(d.tab.ctrl)
		if inline := &d.tab.ctrl[0] == &d.inlineCtrl[0]; inline != (n <= dirtyInline*3/4) {
			t.Errorf("newDirtyMap(%d): inline = %v", n, inline)
		}
		for k := range n {
			d.put(uint64(k), k).setState(new(box[int, int]))
		}
		if len(d.tab.ctrl) != size || size > 2*dirtySlotsFor(n) && size > dirtyInline {
			t.Errorf("newDirtyMap(%d): %d slots, then %d after %d puts", n, size, len(d.tab.ctrl), n)
		}
	}
}

// TestDirtyMapGrowth follows one growth from start to end: while old is
// being moved, get finds every key, all yields each once, and each insert
// moves at most dirtyMoveStep old slots; the move ends long before the new
// table needs to grow, and the old table is dropped then.
func TestDirtyMapGrowth(t *testing.T) {
	hash := func(k int) uint64 { return hashWord(uint64(k), 0x1234, 0x5678) }
	d := newDirtyMap[int, int](0, hash, testDirtyStates(), true)
	model := map[int]*box[int, int]{}
	put := func(k int) {
		e := new(box[int, int])
		d.put(hash(k), k).setState(e)
		model[k] = e
	}
	growths, during := 0, 0
	for k := range 3000 {
		wasGrowing, size := d.growing(), len(d.tab.ctrl)
		movedBefore := d.moved
		put(k)
		switch {
		case !wasGrowing && d.growing():
			growths++
			if len(d.tab.ctrl) != 2*size {
				t.Fatalf("growth from %d slots to %d", size, len(d.tab.ctrl))
			}
		case wasGrowing && d.growing():
			during++
			if d.moved-movedBefore > dirtyMoveStep {
				t.Fatalf("one insert moved %d old slots", d.moved-movedBefore)
			}
		case wasGrowing && len(d.tab.ctrl) != size:
			t.Fatalf("the table grew again (%d -> %d slots) before the last growth ended", size, len(d.tab.ctrl))
		}
		if err := d.check(); err != nil {
			t.Fatal(err)
		}
		if !d.growing() {
			continue
		}
		seen := map[int]bool{}
		for sl := range d.all() {
			if seen[sl.key()] || model[sl.key()] != sl.p() {
				t.Fatalf("during a growth, all yields key %d (again = %v)", sl.key(), seen[sl.key()])
			}
			seen[sl.key()] = true
		}
		if len(seen) != len(model) || d.len() != len(model) {
			t.Fatalf("during a growth, all yields %d keys and len is %d, want %d", len(seen), d.len(), len(model))
		}
		for k, e := range model {
			if got := d.get(hash(k), k); !got.ok() || got.p() != e {
				t.Fatalf("during a growth, get(%d) = %v, want %p", k, got.ok(), e)
			}
		}
	}
	if growths < 8 || during == 0 {
		t.Fatalf("%d growths, %d inserts during one: the test did not exercise growth", growths, during)
	}
}
