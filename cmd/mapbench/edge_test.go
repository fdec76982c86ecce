package main

// Edge cases of cmd/mapbench, from a review of the command: odd flag values,
// output that cannot be written, interrupts at every phase. The tests whose
// comments say "Was:" failed on the code before the fix they describe.

import (
	"context"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runNoPanic runs the command and turns a panic into a test error, so that
// a crash on an odd flag fails the test instead of the whole binary.
func runNoPanic(t *testing.T, args ...string) (code int, stdout, stderr string, panicked bool) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Errorf("mapbench %s panicked: %v", strings.Join(args, " "), v)
			panicked = true
		}
	}()
	code, stdout, stderr = runMapbench(t, context.Background(), args...)
	return code, stdout, stderr, false
}

// Was (flags.go:104, measure.go:109-112; flags.go:97, workloads.go:93,
// mapimpl.IntKeys): -goroutines and -keys had no upper bound.
// -goroutines 9223372036854775807 passed validation, printed the "safemap
// 1/5" progress line, then measure panicked with "makeslice: len out of
// range" (a stack trace and exit status 2, the usage status, but no usage),
// after -svg had already truncated the chart file; values that fit the
// slice but not the memory (say 1<<40) died of a fatal out-of-memory error.
// -keys 9223372036854775807 panicked the same way in IntKeys. Each must be
// a usage error: one line, the usage, status 2, nothing measured.
func TestEdgeHugeCountsAreUsageErrors(t *testing.T) {
	for _, flag := range []string{"-goroutines", "-keys"} {
		code, stdout, stderr, panicked := runNoPanic(t, flag, strconv.Itoa(math.MaxInt), "-duration", "1ms", "-impl", "safemap")
		if panicked {
			continue
		}
		if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, "mapbench: "+flag) {
			t.Errorf("%s %d: status %d, stdout %q, stderr %q; want a usage error", flag, math.MaxInt, code, stdout, stderr)
		}
	}
}

// Was (progress.go:144-155): formatSI picks the prefix before rounding, so a
// value just under a prefix boundary prints as "1000.0 k" rather than
// "1.0 M" (the progress lines then say "1000.0 kops/s"; the chart's value
// labels use it too).
func TestEdgeFormatSIRoundsAcrossPrefix(t *testing.T) {
	for x, want := range map[float64]string{
		999.96:      "1.0 k",
		999_960:     "1.0 M",
		999_990_000: "1.0 G",
	} {
		if got := formatSI(x); got != want {
			t.Errorf("formatSI(%g) = %q, want %q", x, got, want)
		}
	}
}

// Was (progress.go:41-49): isTerminal takes every character device for a
// terminal, /dev/null included. `mapbench 2>/dev/null` (or a CI job with
// stderr on /dev/null) then gets the terminal progress bar: the driving
// goroutine wakes every 100ms during the timed phase and formats a bar
// (allocations that the timed phase's allocs/op and B/op count), all
// written to nowhere. /dev/null is not a terminal; isTerminal should say so
// (e.g. an ioctl such as TCGETS, or at least excluding os.DevNull).
func TestEdgeDevNullIsNotATerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("isTerminal(%s) = true", os.DevNull)
	}
}

// Was (flags.go:100-102): the -keytype error quotes the value lowercased, not
// as the user typed it: -keytype FLOAT says `-keytype "float": want int or
// string`. An error message should quote the input; the other flags do.
func TestEdgeKeytypeErrorQuotesInput(t *testing.T) {
	_, err := parseArgs([]string{"-keytype", "FLOAT"})
	if err == nil || !strings.Contains(err.Error(), `"FLOAT"`) {
		t.Errorf("error %v, want it to quote \"FLOAT\"", err)
	}
}

// failWriter fails every write, like a full disk or a closed pipe.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// results that cannot be written give status 1 and an error line on
// stderr, for the table, the JSON and -list (documented, untested).
func TestEdgeOutputErrorStatus(t *testing.T) {
	for _, a := range [][]string{
		{"-duration", "1ms", "-keys", "10", "-goroutines", "1", "-impl", "safemap"},
		{"-duration", "1ms", "-keys", "10", "-goroutines", "1", "-impl", "safemap", "-json"},
		{"-list"},
	} {
		var stderr strings.Builder
		code := run(context.Background(), a, failWriter{}, &stderr)
		if code != exitFailure || !strings.Contains(stderr.String(), "no space left on device") {
			t.Errorf("%q: status %d, stderr %q; want %d and the error", a, code, stderr.String(), exitFailure)
		}
	}
}

// a complete run's JSON has "skipped": [] (an empty array, not null)
// and "interrupted": false.
func TestEdgeJSONSkippedEmptyArray(t *testing.T) {
	code, stdout, stderr := runMapbench(t, context.Background(), "-duration", "1ms", "-keys", "10", "-goroutines", "1", "-impl", "syncmap", "-json")
	if code != exitOK {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, `"skipped": []`) || !strings.Contains(stdout, `"interrupted": false`) {
		t.Errorf("JSON:\n%s", stdout)
	}
}

// an interrupt as a later implementation starts (in its setup, which
// measure no longer waits for) keeps the finished results, counts the stopped one as skipped with the rest, in
// -impl order, leaves no ratio when the baseline was the one skipped, and
// exits 130 with valid JSON.
func TestEdgeInterruptAsLaterStarts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{trigger: "mapbench: syncmap 2/3", cancel: cancel}
	var stdout strings.Builder
	code := run(ctx, []string{"-duration", "100ms", "-keys", "10", "-goroutines", "2", "-impl", "rwmutex,syncmap,safemap", "-json"}, &stdout, stderr)
	if code != exitInterrupted {
		t.Errorf("status %d, want %d", code, exitInterrupted)
	}
	rep := decodeJSON(t, stdout.String())
	if !rep.Interrupted || !equal(rep.Skipped, []string{"syncmap", "safemap"}) || len(rep.Results) != 1 ||
		rep.Results[0].Impl != "rwmutex" || rep.Results[0].Interrupted || rep.Results[0].RatioToSyncmap != nil {
		t.Errorf("report: %+v", rep)
	}
	if !strings.Contains(stderr.String(), "mapbench: syncmap interrupted in its setup: no result") ||
		!strings.Contains(stderr.String(), "interrupted; no result for syncmap, safemap") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// an interrupt in the timed phase of the last implementation reports
// it as partial (interrupted: true, with its operations), skips nothing
// ("skipped": []), marks the run interrupted and exits 130.
func TestEdgeInterruptInTimedPhase(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The warmup is 100ms; the cancel comes well into the 1s timed phase.
	time.AfterFunc(400*time.Millisecond, cancel)
	code, stdout, stderr := runMapbench(t, ctx, "-duration", "1s", "-keys", "10", "-goroutines", "2", "-impl", "syncmap", "-json")
	if code != exitInterrupted {
		t.Errorf("status %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
	}
	rep := decodeJSON(t, stdout)
	if !rep.Interrupted || rep.Skipped == nil || len(rep.Skipped) != 0 || len(rep.Results) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	r := rep.Results[0]
	if r.Impl != "syncmap" || !r.Interrupted || r.Ops == 0 || r.RatioToSyncmap == nil || *r.RatioToSyncmap != 1 {
		t.Errorf("result: %+v", r)
	}
	if !strings.Contains(stderr, "mapbench: syncmap interrupted after ") || !strings.Contains(stderr, "(partial)") {
		t.Errorf("stderr:\n%s", stderr)
	}
}
