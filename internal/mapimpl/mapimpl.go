// Package mapimpl puts the concurrent maps that safemap is compared with
// behind one interface, and defines the workloads that the benchmarks and
// the mapbench command run on them.
//
// It serves tests, benchmarks and commands only: the safemap package does
// not import it, so xsync never becomes a dependency of safemap's users.
package mapimpl

import (
	"fmt"
	"strings"
)

// Map is the operation set every implementation offers, with int values.
// Implementations that lack an operation natively (CompareAndSwap on xsync
// v3, say) build it from what they have, the way their users would.
type Map[K comparable] interface {
	Load(key K) (value int, ok bool)
	Store(key K, value int)
	LoadOrStore(key K, value int) (actual int, loaded bool)
	LoadAndDelete(key K) (value int, loaded bool)
	Delete(key K)
	Swap(key K, value int) (previous int, loaded bool)
	CompareAndSwap(key K, old, new int) (swapped bool)
	CompareAndDelete(key K, old int) (deleted bool)
	Range(f func(key K, value int) bool)
	Clear()
}

// An Impl names an implementation and builds empty maps of it.
type Impl[K comparable] struct {
	// Name is the implementation's name in benchmark names and in
	// mapbench's flags and output: safemap, syncmap, xsyncv3, xsyncv4,
	// rwmutex.
	Name string
	// New returns an empty map; capacity is a size hint that
	// implementations with a presizing constructor use, 0 for none.
	New func(capacity int) Map[K]
}

// Names lists the implementations in the order they are reported.
// sync.Map comes second, after safemap, since every ratio is relative to it.
var Names = []string{"safemap", "syncmap", "xsyncv3", "xsyncv4", "rwmutex"}

// Baseline is the implementation that ratios are computed against.
const Baseline = "syncmap"

// Impls returns every implementation, in the order of Names.
func Impls[K comparable]() []Impl[K] {
	return []Impl[K]{
		{"safemap", newSafemap[K]},
		{"syncmap", newSyncMap[K]},
		{"xsyncv3", newXsyncV3[K]},
		{"xsyncv4", newXsyncV4[K]},
		{"rwmutex", newRWMutex[K]},
	}
}

// Lookup returns the implementations with the given names, in that order,
// or an error naming the first unknown one.
func Lookup[K comparable](names []string) ([]Impl[K], error) {
	all := Impls[K]()
	out := make([]Impl[K], 0, len(names))
	for _, name := range names {
		found := false
		for _, impl := range all {
			if impl.Name == name {
				out = append(out, impl)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown implementation %q (known: %s)", name, strings.Join(Names, ", "))
		}
	}
	return out, nil
}
