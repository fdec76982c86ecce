package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safemap-go/safemap/internal/mapimpl"
)

// jsonReport is the JSON output as a reader outside the package sees it.
type jsonReport struct {
	Workload        string   `json:"workload"`
	Reads           *int     `json:"reads"`
	Keys            *int     `json:"keys"`
	KeyType         string   `json:"keytype"`
	Goroutines      int      `json:"goroutines"`
	Duration        string   `json:"duration"`
	DurationSeconds float64  `json:"duration_seconds"`
	Warmup          string   `json:"warmup"`
	GOMAXPROCS      int      `json:"gomaxprocs"`
	GoVersion       string   `json:"go_version"`
	GOOS            string   `json:"goos"`
	GOARCH          string   `json:"goarch"`
	Baseline        string   `json:"baseline"`
	Interrupted     bool     `json:"interrupted"`
	Skipped         []string `json:"skipped"`
	Results         []struct {
		Impl           string   `json:"impl"`
		Ops            uint64   `json:"ops"`
		Seconds        float64  `json:"seconds"`
		OpsPerSec      float64  `json:"ops_per_sec"`
		NsPerOp        float64  `json:"ns_per_op"`
		AllocsPerOp    *float64 `json:"allocs_per_op"`
		BytesPerOp     *float64 `json:"bytes_per_op"`
		RatioToSyncmap *float64 `json:"ratio_to_syncmap"`
		Interrupted    bool     `json:"interrupted"`
	} `json:"results"`
}

// decodeJSON parses stdout as one JSON report and nothing else.
func decodeJSON(t *testing.T, stdout string) jsonReport {
	t.Helper()
	var rep jsonReport
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout:\n%s", stdout)
	}
	return rep
}

// Every workload runs on every implementation and gets a row each.
func TestEveryWorkload(t *testing.T) {
	type variant struct{ name, keyType string }
	variants := []variant{{"mixed", "string"}}
	for _, name := range workloadNames() {
		variants = append(variants, variant{name, "int"})
	}
	for _, v := range variants {
		t.Run(v.name+"/"+v.keyType, func(t *testing.T) {
			code, stdout, stderr := runMapbench(t, context.Background(), args("-workload", v.name, "-keytype", v.keyType)...)
			if code != exitOK {
				t.Fatalf("status %d, stderr:\n%s", code, stderr)
			}
			if got := tableRows(t, stdout); !equal(got, mapimpl.Names) {
				t.Errorf("rows %q, want %q:\n%s", got, mapimpl.Names, stdout)
			}
			if !strings.HasPrefix(stdout, "workload="+v.name+" ") || !strings.Contains(stdout, "keytype="+v.keyType) {
				t.Errorf("header does not name workload %s with %s keys:\n%s", v.name, v.keyType, stdout)
			}
			for _, impl := range mapimpl.Names {
				if !strings.Contains(stderr, "mapbench: "+impl+" done: ") {
					t.Errorf("no progress line for %s on stderr:\n%s", impl, stderr)
				}
			}
			if strings.Contains(stdout, "mapbench: ") {
				t.Errorf("progress on stdout:\n%s", stdout)
			}
		})
	}
}

