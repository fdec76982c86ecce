package main

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/safemap-go/safemap/internal/mapimpl"
)

func TestDefaults(t *testing.T) {
	c, err := parseArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.workload != "mixed" || c.reads != 90 || c.keys != 10000 || c.keyType != "int" ||
		c.goroutines != runtime.GOMAXPROCS(0) || c.duration != 2*time.Second ||
		!equal(c.impls, mapimpl.Names) || c.json || c.svg != "" || c.list || len(c.ignored) != 0 {
		t.Errorf("defaults: %+v", c)
	}
	if c.warmup() != 200*time.Millisecond {
		t.Errorf("warmup = %v, want a tenth of 2s", c.warmup())
	}
}

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{
		"-reads", "0", "-keys", "1", "-keytype", "STRING", "-goroutines", "3", "-duration", "1.5s",
		"-impl", " rwmutex , SafeMap,", "-json", "-svg", "x.svg",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.reads != 0 || c.keys != 1 || c.keyType != "string" || c.goroutines != 3 ||
		c.duration != 1500*time.Millisecond || !equal(c.impls, []string{"rwmutex", "safemap"}) ||
		!c.json || c.svg != "x.svg" {
		t.Errorf("parsed: %+v", c)
	}

	c, err = parseArgs([]string{"-reads", "100", "-workload", "loadmostlyhits", "-keys", "5", "-keytype", "int"})
	if err != nil {
		t.Fatal(err)
	}
	if c.workload != "LoadMostlyHits" {
		t.Errorf("workload = %q, want mapimpl's spelling LoadMostlyHits", c.workload)
	}
	if !equal(c.ignored, []string{"reads", "keys"}) {
		t.Errorf("ignored = %q, want reads and keys", c.ignored)
	}
}

// Every bad command line exits with status 2, one line of error and the
// usage on stderr, and nothing on stdout, before measuring anything.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error line
	}{
		{[]string{"-reads", "-1"}, "-reads -1"},
		{[]string{"-reads", "101"}, "-reads 101"},
		{[]string{"-reads", "many"}, "-reads"},
		{[]string{"-keys", "0"}, "-keys 0"},
		{[]string{"-keys", "-5"}, "-keys -5"},
		{[]string{"-goroutines", "0"}, "-goroutines 0"},
		{[]string{"-goroutines", "-2"}, "-goroutines -2"},
		{[]string{"-duration", "0"}, "-duration 0s"},
		{[]string{"-duration", "-1s"}, "-duration -1s"},
		{[]string{"-duration", "10"}, "-duration"}, // no unit
		{[]string{"-impl", "btree"}, `"btree"`},
		{[]string{"-impl", "safemap,nope"}, `"nope"`},
		{[]string{"-impl", ""}, "-impl"},
		{[]string{"-impl", "safemap,safemap"}, "twice"},
		{[]string{"-workload", "LoadMostly"}, `"LoadMostly"`},
		{[]string{"-workload", ""}, "-workload"},
		{[]string{"-keytype", "float"}, `"float"`},
		{[]string{"-workload", "Range", "-keytype", "string"}, "-keytype string"},
		{[]string{"extra"}, `"extra"`},
		{[]string{"-json", "extra", "-reads", "5"}, `"extra"`},
		{[]string{"-nosuchflag"}, "nosuchflag"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runMapbench(t, context.Background(), tc.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
			first, rest, _ := strings.Cut(stderr, "\n")
			if !strings.HasPrefix(first, "mapbench: ") || !strings.Contains(first, tc.want) {
				t.Errorf("error line %q, want mapbench: ... %s ...", first, tc.want)
			}
			if !strings.HasPrefix(rest, "usage: mapbench") || !strings.Contains(rest, "-workload") {
				t.Errorf("no usage after the error line:\n%s", stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		code, stdout, stderr := runMapbench(t, context.Background(), arg)
		if code != exitOK || stdout != "" || !strings.HasPrefix(stderr, "usage: mapbench") {
			t.Errorf("%s: status %d, stdout %q, stderr:\n%s", arg, code, stdout, stderr)
		}
		for _, flag := range []string{"-reads", "-keys", "-keytype", "-goroutines", "-duration", "-impl", "-workload", "-json", "-svg", "-list"} {
			if !strings.Contains(stderr, "  "+flag+" ") && !strings.Contains(stderr, "  "+flag+"\n") {
				t.Errorf("%s: usage does not list %s", arg, flag)
			}
		}
	}
}

func TestList(t *testing.T) {
	code, stdout, stderr := runMapbench(t, context.Background(), "-list")
	if code != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	names := workloadNames()
	if len(lines) != len(names) {
		t.Fatalf("%d lines for %d workloads:\n%s", len(lines), len(names), stdout)
	}
	for i, line := range lines {
		if f := strings.Fields(line); len(f) < 2 || f[0] != names[i] {
			t.Errorf("line %d = %q, want %s and its description", i, line, names[i])
		}
	}
}

// Every one of Go's workloads has a description, and no description is
// left over from a workload that is gone.
func TestDescriptions(t *testing.T) {
	set := mapimpl.GoSet()
	for _, w := range set {
		if descriptions[w.Name] == "" {
			t.Errorf("no description for %s", w.Name)
		}
	}
	if len(descriptions) != len(set) {
		t.Errorf("%d descriptions for %d workloads", len(descriptions), len(set))
	}
}

// A note on stderr says which flags a Go workload ignores.
func TestIgnoredFlagsNote(t *testing.T) {
	code, stdout, stderr := runMapbench(t, context.Background(), args("-workload", "DeleteCollision", "-reads", "50", "-impl", "safemap")...)
	if code != exitOK {
		t.Fatalf("status %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"-reads applies to the mixed workload only", "-keys applies to the mixed workload only"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "workload=DeleteCollision reads=- keys=- keytype=int") {
		t.Errorf("header does not show the workload's own keys:\n%s", stdout)
	}
}
