package deploy_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

const fleetConfig = `target: fleet
drain: 1s
keep_releases: 3
discovery: {etcd: v2, host: 127.0.0.1, ttl: 15}
`

// TestFleetMachine deploys, redeploys, plans, rolls back and destroys
// examples/hello through the fleet driver and the fleetctl stand-in, whose
// agent runs the units on a simulated machine's systemd, for 1 and 10
// instances. It logs fleetctl calls per step (BENCHMARKS.md).
func TestFleetMachine(t *testing.T) {
	t.Parallel() // each on machines of its own: the package is make test's longest
	dir := t.TempDir()
	bindir := filepath.Join(dir, "bin")
	must(t, os.MkdirAll(bindir, 0o755))
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bindir, "fleetctl"), "./testdata/fleetctl").CombinedOutput(); err != nil {
		t.Fatalf("go build fleetctl: %v\n%s", err, out)
	}
	must(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(fleetConfig), 0o644))
	m := sandbox.NewMachine(t, sandbox.Options{Docker: true, Registry: true, EtcdV2: true})
	host := naptest.New(t, m)

	for _, n := range []int{1, 10} {
		t.Run(fmt.Sprintf("%d instances", n), func(t *testing.T) {
			sub := t.TempDir()
			m.Share(t, sub)
			log := filepath.Join(sub, "fleetctl.log")
			s := &site{Host: host.For(t), config: filepath.Join(dir, "config.yaml"), app: newApp(t, sub), env: []string{
				"PATH=" + bindir + ":/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
				"FLEET_STANDIN_STATE=/var/lib/fleet-standin-" + fmt.Sprint(n),
				fmt.Sprintf("FLEET_STANDIN_MACHINES=%d", n),
				"FLEET_STANDIN_SYSTEMCTL=systemctl",
				"FLEET_STANDIN_JOURNALCTL=journalctl",
				"FLEET_STANDIN_UNIT_DIR=/run/systemd/system",
				"FLEET_STANDIN_LOG=" + log,
			}}
			calls := func() map[string]int {
				b, _ := os.ReadFile(log)
				os.Remove(log)
				c := map[string]int{}
				for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					if f := strings.Fields(line); len(f) > 0 {
						c[f[0]]++
						c["total"]++
					}
				}
				return c
			}
			nap := fmt.Sprintf("instances: %d\n", n)
			rev1 := s.commit("one", map[string]string{"nap.yaml": nap})
			if _, code := s.deploy(rev1); code != 0 {
				t.Fatalf("deploy: exit %d", code)
			}
			t.Logf("BENCH fleetctl calls, deploy of %d instance(s): %v", n, calls())
			s.checkAll(t, n, rev1)

			if _, code := s.deploy(rev1); code != 0 {
				t.Fatalf("redeploy unchanged: exit %d", code)
			}
			c := calls()
			t.Logf("BENCH fleetctl calls, unchanged redeploy of %d instance(s): %v", n, c)
			if c["submit"] != 0 || c["destroy"] != 0 || c["stop"] != 0 {
				t.Errorf("an unchanged redeploy submitted, stopped or destroyed units: %v", c)
			}

			rev2 := s.commit("two", map[string]string{"nap.yaml": nap, "main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello again from %s`, 1)})
			if _, code := s.deploy(rev2); code != 0 {
				t.Fatalf("redeploy: exit %d", code)
			}
			t.Logf("BENCH fleetctl calls, redeploy of %d instance(s): %v", n, calls())
			s.checkAll(t, n, rev2)
			if held := s.sh("FLEET_STANDIN_STATE=/var/lib/fleet-standin-" + fmt.Sprint(n) + " " + bindir + "/fleetctl list-unit-files --no-legend --fields=unit | grep -c " + rev1[:12] + " || true"); held != "0" {
				t.Errorf("%s units of the old release still held", held)
			}

			if out, code := s.nap("plan", "hello"); code != 0 || !strings.Contains(out, "nothing to do") {
				t.Errorf("plan after deploy: exit %d", code)
			}
			if out, code := s.nap("plan", "hello", "--rev", rev1, "--git-dir", s.app.Bare); code != 4 || !strings.Contains(out, "submit hello.web."+rev1[:12]+"@.service") {
				t.Errorf("plan --rev of the old release: exit %d, want 4 and a submit", code)
			}
			calls()
			if _, code := s.nap("rollback", "hello"); code != 0 {
				t.Fatalf("rollback: exit %d", code)
			}
			t.Logf("BENCH fleetctl calls, rollback of %d instance(s): %v", n, calls())
			s.checkAll(t, n, rev1)

			if n == 1 {
				s.fleetctlFaults(t, sub, bindir, nap)
			}

			if _, code := s.nap("destroy", "hello"); code != 0 {
				t.Fatalf("destroy: exit %d", code)
			}
			// fleet's agent acts on its own time: what destroy removed goes
			// within a bound, not necessarily before destroy returns (the
			// fleet issue makes nap wait for the agents).
			for what, list := range map[string]string{
				"units":      "systemctl list-units --all --plain --no-legend 'hello.*'",
				"containers": "docker ps -aq",
				"unit files": "ls /run/systemd/system | grep '^hello' || true",
			} {
				left := s.sh(list)
				for deadline := time.Now().Add(15 * time.Second); left != "" && time.Now().Before(deadline); left = s.sh(list) {
					time.Sleep(100 * time.Millisecond)
				}
				if left != "" {
					t.Errorf("%s left 15 s after destroy:\n%s", what, left)
				}
			}
		})
	}
}

