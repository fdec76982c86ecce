package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/safemap-go/safemap/internal/mapimpl"
)

// report is a run's results with its configuration: the JSON output as it
// is, and the data the table and the chart show.
type report struct {
	// Workload is "mixed" or the name of one of Go's workloads.
	Workload string `json:"workload"`
	// Reads and Keys are the mixed workload's parameters, null for the
	// others, which have their own.
	Reads   *int   `json:"reads"`
	Keys    *int   `json:"keys"`
	KeyType string `json:"keytype"`

	Goroutines int `json:"goroutines"`
	// Duration is the timed phase per implementation, as Go writes
	// durations ("2s"), and in seconds.
	Duration        string  `json:"duration"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Warmup is the untimed phase before it.
	Warmup string `json:"warmup"`

	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`

	// Baseline is the implementation that ratios are relative to.
	Baseline string `json:"baseline"`
	// Interrupted reports a run cut short: a result may be partial (see
	// its own Interrupted) and Skipped lists the implementations without
	// one.
	Interrupted bool     `json:"interrupted"`
	Skipped     []string `json:"skipped"`
	// Results has one entry per implementation measured, in -impl order.
	Results []resultReport `json:"results"`

	// description is describeWorkload's text, for the table and chart.
	description string
}

// resultReport is one implementation's line of the report.
type resultReport struct {
	Impl        string  `json:"impl"`
	Ops         uint64  `json:"ops"`
	Seconds     float64 `json:"seconds"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	NsPerOp     float64 `json:"ns_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	// RatioToSyncmap is NsPerOp divided by syncmap's: below 1 is faster
	// than sync.Map. It is null when syncmap has no result in this run.
	RatioToSyncmap *float64 `json:"ratio_to_syncmap"`
	// Interrupted marks a measurement stopped early by an interrupt.
	Interrupted bool `json:"interrupted"`
}

// newReport puts c and what the run measured together.
func newReport(c config, out outcome) report {
	rep := report{
		Workload:        c.workload,
		KeyType:         c.keyType,
		Goroutines:      c.goroutines,
		Duration:        c.duration.String(),
		DurationSeconds: c.duration.Seconds(),
		Warmup:          c.warmup().String(),
		GOMAXPROCS:      runtime.GOMAXPROCS(0),
		GoVersion:       runtime.Version(),
		GOOS:            runtime.GOOS,
		GOARCH:          runtime.GOARCH,
		Baseline:        mapimpl.Baseline,
		Interrupted:     out.interrupted,
		Skipped:         append([]string{}, out.skipped...),
		Results:         make([]resultReport, 0, len(out.results)),
		description:     describeWorkload(c),
	}
	if c.workload == mixedName {
		reads, keys := c.reads, c.keys
		rep.Reads, rep.Keys = &reads, &keys
	}
	baseline := 0.0
	for _, r := range out.results {
		if r.impl == mapimpl.Baseline {
			baseline = r.nsPerOp()
		}
	}
	for _, r := range out.results {
		rr := resultReport{
			Impl:        r.impl,
			Ops:         r.ops,
			Seconds:     r.elapsed.Seconds(),
			OpsPerSec:   r.opsPerSec(),
			NsPerOp:     r.nsPerOp(),
			AllocsPerOp: r.allocsPerOp(),
			BytesPerOp:  r.bytesPerOp(),
			Interrupted: r.interrupted,
		}
		if baseline > 0 {
			ratio := rr.NsPerOp / baseline
			rr.RatioToSyncmap = &ratio
		}
		rep.Results = append(rep.Results, rr)
	}
	return rep
}

// header is the line above the table: the configuration.
func (rep report) header() string {
	reads, keys := "-", "-"
	if rep.Reads != nil {
		reads = fmt.Sprintf("%d%%", *rep.Reads)
	}
	if rep.Keys != nil {
		keys = fmt.Sprint(*rep.Keys)
	}
	return fmt.Sprintf("workload=%s reads=%s keys=%s keytype=%s goroutines=%d duration=%s GOMAXPROCS=%d %s %s/%s",
		rep.Workload, reads, keys, rep.KeyType, rep.Goroutines, rep.Duration,
		rep.GOMAXPROCS, rep.GoVersion, rep.GOOS, rep.GOARCH)
}

// writeTable writes the report as text: the configuration, a line saying
// how to read the last column, and one aligned row per result. An
// interrupted run gets a "note" column and a last line naming the
// implementations without a result.
func writeTable(w io.Writer, rep report) error {
	fmt.Fprintln(w, rep.header())
	fmt.Fprintf(w, "vs %s: ns/op divided by %s's ns/op (lower is better; - when %s has no result)\n\n",
		rep.Baseline, rep.Baseline, rep.Baseline)

	// The numbers align right. Padding the names to one width makes their
	// right alignment a left one, and the gap between columns is part of
	// the cells, so that the first has no margin.
	nameWidth := len("impl")
	for _, r := range rep.Results {
		nameWidth = max(nameWidth, len(r.Impl))
	}
	tw := tabwriter.NewWriter(w, 0, 8, 0, ' ', tabwriter.AlignRight)
	// A note, in an interrupted run, follows the last column unaligned.
	row := func(cells []string, note string) {
		if note != "" {
			note = "  " + note
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t  ")+"\t"+note)
	}
	cols := []string{fmt.Sprintf("%-*s", nameWidth, "impl"), "ops/s", "ns/op", "allocs/op", "B/op", "vs " + rep.Baseline}
	note := ""
	if rep.Interrupted {
		note = "note"
	}
	row(cols, note)
	for _, r := range rep.Results {
		ratio := "-"
		if r.RatioToSyncmap != nil {
			ratio = fmt.Sprintf("%.2f", *r.RatioToSyncmap)
		}
		cells := []string{
			fmt.Sprintf("%-*s", nameWidth, r.Impl),
			fmt.Sprintf("%.0f", r.OpsPerSec),
			fmt.Sprintf("%.2f", r.NsPerOp),
			fmt.Sprintf("%.2f", r.AllocsPerOp),
			fmt.Sprintf("%.2f", r.BytesPerOp),
			ratio,
		}
		note := ""
		if r.Interrupted {
			note = "interrupted"
		}
		row(cells, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Interrupted {
		// Every implementation may have a result, the last a partial one.
		msg := "interrupted: the results marked interrupted are partial"
		if len(rep.Skipped) > 0 {
			msg = "interrupted: no result for " + strings.Join(rep.Skipped, ", ")
		}
		_, err := fmt.Fprintf(w, "\n%s\n", msg)
		return err
	}
	return nil
}

// writeJSON writes the report as one indented JSON object.
func writeJSON(w io.Writer, rep report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
