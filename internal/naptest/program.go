package naptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// HelloDir is examples/hello (a module of its own) from a package of this
// module: the app the machine tests deploy.
const HelloDir = "../examples/hello"

var programs struct {
	sync.Mutex
	built map[string][]byte
}

// Program is the Go program in dir (a main package, relative to the
// test's package), built static once per test process: for FROM scratch
// images and for running on machines.
func Program(t testing.TB, dir string) []byte {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	programs.Lock()
	defer programs.Unlock()
	if b, ok := programs.built[abs]; ok {
		return b
	}
	b := Build(t, abs)
	if programs.built == nil {
		programs.built = map[string][]byte{}
	}
	programs.built[abs] = b
	return b
}

// Build builds the Go program in dir as it is now, static.
func Build(t testing.TB, dir string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "program")
	build := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ProgramOf is the static program of mainGo, a main package of the
// standard library alone (a RUN step's tool in a scratch image).
func ProgramOf(t testing.TB, name, mainGo string) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, data := range map[string]string{"go.mod": fmt.Sprintf("module %s\n\ngo 1.22\n", name), "main.go": mainGo} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Program(t, dir)
}