// checkAll asserts that n instances of rev are announced and answer.
func (s *site) checkAll(t *testing.T, n int, rev string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kvs, err := s.M.Etcd().V2().List(ctx, "/services/hello/web")
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != n {
		t.Errorf("%d announcements, want %d: %v", len(kvs), n, kvs)
	}
	for _, kv := range kvs {
		if !strings.Contains(kv.Value, rev) {
			t.Errorf("announcement %s = %s, want release %s", kv.Key, kv.Value, rev)
		}
	}
	if body, err := s.get(); err != nil || !strings.Contains(body, rev) {
		t.Errorf("GET = %q, %v", body, err)
	}
}

// fleetctlFaults deploys a new release while fleetctl is missing, fails on
// starting its run units, or hangs there: each deploy is refused with exit
// 3 naming the step and the command, and the release current before
// (rolled back to above) keeps answering.
func (s *site) fleetctlFaults(t *testing.T, dir, bindir, nap string) {
	cur := s.current()
	rev := s.commit("three", map[string]string{"nap.yaml": nap, "main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello three from %s`, 1)})
	failure := "Error creating units: googleapi: Error 503: fleet server unable to communicate with etcd"
	faults := toolFaults(t, dir, "fleetctl", filepath.Join(bindir, "fleetctl"), "hello.web."+rev[:12]+"@", failure)
	for _, f := range []fault{
		{"fleetctl missing", faults.missing, nil, []string{"build: fleetctl is not installed"}},
		{"fleetctl failing on start", faults.failing, nil, []string{"start: fleetctl start --no-block hello.web." + rev[:12] + "@1.service", failure}},
		{"fleetctl hanging on start", faults.hanging, []string{"--tool-timeout", "5s"}, []string{"start: fleetctl start --no-block hello.web." + rev[:12] + "@1.service", "timed out"}},
	} {
		t.Run(f.name, func(t *testing.T) {
			s := s.For(t)
			s.refused(t, f, rev, cur)
			s.checkAll(t, 1, cur)
			if got := s.sh(strings.Join(s.env, " ") + " " + bindir + "/fleetctl list-unit-files --no-legend --fields=unit | grep -c 'hello.web." + rev[:12] + "' || true; systemctl list-units --all --plain --no-legend 'hello.web." + rev[:12] + "*' | wc -l"); got != "0\n0" {
				t.Errorf("units of the refused release left (held by fleet, loaded): %q", got)
			}
		})
	}
}
