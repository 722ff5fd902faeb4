package deploy_test

import (
	"context"
	"encoding/json"
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

// fleetConfig is the operator's config for the cluster of TestFleetCluster:
// the registry and etcd on f1 (where nap runs and builds), reachable by
// all; each instance announced with its machine's public address, from
// the machine's /etc/environment as on CoreOS.
const fleetConfig = `target: fleet
drain: 1s
keep_releases: 3
registry: f1:5000
registry_insecure: true
machines: {allowed_metadata: [role=worker]}
discovery: {etcd: v2, host: "${COREOS_PUBLIC_IPV4}", ttl: 15, endpoints: ["http://f1:2379"]}
router: {domain: apps.test}
`

// agentTTL is how long fleet waits for a silent machine before it
// reschedules its units (fleet's default is 30 s); the discovery TTL
// (fleetConfig) bounds how long a lost instance stays announced.
const agentTTL = 10 * time.Second

// fleetCluster starts three machines running the real fleetd v1.0.0, etcd
// (v2) and the registry on f1, and nap-render on each (the discovery units
// run it on their instance's machine). nap is installed on f1 as README's
// shell mode says, the nap user reaching fleet's socket through its group.
func fleetCluster(t *testing.T) (f1 *naptest.Host, all []*sandbox.Machine) {
	insecure := []string{"f1:5000"}
	m1 := sandbox.NewMachine(t, sandbox.Options{Name: "f1", Docker: true, Registry: true, RegistryListen: "0.0.0.0:5000",
		InsecureRegistries: insecure, EtcdV2: true, SSH: true, Nginx: true})
	f1 = naptest.Install(t, m1, naptest.Options{Config: fleetConfig})
	m1.StartFleet(t, sandbox.FleetOptions{Metadata: "role=builder", AgentTTL: agentTTL, SocketGroup: "nap"})
	// the edge: the router, a global fleet unit placed on f1 alone
	f1.StartRouter(naptest.ConfigPath, "role=builder")
	all = []*sandbox.Machine{m1}
	for _, name := range []string{"f2", "f3"} {
		m := sandbox.NewMachine(t, sandbox.Options{Name: name, Docker: true, InsecureRegistries: insecure, SSH: true})
		m.StartFleet(t, sandbox.FleetOptions{EtcdServers: []string{"http://f1:2379"}, Metadata: "role=worker", AgentTTL: agentTTL})
		naptest.InstallNapRender(t, m)
		all = append(all, m)
	}
	return f1, all
}

// TestFleetCluster deploys, redeploys, plans, rolls back and destroys
// examples/hello with two instances on a three-machine fleet cluster,
// through the real fleetctl. It logs fleetctl calls per step
// (BENCHMARKS.md).
func TestFleetCluster(t *testing.T) {
	t.Parallel() // each on machines of its own: the package is make test's longest
	dir := t.TempDir()
	host, machines := fleetCluster(t)
	// fleetctl, logging each call's command.
	bindir := filepath.Join(dir, "bin")
	log := filepath.Join(dir, "fleetctl.log")
	must(t, os.MkdirAll(bindir, 0o755))
	real, err := exec.LookPath("fleetctl")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(bindir, "fleetctl"), []byte("#!/bin/sh\nfor a; do case $a in -*) ;; *) echo \"$a\" >> "+log+"; break;; esac; done\nexec "+real+" \"$@\"\n"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(fleetConfig), 0o644))
	// fleetctl journal of a unit on f2 or f3 goes over ssh, as core: for
	// root (the commands below) and for the nap user (pushes), whose
	// forced command gets the agent from sshd.
	sshEnv := host.FleetSSH("root", "core", machines...)
	napEnv := host.FleetSSH("nap", "core", machines...)
	sshd := readFile(t, host.M.Path("/etc/ssh/sshd_config"))
	host.WriteFile("/etc/ssh/sshd_config", []byte("SetEnv "+strings.Join(napEnv, " ")+"\n"+sshd), "root", 0o644)
	host.Run("root", "systemctl", "reload", "ssh.service")
	s := &site{Host: host, config: filepath.Join(dir, "config.yaml"), app: newApp(t, dir),
		env: append([]string{"PATH=" + bindir + ":" + systemPath}, sshEnv...)}
	calls := func() map[string]int {
		b, _ := os.ReadFile(log)
		os.Remove(log)
		c := map[string]int{}
		for _, line := range strings.Fields(string(b)) {
			c[line]++
			c["total"]++
		}
		return c
	}
	const n = 2
	nap := fmt.Sprintf("instances: %d\n", n)
	rev1 := s.commit("one", map[string]string{"nap.yaml": nap})

	// git push, as a developer does: the hook deploys onto the cluster.
	const work = "/home/dev/hello"
	host.Run("dev", "git", "init", "-q", "-b", "master", work)
	pushed := host.Commit(work, "pushed", map[string]string{"Dockerfile": scratchDockerfile, "nap.yaml": nap,
		"hello": readFile(t, filepath.Join(s.app.Work, "hello"))})
	host.Run("dev", "chmod", "+x", work+"/hello")
	pushed = host.Commit(work, "executable", nil)
	began := time.Now()
	code, out := host.Push(work)
	pushToAnswer := time.Since(began) // deploy returns once every instance answers
	if code != 0 || !strings.Contains(out, "-----> Switched hello to "+pushed[:12]) || !strings.Contains(out, pushed+": digest: sha256:") {
		t.Fatalf("push: exit %d; want the build's lines and the switch", code)
	}
	s.checkAll(t, n, pushed)
	on := s.checkSpread(t, machines, n, pushed[:12])
	if !strings.Contains(out, "remote: -----> http://hello.apps.test") {
		t.Errorf("the push does not end with the app's URL")
	}
	for i := 1; i <= n; i++ {
		m := on[fmt.Sprintf("hello.web.%s@%d.service", pushed[:12], i)]
		if !strings.Contains(out, fmt.Sprintf("hello/web/%s.%d 10.213.", pushed[:12], i)) || m == "" {
			t.Errorf("the push does not end with instance %d's address (on %s)", i, m)
		}
	}
	calls()
	raw := rawDocker(t, host, machines[1], "/var/lib/nap/hello/src/"+pushed)
	t.Logf("BENCH cluster push to answer %v, raw docker build+push+pull+run+answer %v: nap's own time %v",
		pushToAnswer.Round(10*time.Millisecond), raw.Round(10*time.Millisecond), (pushToAnswer - raw).Round(10*time.Millisecond))

	out, code = s.deploy(rev1)
	if code != 0 {
		t.Fatalf("deploy: exit %d", code)
	}
	if !strings.Contains(out, "-----> "+rev1+": digest: sha256:") || strings.Contains(out, "Usage:") || strings.Contains(out, "docker[") {
		t.Errorf("the build's own lines did not reach the output as they are (fleetctl journal --follow --output=cat)")
	}
	t.Logf("BENCH fleetctl calls, deploy of %d instances: %v", n, calls())
	s.checkAll(t, n, rev1)
	s.checkSpread(t, machines, n, rev1[:12])

	if _, code := s.deploy(rev1); code != 0 {
		t.Fatalf("redeploy unchanged: exit %d", code)
	}
	c := calls()
	t.Logf("BENCH fleetctl calls, unchanged redeploy of %d instances: %v", n, c)
	if c["submit"] != 0 || c["destroy"] != 0 || c["stop"] != 0 {
		t.Errorf("an unchanged redeploy submitted, stopped or destroyed units: %v", c)
	}

	rev2 := s.commit("two", map[string]string{"nap.yaml": nap, "main.go": strings.Replace(readFile(t, "../examples/hello/main.go"), `"hello from %s`, `"hello again from %s`, 1)})
	client := s.startClient()
	user := naptest.StartRouterClient(host.M, "hello.apps.test", 10*time.Millisecond)
	if _, code := s.deploy(rev2); code != 0 {
		t.Fatalf("redeploy: exit %d", code)
	}
	client.check(t, "redeploy")
	user.Check(t, "redeploy, through the router on f1", 0)
	t.Logf("BENCH fleetctl calls, redeploy of %d instances: %v", n, calls())
	// deploy returns once fleet's agents report the old release gone.
	s.checkAll(t, n, rev2)
	s.checkGone(t, machines, rev1)

	// logs: both instances' journals, read with fleetctl journal on their
	// machines (f2, f3) over ssh, merged; restart: one at a time, through
	// fleet, under the router's user.
	if out, code := s.nap("logs", "hello", "-n", "20"); code != 0 || !strings.Contains(out, "web.1 | ") || !strings.Contains(out, "web.2 | ") {
		t.Errorf("logs on fleet: exit %d, want lines of web.1 and web.2", code)
	}
	user = naptest.StartRouterClient(host.M, "hello.apps.test", 10*time.Millisecond)
	if out, code := s.nap("restart", "hello"); code != 0 || !strings.Contains(out, "Restarted hello "+rev2[:12]) {
		t.Errorf("restart on fleet: exit %d", code)
	}
	user.Check(t, "a restart on fleet, through the router", 0)
	s.checkAll(t, n, rev2)

	if out, code := s.nap("plan", "hello"); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("plan after deploy: exit %d", code)
	}
	if out, code := s.nap("plan", "hello", "--rev", rev1, "--git-dir", s.app.Bare); code != 4 || !strings.Contains(out, "submit hello.web."+rev1[:12]+"@.service") {
		t.Errorf("plan --rev of the old release: exit %d, want 4 and a submit", code)
	}
	calls()
	client = s.startClient()
	user = naptest.StartRouterClient(host.M, "hello.apps.test", 10*time.Millisecond)
	if _, code := s.nap("rollback", "hello"); code != 0 {
		t.Fatalf("rollback: exit %d", code)
	}
	client.check(t, "rollback")
	user.Check(t, "rollback, through the router on f1", 0)
	t.Logf("BENCH fleetctl calls, rollback of %d instances: %v", n, calls())
	s.checkAll(t, n, rev1)
	s.checkGone(t, machines, rev2)

	// The operator's config changes (the keys' TTL): the same revision's
	// new units are a release of their own, R-2, started beside R and
	// switched to blue/green; every instance runs them (fleet's instances
	// keep the copy they were started from: units replaced in place would
	// never reach them).
	must(t, os.WriteFile(s.config, []byte(strings.Replace(fleetConfig, "ttl: 15", "ttl: 20", 1)), 0o644))
	id := rev1[:12] + "-2"
	client = s.startClient()
	if out, code := s.deploy(rev1); code != 0 || !strings.Contains(out, "releasing them as "+id) {
		t.Fatalf("deploy of %s with a changed config: exit %d; want it released as %s", rev1[:12], code, id)
	}
	client.check(t, "a changed config")
	s.checkAll(t, n, rev1)
	on = s.checkSpread(t, machines, n, id)
	for i := 1; i <= n; i++ {
		disc := fmt.Sprintf("hello.web.%s.discovery@%d.service", id, i)
		for _, m := range machines {
			if m.Name == on[disc] {
				if out, _ := m.Systemctl("show", "-p", "ExecStart", disc); !strings.Contains(out, "--ttl 20 ") {
					t.Errorf("%s on %s runs %s; want the new --ttl 20", disc, m.Name, out)
				}
			}
		}
	}
	if out, _ := s.nap("status", "hello"); !strings.Contains(out, rev1+"-2") {
		t.Errorf("status does not list release %s-2:\n%s", rev1, out)
	}

	// A release whose instances crash, on the workers only (f2, f3): the
	// deploy is refused with the instance's own last lines, which fleetctl
	// read over ssh from its machine; rev1 keeps serving.
	hello := readFile(t, "../examples/hello/main.go")
	crash := s.commit("crash", map[string]string{"nap.yaml": nap + "machine: {metadata: [role=worker]}\n",
		"main.go": strings.Replace(hello, "func main() {", "func main() {\n\tprintln(\"crashing on purpose\")\n\tos.Exit(1)", 1)})
	if out, code := s.deploy(crash); code == 0 || !strings.Contains(out, "crashing on purpose") {
		t.Errorf("deploy of a crashing release: exit %d; want a refusal showing the instance's last lines", code)
	}
	s.checkAll(t, n, rev1)
	s.checkGone(t, machines, crash)

	s.fleetctlFaults(t, dir, bindir, nap, n)

	machines = s.loseMachine(t, machines, n, rev1, id)

	// Config vars on fleet: released blue/green under the router's user;
	// each instance's machine fetches them from etcd into /run/nap (0600)
	// at its start; no unit file and no journal holds the value.
	const secret = "fleet-s3cr3t-42"
	user = naptest.StartRouterClient(host.M, "hello.apps.test", 10*time.Millisecond)
	if out, code := s.nap("config:set", "hello", "API_KEY="+secret); code != 0 || !strings.Contains(out, "releasing them as") || strings.Contains(out, secret) {
		t.Fatalf("config:set on fleet: exit %d", code)
	}
	user.Check(t, "config:set on fleet, through the router", 0)
	withSecret := 0
	for _, m := range machines {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, _ := m.Exec(ctx, "sh", "-c", `for c in $(docker ps --format '{{.Names}}' | grep '^hello\.web\.'); do docker inspect --format '{{json .Config.Env}}' $c; done; `+
			`echo FILES; grep -rl `+secret+` /etc/systemd /run/systemd /run/fleet /var/lib/nap 2>/dev/null; echo JOURNAL; journalctl --no-pager -o cat | grep -c `+secret+`; stat -c '%a %U' /run/nap/*.env 2>/dev/null; true`)
		cancel()
		out := string(res.Stdout)
		withSecret += strings.Count(out, `"API_KEY=`+secret+`"`)
		files, rest, _ := strings.Cut(strings.SplitN(out, "FILES\n", 2)[1], "JOURNAL\n")
		if m.Name == "f1" {
			files = strings.ReplaceAll(strings.ReplaceAll(files, "/var/lib/nap/hello/config/1.env\n", ""), "/var/lib/nap/hello/config/1.env", "")
		}
		if strings.TrimSpace(files) != "" || !strings.HasPrefix(rest, "0\n") {
			t.Errorf("%s: the secret is in %q; journal lines and fetched files: %q", m.Name, files, rest)
		}
		for _, line := range strings.Split(strings.TrimSpace(strings.TrimPrefix(rest, "0\n")), "\n") {
			if line != "" && line != "600 root" {
				t.Errorf("%s: a fetched config file is %q, want 600 root", m.Name, line)
			}
		}
	}
	if withSecret != n {
		t.Errorf("%d containers have the config var, want %d", withSecret, n)
	}

	if _, code := s.nap("destroy", "hello"); code != 0 {
		t.Fatalf("destroy: exit %d", code)
	}
	s.checkGone(t, machines, "")
}

