// Command mutants asks whether the tests would notice a small wrong change
// to the library: it makes one change at a time to a library source file
// (a mutant: a comparison or logical operator swapped, a condition negated,
// a call or assignment deleted, a boolean or small integer literal
// changed), builds the package's tests with the change laid over the file
// (go's -overlay, so the working tree is never touched), and runs them.
// A mutant that makes a test fail, or time out, is killed; one that passes
// every test survived, and is either equivalent (it changes only speed or
// memory, not what any call returns) or a gap in the tests.
//
// Run it from the module root, with nothing else loading the machine:
//
//	go run ./internal/mutants -list                    # the mutants, numbered
//	go run ./internal/mutants -sample 150 -seed 1 -out /tmp/mutants.log
//	go run ./internal/mutants -only entry.go:120:9 -out /tmp/one.log
//
// Each mutant costs a build of the test binary (30-40 s on 2 cores: the
// package's tests are compiled with it) and a run of the short tests with
// -test.failfast, so a survivor costs about a minute more. The log has one
// line per mutant, tab-separated, and a run given the same -out skips the
// mutants that the log already holds, so an interrupted run goes on.
// Logs of finished samples are kept in logs/ (a log left in /tmp goes
// with its machine): give a copy of one as -out, and the mutants it holds
// are skipped. A mutant's id names its file, line and column, so after
// the code has changed an id may name another change, or none.
//
// Before the mutants it builds and runs the unmutated tests (skip with
// -baseline=false): a test that fails without any change would count every
// mutant killed. The builds use a build cache of their own, in a temporary
// directory removed at the end; the baseline fills it with the packages
// that no mutant changes, and each mutant's own entries are removed after
// it is tested. (In the user's cache, each mutant's build leaves about 200
// MB: a sample of 160 with its checks grew it to 78 GB, a full disk.)
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A mutant is one change to one file: the bytes [off, end) replaced by
// repl.
type mutant struct {
	file     string
	line     int
	col      int
	off, end int
	kind     string
	orig     string
	repl     string
}

// id names a mutant in logs and in -only: file:line:col/kind/repl. Two
// mutants at one position differ in kind or replacement.
func (m mutant) id() string {
	return fmt.Sprintf("%s:%d:%d/%s/%s", m.file, m.line, m.col, m.kind, oneLine(m.repl))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// swaps are the binary operators mutated and what each becomes.
var swaps = map[token.Token]token.Token{
	token.EQL:  token.NEQ,
	token.NEQ:  token.EQL,
	token.LSS:  token.LEQ,
	token.LEQ:  token.LSS,
	token.GTR:  token.GEQ,
	token.GEQ:  token.GTR,
	token.LAND: token.LOR,
	token.LOR:  token.LAND,
	token.ADD:  token.SUB,
	token.SUB:  token.ADD,
}

// mutantsOf lists the mutants of one file, in source order.
func mutantsOf(fset *token.FileSet, name string, src []byte) ([]mutant, error) {
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []mutant
	add := func(pos, end token.Pos, kind, repl string) {
		p, e := fset.Position(pos), fset.Position(end)
		out = append(out, mutant{
			file: name, line: p.Line, col: p.Column,
			off: p.Offset, end: e.Offset,
			kind: kind, orig: string(src[p.Offset:e.Offset]), repl: repl,
		})
	}
	// Constant declarations are tuning (sizes, thresholds) or names for
	// states, whose values the tests mostly do not pin: skip them.
	skip := map[ast.Node]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if g, ok := n.(*ast.GenDecl); ok && g.Tok == token.CONST {
			skip[g] = true
			return false
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil || skip[n] {
			return false
		}
		switch x := n.(type) {
		case *ast.BinaryExpr:
			if to, ok := swaps[x.Op]; ok {
				add(x.OpPos, x.OpPos+token.Pos(len(x.Op.String())), "op", to.String())
			}
		case *ast.IfStmt:
			cond := src[fset.Position(x.Cond.Pos()).Offset:fset.Position(x.Cond.End()).Offset]
			add(x.Cond.Pos(), x.Cond.End(), "negate", "!("+string(cond)+")")
		case *ast.ExprStmt:
			if _, ok := x.X.(*ast.CallExpr); ok && !isPanic(x.X) {
				add(x.Pos(), x.End(), "delete", "")
			}
		case *ast.IncDecStmt:
			add(x.Pos(), x.End(), "delete", "")
		case *ast.AssignStmt:
			if x.Tok != token.DEFINE {
				add(x.Pos(), x.End(), "delete", "")
			}
		case *ast.Ident:
			switch x.Name {
			case "true":
				add(x.Pos(), x.End(), "bool", "false")
			case "false":
				add(x.Pos(), x.End(), "bool", "true")
			}
		case *ast.BasicLit:
			if x.Kind == token.INT {
				if v, err := strconv.ParseInt(x.Value, 0, 64); err == nil && v >= 0 && v < 64 {
					add(x.Pos(), x.End(), "int", strconv.FormatInt(v+1, 10))
				}
			}
		}
		return true
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].off < out[j].off })
	return out, nil
}

