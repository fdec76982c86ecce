package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReportRatios(t *testing.T) {
	c, err := parseArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	out := outcome{results: []result{
		{impl: "safemap", ops: 400, elapsed: time.Microsecond},  // 2.5 ns/op
		{impl: "syncmap", ops: 100, elapsed: time.Microsecond},  // 10 ns/op
		{impl: "rwmutex", ops: 50, elapsed: time.Microsecond},   // 20 ns/op
		{impl: "xsyncv3", ops: 3, elapsed: 3 * time.Nanosecond}, // 1 ns/op
	}}
	rep := newReport(c, out)
	for i, want := range []float64{0.25, 1, 2, 0.1} {
		r := rep.Results[i]
		if r.RatioToSyncmap == nil || !near(*r.RatioToSyncmap, want) {
			t.Errorf("%s: ratio %v, want %v", r.Impl, r.RatioToSyncmap, want)
		}
	}
	if *rep.Results[1].RatioToSyncmap != 1 {
		t.Errorf("syncmap's own ratio is %v, not exactly 1", *rep.Results[1].RatioToSyncmap)
	}

	// Without the baseline, no ratios.
	rep = newReport(c, outcome{results: out.results[:1]})
	if rep.Results[0].RatioToSyncmap != nil {
		t.Errorf("ratio %v without syncmap", *rep.Results[0].RatioToSyncmap)
	}
}

func TestReportValues(t *testing.T) {
	c, err := parseArgs([]string{"-duration", "500ms", "-goroutines", "4", "-keys", "7", "-reads", "33"})
	if err != nil {
		t.Fatal(err)
	}
	rep := newReport(c, outcome{results: []result{
		{impl: "syncmap", ops: 1_000_000, elapsed: 500 * time.Millisecond, mallocs: 250_000, bytes: 4_000_000},
	}})
	r := rep.Results[0]
	if r.Ops != 1_000_000 || r.Seconds != 0.5 || r.OpsPerSec != 2_000_000 || r.NsPerOp != 500 ||
		r.AllocsPerOp != 0.25 || r.BytesPerOp != 4 {
		t.Errorf("result %+v", r)
	}
	if *rep.Reads != 33 || *rep.Keys != 7 || rep.Goroutines != 4 || rep.Duration != "500ms" ||
		rep.DurationSeconds != 0.5 || rep.Warmup != "50ms" || rep.Baseline != "syncmap" {
		t.Errorf("report %+v", rep)
	}
	var buf bytes.Buffer
	if err := writeTable(&buf, rep); err != nil {
		t.Fatal(err)
	}
	want := "syncmap  2000000  500.00       0.25  4.00        1.00\n"
	if !strings.HasSuffix(buf.String(), want) {
		t.Errorf("table\n%s\ndoes not end with\n%s", buf.String(), want)
	}
}

// interruptedTable returns the table of a run of impls interrupted in
// syncmap's timed phase, after safemap's result, with skipped left without
// one.
func interruptedTable(t *testing.T, impls string, skipped []string) string {
	t.Helper()
	c, err := parseArgs([]string{"-impl", impls})
	if err != nil {
		t.Fatal(err)
	}
	rep := newReport(c, outcome{
		results: []result{
			{impl: "safemap", ops: 100, elapsed: time.Millisecond},
			{impl: "syncmap", ops: 100, elapsed: time.Millisecond, interrupted: true},
		},
		skipped:     skipped,
		interrupted: true,
	})
	var buf bytes.Buffer
	if err := writeTable(&buf, rep); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// An interrupted run's table marks the partial result and names the
// implementations without one.
func TestTableInterrupted(t *testing.T) {
	s := interruptedTable(t, "safemap,syncmap,xsyncv3,xsyncv4,rwmutex", []string{"xsyncv3", "xsyncv4", "rwmutex"})
	for _, want := range []string{
		"B/op  vs syncmap  note\n",
		"1.00\n",
		"1.00  interrupted\n",
		"\ninterrupted: no result for xsyncv3, xsyncv4, rwmutex\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
}

// An interrupt in the last implementation's timed phase leaves every
// implementation a result: the table's last line says the marked ones are
// partial, not "no result for none".
func TestTableInterruptedNoneSkipped(t *testing.T) {
	s := interruptedTable(t, "safemap,syncmap", nil)
	if strings.Contains(s, "none") || !strings.HasSuffix(s, "\ninterrupted: the results marked interrupted are partial\n") {
		t.Errorf("table ends badly:\n%s", s)
	}
}
