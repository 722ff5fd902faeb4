package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/internal/sh"
)

// app is examples/hello in a repository on the test's side, its Dockerfile
// shipping a binary built here.
type app struct {
	*naptest.AppRepo
}

func newApp(t testing.TB, dir string) *app {
	return &app{naptest.NewAppRepo(t, dir, naptest.HelloDir)}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// scratchDockerfile ships a binary built outside: compiling Go inside a
// container on 2 shared cores takes minutes, building FROM scratch a second.
const scratchDockerfile = "FROM scratch\nCOPY hello /hello\nEXPOSE 8080\nCMD [\"/hello\"]\n"

// commit writes files (path → content) into the work tree, builds the
// static binary the Dockerfile copies, commits, pushes to the bare
// repository and returns the commit id.
func (a *app) commit(t testing.TB, msg string, files map[string]string) string {
	t.Helper()
	all := map[string]string{"Dockerfile": scratchDockerfile}
	for p, c := range files {
		all[p] = c
	}
	for p, c := range all {
		must(t, os.WriteFile(filepath.Join(a.Work, p), []byte(c), 0o644))
	}
	must(t, os.WriteFile(filepath.Join(a.Work, "hello"), naptest.Build(t, a.Work), 0o755))
	return a.For(t).Commit(msg, nil)
}

// site is one simulated machine running nap-render with the systemd target,
// as root with the operator config in the shared directory.
type site struct {
	*naptest.Host
	config string
	app    *app
	env    []string // added to nap-render's environment
	v3     bool     // announcements are read over etcd's v3 API
}

// For is the same site driven by t, a subtest.
func (s *site) For(t testing.TB) *site {
	c := *s
	c.Host = s.Host.For(t)
	return &c
}

func (s *site) nap(args ...string) (string, int) {
	s.T().Helper()
	argv := append(append([]string{naptest.Bin}, args...), "--config", s.config)
	res := s.Try("root", s.env, argv...)
	out := string(res.Stdout) + string(res.Stderr)
	s.T().Logf("nap-render %s: exit %d\n%s", strings.Join(args, " "), res.Code, out)
	return out, res.Code
}

// commit is app.commit driven by the site's test.
func (s *site) commit(msg string, files map[string]string) string {
	s.T().Helper()
	return s.app.commit(s.T(), msg, files)
}

func (s *site) deploy(rev string) (string, int) {
	return s.nap("deploy", "hello", "--rev", rev, "--git-dir", s.app.Bare)
}

// sh runs script as root and returns its trimmed output, whatever its exit.
func (s *site) sh(script string) string {
	s.T().Helper()
	return strings.TrimSpace(string(s.Try("root", nil, "sh", "-c", script).Stdout))
}

func (s *site) current() string {
	return filepath.Base(s.sh("readlink /var/lib/nap/hello/current"))
}

// etcd is a client for the API the site's operator config announces on.
func (s *site) etcd() *sandbox.Etcd {
	if s.v3 {
		return s.M.Etcd().V3()
	}
	return s.M.Etcd().V2()
}

// get resolves web instance 1's endpoint from etcd, then asks it.
func (s *site) get() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kvs, err := s.etcd().List(ctx, "/services/hello/web")
	if err != nil {
		return "", err
	}
	if len(kvs) == 0 {
		return "", fmt.Errorf("no endpoint announced")
	}
	var a naptest.Announcement
	if err := json.Unmarshal([]byte(kvs[0].Value), &a); err != nil {
		return "", err
	}
	return s.Get(a)
}

// client asks the announced instances in turn, resolving etcd before every
// request, every 50 ms, without retries: what a router in front of the
// app would see.
type client struct {
	halt     chan struct{}
	done     chan struct{}
	requests int
	failures int
}

func (s *site) startClient() *client {
	c := &client{halt: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for i := 0; ; i++ {
			select {
			case <-c.halt:
				return
			case <-time.After(50 * time.Millisecond):
			}
			c.requests++
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			kvs, err := s.M.Etcd().V2().List(ctx, "/services/hello/web")
			cancel()
			if err != nil || len(kvs) == 0 {
				c.failures++
				continue
			}
			var a naptest.Announcement
			json.Unmarshal([]byte(kvs[i%len(kvs)].Value), &a)
			if _, err := s.Get(a); err != nil {
				c.failures++
			}
		}
	}()
	return c
}

