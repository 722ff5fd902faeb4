package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nap-paas/nap/internal/naptest"
)

// deployRepo makes a bare repository holding examples/hello and returns it
// with the commit id.
func deployRepo(t *testing.T) (bare, rev string) {
	r := naptest.NewAppRepo(t, t.TempDir(), "../../examples/hello")
	rev = r.Commit("one", nil)
	return r.Bare, rev
}

func napCLI(args ...string) (int, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String() + errb.String()
}

// TestDeployEnvironmentFaults: the tools a deploy drives missing or failing
// are exit 3, with the command named; the state holds no release.
func TestDeployEnvironmentFaults(t *testing.T) {
	bare, rev := deployRepo(t)
	for _, tc := range []struct {
		name, config, want string
	}{
		// fleetctl is not installed on this machine kind
		{"fleetctl missing", "target: fleet\n", "fleetctl is not installed"},
		// systemd is not PID 1 here: systemctl fails
		{"systemctl failing", "target: systemd\nunit_dir: UNITS\n", "systemctl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yaml")
			body := "state: " + filepath.Join(dir, "state") + "\n" + strings.ReplaceAll(tc.config, "UNITS", filepath.Join(dir, "units"))
			os.WriteFile(cfg, []byte(body), 0o644)
			t.Setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
			code, out := napCLI("deploy", "hello", "--rev", rev, "--git-dir", bare, "--config", cfg)
			if code != exitEnv || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, output:\n%s\nwant exit 3 and %q", code, out, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "state", "hello", "current")); !os.IsNotExist(err) {
				t.Errorf("a failed deploy made a current release")
			}
		})
	}
}

// TestDeployRejectsHostileInput: app names and revisions come from pushes;
// a bad one is exit 1 (or 2 for usage) before anything is written.
func TestDeployRejectsHostileInput(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("state: "+filepath.Join(dir, "state")+"\n"), 0o644)
	rev := strings.Repeat("a", 40)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"deploy", "../etc", "--rev", rev}, exitInput, "invalid app name"},
		{[]string{"deploy", "app\nExecStart=/bin/sh", "--rev", rev}, exitInput, `"app\nExecStart=/bin/sh"`},
		{[]string{"deploy", "gitolite-admin", "--rev", rev}, exitInput, "reserved"},
		{[]string{"deploy", "hello", "--rev", "HEAD"}, exitInput, "invalid revision"},
		{[]string{"deploy", "hello", "--rev", "--upload-pack=touch /tmp/x"}, exitInput, "invalid revision"},
		{[]string{"rollback", "../x"}, exitInput, "invalid app name"},
		{[]string{"destroy", "a b"}, exitInput, "invalid app name"},
		{[]string{"rollback", "hello", "abc"}, exitInput, "give a release as status lists it"},
		{[]string{"destroy"}, exitUsage, "want APP"},
		{[]string{"plan", "hello"}, exitInput, "no current release"},
	} {
		code, out := napCLI(append(tc.args, "--config", cfg)...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%q: exit %d, output %q; want %d and %q", tc.args, code, out, tc.code, tc.want)
		}
	}
	if es, _ := os.ReadDir(filepath.Join(dir, "state")); len(es) > 1 {
		t.Errorf("state written for rejected input: %v", es)
	}
}

// A test calling run must never have a deploy start a guard: the guard runs
// this executable again, which here is the test binary (running every test
// again, each starting guards of its own).
func TestNoGuardOutsideTheBinary(t *testing.T) {
	d, err := newDeployer("/dev/null", 0, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if d.Guard != nil {
		t.Errorf("Guard = %q in a test binary", d.Guard)
	}
}

// check APP --rev REV inside the bare repository checks the tree of REV,
// exported as a deploy exports it.
func TestCheckRev(t *testing.T) {
	bare, rev := deployRepo(t)
	t.Setenv("GIT_DIR", bare)
	if code, out := napCLI("check", "hello", "--rev", rev, "--config", "/dev/null"); code != 0 || out != "hello: ok (3 units)\n" {
		t.Errorf("check of a pushed commit: exit %d, %q", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"hello", "--rev", strings.Repeat("1", 40)}, exitInput, "1111111"},
		{[]string{"hello", "--rev", "abc"}, exitUsage, "--rev"},
		{[]string{"hello"}, exitUsage, "is not a directory"},
		{[]string{"a b", "--rev", rev}, exitUsage, "--app"},
	} {
		code, out := napCLI(append(append([]string{"check"}, tc.args...), "--config", "/dev/null")...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("check %q: exit %d, %q; want %d and %q", tc.args, code, out, tc.code, tc.want)
		}
	}
}