// loseMachine kills every process of a machine running an instance of rev
// (not f1, which holds etcd and the registry) at once, as a power cut, and
// measures what a client resolving etcd before each request sees: the lost
// instance's key expiring by its TTL, and fleet rescheduling the instance
// onto a machine left (Conflicts= allows it: n ≤ machines − 1). It returns
// the machines still alive.
func (s *site) loseMachine(t *testing.T, machines []*sandbox.Machine, n int, rev, id string) []*sandbox.Machine {
	t.Helper()
	var lost *sandbox.Machine
	var alive []*sandbox.Machine
	for _, m := range machines {
		out, _ := m.Systemctl("list-units", "--plain", "--no-legend", "--state=active", "hello.web."+id+"@*.service")
		if lost == nil && m.Name != "f1" && out != "" {
			lost = m
			continue
		}
		alive = append(alive, m)
	}
	if lost == nil {
		t.Fatalf("no instance of %s outside f1", rev[:12])
	}
	announced := func() map[string]string { // key → host
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		kvs, _ := s.M.Etcd().V2().List(ctx, "/services/hello/web")
		m := map[string]string{}
		for _, kv := range kvs {
			var a naptest.Announcement
			json.Unmarshal([]byte(kv.Value), &a)
			m[kv.Key] = a.Host
		}
		return m
	}
	client := s.startClient()
	user := naptest.StartRouterClient(s.M, "hello.apps.test", 10*time.Millisecond)
	killed := time.Now()
	lost.Kill()
	t.Logf("killed %s (%s) at once", lost.Name, lost.IP)
	var expired, back time.Duration
	for deadline := killed.Add(3 * time.Minute); time.Now().Before(deadline) && back == 0; time.Sleep(100 * time.Millisecond) {
		hosts := map[string]bool{}
		for _, h := range announced() {
			hosts[h] = true
		}
		if expired == 0 && !hosts[lost.IP] {
			expired = time.Since(killed)
		}
		if expired != 0 && len(hosts) == n {
			back = time.Since(killed)
		}
	}
	requests, failures := client.stop()
	// nginx sends a request to the silent machine, waits for its connect
	// timeout and moves the request to the other instance: slow, not
	// failed.
	user.Check(t, "a machine lost, through the router", 0)
	t.Logf("BENCH machine lost (agent TTL %v, key TTL 20s): lost key expired after %v, instance announced again after %v; client: %d requests, %d failed",
		agentTTL, expired.Round(100*time.Millisecond), back.Round(100*time.Millisecond), requests, failures)
	if expired == 0 || back == 0 {
		t.Fatalf("after the loss of %s: key expired after %v, instance back after %v (0: not within 3 minutes)", lost.Name, expired, back)
	}
	s.checkAll(t, n, rev)
	s.checkSpread(t, alive, n, id)
	return alive
}