func TestTable(t *testing.T) {
	code, stdout, stderr := runMapbench(t, context.Background(), args("-reads", "75")...)
	if code != exitOK {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	for _, want := range []string{"workload=mixed", "reads=75%", "keys=100", "keytype=int", "goroutines=2",
		"duration=10ms", "GOMAXPROCS=", "go1.", "/"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("header line %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(stdout, "lower is better") {
		t.Errorf("nothing says how to read the ratio:\n%s", stdout)
	}
	// The columns align: every line of the table is as long as its header,
	// and the syncmap row's ratio is 1.00.
	var table []string
	for i, line := range lines {
		if strings.HasPrefix(line, "impl ") {
			table = lines[i : i+1+len(mapimpl.Names)]
		}
	}
	if table == nil || !equal(strings.Fields(table[0]), []string{"impl", "ops/s", "ns/op", "allocs/op", "B/op", "vs", "syncmap"}) {
		t.Fatalf("table header wrong:\n%s", stdout)
	}
	for _, line := range table[1:] {
		if len(line) != len(table[0]) {
			t.Errorf("row %q is not as wide as the header %q", line, table[0])
		}
		f := strings.Fields(line)
		if len(f) != 6 {
			t.Errorf("row %q has %d columns, want 6", line, len(f))
		}
		if f[0] == "syncmap" && f[5] != "1.00" {
			t.Errorf("syncmap's ratio is %s, want 1.00", f[5])
		}
	}
}

func TestJSON(t *testing.T) {
	code, stdout, stderr := runMapbench(t, context.Background(), args("-json", "-keytype", "string")...)
	if code != exitOK {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	rep := decodeJSON(t, stdout)
	if rep.Workload != "mixed" || rep.Reads == nil || *rep.Reads != 90 || rep.Keys == nil || *rep.Keys != 100 ||
		rep.KeyType != "string" || rep.Goroutines != 2 || rep.Duration != "10ms" || rep.DurationSeconds != 0.01 ||
		rep.GOMAXPROCS < 1 || !strings.HasPrefix(rep.GoVersion, "go") || rep.GOOS == "" || rep.GOARCH == "" ||
		rep.Interrupted || len(rep.Skipped) != 0 {
		t.Errorf("configuration: %+v", rep)
	}
	if len(rep.Results) != len(mapimpl.Names) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(mapimpl.Names))
	}
	for i, r := range rep.Results {
		if r.Impl != mapimpl.Names[i] {
			t.Errorf("result %d is %s, want %s", i, r.Impl, mapimpl.Names[i])
		}
		if r.Ops == 0 || r.Seconds <= 0 || r.OpsPerSec <= 0 || r.NsPerOp <= 0 || r.AllocsPerOp == nil || r.BytesPerOp == nil || r.Interrupted {
			t.Errorf("result %+v", r)
		}
		if r.RatioToSyncmap == nil {
			t.Errorf("%s: no ratio", r.Impl)
			continue
		}
		if r.Impl == "syncmap" && *r.RatioToSyncmap != 1 {
			t.Errorf("syncmap's ratio is %v, want 1", *r.RatioToSyncmap)
		}
	}
	if strings.Contains(stdout, "mapbench: ") {
		t.Errorf("progress on stdout:\n%s", stdout)
	}
}

// A Go workload has no reads or keys parameter: JSON says null.
func TestJSONGoWorkload(t *testing.T) {
	code, stdout, stderr := runMapbench(t, context.Background(), args("-json", "-workload", "SwapCollision", "-impl", "syncmap")...)
	if code != exitOK {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["workload"] != "SwapCollision" || raw["reads"] != nil || raw["keys"] != nil || raw["keytype"] != "int" {
		t.Errorf("configuration: %v", raw)
	}
}

func TestImplSubset(t *testing.T) {
	code, stdout, stderr := runMapbench(t, context.Background(), args("-impl", "rwmutex,syncmap")...)
	if code != exitOK {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	if got := tableRows(t, stdout); !equal(got, []string{"rwmutex", "syncmap"}) {
		t.Errorf("rows %q, want rwmutex, syncmap in that order", got)
	}
	if strings.Contains(stderr, "safemap") {
		t.Errorf("safemap measured though not asked for:\n%s", stderr)
	}
}

// Without syncmap there is no ratio: "-" in the table, null in JSON.
func TestNoBaseline(t *testing.T) {
	code, stdout, _ := runMapbench(t, context.Background(), args("-impl", "safemap,xsyncv4")...)
	if code != exitOK {
		t.Fatalf("status %d", code)
	}
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) == 6 && (f[0] == "safemap" || f[0] == "xsyncv4") && f[5] != "-" {
			t.Errorf("row %q has a ratio without syncmap", line)
		}
	}
	code, stdout, _ = runMapbench(t, context.Background(), args("-impl", "safemap", "-json")...)
	if code != exitOK {
		t.Fatalf("status %d", code)
	}
	if !strings.Contains(stdout, `"ratio_to_syncmap": null`) {
		t.Errorf("ratio not null:\n%s", stdout)
	}
}

// An interrupt after the first implementation: its result is printed,
// complete, the others are skipped, and the status is 130.
func TestInterruptAfterFirst(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		stderr := &cancelOn{trigger: "mapbench: safemap done:", cancel: cancel}
		a := args()
		if asJSON {
			a = append(a, "-json")
		}
		var stdout strings.Builder
		code := run(ctx, a, &stdout, stderr)
		cancel()
		if code != exitInterrupted {
			t.Errorf("json=%v: status %d, want %d", asJSON, code, exitInterrupted)
		}
		if !strings.Contains(stderr.String(), "interrupted; no result for syncmap, xsyncv3, xsyncv4, rwmutex") {
			t.Errorf("json=%v: stderr does not tell what was skipped:\n%s", asJSON, stderr.String())
		}
		if !asJSON {
			if got := tableRows(t, stdout.String()); !equal(got, []string{"safemap"}) {
				t.Errorf("rows %q, want safemap only", got)
			}
			if !strings.Contains(stdout.String(), "interrupted: no result for syncmap, xsyncv3, xsyncv4, rwmutex") {
				t.Errorf("table does not tell what was skipped:\n%s", stdout.String())
			}
			continue
		}
		rep := decodeJSON(t, stdout.String())
		if !rep.Interrupted || !equal(rep.Skipped, mapimpl.Names[1:]) || len(rep.Results) != 1 ||
			rep.Results[0].Impl != "safemap" || rep.Results[0].Interrupted || rep.Results[0].Ops == 0 ||
			rep.Results[0].RatioToSyncmap != nil {
			t.Errorf("report after the interrupt: %+v", rep)
		}
	}
}

