package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nap-paas/nap/internal/naptest"
)

var (
	standinOnce sync.Once
	standinPath string
	standinErr  error
	standinDir  string
)

// standin builds the fleetctl stand-in once per test binary.
func standin(t *testing.T) string {
	t.Helper()
	standinOnce.Do(func() {
		standinDir, standinErr = os.MkdirTemp("", "nap-fleetctl-")
		if standinErr != nil {
			return
		}
		standinPath = filepath.Join(standinDir, "fleetctl")
		out, err := exec.Command("go", "build", "-o", standinPath, "./testdata/fleetctl").CombinedOutput()
		if err != nil {
			standinErr = &buildError{string(out)}
		}
	})
	if standinErr != nil {
		t.Fatalf("building the fleetctl stand-in: %v", standinErr)
	}
	return standinPath
}

type buildError struct{ out string }

func (e *buildError) Error() string { return e.out }

func TestMain(m *testing.M) {
	code := naptest.Main(m)
	if standinDir != "" {
		os.RemoveAll(standinDir)
	}
	os.Exit(code)
}

// cluster is a stand-in fleet cluster in a temporary directory.
type cluster struct {
	t   *testing.T
	bin string
	env []string
	dir string // where unit files are written
	log string
}

func newCluster(t *testing.T, machines string, extra ...string) *cluster {
	dir := t.TempDir()
	c := &cluster{t: t, bin: standin(t), dir: dir, log: filepath.Join(dir, "calls.log")}
	c.env = append(os.Environ(),
		"FLEET_STANDIN_STATE="+filepath.Join(dir, "state"),
		"FLEET_STANDIN_MACHINES="+machines,
		"FLEET_STANDIN_MACHINE_IDS=aaaaaaaa11111111aaaaaaaa11111111,bbbbbbbb22222222bbbbbbbb22222222,cccccccc33333333cccccccc33333333",
		"FLEET_STANDIN_LOG="+c.log,
		"FLEET_STANDIN_SYSTEMCTL=",
	)
	c.env = append(c.env, extra...)
	return c
}

