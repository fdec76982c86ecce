// Package vetcopy copies a Map after use; go vet must report it
// (TestVetCatchesCopies).
package vetcopy

import "github.com/safemap-go/safemap"

func Copy() int {
	var m safemap.Map[string, int]
	m.Store("a", 1)
	c := m // go vet: assignment copies lock value
	return c.Len()
}
