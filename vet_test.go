package safemap

import (
	"os/exec"
	"strings"
	"testing"
)

// TestVetCatchesCopies runs go vet on a package that copies a Map after
// use: the Map's mutex must make vet's copylocks check report it.
func TestVetCatchesCopies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goTool, "vet", "./testdata/vetcopy").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "copies lock value") {
		t.Fatalf("go vet did not report the copy (err %v):\n%s", err, out)
	}
}
