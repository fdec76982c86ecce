package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/safemap-go/safemap/internal/mapimpl"
)

// Flag defaults other than -goroutines, which is GOMAXPROCS at parse time.
const (
	defaultReads    = 90
	defaultKeys     = 10000
	defaultKeyType  = "int"
	defaultDuration = 2 * time.Second
	// maxKeys and maxGoroutines bound -keys and -goroutines, far above
	// any useful run, so that a mistyped value is a usage error rather
	// than a crash allocating the keys or the goroutines' slices (about
	// 4 GB of string keys, or 8 GB of goroutine stacks, at the bounds).
	maxKeys       = 100_000_000
	maxGoroutines = 1_000_000
)

// config is a validated command line.
type config struct {
	// workload is mixedName or the name of a mapimpl.GoSet workload,
	// spelled as mapimpl spells it.
	workload string
	// reads, keys and keyType shape the mixed workload; for the others
	// keyType is "int" and reads and keys are unused.
	reads   int
	keys    int
	keyType string
	// goroutines run the workload's steps concurrently.
	goroutines int
	// duration is the timed phase of each implementation.
	duration time.Duration
	// impls are the names of the implementations to measure, in order.
	impls []string
	// json selects JSON output instead of the table.
	json bool
	// svg is the file to write the chart to, "" for none.
	svg string
	// list asks for the list of workloads instead of a run.
	list bool
	// ignored names the flags the user set that do not apply to the
	// workload (-reads, -keys with a Go workload), for a note on stderr.
	ignored []string
}

// warmup is the untimed run before the timed phase: a tenth of it.
func (c config) warmup() time.Duration { return c.duration / 10 }

// defineFlags returns mapbench's flag set, storing into c and, for -impl,
// into implList, which is split and checked afterwards. The set writes
// nothing: run prints errors and usage itself.
func defineFlags(c *config, implList *string) *flag.FlagSet {
	fs := flag.NewFlagSet("mapbench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&c.workload, "workload", mixedName,
		"`name` of the workload: mixed, or one of Go's sync.Map benchmark workloads (see -list)")
	fs.IntVar(&c.reads, "reads", defaultReads,
		"percentage of loads in the mixed workload, 0..100; the other steps store or delete, half and half")
	fs.IntVar(&c.keys, "keys", defaultKeys, "number of keys in the mixed workload, 1..100000000")
	fs.StringVar(&c.keyType, "keytype", defaultKeyType, "key `type` of the mixed workload: int or string")
	fs.IntVar(&c.goroutines, "goroutines", runtime.GOMAXPROCS(0),
		"number of goroutines running the workload, 1..1000000; the default is GOMAXPROCS")
	fs.DurationVar(&c.duration, "duration", defaultDuration,
		"timed run per implementation, after an untimed warmup of a tenth of it")
	fs.StringVar(implList, "impl", strings.Join(mapimpl.Names, ","),
		"comma-separated `list` of implementations to measure, in that order")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON on stdout instead of a table")
	fs.StringVar(&c.svg, "svg", "", "also write a bar chart of ops/s per implementation to this SVG `file`")
	fs.BoolVar(&c.list, "list", false, "list the workloads and exit")
	return fs
}

// parseArgs parses and validates the command line. The error is
// flag.ErrHelp for -h and -help, else a one-line description of the first
// problem.
func parseArgs(args []string) (config, error) {
	var c config
	var implList string
	fs := defineFlags(&c, &implList)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: mapbench takes flags only", fs.Arg(0))
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if c.reads < 0 || c.reads > 100 {
		return config{}, fmt.Errorf("-reads %d: want a percentage in 0..100", c.reads)
	}
	if c.keys < 1 || c.keys > maxKeys {
		return config{}, fmt.Errorf("-keys %d: want 1..%d", c.keys, maxKeys)
	}
	kt := strings.ToLower(c.keyType)
	if kt != "int" && kt != "string" {
		return config{}, fmt.Errorf("-keytype %q: want int or string", c.keyType)
	}
	c.keyType = kt
	if c.goroutines < 1 || c.goroutines > maxGoroutines {
		return config{}, fmt.Errorf("-goroutines %d: want 1..%d", c.goroutines, maxGoroutines)
	}
	if c.duration <= 0 {
		return config{}, fmt.Errorf("-duration %v: want more than 0", c.duration)
	}
	impls, err := parseImpls(implList)
	if err != nil {
		return config{}, err
	}
	c.impls = impls

	name, ok := canonicalWorkload(c.workload)
	if !ok {
		return config{}, fmt.Errorf("-workload %q: unknown workload (known: %s)", c.workload, strings.Join(workloadNames(), ", "))
	}
	c.workload = name
	if name != mixedName {
		if c.keyType != "int" {
			return config{}, fmt.Errorf("-keytype %s: workload %s has int keys; -keytype applies to the mixed workload only", c.keyType, name)
		}
		for _, f := range []string{"reads", "keys"} {
			if set[f] {
				c.ignored = append(c.ignored, f)
			}
		}
	}
	return c, nil
}

// parseImpls splits -impl's comma-separated list and checks every name
// against mapimpl's. Names match case-insensitively; blanks around commas
// are allowed; a name given twice is an error.
func parseImpls(list string) ([]string, error) {
	var names []string
	seen := make(map[string]bool)
	for _, field := range strings.Split(list, ",") {
		name := strings.ToLower(strings.TrimSpace(field))
		if name == "" {
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("-impl: %s is listed twice", name)
		}
		seen[name] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("-impl: no implementation given")
	}
	if _, err := mapimpl.Lookup[int](names); err != nil {
		return nil, fmt.Errorf("-impl: %v", err)
	}
	return names, nil
}

// usage writes the usage message: a synopsis and every flag with its default.
func usage(w io.Writer) {
	fmt.Fprint(w, `usage: mapbench [flags]

Mapbench measures safemap, sync.Map, xsync v3 and v4 and an RWMutex-guarded
map one after another on one workload and prints ops/s, ns/op, allocs/op,
B/op and ns/op relative to sync.Map (lower is better). -reads, -keys and
-keytype shape the mixed workload only. Exit status: 0 ok, 1 output error,
2 usage error, 130 interrupted.

flags:
`)
	var c config
	var implList string
	fs := defineFlags(&c, &implList)
	fs.SetOutput(w)
	fs.PrintDefaults()
}