func (c *cluster) file(name, content string) string {
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cluster) run(args ...string) (stdout, stderr string, code int) {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func (c *cluster) calls() []string {
	b, _ := os.ReadFile(c.log)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

const helloUnit = "# a comment fleet drops\n[Unit]\nDescription=hello\n\n[Service]\nExecStart=/bin/sleep 1000\n"

// TestStandinSubmit: fleet#614 — submit keeps a differing unit and only
// warns; --replace replaces it; cat shows the re-serialised unit.
func TestStandinSubmit(t *testing.T) {
	c := newCluster(t, "1")
	c.file("hello.service", helloUnit)
	if _, e, code := c.run("submit", "hello.service"); code != 0 {
		t.Fatalf("submit: exit %d: %s", code, e)
	}
	out, _, _ := c.run("cat", "hello.service")
	if want := "[Unit]\nDescription=hello\n\n[Service]\nExecStart=/bin/sleep 1000\n"; out != want {
		t.Errorf("cat = %q, want %q (comments gone)", out, want)
	}
	c.file("hello.service", strings.Replace(helloUnit, "1000", "2000", 1))
	_, e, code := c.run("submit", "hello.service")
	if code != 0 || !strings.Contains(e, "WARNING: Unit hello.service in registry differs from local unit file hello.service") {
		t.Errorf("submit of a differing unit: exit %d, stderr %q; want 0 and fleet's warning", code, e)
	}
	if out, _, _ := c.run("cat", "hello"); !strings.Contains(out, "1000") {
		t.Errorf("without --replace the old unit must stay, cat = %q", out)
	}
	if _, e, code := c.run("submit", "--replace", "hello.service"); code != 0 {
		t.Fatalf("submit --replace: exit %d: %s", code, e)
	}
	if out, _, _ := c.run("cat", "hello"); !strings.Contains(out, "2000") {
		t.Errorf("--replace must replace, cat = %q", out)
	}
}

func TestStandinTemplatesAndScheduling(t *testing.T) {
	c := newCluster(t, "3", "FLEET_STANDIN_METADATA=2:disk=ssd")
	c.file("web@.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nConflicts=web@*.service\n")
	c.file("side@.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineOf=web@%i.service\n")
	c.file("pinned.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineID=cccccccc33333333cccccccc33333333\n")
	c.file("ssd.service", "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetadata=disk=ssd\n")
	if _, e, code := c.run("submit", "web@.service", "side@.service"); code != 0 {
		t.Fatalf("submit: %s", e)
	}
	if _, e, code := c.run("start", "web@.service"); code != 1 || !strings.Contains(e, "template") {
		t.Errorf("start of a bare template: exit %d, %q; want 1 and a refusal", code, e)
	}
	if out, e, code := c.run("start", "web@1.service", "web@2.service", "web@3.service"); code != 0 || strings.Count(out, "launched on") != 3 {
		t.Fatalf("start: exit %d\n%s%s", code, out, e)
	}
	// Conflicts: a fourth instance has no machine; blocking start times out.
	if _, e, code := c.run("start", "--block-attempts=2", "web@4.service"); code != 1 || !strings.Contains(e, "timed out waiting for unit web@4.service") {
		t.Errorf("start of an unschedulable unit: exit %d, %q", code, e)
	}
	if _, _, code := c.run("start", "--no-block", "side@2.service", "pinned.service", "ssd.service"); code != 0 {
		t.Errorf("start --no-block: exit %d", code)
	}
	out, _, _ := c.run("list-units", "--no-legend", "--full", "--fields=unit,machine")
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		want[f[0]] = f[1]
	}
	if want["side@2.service"] != want["web@2.service"] {
		t.Errorf("MachineOf: side@2 on %s, web@2 on %s", want["side@2.service"], want["web@2.service"])
	}
	if !strings.HasPrefix(want["pinned.service"], "cccccccc33333333cccccccc33333333/") {
		t.Errorf("MachineID: pinned on %s", want["pinned.service"])
	}
	if !strings.HasPrefix(want["ssd.service"], "bbbbbbbb22222222bbbbbbbb22222222/10.0.0.2") {
		t.Errorf("MachineMetadata: ssd on %s", want["ssd.service"])
	}
	if _, ok := want["web@4.service"]; ok {
		t.Errorf("web@4 must not be listed: it conflicts everywhere")
	}
	out, _, _ = c.run("list-units")
	if !strings.HasPrefix(out, "UNIT\tMACHINE\tACTIVE\tSUB\n") && !strings.HasPrefix(out, "UNIT") {
		t.Errorf("list-units legend: %q", out)
	}
	if !strings.Contains(out, "aaaaaaaa.../10.0.0.1") {
		t.Errorf("list-units without --full shortens machine ids: %q", out)
	}
	out, _, _ = c.run("list-unit-files", "--no-legend", "--fields=unit,dstate")
	if !strings.Contains(out, "web@.service\tinactive") || !strings.Contains(out, "web@1.service\tlaunched") {
		t.Errorf("list-unit-files: %q", out)
	}
	if out, _, code := c.run("destroy", "web@1.service"); code != 0 || out != "Destroyed web@1.service\n" {
		t.Errorf("destroy: exit %d, %q", code, out)
	}
	if _, e, code := c.run("frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d %q", code, e)
	}
}

func TestStandinBlockingStartFailsWhenNotActive(t *testing.T) {
	c := newCluster(t, "1", "FLEET_STANDIN_FAIL=bad*")
	c.file("bad.service", helloUnit)
	if _, e, code := c.run("start", "--block-attempts=2", "bad.service"); code != 1 || !strings.Contains(e, "timed out") {
		t.Errorf("blocking start of a failing unit: exit %d, %q", code, e)
	}
	out, _, _ := c.run("list-units", "--no-legend")
	if !strings.Contains(out, "bad.service") || !strings.Contains(out, "failed") {
		t.Errorf("list-units: %q", out)
	}
}
