// Package examples holds nap's example apps (each its own module, built by
// docker from its directory alone). Its test builds and runs them the way a
// deploy does: with the units nap renders, under systemd, on a simulated
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
	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/unit"
)

const rev = "0123456789abcdef0123456789abcdef01234567"

// TestExamplesUnderSystemd: for each example, the rendered build unit builds
// it from its multi-stage Dockerfile (FROM golang:1.26) and pushes it; the
// rendered run units pull and run it. hello answers with its release on a
// dynamic host port; worker runs web and, from the same image, the worker
// process with nap.yaml's command. systemctl stop is not a failure.
func TestExamplesUnderSystemd(t *testing.T) {
	state := t.TempDir()
	m := sandbox.NewMachine(t, sandbox.Options{Name: "examples", GoImage: true, Registry: true})
	naptest.InstallNapRender(t, m)
	m.Share(t, state)

	t.Run("hello", func(t *testing.T) {
		deploy(t, m, state, "hello")
		run := "hello.web.0123456789ab@1.service"
		start(t, m, run)
		if body, err := answer(t, m, "hello.web.0123456789ab.1"); body != "hello from "+rev+" (instance 1)\n" {
			t.Fatalf("GET hello: %q, %v\n%s", body, err, m.Journal(run))
		}
		stop(t, m, run)
	})
	t.Run("worker", func(t *testing.T) {
		deploy(t, m, state, "worker")
		web, worker := "worker.web.0123456789ab@1.service", "worker.worker.0123456789ab@1.service"
		start(t, m, web)
		start(t, m, worker)
		if body, err := answer(t, m, "worker.web.0123456789ab.1"); body != "web "+rev+": request 1\n" {
			t.Fatalf("GET web: %q, %v\n%s", body, err, m.Journal(web))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := m.Exec(ctx, "/usr/bin/docker", "inspect", "-f", "{{.State.Running}} {{.Path}} {{json .Args}}", "worker.worker.0123456789ab.1")
		if got := strings.TrimSpace(string(res.Stdout)); err != nil || got != `true /app ["-worker","-every","10s"]` {
			t.Errorf("worker container: %q, %v; want it running nap.yaml's command\n%s", got, err, m.Journal(worker))
		}
		stop(t, m, worker)
		stop(t, m, web)
	})
}

// deploy copies example app's files to where its build unit reads them,
// renders its units (target systemd), installs them and runs the build.
func deploy(t *testing.T, m *sandbox.Machine, state, app string) {
	t.Helper()
	src := filepath.Join(state, app, "src", rev)
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	var napYAML []byte
	for _, name := range []string{"Dockerfile", "go.mod", "main.go", "nap.yaml"} {
		b, err := os.ReadFile(filepath.Join(app, name))
		if name == "nap.yaml" && os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if name == "nap.yaml" {
			napYAML = b
		}
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := render.ParseConfig([]byte("target: systemd\nstate: "+state+"\n"), napYAML)
	if err != nil {
		t.Fatal(err)
	}
	img, err := dockerfile.ParseFile(filepath.Join(src, "Dockerfile"), dockerfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := render.Render(img, cfg, render.Release{App: app, Rev: rev})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := unit.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(m.Path("/etc/systemd/system/"+f.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	systemctl(t, m, "daemon-reload")
	build := app + ".build.0123456789ab.service"
	began := time.Now()
	systemctl(t, m, "start", build) // a oneshot: returns when docker build and push are done
	t.Logf("%s: %v", build, time.Since(began).Round(time.Millisecond))
	if got := systemctl(t, m, "is-active", build); got != "active" {
		t.Errorf("%s is %s after the build, want active (RemainAfterExit)", build, got)
	}
}

func systemctl(t *testing.T, m *sandbox.Machine, args ...string) string {
	t.Helper()
	out, err := m.Systemctl(args...)
	if err != nil {
		t.Fatalf("systemctl %s: %v\n%s", strings.Join(args, " "), err, m.Journal(args[len(args)-1]))
	}
	return out
}

func start(t *testing.T, m *sandbox.Machine, unit string) { t.Helper(); systemctl(t, m, "start", unit) }

// stop stops unit, which must not count as a failure: the examples exit 0
// on SIGTERM, and 143 would count as success too (SuccessExitStatus).
func stop(t *testing.T, m *sandbox.Machine, unit string) {
	t.Helper()
	systemctl(t, m, "stop", unit)
	if out, _ := m.Systemctl("is-failed", unit); out == "failed" {
		t.Errorf("%s failed on stop:\n%s", unit, m.Journal(unit))
	}
}

// answer asks the running container over its dynamic host port, until it
// answers or a minute has passed.
func answer(t *testing.T, m *sandbox.Machine, container string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		body, err := ask(ctx, m, container)
		if err == nil || ctx.Err() != nil {
			return body, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ask(ctx context.Context, m *sandbox.Machine, container string) (string, error) {
	res, err := m.Exec(ctx, "/usr/bin/docker", "port", container, "8080/tcp")
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

func TestMain(m *testing.M) { os.Exit(naptest.Main(m)) }
