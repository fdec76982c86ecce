package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// barWidth is the width of the terminal progress bar, in characters.
const barWidth = 24

// progress tells the user on stderr how the run is going. On a terminal it
// redraws one line in place with a progress bar while an implementation
// runs, and leaves a line behind for each finished one; elsewhere (a file,
// a pipe, a test's buffer) it writes a line when an implementation starts
// and one when it ends. Only the goroutine driving the run calls it.
type progress struct {
	w     io.Writer
	tty   bool
	total int // implementations in the run

	// The implementation being measured.
	index            int // 0-based
	name             string
	warmup, duration time.Duration

	width int // characters of the unfinished line on screen, tty only
}

// newProgress returns a progress writing to w for a run of total
// implementations, with a redrawn bar when tty is set.
func newProgress(w io.Writer, tty bool, total int) *progress {
	return &progress{w: w, tty: tty, total: total}
}

// isTerminal reports whether w is a character device, such as a terminal,
// other than the null device (which is one too, but where a progress bar
// would only cost the measurement its redraws). It needs no terminal
// library: the file mode tells.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(info, null)
}

// begin announces the measurement of implementation i, name, under c.
func (p *progress) begin(i int, name string, c config) {
	p.index, p.name, p.warmup, p.duration = i, name, c.warmup(), c.duration
	if p.tty {
		p.draw(0, "setting up")
		return
	}
	p.put(fmt.Sprintf("mapbench: %s %d/%d: %s, %d goroutines, %v after a %v warmup",
		name, i+1, p.total, describeWorkload(c), c.goroutines, c.duration, c.warmup()), true)
}

// ticker returns the function that measure calls with its progress: the
// bar's redrawing on a terminal, nil elsewhere, so that a run that nobody
// watches is not woken up for nothing.
func (p *progress) ticker() tickFunc {
	if !p.tty {
		return nil
	}
	return p.tick
}

// tick redraws the bar: warmup and timed phase together fill it, and the
// timed phase shows its throughput so far.
func (p *progress) tick(warmup bool, elapsed time.Duration, ops uint64) {
	done := elapsed
	status := "warmup"
	if !warmup {
		done += p.warmup
		if s := elapsed.Seconds(); s > 0 {
			status = formatRate(float64(ops) / s)
		}
	}
	frac := 1.0
	if total := p.warmup + p.duration; done < total {
		frac = float64(done) / float64(total)
	}
	p.draw(frac, status)
}

// draw puts the bar at frac (0..1) with status after it.
func (p *progress) draw(frac float64, status string) {
	filled := int(frac*barWidth + 0.5)
	p.put(fmt.Sprintf("mapbench: %s %d/%d [%s%s] %3d%% %s", p.name, p.index+1, p.total,
		strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), int(frac*100), status), false)
}

// end reports how the measurement went.
func (p *progress) end(r result) {
	var line string
	switch {
	case r.inSetup:
		line = fmt.Sprintf("mapbench: %s interrupted in its setup: no result", r.impl)
	case r.ops == 0:
		line = fmt.Sprintf("mapbench: %s interrupted in its warmup: no result", r.impl)
	case r.interrupted:
		line = fmt.Sprintf("mapbench: %s interrupted after %v: %s (partial)",
			r.impl, r.elapsed.Round(time.Millisecond), formatRate(r.opsPerSec()))
	default:
		line = fmt.Sprintf("mapbench: %s done: %s, %.2f ns/op", r.impl, formatRate(r.opsPerSec()), r.nsPerOp())
	}
	p.put(line, true)
}

// skip reports the implementations an interruption left without a result.
func (p *progress) skip(names []string) {
	p.put("mapbench: interrupted; no result for "+strings.Join(names, ", "), true)
}

// put writes line: on a terminal over the unfinished line on screen, ending
// it when final; elsewhere only final lines, each on its own.
func (p *progress) put(line string, final bool) {
	if !p.tty {
		if final {
			fmt.Fprintln(p.w, line)
		}
		return
	}
	n := utf8.RuneCountInString(line)
	pad := ""
	if n < p.width {
		pad = strings.Repeat(" ", p.width-n)
	}
	end := ""
	p.width = n
	if final {
		end = "\n"
		p.width = 0
	}
	fmt.Fprintf(p.w, "\r%s%s%s", line, pad, end)
}

// formatRate writes a throughput with an SI prefix: "12.3 Mops/s".
func formatRate(opsPerSec float64) string { return formatSI(opsPerSec) + "ops/s" }

// formatSI writes x with one decimal and an SI prefix and a space after it,
// ready for a unit: "950.0 ", "12.3 k", "4.5 M", "1.2 G".
//
// The thresholds are where one decimal rounds up to 1000.0: 999,960 is
// "1.0 M", not "1000.0 k".
func formatSI(x float64) string {
	switch {
	case x >= 999.95e6:
		return fmt.Sprintf("%.1f G", x/1e9)
	case x >= 999.95e3:
		return fmt.Sprintf("%.1f M", x/1e6)
	case x >= 999.95:
		return fmt.Sprintf("%.1f k", x/1e3)
	default:
		return fmt.Sprintf("%.1f ", x)
	}
}
