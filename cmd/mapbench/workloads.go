package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/safemap-go/safemap/internal/mapimpl"
)

// mixedName is the default workload, the one built from -reads, -keys and
// -keytype.
const mixedName = "mixed"

// descriptions says in a line what each of Go's workloads does per step,
// for -list. A workload mapimpl adds later is listed without one until it
// gets one here (a test checks that none is missing).
var descriptions = map[string]string{
	"LoadMostlyHits":               "Load; 1023 of 1024 keys are present",
	"LoadMostlyMisses":             "Load; 1 of 1024 keys is present",
	"LoadOrStoreBalanced":          "LoadOrStore; half the keys among 128 present, half new",
	"LoadOrStoreUnique":            "LoadOrStore of a new key every time",
	"LoadOrStoreCollision":         "LoadOrStore of one present key by every goroutine",
	"LoadAndDeleteBalanced":        "LoadAndDelete; half the keys among 128 stored, half never stored",
	"LoadAndDeleteUnique":          "LoadAndDelete of a key never stored",
	"LoadAndDeleteCollision":       "LoadAndDelete of one key by every goroutine, Store again if it was there",
	"Range":                        "Range over all of 1024 keys",
	"AdversarialAlloc":             "Load of new keys, and a LoadOrStore whenever loads outnumber the stores so far",
	"AdversarialDelete":            "Load; every 1024th step a Range that deletes one key, and a Store",
	"DeleteCollision":              "Delete of one key by every goroutine",
	"SwapCollision":                "Swap of one key by every goroutine",
	"SwapMostlyHits":               "Swap; 1023 of 1024 keys present, a missed key is deleted again",
	"SwapMostlyMisses":             "Swap; 1 of 1024 keys present, a missed key is deleted again",
	"CompareAndSwapCollision":      "CompareAndSwap of one key 0->42, and back if it swapped, by every goroutine",
	"CompareAndSwapMostlyHits":     "CompareAndSwap; 1023 of 1024 keys present",
	"CompareAndSwapMostlyMisses":   "CompareAndSwap; 1 of 1024 keys present",
	"CompareAndDeleteCollision":    "CompareAndDelete of one key by every goroutine, Store again if deleted",
	"CompareAndDeleteMostlyHits":   "CompareAndDelete, Store again if deleted; 1023 of 1024 keys present",
	"CompareAndDeleteMostlyMisses": "CompareAndDelete, Store again if deleted; 1 of 1024 keys present",
	"Clear":                        "Clear, then Store of one of 256 keys",
}

// workloadNames returns every workload name -workload accepts: mixed first,
// then Go's in mapimpl's order.
func workloadNames() []string {
	names := []string{mixedName}
	for _, w := range mapimpl.GoSet() {
		names = append(names, w.Name)
	}
	return names
}

// canonicalWorkload returns the workload called name, matched
// case-insensitively, in its own spelling.
func canonicalWorkload(name string) (string, bool) {
	for _, n := range workloadNames() {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// listWorkloads writes -list's output: one workload a line with what it does.
func listWorkloads(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\n", mixedName,
		"the default: Load with probability -reads%, else Store or Delete, of random keys among -keys of -keytype")
	for _, name := range workloadNames()[1:] {
		fmt.Fprintf(tw, "%s\t%s\n", name, descriptions[name])
	}
	return tw.Flush()
}

// describeWorkload names the workload with its parameters, for headers and
// the chart's title: "mixed (90% reads, 10000 int keys)" or "Range".
func describeWorkload(c config) string {
	if c.workload != mixedName {
		return c.workload
	}
	return fmt.Sprintf("%s (%d%% reads, %d %s keys)", mixedName, c.reads, c.keys, c.keyType)
}

// runConfig builds the workload c asks for, with its key type, and measures
// every implementation of c on it.
func runConfig(ctx context.Context, c config, prog *progress) outcome {
	if c.workload == mixedName {
		if c.keyType == "string" {
			return runMixed(ctx, c, mapimpl.StringKeys, prog)
		}
		return runMixed(ctx, c, mapimpl.IntKeys, prog)
	}
	for _, w := range mapimpl.GoSet() {
		if w.Name == c.workload {
			return runAll(ctx, c, w, prog)
		}
	}
	panic("mapbench: workload " + c.workload + " passed validation but does not exist")
}

// runMixed measures c's implementations on the mixed workload over the
// keys that makeKeys makes, which an interrupt does not wait for (100
// million string keys take tens of seconds).
func runMixed[K comparable](ctx context.Context, c config, makeKeys func(int) []K, prog *progress) outcome {
	var keys []K
	if !finished(ctx, func() { keys = makeKeys(c.keys) }) {
		// ctx is cancelled: runAll skips every implementation without
		// looking at the workload.
		return runAll(ctx, c, mapimpl.Workload[K]{}, prog)
	}
	return runAll(ctx, c, mapimpl.Mixed(keys, c.reads), prog)
}
