// Mapbench compares safemap with the other concurrent maps of
// internal/mapimpl — sync.Map, xsync v3, xsync v4 and a Go map behind a
// sync.RWMutex — on one workload, one implementation after another, and
// prints for each its throughput, ns/op, allocs/op, bytes/op and its ns/op
// relative to sync.Map's.
//
// Usage:
//
//	mapbench [flags]
//
// With no flags it runs the mixed workload (90% loads, the rest stores and
// deletes half and half, on 10,000 int keys picked at random) with
// GOMAXPROCS goroutines, for 2s per implementation after a warmup of 200ms:
// about 12 seconds in all.
//
// The flags are:
//
//	-workload name
//		the workload: mixed (the default), or one of the workloads of Go's
//		own sync.Map benchmarks, int-keyed: LoadMostlyHits,
//		LoadMostlyMisses, LoadOrStoreBalanced, ..., AdversarialAlloc,
//		AdversarialDelete, ..., Clear. -list lists them all. Names match
//		case-insensitively.
//	-reads n
//		percentage of loads in the mixed workload, 0..100 (default 90).
//	-keys n
//		number of keys in the mixed workload, at least 1 (default 10000).
//	-keytype int|string
//		key type of the mixed workload (default int). string keys are 16
//		to 24 bytes long.
//	-goroutines n
//		goroutines running the workload, at least 1 (default GOMAXPROCS).
//	-duration d
//		timed run per implementation, greater than 0 (default 2s); a warmup
//		of a tenth of it, not counted, comes first.
//	-impl list
//		comma-separated implementations to measure, in that order (default
//		safemap,syncmap,xsyncv3,xsyncv4,rwmutex).
//	-json
//		print the results on stdout as one JSON object instead of a table.
//	-svg file
//		also write a bar chart of ops/s per implementation to file, a
//		standalone SVG image that a browser shows.
//	-list
//		list the workloads and exit.
//
// -reads, -keys and -keytype shape the mixed workload only: Go's workloads
// have their own keys, so -reads and -keys are ignored for them (with a note
// on stderr), and -keytype string with one of them is a usage error.
//
// # Measurement
//
// For each implementation mapbench builds a fresh map presized for the
// workload, fills it with the workload's setup, and gives every goroutine
// its step function (goroutine g counts from g*(MaxInt/(goroutines+1)), so
// that workloads needing unique keys get them). The goroutines run their
// steps for the warmup, then, after a garbage collection, for -duration,
// in batches of 64 steps between looks at a stop flag. One step is one
// operation. Like "go test -bench" with RunParallel, ns/op is the wall time
// of the timed phase divided by the operations of all goroutines together,
// and ops/s is its inverse; allocs/op and B/op are the growth of
// runtime.MemStats' Mallocs and TotalAlloc over the timed phase divided by
// the operations. The "vs syncmap" column (ratio_to_syncmap in JSON) is an
// implementation's ns/op divided by syncmap's: lower is better, and syncmap
// itself is 1. When syncmap is not among -impl, the column shows "-" and
// the JSON holds null: sync.Map is not measured behind the user's back.
//
// # Output
//
// Results go to stdout: a header line with the configuration (workload,
// reads, keys, key type, goroutines, duration, GOMAXPROCS, Go version,
// GOOS/GOARCH) and an aligned table, or with -json an object with the same
// configuration and a "results" array. Progress goes to stderr: a progress
// bar redrawn in place when stderr is a terminal, one line per event
// otherwise.
//
// # Interruption
//
// An interrupt (Ctrl-C) stops the running measurement at once and skips the
// implementations not yet run. The stopped measurement is reported with what
// it had measured, marked interrupted (a note column in the table,
// "interrupted": true in JSON, a mark on its bar in the chart); if it was
// still in its setup (filling the map, or making the keys of the mixed
// workload, which for -keys 100000000 takes minutes) or its warmup, it has
// nothing to report and counts as skipped. The results that finished are
// printed as usual, and mapbench exits with status 130. A second interrupt
// kills the process outright.
//
// The -svg file is opened before the measurements, so that a bad path fails
// at once, but written only after them: a chart already there stays as it
// was until then, and if nothing was measured it is left alone (a file that
// did not exist is not made).
//
// # Exit status
//
// 0 on success, 1 when an output cannot be written, 2 for a bad flag or flag
// value (with a one-line error and the usage on stderr), 130 when
// interrupted.
//
// # Examples
//
//	go run ./cmd/mapbench
//	go run ./cmd/mapbench -reads 50 -keys 1000000 -keytype string
//	go run ./cmd/mapbench -workload LoadOrStoreCollision -impl safemap,syncmap
//	go run ./cmd/mapbench -goroutines 64 -duration 5s -json > results.json
//	go run ./cmd/mapbench -svg chart.svg
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// Exit statuses of run.
const (
	exitOK          = 0   // every measurement ran and was reported
	exitFailure     = 1   // an output could not be written
	exitUsage       = 2   // bad flags: error and usage on stderr
	exitInterrupted = 130 // the context was cancelled (128 + SIGINT)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		// After the first interrupt, let a second one kill the process.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command: it parses args, measures, and writes the results
// to stdout and progress and errors to stderr. Cancelling ctx interrupts the
// measurements. It returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stderr)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "mapbench: %v\n", err)
		usage(stderr)
		return exitUsage
	}
	if cfg.list {
		if err := listWorkloads(stdout); err != nil {
			fmt.Fprintf(stderr, "mapbench: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	for _, name := range cfg.ignored {
		fmt.Fprintf(stderr, "mapbench: note: -%s applies to the mixed workload only; ignored for %s\n", name, cfg.workload)
	}

	// Open the chart's file first, so that a bad path fails before the
	// measurements rather than after them (see chartFile).
	var chart *chartFile
	if cfg.svg != "" {
		if chart, err = openChart(cfg.svg); err != nil {
			fmt.Fprintf(stderr, "mapbench: %v\n", err)
			return exitFailure
		}
	}

	prog := newProgress(stderr, isTerminal(stderr), len(cfg.impls))
	out := runConfig(ctx, cfg, prog)
	rep := newReport(cfg, out)

	code := exitOK
	if out.interrupted {
		code = exitInterrupted
	}
	if cfg.json {
		err = writeJSON(stdout, rep)
	} else {
		err = writeTable(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mapbench: writing the results: %v\n", err)
		code = exitFailure
	}
	switch {
	case chart == nil:
	case len(out.results) == 0:
		// Interrupted before any result: an empty chart would only
		// destroy the one that may be there.
		if err := chart.abandon(); err != nil {
			fmt.Fprintf(stderr, "mapbench: %s: %v\n", cfg.svg, err)
			code = exitFailure
		} else {
			fmt.Fprintf(stderr, "mapbench: nothing measured: %s not written\n", cfg.svg)
		}
	default:
		if err := chart.write(rep); err != nil {
			fmt.Fprintf(stderr, "mapbench: writing %s: %v\n", cfg.svg, err)
			code = exitFailure
		}
	}
	return code
}
