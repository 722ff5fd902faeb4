package deploy_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/sandbox"
)

// TestCrashConsistency kills nap-render deploy with SIGKILL at the step
// boundaries DESIGN.md's "Crash consistency" names, on one machine, and
// checks after each that the app ends — without any other nap command
// having run — in one of the two allowed states: the previous release
// serving alone, or the new one; no stale key, no intent left, the killed
// release marked failed. Then a power cut (every nap process killed) at
// "started" followed by a boot, and a registry outage during a build.
func TestCrashConsistency(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "nap-render")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/nap-render").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	must(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(operatorConfig), 0o644))
	m := sandbox.NewMachine(t, sandbox.Options{Docker: true, Registry: true, EtcdV2: true})
	s := &site{t: t, m: m, bin: bin, config: filepath.Join(dir, "config.yaml"), app: newApp(t, dir)}
	hello := readFile(t, "../examples/hello/main.go")
	variant := func(greeting string) map[string]string {
		return map[string]string{"main.go": strings.Replace(hello, `"hello from %s`, `"`+greeting+` from %s`, 1)}
	}

	rev1 := s.app.commit("one", nil)
	if _, code := s.deploy(rev1); code != 0 {
		t.Fatalf("first deploy: exit %d", code)
	}

	// killAt starts a deploy of rev, waits until ready() holds, kills it
	// (and, with power, every nap process: the guard too) and returns what
	// the deploy printed.
	killAt := func(t *testing.T, rev, what string, ready func() bool, power bool) {
		t.Helper()
		done := make(chan string, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			res, _ := m.Run(ctx, sandbox.Cmd{Argv: []string{bin, "deploy", "hello", "--rev", rev, "--git-dir", s.app.bare, "--config", s.config}})
			done <- string(res.Stdout) + string(res.Stderr)
		}()
		deadline := time.Now().Add(3 * time.Minute)
		for !ready() {
			select {
			case out := <-done:
				t.Fatalf("the deploy ended before %s:\n%s", what, out)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("the deploy never reached %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
		pattern := "nap-render deploy"
		if power {
			pattern = "nap-render"
		}
		s.sh("pkill -9 -f '" + pattern + "'")
		t.Logf("killed at %s; the deploy printed:\n%s", what, <-done)
	}
	loaded := func(rev string) string {
		return s.sh("systemctl list-units --all --plain --no-legend 'hello.*" + rev[:12] + "*' | grep -v '\\.build\\.' | wc -l")
	}
	// settled waits (bounded) for reconcile to have run, then checks the
	// app serves want alone.
	settled := func(t *testing.T, want, gone string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for s.sh("test -e /var/lib/nap/hello/deploying && echo yes") == "yes" || loaded(gone) != "0" {
			if time.Now().After(deadline) {
				t.Fatalf("not reconciled within 30s: intent %q, units of %s loaded: %s", s.sh("cat /var/lib/nap/hello/deploying"), gone[:12], loaded(gone))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got := s.current(); got != want {
			t.Errorf("current = %s, want %s", got, want)
		}
		// A sidekick that came back announces once its app answers.
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			kvs, err := s.etcd().List(ctx, "/services/hello")
			cancel()
			if err == nil && len(kvs) == 1 && strings.HasSuffix(kvs[0].Key, "/"+want[:12]+".1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("announced %v (%v); want only %s's instance", kvs, err, want[:12])
			}
			time.Sleep(100 * time.Millisecond)
		}
		if body, err := s.get(); err != nil || !strings.Contains(body, want) {
			t.Errorf("GET = %q, %v; want release %s", body, err, want[:12])
		}
	}
	status := func(rev string) string {
		var rel struct{ Status string }
		json.Unmarshal([]byte(s.sh("cat /var/lib/nap/hello/releases/"+rev+"/release.json")), &rel)
		return rel.Status
	}

	rev2 := s.app.commit("two", variant("hi"))
	t.Run("killed once its instances started: the previous release serves", func(t *testing.T) {
		s.t = t
		killAt(t, rev2, "started", func() bool { return loaded(rev2) != "0" }, false)
		settled(t, rev1, rev2)
		if got := status(rev2); got != "failed" {
			t.Errorf("release %s is %q, want failed", rev2[:12], got)
		}
	})

	t.Run("killed while draining after the switch: the new release serves", func(t *testing.T) {
		s.t = t
		killAt(t, rev2, "the switch", func() bool { return s.current() == rev2 }, false)
		settled(t, rev2, rev1)
		if got := status(rev2); got != "deployed" {
			t.Errorf("release %s is %q, want deployed", rev2[:12], got)
		}
	})

	rev3 := s.app.commit("three", variant("hey"))
	t.Run("power cut once started, then a boot: only the previous release comes back", func(t *testing.T) {
		s.t = t
		killAt(t, rev3, "started", func() bool { return loaded(rev3) != "0" }, true)
		if s.sh("test -e /var/lib/nap/hello/deploying && echo yes") != "yes" {
			t.Fatal("no intent left: the power cut came too late to test anything")
		}
		// A boot: every unit stops; what is enabled starts; then nap's
		// boot unit runs `nap-render reconcile`.
		s.sh("systemctl stop 'hello.*'; ls /etc/systemd/system/multi-user.target.wants | grep '^hello\\.' | xargs -r systemctl start")
		if got := s.sh("systemctl list-units --state=active --plain --no-legend 'hello.*" + rev3[:12] + "*' | wc -l"); got != "0" {
			t.Errorf("%s units of the killed release came back at boot", got)
		}
		if out, code := s.nap("reconcile"); code != 0 || !strings.Contains(out, "Stopping "+rev3[:12]+", which an interrupted deploy left unfinished; "+rev2[:12]+" keeps running") {
			t.Errorf("reconcile: exit %d", code)
		}
		settled(t, rev2, rev3)
	})

	rev4 := s.app.commit("four", variant("howdy"))
	t.Run("registry down during the build: exit 3 naming it", func(t *testing.T) {
		s.t = t
		s.sh("systemctl stop docker-registry.service")
		defer s.sh("systemctl start docker-registry.service")
		out, code := s.deploy(rev4)
		if code != 3 || !strings.Contains(out, "the registry 127.0.0.1:5000 does not answer") || strings.Contains(out, "fix the build") {
			t.Errorf("deploy: exit %d; want 3 naming the registry", code)
		}
		settled(t, rev2, rev4)
	})
}
