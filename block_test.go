package safemap

import (
	"slices"
	"testing"
)

// TestEntryBlocks checks how a segment hands out the entries of new keys
// (see newEntryLocked): every key gets an entry of its own, and blocks grow
// with the dirty map, from minEntryBlock to maxEntryBlock entries.
func TestEntryBlocks(t *testing.T) {
	var m Map[int, int]
	keys := keysInSegment(&m, 3, 300, 0)
	var s *segment[int, int]
	var blocks []int // the size of each block, in the order they were made
	for i, k := range keys {
		made := s == nil || len(s.entries) == 0
		m.Store(k, i)
		s = m.t.Load().segs[3].Load()
		if made {
			blocks = append(blocks, cap(s.entries)+1)
		}
	}
	// Each block is as large as dirty when it is made: 2 (for 0 and 1
	// keys), 2, 4, ..., then 64 for good.
	want := []int{2, 2, 4, 8, 16, 32}
	for len(want) < len(blocks) || len(want) < 9 {
		want = append(want, 64)
	}
	if !slices.Equal(blocks, want) {
		t.Fatalf("blocks made: %v; want %v", blocks, want)
	}
	// Every key has its own entry, in dirty (nothing has promoted it:
	// there were no loads), holding its value.
	tb := m.t.Load()
	seen := make(map[*entry[int, int]]bool)
	s.mu.Lock()
	for i, k := range keys {
		e, inDirty := s.findLocked(tb, tb.hasher.hash(k), k, nil)
		if !inDirty {
			t.Fatalf("key %d: not in dirty", k)
		}
		if seen[e] {
			t.Fatalf("key %d: shares an entry", k)
		}
		seen[e] = true
		if v, ok, _ := e.load(); !ok || v != i {
			t.Fatalf("key %d: entry holds %d, %v; want %d, true", k, v, ok, i)
		}
	}
	s.mu.Unlock()
	for i, k := range keys {
		if v, ok := m.Load(k); !ok || v != i {
			t.Fatalf("Load(%d) = %d, %v; want %d, true", k, v, ok, i)
		}
	}
	if err := m.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	// A segment whose rebuild keeps no key (here: every key promoted,
	// then deleted, then the rebuild that a compaction or a sweep makes)
	// drops its block; its next key gets a block of minEntryBlock.
	m.promoteAll()
	for _, k := range keys {
		m.Delete(k)
	}
	s.mu.Lock()
	s.promoteLocked(tb)
	s.mu.Unlock()
	if r := tb.loadRead(3); r != tb.empty {
		t.Fatalf("after the rebuild segment 3 holds %d entries, want none", r.n)
	}
	if s.entries != nil {
		t.Fatalf("an empty segment keeps a block of %d entries", cap(s.entries))
	}
	m.Store(keys[0], 1)
	if got := cap(s.entries) + 1; got != minEntryBlock {
		t.Fatalf("the next key's block has %d entries, want %d", got, minEntryBlock)
	}
}
