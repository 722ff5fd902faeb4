package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/sandbox"
)

// app is a git repository (work tree + bare repository) in a shared
// directory, holding a copy of examples/hello.
type app struct {
	t          *testing.T
	work, bare string
}

func newApp(t *testing.T, dir string) *app {
	a := &app{t: t, work: filepath.Join(dir, "work"), bare: filepath.Join(dir, "hello.git")}
	must(t, exec.Command("cp", "-r", "../examples/hello", a.work).Run())
	a.git(dir, "init", "-q", "--bare", a.bare)
	a.git(a.work, "init", "-q")
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (a *app) git(dir string, args ...string) string {
	a.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
	out, err := cmd.CombinedOutput()
	if err != nil {
		a.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// scratchDockerfile ships a binary built outside: compiling Go inside a
// container on 2 shared cores takes minutes, building FROM scratch a second.
const scratchDockerfile = "FROM scratch\nCOPY hello /hello\nEXPOSE 8080\nCMD [\"/hello\"]\n"

// commit writes files (path → content) into the work tree, builds the
// static binary the Dockerfile copies, commits, pushes to the bare
// repository and returns the commit id.
func (a *app) commit(msg string, files map[string]string) string {
	files2 := map[string]string{"Dockerfile": scratchDockerfile}
	for p, c := range files {
		files2[p] = c
	}
	for p, c := range files2 {
		must(a.t, os.WriteFile(filepath.Join(a.work, p), []byte(c), 0o644))
	}
	build := exec.Command("go", "build", "-trimpath", "-o", "hello", ".")
	build.Dir = a.work
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		a.t.Fatalf("go build hello: %v\n%s", err, out)
	}
	a.git(a.work, "add", "-A")
	a.git(a.work, "commit", "-q", "--allow-empty", "-m", msg)
	rev := a.git(a.work, "rev-parse", "HEAD")
	a.git(a.work, "push", "-q", "-f", a.bare, "HEAD:refs/heads/master")
	return rev
}

// site is one simulated machine running nap-render with the systemd target.
type site struct {
	t      *testing.T
	m      *sandbox.Machine
	bin    string
	config string
	app    *app
	env    []string // added to nap-render's environment
}

func (s *site) nap(args ...string) (string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	argv := append([]string{s.bin}, args...)
	argv = append(argv, "--config", s.config)
	res, err := s.m.Run(ctx, sandbox.Cmd{Argv: argv, Env: s.env})
	if err != nil {
		s.t.Fatalf("nap-render %v: %v", args, err)
	}
	out := string(res.Stdout) + string(res.Stderr)
	s.t.Logf("nap-render %s: exit %d\n%s", strings.Join(args, " "), res.Code, out)
	return out, res.Code
}

func (s *site) deploy(rev string) (string, int) {
	return s.nap("deploy", "hello", "--rev", rev, "--git-dir", s.app.bare)
}

func (s *site) sh(script string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.m.Exec(ctx, "sh", "-c", script)
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.TrimSpace(string(res.Stdout))
}

func (s *site) current() string {
	return filepath.Base(s.sh("readlink /var/lib/nap/hello/current"))
}

// get resolves web instance 1's endpoint from etcd, then asks it.
func (s *site) get() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kvs, err := s.m.Etcd().V2().List(ctx, "/services/hello/web")
	if err != nil {
		return "", err
	}
	if len(kvs) == 0 {
		return "", fmt.Errorf("no endpoint announced")
	}
	var a struct {
		Host string
		Port int
	}
	if err := json.Unmarshal([]byte(kvs[0].Value), &a); err != nil {
		return "", err
	}
	code, body, err := s.m.HTTPGet(fmt.Sprintf("%s:%d/", a.Host, a.Port))
	if err != nil {
		return "", err
	}
	if code != 200 {
		return "", fmt.Errorf("status %d", code)
	}
	return body, nil
}

const operatorConfig = `target: systemd
unit_dir: /etc/systemd/system
drain: 2s
keep_releases: 3
discovery: {etcd: v2, host: 127.0.0.1, ttl: 15}
`

// TestSystemdMachine deploys examples/hello for real — dockerd, the
// registry, etcd and systemd on one simulated machine — through every step
// of the list, sharing the machine.
func TestSystemdMachine(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "nap-render")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/nap-render").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	must(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(operatorConfig), 0o644))
	m := sandbox.NewMachine(t, sandbox.Options{Docker: true, Registry: true, EtcdV2: true})
	s := &site{t: t, m: m, bin: bin, config: filepath.Join(dir, "config.yaml"), app: newApp(t, dir)}

	rev1 := s.app.commit("one", nil)
	t.Run("deploy", func(t *testing.T) {
		s.t = t
		out, code := s.deploy(rev1)
		if code != 0 {
			t.Fatalf("deploy: exit %d", code)
		}
		for _, want := range []string{"-----> Building " + rev1[:12], "-----> Switched hello to " + rev1[:12], "-----> hello/web/" + rev1[:12] + ".1 127.0.0.1:"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, "hello from "+rev1) {
			t.Errorf("GET = %q, %v", body, err)
		}
		if s.current() != rev1 {
			t.Errorf("current = %s", s.current())
		}
		if got := s.sh("systemctl is-enabled hello.web." + rev1[:12] + "@1.service"); got != "enabled" {
			t.Errorf("run unit is-enabled = %q", got)
		}
	})

	t.Run("redeploy unchanged does not restart", func(t *testing.T) {
		s.t = t
		unit := "hello.web." + rev1[:12] + "@1.service"
		before := s.sh("systemctl show -p InvocationID --value " + unit)
		if _, code := s.deploy(rev1); code != 0 {
			t.Fatalf("redeploy: exit %d", code)
		}
		if after := s.sh("systemctl show -p InvocationID --value " + unit); after != before || before == "" {
			t.Errorf("InvocationID %q → %q: the instance restarted", before, after)
		}
	})

	rev2 := s.app.commit("two", map[string]string{"main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello again from %s`, 1)})
	t.Run("redeploy a change while a client asks every 50ms", func(t *testing.T) {
		s.t = t
		var stop atomic.Bool
		var mu sync.Mutex
		var failures []string
		seen := map[string]bool{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() {
				body, err := s.get()
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					seen[strings.Fields(body)[0]+" "+strings.Fields(body)[1]] = true
				}
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
		}()
		_, code := s.deploy(rev2)
		time.Sleep(500 * time.Millisecond)
		stop.Store(true)
		<-done
		if code != 0 {
			t.Fatalf("deploy: exit %d", code)
		}
		if len(failures) > 0 {
			t.Errorf("%d failed requests during the switch, first: %s", len(failures), failures[0])
		}
		if !seen["hello from"] || !seen["hello again"] {
			t.Errorf("answers seen: %v; want both releases", seen)
		}
		if got := s.sh("systemctl list-units --all --plain --no-legend 'hello.web." + rev1[:12] + "*' | wc -l"); got != "0" {
			t.Errorf("old release's units still loaded: %s", got)
		}
	})

	rev3 := s.app.commit("crash", map[string]string{"main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), "func main() {", "func main() {\n\tos.Exit(1)", 1)})
	t.Run("a release whose container exits 1", func(t *testing.T) {
		s.t = t
		out, code := s.deploy(rev3)
		if code == 0 {
			t.Fatal("deploy of a crashing release succeeded")
		}
		if !strings.Contains(out, "start: hello.web."+rev3[:12]+"@1.service") {
			t.Errorf("the error does not name the step and unit")
		}
		if s.current() != rev2 {
			t.Errorf("current = %s, want %s", s.current(), rev2)
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, rev2) {
			t.Errorf("old release stopped answering: %q %v", body, err)
		}
	})

	t.Run("concurrent deploy is refused at once", func(t *testing.T) {
		s.t = t
		holder := make(chan error, 1)
		go func() {
			// killing nsenter would not end the command inside: it ends itself
			_, err := s.m.Exec(context.Background(), "flock", "/var/lib/nap/hello/lock", "sleep", "5")
			holder <- err
		}()
		time.Sleep(time.Second)
		start := time.Now()
		out, code := s.deploy(rev2)
		if code != 3 || !strings.Contains(out, "another deploy") {
			t.Errorf("deploy while locked: exit %d; want 3 and a message", code)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("refusal took %v", d)
		}
		<-holder
	})

	rev4 := s.app.commit("four", map[string]string{"main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello four from %s`, 1)})
	t.Run("failed build, then the same revision after a fix", func(t *testing.T) {
		s.t = t
		s.sh("systemctl stop docker-registry.service")
		out, code := s.deploy(rev4)
		if code != 1 || !strings.Contains(out, "build:") {
			t.Errorf("deploy with the registry down: exit %d; want 1 and the build step named", code)
		}
		if s.current() != rev2 {
			t.Errorf("current = %s", s.current())
		}
		s.sh("systemctl start docker-registry.service")
		if _, code := s.deploy(rev4); code != 0 {
			t.Fatalf("deploy of the same revision after the fix: exit %d", code)
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, "hello four") {
			t.Errorf("GET = %q, %v", body, err)
		}
	})

	t.Run("rollback", func(t *testing.T) {
		s.t = t
		if _, code := s.nap("rollback", "hello"); code != 0 {
			t.Fatalf("rollback: exit %d", code)
		}
		if s.current() != rev2 {
			t.Errorf("current = %s, want %s", s.current(), rev2)
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, rev2) {
			t.Errorf("GET = %q, %v", body, err)
		}
		out, code := s.nap("status", "hello", "--json")
		if code != 0 || !strings.Contains(out, `"current": "`+rev2) {
			t.Errorf("status --json: exit %d", code)
		}
		if _, code := s.nap("plan", "hello"); code != 0 {
			t.Errorf("plan right after a rollback: exit %d, want 0 (nothing to do)", code)
		}
		if out, code := s.nap("plan", "hello", "--rev", rev4, "--git-dir", s.app.bare); code != 4 || !strings.Contains(out, "start hello.web."+rev4[:12]+"@1.service") {
			t.Errorf("plan --rev: exit %d, want 4 with the start action", code)
		}
	})

	rev5 := s.app.commit("five", map[string]string{"main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello five from %s`, 1)})
	t.Run("kill -9 midway, then a fresh deploy", func(t *testing.T) {
		s.t = t
		before := s.current()
		// killed once its instances are starting: after the release is
		// written, before the switch
		script := s.bin + " deploy hello --rev " + rev5 + " --git-dir " + s.app.bare + " --config " + s.config + " >/tmp/killed.log 2>&1 & pid=$!; " +
			"for i in $(seq 600); do grep -q 'Starting " + rev5[:12] + "' /tmp/killed.log && break; sleep 0.1; done; kill -9 $pid; cat /tmp/killed.log"
		t.Logf("killed deploy:\n%s", s.sh(script))
		if s.current() != before {
			t.Errorf("current = %s after a killed deploy, want %s", s.current(), before)
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, before) {
			t.Errorf("the running release stopped answering: %q %v", body, err)
		}
		if _, code := s.deploy(rev5); code != 0 {
			t.Fatalf("fresh deploy after kill -9: exit %d", code)
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, "hello five") {
			t.Errorf("GET = %q, %v", body, err)
		}
	})

	t.Run("destroy", func(t *testing.T) {
		s.t = t
		if _, code := s.nap("destroy", "hello"); code != 0 {
			t.Fatalf("destroy: exit %d", code)
		}
		if got := s.sh("systemctl list-units --all --plain --no-legend 'hello.*' | wc -l"); got != "0" {
			t.Errorf("%s units left", got)
		}
		if got := s.sh("ls /etc/systemd/system | grep -c '^hello\\.' || true"); got != "0" {
			t.Errorf("%s unit files left", got)
		}
		if got := s.sh("docker ps -aq | wc -l"); got != "0" {
			t.Errorf("%s containers left", got)
		}
		if got := s.sh("ls /var/lib/nap/hello"); got != "lock" {
			t.Errorf("state left: %q", got)
		}
		if _, err := s.get(); err == nil {
			t.Errorf("an endpoint is still announced")
		}
	})
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	must(t, err)
	return string(b)
}
