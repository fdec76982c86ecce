package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressLines(t *testing.T) {
	c, err := parseArgs([]string{"-duration", "1s", "-goroutines", "3"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p := newProgress(&buf, false, 2)
	if p.ticker() != nil {
		t.Error("a progress that is not on a terminal wants ticks")
	}
	p.begin(0, "safemap", c)
	p.end(result{impl: "safemap", ops: 12_300_000, elapsed: time.Second})
	p.begin(1, "syncmap", c)
	p.end(result{impl: "syncmap", ops: 1000, elapsed: 10 * time.Millisecond, interrupted: true})
	p.skip([]string{"rwmutex"})
	want := `mapbench: safemap 1/2: mixed (90% reads, 10000 int keys), 3 goroutines, 1s after a 100ms warmup
mapbench: safemap done: 12.3 Mops/s, 81.30 ns/op
mapbench: syncmap 2/2: mixed (90% reads, 10000 int keys), 3 goroutines, 1s after a 100ms warmup
mapbench: syncmap interrupted after 10ms: 100.0 kops/s (partial)
mapbench: interrupted; no result for rwmutex
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestProgressBar(t *testing.T) {
	c, err := parseArgs([]string{"-duration", "900ms"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p := newProgress(&buf, true, 5)
	tick := p.ticker()
	if tick == nil {
		t.Fatal("a progress on a terminal wants no ticks")
	}
	p.begin(2, "xsyncv3", c)
	tick(true, 50*time.Millisecond, 0)
	tick(false, 400*time.Millisecond, 8_000_000)
	p.end(result{impl: "xsyncv3", ops: 18_000_000, elapsed: 900 * time.Millisecond})

	draws := strings.Split(buf.String(), "\r")[1:]
	if len(draws) != 4 {
		t.Fatalf("%d draws, want 4: %q", len(draws), buf.String())
	}
	for i, want := range []string{
		"mapbench: xsyncv3 3/5 [------------------------]   0% setting up",
		"mapbench: xsyncv3 3/5 [#-----------------------]   5% warmup",
		"mapbench: xsyncv3 3/5 [############------------]  49% 20.0 Mops/s",
		"mapbench: xsyncv3 done: 20.0 Mops/s, 50.00 ns/op",
	} {
		if strings.TrimRight(draws[i], " \n") != want {
			t.Errorf("draw %d = %q, want %q", i, draws[i], want)
		}
	}
	// Each draw covers the one before; the last ends the line.
	for i := 1; i < len(draws); i++ {
		if len(strings.TrimSuffix(draws[i], "\n")) < len(strings.TrimRight(draws[i-1], " ")) {
			t.Errorf("draw %q does not cover %q", draws[i], draws[i-1])
		}
	}
	if !strings.HasSuffix(buf.String(), "\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("lines: %q", buf.String())
	}
}

func TestIsTerminal(t *testing.T) {
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.Create(t.TempDir() + "/file")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}

func TestFormatSI(t *testing.T) {
	for x, want := range map[float64]string{
		0: "0.0 ", 950: "950.0 ", 12_345: "12.3 k", 4_560_000: "4.6 M", 1.2e9: "1.2 G",
	} {
		if got := formatSI(x); got != want {
			t.Errorf("formatSI(%g) = %q, want %q", x, got, want)
		}
	}
}
