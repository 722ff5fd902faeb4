package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
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
	t.Parallel() // each on machines of its own: the package is make test's longest
	s := newSite(t, t.TempDir())
	m, bin := s.M, naptest.Bin
	hello := readFile(t, "../examples/hello/main.go")
	variant := func(greeting string) map[string]string {
		return map[string]string{"main.go": strings.Replace(hello, `"hello from %s`, `"`+greeting+` from %s`, 1)}
	}

	rev1 := s.commit("one", nil)
	if _, code := s.deploy(rev1); code != 0 {
		t.Fatalf("first deploy: exit %d", code)
	}

	// background starts `nap-render ARGS --config CONFIG > LOG 2>&1` on the
	// machine; the channel closes when it has ended.
	background := func(args, log string) <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			m.Run(ctx, sandbox.Cmd{Argv: []string{"sh", "-c", bin + " " + args + " --config " + s.config + " > " + log + " 2>&1"}})
		}()
		return done
	}

	// killAt starts a deploy of rev, waits until it has printed line (or
	// ready() holds), kills it — and, with power, every nap process: the
	// guard too — and returns when the deploy has ended.
	var killedAt time.Time
	killAt := func(t *testing.T, rev, line string, ready func() bool, power bool) {
		t.Helper()
		s := s.For(t)
		if ready == nil {
			ready = func() bool { return s.sh("grep -c -F -e '"+line+"' /tmp/deploy.log || true") != "0" }
		}
		s.sh(": > /tmp/deploy.log")
		done := background("deploy hello --rev "+rev+" --git-dir "+s.app.Bare, "/tmp/deploy.log")
		deadline := time.Now().Add(3 * time.Minute)
		for !ready() {
			select {
			case <-done:
				t.Fatalf("the deploy ended before %s:\n%s", line, s.sh("cat /tmp/deploy.log"))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("the deploy never reached %s", line)
			}
			time.Sleep(20 * time.Millisecond)
		}
		pattern := "nap-render deploy"
		if power {
			pattern = "nap-render"
		}
		s.sh("pkill -9 -f '" + pattern + "'")
		killedAt = time.Now()
		<-done
		t.Logf("killed at %s; the deploy printed:\n%s", line, s.sh("cat /tmp/deploy.log"))
	}
	loaded := func(rev string) string {
		return s.sh("systemctl list-units --all --plain --no-legend 'hello.*" + rev[:12] + "*' | grep -v '\\.build\\.' | wc -l")
	}
	// settled waits (bounded) for reconcile to have run, then checks the
	// app serves want alone.
	settled := func(t *testing.T, want, gone string) {
		t.Helper()
		s := s.For(t)
		deadline := time.Now().Add(30 * time.Second)
		for s.sh("test -e /var/lib/nap/hello/deploying && echo yes") == "yes" || loaded(gone) != "0" {
			if time.Now().After(deadline) {
				t.Fatalf("not reconciled within 30s: intent %q, units of %s loaded: %s", s.sh("cat /var/lib/nap/hello/deploying"), gone[:12], loaded(gone))
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("reconciled %v after the kill", time.Since(killedAt).Round(10*time.Millisecond))
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

	// A client resolving etcd and asking the announced instance every
	// 50 ms, from here until the power cut: no kill may cost a request.
	var failures atomic.Int32
	var requests atomic.Int32
	stopClient := make(chan struct{})
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		for {
			select {
			case <-stopClient:
				return
			case <-time.After(50 * time.Millisecond):
			}
			requests.Add(1)
			if _, err := s.get(); err != nil {
				failures.Add(1)
			}
		}
	}()

	for i, step := range []struct{ line, what string }{
		{"-----> Deploying", "export"},
		{"-----> Building", "build"},
		{"-----> Starting", "started"},
	} {
		rev := s.commit(step.what, variant(fmt.Sprintf("hi %d", i)))
		t.Run("killed at "+step.what+": the previous release serves", func(t *testing.T) {
			s := s.For(t)
			killAt(t, rev, step.line, nil, false)
			settled(t, rev1, rev)
			if got := status(rev); got != "failed" && got != "" {
				t.Errorf("release %s is %q, want failed (or none)", rev[:12], got)
			}
			if got := s.sh("ls -A /var/lib/nap/hello/src | grep -c " + rev[:12] + " || true"); got != "0" && status(rev) == "" {
				t.Errorf("src/ keeps the tree of a push that is no release")
			}
		})
	}
	rev2 := s.commit("two", variant("hello two"))
	t.Run("killed once announced: the previous release serves", func(t *testing.T) {
		s := s.For(t)
		killAt(t, rev2, "announced", func() bool {
			return s.sh("ETCDCTL_API=2 etcdctl ls /services/hello/web 2>/dev/null | grep -c "+rev2[:12]+" || true") != "0"
		}, false)
		// The switch follows the announcement within milliseconds: when
		// the kill came after it (current moved, whether the deploy said
		// so or not), the new release serving is the other allowed end.
		for deadline := time.Now().Add(30 * time.Second); s.sh("test -e /var/lib/nap/hello/deploying && echo yes") == "yes" && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		if s.current() == rev2 {
			t.Logf("the kill came after the switch: the new release serves")
			settled(t, rev2, rev1)
			if _, code := s.nap("rollback", "hello", rev1); code != 0 {
				t.Fatalf("rollback: exit %d", code)
			}
			return
		}
		settled(t, rev1, rev2)
	})
	for i, step := range []struct{ line, what string }{
		{"-----> Switched", "the switch"},
		{"-----> Retiring", "draining"},
	} {
		if i > 0 {
			// Back to the previous release for the next kill after the switch.
			if _, code := s.nap("rollback", "hello", rev1); code != 0 {
				t.Fatalf("rollback: exit %d", code)
			}
		}
		t.Run("killed at "+step.what+": the new release serves", func(t *testing.T) {
			killAt(t, rev2, step.line, nil, false)
			settled(t, rev2, rev1)
			if got := status(rev2); got != "deployed" {
				t.Errorf("release %s is %q, want deployed", rev2[:12], got)
			}
		})
	}
	close(stopClient)
	<-clientDone
	t.Logf("client: %d requests, %d failed", requests.Load(), failures.Load())
	if failures.Load() != 0 {
		t.Errorf("%d of %d requests failed while deploys were killed", failures.Load(), requests.Load())
	}

	rev3 := s.commit("three", variant("hey"))
	t.Run("power cut once started, then a boot: only the previous release comes back", func(t *testing.T) {
		s := s.For(t)
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

	// Outages with rev2 serving: each ends with rev2 answering and its one
	// key back, no other key.
	back := func(t *testing.T, what string) {
		t.Helper()
		start := time.Now()
		time.Sleep(500 * time.Millisecond)
		for {
			if body, err := s.get(); err == nil && strings.Contains(body, rev2) {
				break
			}
			if time.Since(start) > 90*time.Second {
				t.Fatalf("rev2 not answering 90 s after %s", what)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("answering again %v after %s", time.Since(start).Round(100*time.Millisecond), what)
		killedAt = start
		settled(t, rev2, rev3)
	}
	t.Run("registry down, then the container crashes: it restarts from the local image", func(t *testing.T) {
		s := s.For(t)
		s.sh("systemctl stop docker-registry.service")
		defer s.sh("systemctl start docker-registry.service")
		s.sh("docker kill hello.web." + rev2[:12] + ".1")
		back(t, "the crash")
		if n := s.sh("systemctl show -p NRestarts --value hello.web." + rev2[:12] + "@1.service"); n == "0" {
			t.Errorf("the run unit did not restart")
		}
	})
	t.Run("dockerd restarted", func(t *testing.T) {
		s := s.For(t)
		s.sh("systemctl restart docker.service")
		back(t, "a docker restart")
	})
	t.Run("etcd restarted", func(t *testing.T) {
		s := s.For(t)
		s.sh("systemctl restart etcd.service")
		back(t, "an etcd restart")
	})

	// A restart killed in its drain — the instance's key withdrawn, its
	// container about to stop — leaves the instance down; its intent has
	// the guard start it again (the key back, no other key).
	t.Run("restart killed in the drain: the guard starts the instance again", func(t *testing.T) {
		s := s.For(t)
		done := background("restart hello", "/tmp/restart.log")
		disc := "hello.web." + rev2[:12] + ".discovery@1.service"
		for deadline := time.Now().Add(time.Minute); s.sh("systemctl is-active "+disc+" || true") == "active"; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the restart never withdrew the instance:\n%s", s.sh("cat /tmp/restart.log"))
			}
		}
		s.sh("pkill -9 -f 'nap-render restart'")
		<-done
		t.Logf("killed in the drain; the restart printed:\n%s", s.sh("cat /tmp/restart.log"))
		back(t, "a restart killed in its drain")
		if got := s.sh("systemctl is-active " + disc + " || true"); got != "active" {
			t.Errorf("%s is %s after the guard, want active", disc, got)
		}
	})

	// The environment failing during a build: exit 3 naming the cause,
	// never "fix the build", the running release untouched.
	for i, tc := range []struct{ name, fault, undo, cause string }{
		{"registry down", "systemctl stop docker-registry.service", "systemctl start docker-registry.service",
			"the registry 127.0.0.1:5000 does not answer"},
		// The legacy builder unpacks the context under /var/lib/docker/tmp:
		// a 1 MiB file system there is docker's disk full for this build
		// (the context holds a binary of several MiB).
		{"docker's disk full", "mkdir -p /var/lib/docker/tmp && mount -t tmpfs -o size=1m tmpfs /var/lib/docker/tmp", "umount /var/lib/docker/tmp",
			"the build machine's disk is full (no space left on device)"},
	} {
		rev := s.commit(tc.name, variant(fmt.Sprintf("howdy %d", i)))
		t.Run(tc.name+" during the build: exit 3 naming it", func(t *testing.T) {
			s := s.For(t)
			s.sh(tc.fault)
			defer s.sh(tc.undo)
			out, code := s.deploy(rev)
			if code != 3 || !strings.Contains(out, tc.cause) || strings.Contains(out, "fix the build") {
				t.Errorf("deploy: exit %d; want 3 naming %q", code, tc.cause)
			}
			settled(t, rev2, rev)
		})
	}

	// config:set killed in its deploy: nothing half-way — the vars are not
	// the app's (config shows what runs) —, and the same command again
	// releases them. Last: it leaves rev2's R-N current.
	t.Run("config:set killed in its deploy: the vars are not the app's until set again", func(t *testing.T) {
		s := s.For(t)
		done := background("config:set hello MODE=killed", "/tmp/config.log")
		for deadline := time.Now().Add(time.Minute); s.sh("grep -c -F -e '-----> Deploying' /tmp/config.log || true") == "0"; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("config:set never deployed:\n%s", s.sh("cat /tmp/config.log"))
			}
		}
		s.sh("pkill -9 -f 'nap-render config:set'")
		<-done
		killedAt = time.Now()
		t.Logf("killed in its deploy; config:set printed:\n%s", s.sh("cat /tmp/config.log"))
		settled(t, rev2, rev3)
		if out, code := s.nap("config", "hello"); code != 0 || strings.Contains(out, "MODE") {
			t.Errorf("config after the killed config:set: exit %d, %q; want no MODE", code, out)
		}
		out, code := s.nap("config:set", "hello", "MODE=killed")
		if code != 0 || !strings.Contains(out, "MODE changed") || !strings.Contains(out, "releasing them as") {
			t.Errorf("config:set again: exit %d", code)
		}
		if cur := s.current(); !strings.HasPrefix(cur, rev2+"-") {
			t.Errorf("current = %s, want a release of %s with the vars", cur, rev2[:12])
		}
		if out, _ := s.nap("config", "hello"); out != "MODE=killed\n" {
			t.Errorf("config = %q, want MODE=killed", out)
		}
	})
}
