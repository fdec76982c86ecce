package safemap_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/safemap-go/safemap"
)

// Moving from sync.Map: change the type, and drop the type assertions.
func Example() {
	// Before: var m sync.Map, and m.Load(k) returned an any to assert.
	var m safemap.Map[string, int]
	m.Store("apples", 3)
	m.Store("pears", 5)
	if n, ok := m.Load("apples"); ok {
		fmt.Println("apples:", n+1) // n is an int: no assertion
	}
	fmt.Println("len:", m.Len())
	// Output:
	// apples: 4
	// len: 2
}

// Map[any, any] has every one of sync.Map's methods: the one-line change.
func Example_dropIn() {
	var m safemap.Map[any, any] // was: var m sync.Map
	m.Store("k", 1)
	v, _ := m.Load("k")
	fmt.Println(v.(int))
	// Output: 1
}

// LoadOrStore as a cache: the first goroutine's value wins, the others get it.
func ExampleMap_LoadOrStore() {
	var cache safemap.Map[string, *strings.Builder]
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := cache.LoadOrStore("log", new(strings.Builder))
			_ = b // every goroutine gets the same builder
		}()
	}
	wg.Wait()
	fmt.Println(cache.Len())
	// Output: 1
}

// LoadOrCompute builds a value once, however many goroutines ask at once.
func ExampleMap_LoadOrCompute() {
	var cache safemap.Map[string, string]
	var wg sync.WaitGroup
	var mu sync.Mutex
	calls := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cache.LoadOrCompute("config", func() string {
				mu.Lock()
				calls++
				mu.Unlock()
				return "parsed config" // expensive work, done once
			})
		}()
	}
	wg.Wait()
	v, _ := cache.Load("config")
	fmt.Println(v, "- computed", calls, "time")
	// Output: parsed config - computed 1 time
}

// A counter with Compute: the read-modify-write is atomic per key.
func ExampleMap_Compute() {
	var hits safemap.Map[string, int]
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hits.Compute("/index", func(old int, _ bool) (int, safemap.ComputeOp) {
				return old + 1, safemap.UpdateOp
			})
		}()
	}
	wg.Wait()
	n, _ := hits.Load("/index")
	fmt.Println(n)

	// DeleteOp removes the key; CancelOp leaves it.
	hits.Compute("/index", func(old int, _ bool) (int, safemap.ComputeOp) {
		if old >= 100 {
			return 0, safemap.DeleteOp
		}
		return 0, safemap.CancelOp
	})
	_, ok := hits.Load("/index")
	fmt.Println(ok)
	// Output:
	// 100
	// false
}

// Iterate with a range loop; sort keys before printing, since the order is
// unspecified.
func ExampleMap_All() {
	var m safemap.Map[string, int]
	m.Store("b", 2)
	m.Store("a", 1)
	m.Store("c", 3)
	var lines []string
	for k, v := range m.All() {
		lines = append(lines, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, " "))
	fmt.Println(slices.Sorted(m.Keys()))
	// Output:
	// a=1 b=2 c=3
	// [a b c]
}

// Len counts keys in O(1).
func ExampleMap_Len() {
	var m safemap.Map[int, bool]
	for i := range 10 {
		m.Store(i, true)
	}
	m.Delete(3)
	fmt.Println(m.Len())
	// Output: 9
}

// New takes options; the zero Map needs none.
func ExampleNew() {
	m := safemap.New[int, string](safemap.WithCapacity(1 << 16))
	m.Store(1, "one")
	fmt.Println(m.Load(1))
	// Output: one true
}

// A Map encodes to JSON like a Go map.
func ExampleMap_MarshalJSON() {
	var m safemap.Map[string, int]
	m.Store("b", 2)
	m.Store("a", 1)
	data, _ := m.MarshalJSON()
	fmt.Println(string(data))
	// Output: {"a":1,"b":2}
}

// CompareAndSwap for an optimistic update: read, compute, and retry if
// another goroutine changed the value meanwhile. (Compute does this in one
// call; CompareAndSwap suits values that are cheap to recompute.)
func ExampleMap_CompareAndSwap() {
	var best safemap.Map[string, int]
	var wg sync.WaitGroup
	for score := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				old, ok := best.LoadOrStore("high", score)
				if !ok || score <= old || best.CompareAndSwap("high", old, score) {
					return
				}
			}
		}()
	}
	wg.Wait()
	fmt.Println(best.Load("high"))
	// Output: 49 true
}

// Swap stores a new value and returns the one it replaced.
func ExampleMap_Swap() {
	var current safemap.Map[string, string]
	_, loaded := current.Swap("config", "v1")
	fmt.Println(loaded)
	prev, loaded := current.Swap("config", "v2")
	fmt.Println(prev, loaded)
	// Output:
	// false
	// v1 true
}

// LoadAndDelete hands a value to exactly one of the goroutines that race
// to take it.
func ExampleMap_LoadAndDelete() {
	var jobs safemap.Map[int, string]
	jobs.Store(7, "resize image")
	var wg sync.WaitGroup
	var taken atomic.Int32 // how many goroutines got the job
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if job, ok := jobs.LoadAndDelete(7); ok {
				_ = job // run it
				taken.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Println("taken by", taken.Load(), "goroutine; left:", jobs.Len())
	// Output: taken by 1 goroutine; left: 0
}

// Range is sync.Map's callback loop; returning false stops it. All is
// the same loop as an iterator.
func ExampleMap_Range() {
	var m safemap.Map[int, string]
	for i := range 10 {
		m.Store(i, fmt.Sprint(i))
	}
	visited := 0
	m.Range(func(k int, v string) bool {
		visited++
		return visited < 3 // stop after three keys
	})
	fmt.Println(visited)
	// Output: 3
}

// Values and Keys work with the iterator helpers of slices and maps.
func ExampleMap_Values() {
	var prices safemap.Map[string, int]
	prices.Store("tea", 3)
	prices.Store("coffee", 4)
	total := 0
	for p := range prices.Values() {
		total += p
	}
	fmt.Println(total, slices.Sorted(prices.Values()))
	// Output: 7 [3 4]
}

// Clear empties the map at one instant; the map is usable at once.
func ExampleMap_Clear() {
	var sessions safemap.Map[string, int]
	sessions.Store("alice", 1)
	sessions.Store("bob", 2)
	sessions.Clear()
	fmt.Println(sessions.Len())
	sessions.Store("carol", 3)
	fmt.Println(sessions.Len())
	// Output:
	// 0
	// 1
}

// UnmarshalJSON merges a JSON object into the map; keys already there and
// not in the object stay.
func ExampleMap_UnmarshalJSON() {
	var m safemap.Map[string, int]
	m.Store("a", 1)
	if err := json.Unmarshal([]byte(`{"b":2,"c":3}`), &m); err != nil {
		fmt.Println(err)
	}
	fmt.Println(m.Len())
	// Output: 3
}

// Stats shows where the keys live: new keys wait in the dirty maps until
// enough loads miss them there, and a promotion moves them to the read
// maps, where loads need no lock.
func ExampleMap_Stats() {
	var m safemap.Map[int, int]
	for i := range 1000 {
		m.Store(i, i)
	}
	s := m.Stats()
	fmt.Println("keys:", s.ReadKeys+s.DirtyKeys, "segments:", s.Segments)
	for range 3 {
		for i := range 1000 {
			m.Load(i)
		}
	}
	s = m.Stats()
	fmt.Println("in read maps:", s.ReadKeys, "promoted:", s.Promotions > 0)
	// Output:
	// keys: 1000 segments: 16
	// in read maps: 1000 promoted: true
}
