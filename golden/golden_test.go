// Package golden holds nap-render's golden cases: one directory per case
// with the inputs (Dockerfile, optional nap.yaml and config.yaml, args: one
// extra command-line argument per line) and want/ (the unit files, or
// stderr.txt and exit for a failure; stdout.txt for check and inspect, named
// as the first line of args). The test runs the real nap-render binary in
// the case directory; go test ./golden -update rewrites want/.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/unit"
)

var update = flag.Bool("update", false, "rewrite every case's want/ from nap-render's output")

// rev is the release every case renders unless its args say otherwise.
const rev = "0123456789abcdef0123456789abcdef01234567"

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(naptest.Main(m))
}

func TestGolden(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		n++
		dir, _ := filepath.Abs(e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			runCase(t, dir)
		})
	}
	if n < 16 {
		t.Errorf("%d golden cases, want at least 16", n)
	}
}

// result is what a user sees of one nap-render run.
type result struct {
	files map[string][]byte // unit files written by -o, by name
	exit  int
	err   []byte // stderr
}

func runCase(t *testing.T, dir string) {
	var extra []string
	if b, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
		for _, a := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if a != "" {
				extra = append(extra, a)
			}
		}
	}
	// args may start with the command: render (the default) writes units
	// with -o; check and inspect are compared by their stdout.
	command := "render"
	if len(extra) > 0 && (extra[0] == "check" || extra[0] == "inspect") {
		command, extra = extra[0], extra[1:]
	}
	args := []string{command}
	if command != "inspect" {
		args = append(args, "--rev", rev, "--config", "/dev/null")
		if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
			args = append(args, "--config", "config.yaml")
		}
	}
	args = append(args, extra...)
	out := filepath.Join(t.TempDir(), "units")
	if command == "render" {
		args = append(args, "-o", out)
	}

	cmd := exec.Command(naptest.NapRender(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	got := result{files: map[string][]byte{}}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		got.exit = ee.ExitCode()
	}
	got.err = stderr.Bytes()
	if command != "render" {
		if stdout.Len() > 0 {
			got.files["stdout.txt"] = stdout.Bytes()
		}
	} else if stdout.Len() > 0 {
		t.Errorf("stdout with -o: %q", stdout.Bytes())
	}
	if got.exit == 0 && command == "render" {
		ents, err := os.ReadDir(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(out, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			got.files[e.Name()] = b
		}
	} else if _, err := os.Stat(out); err == nil {
		t.Errorf("exit %d but %s was written", got.exit, out)
	}

	want := filepath.Join(dir, "want")
	if *update {
		writeWant(t, want, got)
	}
	compare(t, want, got)
	if got.exit == 0 && command == "render" {
		checkUnits(t, want)
	}
}

func writeWant(t *testing.T, want string, got result) {
	if err := os.RemoveAll(want); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	files := got.files
	if got.exit != 0 {
		files = map[string][]byte{"stderr.txt": got.err, "exit": []byte(strconv.Itoa(got.exit) + "\n")}
		if b := got.files["stdout.txt"]; len(b) > 0 {
			files["stdout.txt"] = b
		}
	} else if len(got.err) > 0 {
		files["stderr.txt"] = got.err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(want, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func compare(t *testing.T, want string, got result) {
	ents, err := os.ReadDir(want)
	if err != nil {
		t.Fatalf("%v (run go test ./golden -update)", err)
	}
	wantFiles := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(want, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		wantFiles[e.Name()] = b
	}
	wantExit := 0
	if b, ok := wantFiles["exit"]; ok {
		wantExit, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		delete(wantFiles, "exit")
	}
	if got.exit != wantExit {
		t.Errorf("exit %d, want %d; stderr:\n%s", got.exit, wantExit, got.err)
	}
	if w := wantFiles["stderr.txt"]; !bytes.Equal(got.err, w) {
		t.Errorf("stderr:\n%s\nwant:\n%s", got.err, w)
	}
	delete(wantFiles, "stderr.txt")
	var names []string
	for n := range wantFiles {
		names = append(names, n)
	}
	for n := range got.files {
		if _, ok := wantFiles[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		g, gok := got.files[n]
		w, wok := wantFiles[n]
		switch {
		case !gok:
			t.Errorf("%s: not written", n)
		case !wok:
			t.Errorf("%s: written, not wanted:\n%s", n, g)
		case !bytes.Equal(g, w):
			t.Errorf("%s differs (go test ./golden -update, then review the diff):\n--- got\n%s\n--- want\n%s", n, g, w)
		}
	}
}

// checkUnits: every wanted unit set passes systemd-analyze verify, and each
// file survives unit.Read then unit.Marshal byte for byte.
func checkUnits(t *testing.T, want string) {
	ents, err := os.ReadDir(want)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, e := range ents {
		if e.Name() == "stderr.txt" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(want, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		f, err := unit.Read(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: unit.Read: %v", e.Name(), err)
			continue
		}
		f.Name = e.Name()
		again, err := unit.Marshal(f)
		if err != nil {
			t.Errorf("%s: unit.Marshal of what was read: %v", e.Name(), err)
		} else if !bytes.Equal(again, b) {
			t.Errorf("%s: round trip differs:\n%s", e.Name(), again)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sandbox.VerifyDir(t, dir)
}
