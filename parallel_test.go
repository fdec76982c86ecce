package safemap

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Which tests run in parallel.
//
// Most of the package's tests run one at a time: many of them measure the
// heap, wait for sweeps or for the collector, count goroutines or
// allocations, or set GOMAXPROCS or the GC percent, and another test's work
// beside them would change what they see. The race run of the package
// (`go test -race ./...`, the README's test command) nonetheless kept about
// one of two cores busy: 229 s of wall time for 250 s of CPU time
// (2026-12-03).
//
// A few long tests do none of that: each works on maps of its own from one
// goroutine, and checks results against a model or a hash's spread. They
// call t.Parallel, and so run beside each other once the package's other
// tests have ended (top-level parallel tests never run beside sequential
// ones). TestParallelTestsStayPure checks, by reading their source, that
// none of them calls what a parallel test must not.

// parallelForbidden are the calls that a top-level parallel test must not
// make in its body: each measures or changes something process-wide.
var parallelForbidden = []string{
	"runtime.GC", "runtime.ReadMemStats", "runtime.NumGoroutine", "runtime.GOMAXPROCS",
	"debug.SetGCPercent", "debug.SetMemoryLimit", "debug.FreeOSMemory",
	"testing.AllocsPerRun", "t.Setenv", "os.Setenv", "time.Sleep",
}

// TestParallelTestsStayPure finds every top-level test of the package that
// calls t.Parallel and fails if its body calls one of parallelForbidden.
// It reads the test's own body, closures and subtests included, but not the
// functions it calls: a guard against the plain mistake, not a proof.
func TestParallelTestsStayPure(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parallel []string
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") || !callsParallel(fn.Body) {
				continue
			}
			parallel = append(parallel, fn.Name.Name)
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && slices.Contains(parallelForbidden, x.Name+"."+sel.Sel.Name) {
						t.Errorf("%s: %s, a parallel test, calls %s.%s", fset.Position(call.Pos()), fn.Name.Name, x.Name, sel.Sel.Name)
					}
				}
				return true
			})
		}
	}
	if len(parallel) == 0 {
		t.Fatal("found no parallel test: the search itself is broken")
	}
	t.Logf("parallel tests: %v", parallel)
}

// callsParallel reports whether body calls t.Parallel() at its top level.
func callsParallel(body *ast.BlockStmt) bool {
	for _, st := range body.List {
		if es, ok := st.(*ast.ExprStmt); ok {
			if call, ok := es.X.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Parallel" && len(call.Args) == 0 {
					return true
				}
			}
		}
	}
	return false
}