func (c *client) stop() (requests, failures int) {
	close(c.halt)
	<-c.done
	return c.requests, c.failures
}

// check stops the client and wants no failed request.
func (c *client) check(t *testing.T, during string) {
	t.Helper()
	requests, failures := c.stop()
	t.Logf("client during %s: %d requests, %d failed", during, requests, failures)
	if failures != 0 {
		t.Errorf("%d of %d requests failed during %s", failures, requests, during)
	}
}

// newSite starts a machine (dockerd, the registry, etcd with v2) with
// nap-render and operatorConfig, for the app in dir.
func newSite(t *testing.T, dir string) *site {
	must(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(operatorConfig), 0o644))
	m := sandbox.NewMachine(t, sandbox.Options{Docker: true, Registry: true, EtcdV2: true})
	return &site{Host: naptest.New(t, m), config: filepath.Join(dir, "config.yaml"), app: newApp(t, dir)}
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
	t.Parallel() // each on machines of its own: the package is make test's longest
	dir := t.TempDir()
	s := newSite(t, dir)
	m := s.M

	rev1 := s.commit("one", nil)
	t.Run("deploy", func(t *testing.T) {
		s := s.For(t)
		out, code := s.deploy(rev1)
		if code != 0 {
			t.Fatalf("deploy: exit %d", code)
		}
		for _, want := range []string{
			"-----> Building " + rev1[:12],
			"-----> " + rev1 + ": digest: sha256:", // the build's last line reaches the pusher
			"-----> Switched hello to " + rev1[:12],
			"-----> hello/web/" + rev1[:12] + ".1 127.0.0.1:",
		} {
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
		s := s.For(t)
		unit := "hello.web." + rev1[:12] + "@1.service"
		before := s.sh("systemctl show -p InvocationID --value " + unit)
		if _, code := s.deploy(rev1); code != 0 {
			t.Fatalf("redeploy: exit %d", code)
		}
		if after := s.sh("systemctl show -p InvocationID --value " + unit); after != before || before == "" {
			t.Errorf("InvocationID %q → %q: the instance restarted", before, after)
		}
	})

	rev2 := s.commit("two", map[string]string{"main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello again from %s`, 1)})
	t.Run("redeploy a change while a client asks every 50ms", func(t *testing.T) {
		s := s.For(t)
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

	t.Run("a changed operator config: the same revision released again, blue/green", func(t *testing.T) {
		s := s.For(t)
		orig := readFile(t, s.config)
		must(t, os.WriteFile(s.config, []byte(strings.Replace(orig, "ttl: 15", "ttl: 20", 1)), 0o644))
		c := s.startClient()
		out, code := s.deploy(rev2)
		c.check(t, "the switch to the new units")
		id := rev2[:12] + "-2"
		if code != 0 || !strings.Contains(out, "releasing them as "+id) || s.current() != rev2+"-2" {
			t.Fatalf("deploy with a changed config: exit %d, current %s; want release %s", code, s.current(), id)
		}
		if got := s.sh("systemctl show -p ExecStart hello.web." + id + ".discovery@1.service"); !strings.Contains(got, "--ttl 20 ") {
			t.Errorf("the running discovery unit is %s; want the new --ttl 20", got)
		}
		// The old config again: its units are the stored release R, which
		// comes back the same way.
		must(t, os.WriteFile(s.config, []byte(orig), 0o644))
		c = s.startClient()
		out, code = s.deploy(rev2)
		c.check(t, "the switch back")
		if code != 0 || strings.Contains(out, "releasing them as") || s.current() != rev2 {
			t.Errorf("deploy with the old config: exit %d, current %s; want %s again", code, s.current(), rev2[:12])
		}
		if got := s.sh("systemctl list-units --all --plain --no-legend 'hello.web." + id + "*' | wc -l"); got != "0" {
			t.Errorf("%s units of %s still loaded", got, id)
		}
	})

	rev3 := s.commit("crash", map[string]string{"main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), "func main() {", "func main() {\n\tos.Exit(1)", 1)})
	t.Run("a release whose container exits 1", func(t *testing.T) {
		s := s.For(t)
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

	// systemctl missing, failing or hanging while rev2 runs: each a whole
	// deploy of rev3 (built above, so no build runs again), which must be
	// refused with exit 3 naming the step and the command, and leave rev2
	// current and answering.
	unit3 := "hello.web." + rev3[:12] + "@1.service"
	faults := toolFaults(t, dir, "systemctl", "/usr/bin/systemctl", "hello.web."+rev3[:12]+"@", "Failed to start "+unit3+": Access denied")
	for _, f := range []fault{
		{"systemctl missing", faults.missing, nil, []string{"build: systemctl is not installed"}},
		{"systemctl failing on start", faults.failing, nil, []string{"start: systemctl start --no-block " + unit3, "Failed to start " + unit3 + ": Access denied"}},
		{"systemctl hanging on start", faults.hanging, []string{"--tool-timeout", "5s"}, []string{"start: systemctl start --no-block " + unit3, "timed out"}},
	} {
		t.Run(f.name, func(t *testing.T) {
			s := s.For(t)
			s.refused(t, f, rev3, rev2)
			pattern := "'hello.web." + rev3[:12] + "*'"
			if got := s.sh("systemctl list-units --all --plain --no-legend " + pattern + " | wc -l; ls /etc/systemd/system | grep -c '^hello.web." + rev3[:12] + "' || true"); got != "0\n0" {
				t.Errorf("units of the refused release left (loaded, files): %q", got)
			}
		})
	}

	// systemctl hanging on start (after starting the units) and then
	// failing to disable and stop them: the deploy is refused for the
	// start, says what it could not clean up, and the next deploy removes
	// what is left.
	t.Run("systemctl hanging on start, then failing the clean-up", func(t *testing.T) {
		s := s.For(t)
		p := filepath.Join(dir, "failing-cleanup")
		must(t, os.MkdirAll(p, 0o755))
		must(t, os.WriteFile(filepath.Join(p, "systemctl"), []byte("#!/bin/sh\n"+
			"case \"$*\" in *hello.web."+rev3[:12]+"*)\n"+
			"\tcase \"$1\" in\n"+
			"\tstart) /usr/bin/systemctl \"$@\"; exec sleep 600;;\n"+
			"\tstop|disable) echo \"Failed to $1 units: Access denied\" >&2; exit 4;;\n"+
			"\tesac;;\n"+
			"esac\n"+
			"exec /usr/bin/systemctl \"$@\"\n"), 0o755))
		s.refused(t, fault{path: p + ":" + systemPath, flags: []string{"--tool-timeout", "5s"}, want: []string{
			"start: systemctl start --no-block " + unit3, "timed out",
			"Could not stop everything of " + rev3[:12],
			"it is removed in the background",
		}}, rev3, rev2)
		if got := s.sh("ls /etc/systemd/system | grep -c '^hello.web." + rev3[:12] + "' || true"); got == "0" {
			t.Fatalf("no unit file of the refused release left: the clean-up did not fail")
		}
		out, code := s.deploy(rev2)
		if code != 0 || !strings.Contains(out, "a deploy left behind") && !strings.Contains(out, "which an interrupted deploy left unfinished") {
			t.Errorf("the next deploy: exit %d, want 0 and the left units removed:\n%s", code, out)
		}
		pattern := "'hello.web." + rev3[:12] + "*'"
		if got := s.sh("systemctl list-units --all --plain --no-legend " + pattern + " | wc -l; ls /etc/systemd/system | grep -c '^hello.web." + rev3[:12] + "' || true"); got != "0\n0" {
			t.Errorf("units of the refused release left after the next deploy (loaded, files): %q", got)
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, rev2) {
			t.Errorf("rev2 stopped answering: %q %v", body, err)
		}
	})

	t.Run("concurrent deploy is refused at once", func(t *testing.T) {
		s := s.For(t)
		holder := make(chan error, 1)
		go func() {
			// killing nsenter would not end the command inside: it ends itself
			_, err := s.M.Exec(context.Background(), "flock", "/var/lib/nap/hello/lock", "sleep", "5")
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

	t.Run("full disk on the state dir", func(t *testing.T) {
		s := s.For(t)
		big := s.commit("big", map[string]string{"big.bin": strings.Repeat("x", 256<<10)})
		s.sh("mount -t tmpfs -o size=64k tmpfs /var/lib/nap/hello/src")
		defer s.sh("umount /var/lib/nap/hello/src")
		out, code := s.deploy(big)
		if code != 3 || !strings.Contains(out, "export:") {
			t.Errorf("deploy onto a full disk: exit %d; want 3 and the export step named", code)
		}
		if s.current() != rev2 {
			t.Errorf("current = %s, want %s", s.current(), rev2)
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, rev2) {
			t.Errorf("the running release stopped answering: %q %v", body, err)
		}
		if got := s.sh("ls -A /var/lib/nap/hello/src; ls /var/lib/nap/hello/releases | grep -c " + big[:12] + " || true"); got != "0" {
			t.Errorf("half-written state left behind (src entries, then releases named %s): %q", big[:12], got)
		}
	})

	rev4 := s.commit("four", map[string]string{"main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello four from %s`, 1)})
	t.Run("failed build, then the same revision after a fix", func(t *testing.T) {
		s := s.For(t)
		s.sh("systemctl stop docker-registry.service")
		out, code := s.deploy(rev4)
		if code != 3 || !strings.Contains(out, "build: hello.build."+rev4[:12]+".service failed: the registry 127.0.0.1:5000 does not answer") {
			t.Errorf("deploy with the registry down: exit %d; want 3, the build step and the registry named", code)
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
		s := s.For(t)
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
		if out, code := s.nap("plan", "hello", "--rev", rev4, "--git-dir", s.app.Bare); code != 4 || !strings.Contains(out, "start hello.web."+rev4[:12]+"@1.service") {
			t.Errorf("plan --rev: exit %d, want 4 with the start action", code)
		}
	})

	rev5 := s.commit("five", map[string]string{"main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello five from %s`, 1)})
	t.Run("kill -9 midway, then a fresh deploy", func(t *testing.T) {
		s := s.For(t)
		before := s.current()
		// killed once its instances are starting: after the release is
		// written, before the switch
		script := naptest.Bin + " deploy hello --rev " + rev5 + " --git-dir " + s.app.Bare + " --config " + s.config + " >/tmp/killed.log 2>&1 & pid=$!; " +
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
		s := s.For(t)
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

	t.Run("registry client reads an OCI image", func(t *testing.T) { testRegistryOCI(t, m) })
	t.Run("registry client reads over https, verifying the certificate", func(t *testing.T) { testRegistryTLS(t, m) })

	// The machine's etcd serves v3 too: the same app, destroyed above,
	// deployed and redeployed announcing over v3.
	t.Run("etcd v3: deploy and redeploy", func(t *testing.T) {
		s := s.For(t)
		v3config := filepath.Join(dir, "config-v3.yaml")
		must(t, os.WriteFile(v3config, []byte(strings.Replace(operatorConfig, "etcd: v2", "etcd: v3", 1)), 0o644))
		s.config, s.v3 = v3config, true
		for _, step := range []struct {
			rev, answer string
		}{{rev4, "hello four from " + rev4}, {rev5, "hello five from " + rev5}} {
			if _, code := s.deploy(step.rev); code != 0 {
				t.Fatalf("deploy %s: exit %d", step.rev[:12], code)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			kvs, err := s.M.Etcd().V3().List(ctx, "/services/hello/")
			cancel()
			must(t, err)
			if len(kvs) != 1 || kvs[0].Key != "/services/hello/web/"+step.rev[:12]+".1" {
				t.Fatalf("v3 keys under /services/hello/ = %v; want the one instance of %s", kvs, step.rev[:12])
			}
			var a struct {
				Host    string         `json:"host"`
				Port    int            `json:"port"`
				Ports   map[string]int `json:"ports"`
				Release string         `json:"release"`
			}
			if err := json.Unmarshal([]byte(kvs[0].Value), &a); err != nil || a.Host != "127.0.0.1" || a.Port == 0 || len(a.Ports) != 1 || a.Ports["8080/tcp"] != a.Port || a.Release != step.rev {
				t.Errorf("announcement %s (%v); want host 127.0.0.1, a port, ports {8080/tcp: port}, release %s", kvs[0].Value, err, step.rev)
			}
			if kvs[0].TTL <= 0 {
				t.Errorf("the key has no lease")
			}
			if body, err := s.get(); err != nil || !strings.Contains(body, step.answer) {
				t.Errorf("GET = %q, %v; want %q", body, err, step.answer)
			}
			if s.current() != step.rev {
				t.Errorf("current = %s", s.current())
			}
		}
		if _, code := s.nap("destroy", "hello"); code != 0 {
			t.Fatalf("destroy: exit %d", code)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if kvs, err := s.M.Etcd().V3().List(ctx, "/services/hello/"); err != nil || len(kvs) != 0 {
			t.Errorf("after destroy, v3 keys = %v, %v", kvs, err)
		}
	})
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	must(t, err)
	return string(b)
}

// fault is a broken tool a deploy meets: the PATH that breaks it, extra
// flags, and what the refusal must say.
type fault struct {
	name, path  string
	flags, want []string
}

// refused deploys rev with f's PATH and asserts the deploy is refused with
// exit 3 saying f.want, and cur stays current and answering.
func (s *site) refused(t *testing.T, f fault, rev, cur string) {
	t.Helper()
	env := s.env
	defer func() { s.env = env }()
	s.env = []string{"PATH=" + f.path}
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PATH=") {
			s.env = append(s.env, kv)
		}
	}
	out, code := s.nap(append([]string{"deploy", "hello", "--rev", rev, "--git-dir", s.app.Bare}, f.flags...)...)
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	for _, want := range f.want {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if s.current() != cur {
		t.Errorf("current = %s, want %s", s.current(), cur)
	}
	if body, err := s.get(); err != nil || !strings.Contains(body, strings.Split(cur, "-")[0]) { // the key's revision
		t.Errorf("the running release stopped answering: %q %v", body, err)
	}
}

// faultPaths are PATHs for nap-render: one without the tool (systemctl or
// fleetctl), two whose tool fails or hangs on starting the units matching
// a glob and passes everything else to the real one.
type faultPaths struct{ missing, failing, hanging string }

const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func toolFaults(t *testing.T, dir, tool, real, units, failure string) faultPaths {
	f := faultPaths{
		missing: filepath.Join(dir, "no-"+tool),
		failing: filepath.Join(dir, "failing-"+tool),
		hanging: filepath.Join(dir, "hanging-"+tool),
	}
	must(t, os.MkdirAll(f.missing, 0o755))
	for _, d := range []string{"/usr/local/bin", "/usr/sbin", "/usr/bin"} {
		es, _ := os.ReadDir(d)
		for _, e := range es {
			if e.Name() != tool {
				os.Symlink(filepath.Join(d, e.Name()), filepath.Join(f.missing, e.Name()))
			}
		}
	}
	for p, onStart := range map[string]string{
		f.failing: "echo " + sh.Quote(failure) + " >&2; exit 4",
		// starts them for real, then never returns
		f.hanging: real + " \"$@\"; exec sleep 600",
	} {
		must(t, os.MkdirAll(p, 0o755))
		script := "#!/bin/sh\nif [ \"$1\" = start ]; then\n\tcase \"$*\" in *" + units + "*) " + onStart + ";; esac\nfi\nexec " + real + " \"$@\"\n"
		must(t, os.WriteFile(filepath.Join(p, tool), []byte(script), 0o755))
	}
	f.failing += ":" + systemPath
	f.hanging += ":" + systemPath
	return f
}