// checkSpread asserts that the n instances of rev run on n different
// machines (Conflicts=), each with its discovery unit beside it
// (MachineOf=), and that each announcement holds its own machine's
// public address.
func (s *site) checkSpread(t *testing.T, machines []*sandbox.Machine, n int, id string) map[string]string {
	t.Helper()
	on := map[string]string{} // instance → machine
	ip := map[string]string{} // machine → its address
	for _, m := range machines {
		ip[m.Name] = m.IP
		out, _ := m.Systemctl("list-units", "--plain", "--no-legend", "--state=active,activating", "hello.web."+id+"[.@]*")
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 {
				if prev, ok := on[f[0]]; ok {
					t.Errorf("%s runs on %s and %s", f[0], prev, m.Name)
				}
				on[f[0]] = m.Name
			}
		}
	}
	hosts := map[string]bool{}
	for i := 1; i <= n; i++ {
		run := fmt.Sprintf("hello.web.%s@%d.service", id, i)
		disc := fmt.Sprintf("hello.web.%s.discovery@%d.service", id, i)
		if on[run] == "" || on[disc] != on[run] {
			t.Errorf("%s on %q, its discovery unit on %q: want one machine for both", run, on[run], on[disc])
		}
		hosts[on[run]] = true
	}
	if len(hosts) != n {
		t.Errorf("%d instances on machines %v: want %d machines", n, hosts, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kvs, err := s.M.Etcd().V2().List(ctx, "/services/hello/web")
	must(t, err)
	for _, kv := range kvs {
		inst := kv.Key[strings.LastIndexByte(kv.Key, '.')+1:]
		var a naptest.Announcement
		json.Unmarshal([]byte(kv.Value), &a)
		if m := on[fmt.Sprintf("hello.web.%s@%s.service", id, inst)]; a.Host != ip[m] {
			t.Errorf("%s announces host %q, want its machine %s's address %s", kv.Key, a.Host, m, ip[m])
		}
	}
	return on
}

// checkGone asserts that nothing of release rev (of the app, when rev is
// "") is loaded or running on any machine, or held by fleet, at once.
func (s *site) checkGone(t *testing.T, machines []*sandbox.Machine, rev string) {
	t.Helper()
	pattern := "hello."
	if rev != "" {
		pattern = "hello.*" + rev[:12]
	}
	for _, m := range machines {
		// fleet's agent reports a unit gone once it has unloaded its file
		// and asked systemd to stop it: one whose container is still
		// stopping ("not-found deactivating") may take a few seconds more
		// on a loaded machine, no longer.
		began := time.Now()
		for {
			out, _ := m.Systemctl("list-units", "--all", "--plain", "--no-legend", pattern+"*")
			var left []string
			stopping := true
			for _, l := range strings.Split(out, "\n") {
				// a release's build unit stays with its release (a rollback
				// needs no build); the whole app's goes with destroy
				// fleet unloads a failed unit's file but does not reset it:
				// systemd keeps its record ("not-found failed", no process)
				if l != "" && (rev == "" || !strings.Contains(l, ".build.")) && !strings.Contains(l, " not-found failed ") {
					left = append(left, l)
					stopping = stopping && strings.Contains(l, " not-found deactivating ")
				}
			}
			if len(left) == 0 {
				if d := time.Since(began); d > time.Second {
					t.Logf("%s: the last units of %s stopped %v after fleet reported them gone", m.Name, pattern, d.Round(100*time.Millisecond))
				}
				break
			}
			if !stopping || time.Since(began) > 15*time.Second {
				t.Errorf("%s still has units of %s:\n%s", m.Name, pattern, strings.Join(left, "\n"))
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if out := s.sh("fleetctl list-units --no-legend --full --fields=unit | grep '^" + pattern + "' | grep -v '\\.build\\.' || true"); out != "" {
		t.Errorf("fleet's agents still report:\n%s", out)
	}
}

// checkAll asserts that n instances of rev (a revision or a release key,
// REV-N) are announced and answer.
func (s *site) checkAll(t *testing.T, n int, rev string) {
	t.Helper()
	rev, _, _ = strings.Cut(rev, "-")
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
func (s *site) fleetctlFaults(t *testing.T, dir, bindir, nap string, n int) {
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
			s.checkAll(t, n, cur)
			if got := s.sh(strings.Join(s.env, " ") + " " + bindir + "/fleetctl list-unit-files --no-legend --fields=unit | grep -c 'hello.web." + rev[:12] + "' || true; systemctl list-units --all --plain --no-legend 'hello.web." + rev[:12] + "*' | grep -vc ' not-found ' || true"); got != "0\n0" {
				t.Errorf("units of the refused release left (held by fleet, loaded): %q", got)
			}
		})
	}
}

// rawDocker does by hand, with docker alone, what a push made of src: build
// and push on f1, pull and run on another machine, until it answers.
func rawDocker(t *testing.T, f1 *naptest.Host, on *sandbox.Machine, src string) time.Duration {
	t.Helper()
	img := "f1:5000/rawhello:1"
	run := func(m *sandbox.Machine, argv ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		res, err := m.Exec(ctx, argv...)
		if err != nil || res.Code != 0 {
			t.Fatalf("%s on %s: %v %s", strings.Join(argv, " "), m.Name, err, res)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	start := time.Now()
	run(f1.M, "docker", "build", "-q", "--no-cache", "-t", img, src)
	run(f1.M, "docker", "push", "-q", img)
	run(on, "docker", "pull", "-q", img)
	run(on, "docker", "run", "-d", "--rm", "--name", "rawhello", "-p", "8080", img)
	port := run(on, "docker", "inspect", "--format", `{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}`, "rawhello")
	for {
		if code, _, err := f1.M.HTTPGet("http://" + on.IP + ":" + port + "/"); err == nil && code == 200 {
			break
		}
		if time.Since(start) > 3*time.Minute {
			t.Fatal("raw docker run: no answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	run(on, "docker", "rm", "-f", "rawhello")
	return took
}
