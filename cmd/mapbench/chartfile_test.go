package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safemap-go/safemap/internal/mapimpl"
)

// oldChart is what a chart file held before a run.
const oldChart = "<svg>the previous chart</svg>\n"

// writeOld puts oldChart at a new path and returns the path.
func writeOld(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chart.svg")
	if err := os.WriteFile(path, []byte(oldChart), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Was (main.go): -svg truncated the file before measuring, so a run
// interrupted before any result replaced a good chart with an empty one,
// and the chart was gone for the whole run. Now the file keeps its content
// until there is a chart to put there, and is left alone, or not made,
// when nothing was measured.
func TestSVGKeptWhileMeasuring(t *testing.T) {
	path := writeOld(t)
	// Look at the file when the second implementation starts, after the
	// first one's result.
	looked := false
	stderr := &cancelOn{trigger: "syncmap 2/2", cancel: func() {
		if looked {
			return
		}
		looked = true
		if data, err := os.ReadFile(path); err != nil || string(data) != oldChart {
			t.Errorf("while measuring, the chart file holds %q (err %v), want the old chart", data, err)
		}
	}}
	var stdout strings.Builder
	code := run(context.Background(), args("-impl", "safemap,syncmap", "-svg", path), &stdout, stderr)
	if code != exitOK || !looked {
		t.Fatalf("status %d, looked %v; stderr:\n%s", code, looked, stderr.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if chart := parseChart(t, data); !equal(chart.bars, []string{"safemap", "syncmap"}) {
		t.Errorf("bars %q", chart.bars)
	}
}

func TestSVGLeftAloneWhenNothingMeasured(t *testing.T) {
	path := writeOld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := runMapbench(t, ctx, args("-svg", path)...)
	if code != exitInterrupted {
		t.Errorf("status %d, want %d", code, exitInterrupted)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != oldChart {
		t.Errorf("chart file holds %q (err %v) after a run that measured nothing, want the old chart", data, err)
	}
	if !strings.Contains(stderr, "nothing measured: "+path+" not written") {
		t.Errorf("stderr does not say the chart was not written:\n%s", stderr)
	}

	// A file that was not there is not left behind, empty.
	fresh := filepath.Join(t.TempDir(), "new.svg")
	if code, _, _ := runMapbench(t, ctx, args("-svg", fresh)...); code != exitInterrupted {
		t.Errorf("status %d, want %d", code, exitInterrupted)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a run that measured nothing left %s behind (stat: %v)", fresh, err)
	}
}

// A chart shorter than the file it replaces leaves none of the file's tail.
func TestSVGReplacesLongerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chart.svg")
	if err := os.WriteFile(path, []byte(strings.Repeat("<!-- old -->\n", 100_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runMapbench(t, context.Background(), args("-svg", path, "-impl", "safemap,syncmap")...)
	if code != exitOK {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "<!-- old -->") {
		t.Fatalf("the chart kept the old file's tail (%d bytes)", len(data))
	}
	if chart := parseChart(t, data); !equal(chart.bars, []string{"safemap", "syncmap"}) {
		t.Errorf("bars %q", chart.bars)
	}
}

// Was (measure.go): the setup ran on measure's goroutine, so an interrupt
// waited for it; with -keys 100000000 a fill takes minutes. Now measure
// returns as soon as ctx is cancelled, with nothing measured.
func TestInterruptInSetup(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{})
	w := mapimpl.Workload[int]{
		Name: "blocked",
		Setup: func(mapimpl.Map[int]) {
			close(entered)
			<-release
		},
		Worker: func(mapimpl.Map[int], int) func() {
			t.Error("a worker was made although the setup never finished")
			return func() {}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	done := make(chan result)
	go func() { done <- measure(ctx, impl(t), w, 2, time.Hour, time.Hour, nil) }()
	select {
	case r := <-done:
		if !r.interrupted || !r.inSetup || r.ops != 0 {
			t.Errorf("result %+v, want interrupted in the setup with no operations", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("measure waited for a setup after the interrupt")
	}
}

func TestSetupInterruptIsReported(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, false, 1)
	p.end(result{impl: "safemap", interrupted: true, inSetup: true})
	if got := b.String(); got != "mapbench: safemap interrupted in its setup: no result\n" {
		t.Errorf("progress line %q", got)
	}
}

func TestFinished(t *testing.T) {
	if !finished(context.Background(), func() {}) {
		t.Error("finished reported false for a function that returned")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := make(chan struct{}, 1)
	if finished(ctx, func() { ran <- struct{}{} }) {
		t.Error("finished reported true with ctx already cancelled")
	}
	select {
	case <-ran:
		t.Error("finished started f with ctx already cancelled")
	default:
	}
}
