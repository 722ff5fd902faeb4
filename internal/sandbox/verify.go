package sandbox

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nap-paas/nap/unit"
)

// verifyStubs are the units every generated unit may depend on, standing in
// for the host's so that verification is hermetic.
//
//go:embed verifystubs/*
var verifyStubs embed.FS

// Verify marshals files into one directory (so units of a set can refer to
// each other) and has systemd-analyze verify them there; see VerifyDir.
func Verify(t testing.TB, files ...*unit.File) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		b, err := unit.Marshal(f)
		if err != nil {
			t.Fatalf("marshal %s: %v", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	VerifyDir(t, dir)
}

// VerifyDir runs `systemd-analyze verify --man=no` on every unit file in dir,
// hermetically: SYSTEMD_UNIT_PATH is a copy of dir plus stub
// sysinit.target, basic.target, shutdown.target and docker.service. It fails
// the test on a non-zero exit or any output on stderr (systemd only warns
// about unknown keys and unknown escapes). A template "p@.service" is checked
// as "p@i.service". Without systemd-analyze it fails.
func VerifyDir(t testing.TB, dir string) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is required: %v", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir()
	stubs, _ := verifyStubs.ReadDir("verifystubs")
	for _, s := range stubs {
		b, _ := verifyStubs.ReadFile("verifystubs/" + s.Name())
		if err := os.WriteFile(filepath.Join(path, s.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var units []string
	for _, e := range ents {
		if !e.Type().IsRegular() || unit.ValidName(e.Name()) != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(path, e.Name())
		if err := os.WriteFile(p, stubPrograms(t, b), 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, p)
	}
	if len(units) == 0 {
		t.Fatalf("verify: no unit files in %s", dir)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, units...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+path, "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err != nil || stderr.Len() > 0 {
		t.Errorf("systemd-analyze verify: %v\nstderr:\n%s%s\n%s", err, stderr.String(), stdout.String(), listing(units))
	}
}

// listing shows the files verified, with line numbers to match systemd's.
func listing(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "--- %s\n", filepath.Base(p))
		for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if len(l) > 200 {
				l = l[:200] + "…"
			}
			fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
		}
	}
	return b.String()
}

// NapRender is where README installs nap-render on every host: the
// discovery units run it. The test machine need not have it there.
const NapRender = "/opt/nap/bin/nap-render"

// stubPrograms points Exec*= lines running NapRender, which this host may
// lack, at an empty executable of the same path under a temporary
// directory, so verify checks all the rest; any other missing program
// still fails.
func stubPrograms(t testing.TB, unitText []byte) []byte {
	lines := strings.Split(string(unitText), "\n")
	var stubs string
	for i, l := range lines {
		name, value, ok := strings.Cut(l, "=")
		if !ok || !strings.HasPrefix(name, "Exec") {
			continue
		}
		prefix := value[:len(value)-len(strings.TrimLeft(value, "-@:+!"))]
		prog, rest, _ := strings.Cut(value[len(prefix):], " ")
		if _, err := os.Stat(prog); err == nil || prog != NapRender {
			continue
		}
		if stubs == "" {
			stubs = t.TempDir()
		}
		stub := filepath.Join(stubs, prog)
		if err := os.MkdirAll(filepath.Dir(stub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(stub, nil, 0o755); err != nil {
			t.Fatal(err)
		}
		lines[i] = strings.TrimSpace(name + "=" + prefix + stub + " " + rest)
	}
	return []byte(strings.Join(lines, "\n"))
}
