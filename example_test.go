package safemap_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"

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