// isPanic reports whether e is a call of the builtin panic: deleting one
// only changes a message's absence into a later failure, which the tests of
// bad input check already.
func isPanic(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := c.Fun.(*ast.Ident)
	return ok && id.Name == "panic"
}

func main() {
	list := flag.Bool("list", false, "list the mutants and exit")
	sample := flag.Int("sample", 0, "test this many mutants drawn at random (0: all)")
	seed := flag.Uint64("seed", 1, "seed of -sample's draw")
	only := flag.String("only", "", "test only the mutants whose id starts with this (comma-separated)")
	files := flag.String("files", "", "library files to mutate, comma-separated (default: every non-test .go file in the module root)")
	out := flag.String("out", "mutants.log", "the log: one line per mutant; mutants already in it are skipped")
	run := flag.String("run", "", "the -test.run pattern of the tests (default: all)")
	timeout := flag.Duration("timeout", 3*time.Minute, "a test run longer than this kills the mutant")
	baseline := flag.Bool("baseline", true, "first check that the unmutated tests pass")
	flag.Parse()

	names, err := libraryFiles(*files)
	check(err)
	fset := token.NewFileSet()
	var all []mutant
	srcs := map[string][]byte{}
	for _, name := range names {
		src, err := os.ReadFile(name)
		check(err)
		srcs[name] = src
		ms, err := mutantsOf(fset, name, src)
		check(err)
		all = append(all, ms...)
	}
	chosen := all
	if *only != "" {
		chosen = nil
		for _, m := range all {
			for _, p := range strings.Split(*only, ",") {
				if strings.HasPrefix(m.id(), p) {
					chosen = append(chosen, m)
					break
				}
			}
		}
	} else if *sample > 0 && *sample < len(all) {
		r := rand.New(rand.NewPCG(*seed, 0))
		// In the draw's order, not the files': a run stopped early has
		// still tested a sample of every file.
		idx := r.Perm(len(all))[:*sample]
		chosen = make([]mutant, len(idx))
		for i, k := range idx {
			chosen[i] = all[k]
		}
	}
	if *list {
		for i, m := range chosen {
			fmt.Printf("%d\t%s\t%q -> %q\n", i, m.id(), oneLine(m.orig), m.repl)
		}
		fmt.Fprintf(os.Stderr, "%d of %d mutants\n", len(chosen), len(all))
		return
	}

	done := loggedIDs(*out)
	logf, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	check(err)
	defer logf.Close()
	dir, err := os.MkdirTemp("", "mutants")
	check(err)
	defer os.RemoveAll(dir)
	root, err := os.Getwd()
	check(err)
	cache := filepath.Join(dir, "gocache")
	check(os.Mkdir(cache, 0o755))
	if *baseline && len(chosen) > 0 {
		// An empty change: the file laid over itself.
		m := mutant{file: chosen[0].file}
		if result, detail := test(m, srcs[m.file], root, dir, cache, *run, *timeout); result != "survived" {
			fmt.Fprintf(os.Stderr, "mutants: the unmutated tests fail (%s: %s)\n", result, detail)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	// The baseline's entries (or, without it, none) are kept; those of
	// each mutant are removed after it.
	keep, err := cacheFiles(cache)
	check(err)

	var killed, survived, invalid int
	for i, m := range chosen {
		if done[m.id()] {
			continue
		}
		start := time.Now()
		result, detail := test(m, srcs[m.file], root, dir, cache, *run, *timeout)
		check(pruneCache(cache, keep))
		switch result {
		case "killed":
			killed++
		case "survived":
			survived++
		default:
			invalid++
		}
		line := fmt.Sprintf("%s\t%s\t%.0fs\t%q -> %q\t%s", m.id(), result, time.Since(start).Seconds(), oneLine(m.orig), m.repl, detail)
		fmt.Fprintln(logf, line)
		fmt.Printf("[%d/%d] %s\n", i+1, len(chosen), line)
	}
	fmt.Printf("killed %d, survived %d, not built %d (this run; the log holds every run's)\n", killed, survived, invalid)
}

// libraryFiles returns the files to mutate: those named, or every non-test
// .go file of the module root.
func libraryFiles(named string) ([]string, error) {
	if named != "" {
		return strings.Split(named, ","), nil
	}
	all, err := filepath.Glob("*.go")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range all {
		if !strings.HasSuffix(f, "_test.go") && f != "doc.go" {
			out = append(out, f)
		}
	}
	return out, nil
}

// cacheFiles returns the set of files under the build cache dir.
func cacheFiles(dir string) (map[string]bool, error) {
	files := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[path] = true
		}
		return err
	})
	return files, err
}