// An interrupt in the middle of a long run ends it promptly; what finished
// (here nothing: the first implementation was still in its warmup) is
// printed, and the status is 130.
func TestInterruptPrompt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	code, stdout, stderr := runMapbench(t, ctx, "-duration", "1h", "-keys", "100", "-goroutines", "2", "-json")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to stop", took)
	}
	if code != exitInterrupted {
		t.Errorf("status %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
	}
	rep := decodeJSON(t, stdout)
	if !rep.Interrupted || len(rep.Results) != 0 || !equal(rep.Skipped, mapimpl.Names) || rep.Duration != "1h0m0s" {
		t.Errorf("report: %+v", rep)
	}
	if !strings.Contains(stderr, "mapbench: safemap interrupted in its warmup") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// A context cancelled before the start measures nothing and says so.
func TestInterruptBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, stdout, _ := runMapbench(t, ctx, args()...)
	if code != exitInterrupted {
		t.Errorf("status %d, want %d", code, exitInterrupted)
	}
	if rows := tableRows(t, stdout); len(rows) != 0 {
		t.Errorf("rows %q after an interrupt before the start", rows)
	}
}

func TestSVGFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chart.svg")
	code, stdout, stderr := runMapbench(t, context.Background(), args("-svg", path, "-workload", "LoadMostlyHits")...)
	if code != exitOK {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	if got := tableRows(t, stdout); !equal(got, mapimpl.Names) {
		t.Errorf("-svg changed the table: rows %q", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	chart := parseChart(t, data)
	if !equal(chart.bars, mapimpl.Names) {
		t.Errorf("bars %q, want one per implementation %q", chart.bars, mapimpl.Names)
	}
	if !strings.Contains(chart.title, "LoadMostlyHits") {
		t.Errorf("title %q does not name the workload", chart.title)
	}
}

// A chart that cannot be written fails before any measuring, with status 1.
func TestSVGBadPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "chart.svg")
	start := time.Now()
	code, stdout, stderr := runMapbench(t, context.Background(), "-duration", "1h", "-svg", path)
	if code != exitFailure || stdout != "" || !strings.HasPrefix(stderr, "mapbench: ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v: measured before failing", took)
	}
}
