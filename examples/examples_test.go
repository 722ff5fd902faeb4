// Package examples holds nap's example apps (each its own module, built by
// docker from its directory alone). This test builds and runs hello the way
// a deploy does: with the units nap renders, under systemd, on a simulated
// machine.
package examples

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/unit"
)

// TestHelloUnderSystemd: the rendered build unit builds examples/hello from
// its multi-stage Dockerfile (FROM golang:1.26) and pushes it; the rendered
// run unit pulls and runs it; it answers with its release on a dynamic host
// port; systemctl stop is not a failure.
func TestHelloUnderSystemd(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated machine, docker build")
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	state := t.TempDir()
	src := filepath.Join(state, "hello", "src", rev)
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Dockerfile", "go.mod", "main.go"} {
		b, err := os.ReadFile(filepath.Join("hello", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := dockerfile.ParseFile(filepath.Join(src, "Dockerfile"), dockerfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := render.ParseConfig([]byte("target: systemd\nstate: "+state+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := render.Render(img, cfg, render.Release{App: "hello", Rev: rev})
	if err != nil {
		t.Fatal(err)
	}

	m := sandbox.NewMachine(t, sandbox.Options{Name: "hello", GoImage: true, Registry: true})
	m.Share(t, state)
	for _, f := range files {
		b, err := unit.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(m.Path("/etc/systemd/system/"+f.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	systemctl := func(args ...string) string {
		t.Helper()
		out, err := m.Systemctl(args...)
		if err != nil {
			t.Fatalf("systemctl %s: %v\n%s", strings.Join(args, " "), err, m.Journal(args[len(args)-1]))
		}
		return out
	}
	systemctl("daemon-reload")

	build := "hello.build.0123456789ab.service"
	start := time.Now()
	systemctl("start", build) // a oneshot: returns when docker build and push are done
	t.Logf("build unit: %v", time.Since(start).Round(time.Millisecond))
	if got := systemctl("is-active", build); got != "active" {
		t.Errorf("%s is %s after the build, want active (RemainAfterExit)", build, got)
	}

	run := "hello.web.0123456789ab@1.service"
	systemctl("start", run)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var body string
	for {
		body, err = answer(ctx, m)
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if want := "hello from " + rev + " (instance 1)\n"; body != want {
		t.Fatalf("GET hello: %q, %v; want %q\n%s", body, err, want, m.Journal(run))
	}

	systemctl("stop", run)
	// A stop is not a failure: the app exits 0 on SIGTERM, and 143 would
	// count as success too (SuccessExitStatus).
	if out, _ := m.Systemctl("is-failed", run); out == "failed" {
		t.Errorf("%s failed on stop:\n%s", run, m.Journal(run))
	}
}

// answer asks the running container over its dynamic host port.
func answer(ctx context.Context, m *sandbox.Machine) (string, error) {
	res, err := m.Exec(ctx, "/usr/bin/docker", "port", "hello.web.0123456789ab.1", "8080/tcp")
	if err != nil || res.Code != 0 {
		return "", fmt.Errorf("docker port: %v %s", err, res)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), "\n")
	port := line[strings.LastIndexByte(line, ':')+1:]
	code, body, err := m.HTTPGet("127.0.0.1:" + port + "/")
	if err == nil && code != 200 {
		err = fmt.Errorf("status %d", code)
	}
	return body, err
}