// pruneCache removes the files of the build cache dir that keep lacks:
// those that the last mutant's build added. The go command treats a
// missing entry as a cache miss, and rebuilds it if it is needed again.
func pruneCache(dir string, keep map[string]bool) error {
	now, err := cacheFiles(dir)
	if err != nil {
		return err
	}
	for path := range now {
		if !keep[path] {
			if err := os.Remove(path); err != nil {
				return err
			}
		}
	}
	return nil
}

// loggedIDs returns the ids of the mutants that the log at path holds.
func loggedIDs(path string) map[string]bool {
	ids := map[string]bool{}
	f, err := os.Open(path)
	if err != nil {
		return ids
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if id, _, ok := strings.Cut(s.Text(), "\t"); ok {
			ids[id] = true
		}
	}
	return ids
}

var failRE = regexp.MustCompile(`--- FAIL: (\S+)`)

// test builds the tests with m laid over its file and runs them. It
// returns "killed", "survived" or "not built", and a detail: the first
// failing test, or why the build failed.
func test(m mutant, src []byte, root, dir, cache, run string, timeout time.Duration) (string, string) {
	mutated := make([]byte, 0, len(src)+len(m.repl))
	mutated = append(mutated, src[:m.off]...)
	mutated = append(mutated, m.repl...)
	mutated = append(mutated, src[m.end:]...)
	mfile := filepath.Join(dir, filepath.Base(m.file))
	check(os.WriteFile(mfile, mutated, 0o644))
	overlay, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(root, m.file): mfile},
	})
	check(err)
	ofile := filepath.Join(dir, "overlay.json")
	check(os.WriteFile(ofile, overlay, 0o644))
	bin := filepath.Join(dir, "mutant.test")
	build := exec.Command("go", "test", "-c", "-vet=off", "-o", bin, "-overlay", ofile, ".")
	build.Env = append(os.Environ(), "GOCACHE="+cache)
	if out, err := build.CombinedOutput(); err != nil {
		// The first line that is not a package heading ("# pkg").
		for _, l := range strings.Split(string(out), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				return "not built", oneLine(l)
			}
		}
		return "not built", ""
	}
	args := []string{"-test.short", "-test.failfast", "-test.count=1", "-test.timeout=" + timeout.String()}
	if run != "" {
		args = append(args, "-test.run="+run)
	}
	cmd := exec.Command(bin, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	if err == nil {
		return "survived", ""
	}
	if sm := failRE.FindSubmatch(buf.Bytes()); sm != nil {
		return "killed", string(sm[1])
	}
	if bytes.Contains(buf.Bytes(), []byte("test timed out")) {
		return "killed", "timeout"
	}
	if bytes.Contains(buf.Bytes(), []byte("panic:")) || bytes.Contains(buf.Bytes(), []byte("fatal error:")) {
		first := buf.String()
		if i := strings.Index(first, "panic:"); i >= 0 {
			first = first[i:]
		} else if i := strings.Index(first, "fatal error:"); i >= 0 {
			first = first[i:]
		}
		l, _, _ := strings.Cut(first, "\n")
		return "killed", oneLine(l)
	}
	return "killed", "exit: " + err.Error()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(1)
	}
}
