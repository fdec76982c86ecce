package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// tiny is the shortest useful configuration: the tests check what runs
// and what is printed, not how fast the maps are.
var tiny = []string{"-duration", "10ms", "-keys", "100", "-goroutines", "2"}

// runMapbench runs the command with args and returns its exit status,
// stdout and stderr.
func runMapbench(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// args returns tiny followed by more.
func args(more ...string) []string {
	return append(append([]string{}, tiny...), more...)
}

// tableRows returns the first column of the table's rows in stdout: the
// implementation names, in order. It fails the test if there is no table.
func tableRows(t *testing.T, stdout string) []string {
	t.Helper()
	lines := strings.Split(stdout, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "impl ") {
			continue
		}
		var names []string
		for _, row := range lines[i+1:] {
			if strings.TrimSpace(row) == "" {
				break
			}
			names = append(names, strings.Fields(row)[0])
		}
		return names
	}
	t.Fatalf("no table header in stdout:\n%s", stdout)
	return nil
}

// equal reports whether a and b hold the same strings in the same order.
func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cancelOn is a writer, for stderr, that cancels a context once what it is
// given contains trigger: a way to interrupt a run at a known point.
type cancelOn struct {
	bytes.Buffer
	trigger string
	cancel  context.CancelFunc
}

// Write records p and cancels when the trigger has appeared.
func (c *cancelOn) Write(p []byte) (int, error) {
	n, err := c.Buffer.Write(p)
	if strings.Contains(c.String(), c.trigger) {
		c.cancel()
	}
	return n, err
}
