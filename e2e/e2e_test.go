package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/sandbox"
)

const (
	napBin   = "/opt/nap/bin/nap-render"
	napHome  = "/home/nap"
	devUser  = "dev"
	appName  = "hello"
	workTree = "/home/dev/hello"
	remote   = "nap@127.0.0.1:hello"
	prefix   = "/services/hello/web/"
)

// operatorConfig is /etc/nap/config.yaml inside the machine.
const operatorConfig = `registry: 127.0.0.1:5000
target: systemd
state: /var/lib/nap
unit_dir: /etc/systemd/system
deploy_branch: master
drain: 2s
discovery: {etcd: v2, prefix: /services, ttl: 60, host: "%H", endpoints: ["http://127.0.0.1:2379"]}
`

// polkitRule lets the nap user manage units, as README's least-privilege
// section says.
const polkitRule = `polkit.addRule(function(action, subject) {
  if (subject.user == "nap" &&
      (action.id == "org.freedesktop.systemd1.manage-units" ||
       action.id == "org.freedesktop.systemd1.manage-unit-files" ||
       action.id == "org.freedesktop.systemd1.reload-daemon")) return polkit.Result.YES;
});
`

// announcement is the value of a discovery key (DESIGN.md).
type announcement struct {
	Host    string         `json:"host"`
	Port    int            `json:"port"`
	Ports   map[string]int `json:"ports"`
	Release string         `json:"release"`
}

// host is the machine with nap installed, and the test driving it.
type host struct {
	t *testing.T
	m *sandbox.Machine
	// fleetEnv is the fleetctl stand-in's environment for the nap user,
	// once the target is fleet.
	fleetEnv []string
}

// run runs argv on the machine as user and fails the test on a non-zero exit.
func (h *host) run(user string, argv ...string) string {
	h.t.Helper()
	res := h.try(user, nil, argv...)
	if res.Code != 0 {
		h.t.Fatalf("%s: %s", strings.Join(argv, " "), res)
	}
	return string(res.Stdout)
}

// try runs argv on the machine as user, with env, and returns what it did.
func (h *host) try(user string, env []string, argv ...string) sandbox.Result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if user == "nap" {
		env = append(append([]string{}, env...), h.fleetEnv...)
	}
	res, err := h.m.Run(ctx, sandbox.Cmd{User: user, Env: env, Argv: argv})
	if err != nil {
		h.t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	return res
}

// writeFile writes a file inside the machine, owned by user.
func (h *host) writeFile(p, content, user string, mode os.FileMode) {
	h.t.Helper()
	if err := os.MkdirAll(filepath.Dir(h.m.Path(p)), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(h.m.Path(p), []byte(content), mode); err != nil {
		h.t.Fatal(err)
	}
	h.run("root", "chown", user+":", p)
}

// goBuild builds a static binary of pkg, on the host, into dir; it runs
// inside the machine.
func goBuild(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// installNap sets the machine up as an operator would: the nap user with
// its rights, the operator config, the hook and the developer's key.
func (h *host) installNap(bin string) {
	h.t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		h.t.Fatal(err)
	}
	h.writeFile(napBin, string(b), "root", 0o755)

	// systemctl as a user other than root goes through D-Bus and polkit.
	for _, u := range []string{"dbus.socket", "dbus.service", "polkit.service"} {
		b, err := os.ReadFile("/lib/systemd/system/" + u)
		if err != nil {
			sandboxUnavailable(h.t, "unit %s: %v", u, err)
		}
		h.writeFile("/etc/systemd/system/"+u, string(b), "root", 0o644)
	}
	h.writeFile("/etc/polkit-1/rules.d/50-nap.rules", polkitRule, "root", 0o644)
	h.run("root", "systemctl", "daemon-reload")
	h.run("root", "systemctl", "start", "dbus.socket", "dbus.service", "polkit.service")

	if _, err := h.m.AddUser("nap"); err != nil {
		h.t.Fatal(err)
	}
	h.run("root", "usermod", "-a", "-G", "docker,systemd-journal", "nap")
	// What Debian's tmpfiles.d does at boot on a real host (the sandbox runs
	// no tmpfiles): journal files readable by the systemd-journal group, so
	// deploy can stream the build unit's output.
	// The machine's journal is volatile (/run/log/journal).
	for _, dir := range []string{"/run/log/journal", "/var/log/journal"} {
		h.run("root", "mkdir", "-p", dir)
		h.run("root", "chgrp", "-R", "systemd-journal", dir)
		h.run("root", "chmod", "-R", "g+rX", dir)
		h.run("root", "find", dir, "-type", "d", "-exec", "chmod", "g+s", "{}", "+")
	}
	h.run("root", "install", "-d", "-o", "nap", "-g", "nap", "-m", "0755", "/var/lib/nap")
	// README asks for setfacl; a group-writable unit directory grants the same
	// without the acl package.
	h.run("root", "chgrp", "nap", "/etc/systemd/system")
	h.run("root", "chmod", "0775", "/etc/systemd/system")
	h.writeFile("/etc/nap/config.yaml", operatorConfig, "root", 0o644)

	out := h.run("nap", napBin, "hooks", "install", "--mode", "shell", "--home", napHome, "--config", "/etc/nap/config.yaml")
	h.t.Logf("hooks install:\n%s", out)

	if _, err := h.m.AddUser(devUser); err != nil {
		h.t.Fatal(err)
	}
	pub, err := h.m.NewSSHKey(devUser)
	if err != nil {
		h.t.Fatal(err)
	}
	h.writeFile("/tmp/dev.pub", pub+"\n", "nap", 0o644)
	h.run("nap", napBin, "keys", "add", devUser, "/tmp/dev.pub")
}

// gitEnv is the developer's environment for git over ssh.
var gitEnv = []string{
	"GIT_SSH_COMMAND=ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
	"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
	"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com",
}

// git runs git as the developer in the work tree.
func (h *host) git(args ...string) sandbox.Result {
	h.t.Helper()
	return h.try(devUser, gitEnv, append([]string{"git", "-C", workTree}, args...)...)
}

func (h *host) mustGit(args ...string) string {
	h.t.Helper()
	res := h.git(args...)
	if res.Code != 0 {
		h.t.Fatalf("git %s: %s", strings.Join(args, " "), res)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// commit writes files into the developer's work tree and commits them,
// returning the new revision.
func (h *host) commit(msg string, files map[string]string) string {
	h.t.Helper()
	for name, content := range files {
		h.writeFile(filepath.Join(workTree, name), content, devUser, 0o644)
	}
	h.mustGit("add", "-A")
	h.mustGit("commit", "-q", "-m", msg)
	return h.mustGit("rev-parse", "HEAD")
}

// newAppRepo copies examples/hello into a fresh repository of the developer.
func (h *host) newAppRepo() string {
	h.t.Helper()
	files := map[string]string{}
	for _, name := range []string{"Dockerfile", "go.mod", "main.go"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", "hello", name))
		if err != nil {
			h.t.Fatal(err)
		}
		files[name] = string(b)
	}
	h.run(devUser, "git", "init", "-q", "-b", "master", workTree)
	return h.commit("hello", files)
}

// keys returns the announcements under the app's web prefix, by key.
func (h *host) keys() map[string]announcement {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kvs, err := h.m.Etcd().List(ctx, prefix)
	if err != nil {
		h.t.Fatalf("etcd list %s: %v", prefix, err)
	}
	out := map[string]announcement{}
	for _, kv := range kvs {
		var a announcement
		if err := json.Unmarshal([]byte(kv.Value), &a); err != nil {
			h.t.Errorf("key %s holds %q, not the announcement JSON: %v", kv.Key, kv.Value, err)
			continue
		}
		out[kv.Key] = a
	}
	return out
}

// answer asks an announced endpoint once, without retries.
func (h *host) answer(a announcement) (string, error) {
	code, body, err := h.m.HTTPGet(fmt.Sprintf("http://%s:%d/", a.Host, a.Port))
	if err != nil {
		return "", err
	}
	if code != 200 {
		return body, fmt.Errorf("HTTP %d: %q", code, body)
	}
	return body, nil
}

// releaseOf reads the release from examples/hello's answer.
var answerRE = regexp.MustCompile(`^hello from ([0-9a-f]{40,64}) \(instance (\d+)\)\n$`)

func releaseOf(body string) string {
	m := answerRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func sandboxUnavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("NAP_SANDBOX_REQUIRED") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (set NAP_SANDBOX_REQUIRED=1 to make this a failure)", args...)
}

// waitKeys waits until the prefix holds n keys, all of release rev.
func (h *host) waitKeys(n int, rev string, within time.Duration) map[string]announcement {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ks := h.keys()
		ok := len(ks) == n
		for _, a := range ks {
			ok = ok && a.Release == rev
		}
		if ok {
			return ks
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("after %v: keys under %s are %v, want %d of release %s", within, prefix, ks, n, rev)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPushToAnswer(t *testing.T) {
	if os.Geteuid() != 0 {
		sandboxUnavailable(t, "e2e: simulated machines need root")
	}
	bin := goBuild(t, t.TempDir(), "github.com/nap-paas/nap/cmd/nap-render")
	opts := sandbox.Full()
	opts.GoImage = true
	h := &host{t: t, m: sandbox.NewMachine(t, opts)}

	// 1. nap installed for the nap user, forced-command mode.
	h.installNap(bin)
	rev1 := h.newAppRepo()

	// 2. git push over ssh; 3. the key and the answer.
	start := time.Now()
	out := h.mustPush()
	h.checkAnswering("systemd", out, rev1)
	answered := time.Since(start)
	t.Logf("bench: git push to first answer: %v", answered.Round(time.Millisecond))

	raw := h.rawDocker(rev1)
	t.Logf("bench: raw docker build+push+pull+run to first answer: %v; nap/raw = %.2f", raw.Round(time.Millisecond), answered.Seconds()/raw.Seconds())

	// 4. a redeploy while a client resolves and requests every 50 ms.
	rev2 := h.redeployUnderClient(rev1, "release 2")

	// 5. rollback to release 1, same client.
	p := h.startProber()
	if out := h.run("nap", napBin, "rollback", appName); !strings.Contains(out, "-----> Rolling hello back to "+rev1[:12]) {
		t.Errorf("rollback printed %q", out)
	}
	h.waitKeys(1, rev1, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	p.stopAndCheck(rev2, rev1)
	h.checkGone(rev2)

	// 6. a broken Dockerfile is rejected; the branch and the app stay.
	p = h.startProber()
	h.commit("break it", map[string]string{"Dockerfile": "FROM scratch\nEXPOSE x\n"})
	push := h.git("push", remote, "master")
	out = string(push.Stdout) + string(push.Stderr)
	if push.Code == 0 || !regexp.MustCompile(`remote: .*Dockerfile:2: EXPOSE`).MatchString(out) {
		t.Errorf("push of a broken Dockerfile: exit %d, want a rejection naming Dockerfile:2:\n%s", push.Code, out)
	}
	if got := h.remoteMaster(); got != rev2 {
		t.Errorf("after a rejected push master is %s, want %s", got, rev2)
	}
	time.Sleep(time.Second)
	p.stopAndCheck(rev1, rev1)
	h.mustGit("reset", "-q", "--hard", "HEAD~1")

	// 7. scale web to 3 instances through nap.yaml.
	rev3 := h.commit("three", map[string]string{"nap.yaml": "instances: 3\n"})
	h.mustPush()
	ks := h.waitKeys(3, rev3, 10*time.Second)
	instances := map[string]bool{}
	for k, a := range ks {
		body, err := h.answer(a)
		m := answerRE.FindStringSubmatch(body)
		if err != nil || m == nil || m[1] != rev3 {
			t.Errorf("%s: GET %s:%d = %q, %v; want release %s", k, a.Host, a.Port, body, err, rev3)
			continue
		}
		instances[m[2]] = true
	}
	if len(instances) != 3 {
		t.Errorf("instances answering: %v, want 1, 2 and 3", instances)
	}
	if ps := h.containers("hello.web." + rev3[:12]); len(ps) != 3 {
		t.Errorf("containers of %s: %v, want 3", rev3[:12], ps)
	}
	h.checkGone(rev1)

	// 8. destroy: containers, units and keys gone within 1 s.
	start = time.Now()
	h.run("nap", napBin, "destroy", appName)
	t.Logf("destroy took %v", time.Since(start).Round(time.Millisecond))
	deadline := time.Now().Add(time.Second)
	for {
		left := h.leftovers("hello.")
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("1 s after destroy: %v", left)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// 9. the same app on fleet, through the fleetctl stand-in: steps 2–4.
	h.useFleet(goBuild(t, filepath.Dir(bin), "github.com/nap-paas/nap/deploy/testdata/fleetctl"))
	rev4 := h.commit("on fleet", map[string]string{"nap.yaml": "instances: 1\n"})
	h.checkAnswering("fleet", h.mustPush(), rev4)
	if held := h.run("nap", "fleetctl", "list-unit-files", "--no-legend", "--fields", "unit"); !strings.Contains(held, "hello.web."+rev4[:12]+"@1.service") {
		t.Errorf("fleet holds:\n%s\nwant hello.web.%s@1.service", held, rev4[:12])
	}
	h.redeployUnderClient(rev4, "release 5")
}

// checkAnswering checks steps 2 and 3 after a first push of rev: the push
// output shows nap's progress lines and the build's own output and ends with
// the endpoint; the one key holds DESIGN.md's JSON; its host:port answers
// with rev.
func (h *host) checkAnswering(target, out, rev string) {
	h.t.Helper()
	h.t.Logf("%s: push output:\n%s", target, out)
	wants := []string{
		"-----> Deploying hello " + rev[:12],
		"-----> Successfully tagged 127.0.0.1:5000/hello:" + rev, // the build's own output
		"-----> Switched hello to " + rev[:12],
	}
	if target == "systemd" {
		// On fleet, deploy follows the build with `fleetctl journal -f`,
		// which starts with the last 10 lines: a build that ran faster than
		// the follower attached shows only its end.
		wants = append(wants, `-----> Step 5/9 : RUN ["go", "build"`)
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			h.t.Errorf("%s: push output lacks %q", target, want)
		}
	}
	key := prefix + rev[:12] + ".1"
	a, ok := h.waitKeys(1, rev, 10*time.Second)[key]
	if !ok {
		h.t.Fatalf("%s: no key %s", target, key)
	}
	if a.Host != h.m.Name || a.Port == 0 || a.Ports["8080/tcp"] != a.Port || len(a.Ports) != 1 {
		h.t.Errorf("%s: key %s = %+v, want host %s, port = ports[8080/tcp] != 0", target, key, a, h.m.Name)
	}
	if body, err := h.answer(a); err != nil || releaseOf(body) != rev {
		h.t.Fatalf("%s: GET %s:%d = %q, %v; want hello from %s", target, a.Host, a.Port, body, err, rev)
	}
	// git prints its ref summary after what the remote said: nap's last
	// line is the last "remote:" one.
	want := fmt.Sprintf("-----> hello/web/%s.1 %s:%d", rev[:12], a.Host, a.Port)
	if last := lastRemoteLine(out); last != want {
		h.t.Errorf("%s: nap's last line is %q, want %q", target, last, want)
	}
}

// redeployUnderClient is step 4: push a change while the client runs; no
// request fails, the answers and the key switch from the running release to
// the new one, and nothing of the old one is left after the drain.
func (h *host) redeployUnderClient(running, change string) string {
	h.t.Helper()
	p := h.startProber()
	rev := h.commit(change, map[string]string{"CHANGES": change + "\n"})
	h.mustPush()
	h.waitKeys(1, rev, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	p.stopAndCheck(running, rev)
	h.checkGone(running)
	return rev
}

// useFleet switches the operator config to target fleet and installs the
// stand-in as the git host's fleetctl, in /usr/local/bin (a directory of the
// machine's own: a bind mount in its mount namespace), its cluster being
// this machine's systemd, driven as the nap user like systemctl is.
func (h *host) useFleet(fleetctl string) {
	h.t.Helper()
	b, err := os.ReadFile(fleetctl)
	if err != nil {
		h.t.Fatal(err)
	}
	h.writeFile("/opt/nap/localbin/fleetctl", string(b), "root", 0o755)
	h.run("root", "mount", "--bind", "/opt/nap/localbin", "/usr/local/bin")
	h.run("root", "install", "-d", "-o", "nap", "-g", "nap", "/var/lib/nap-fleet")
	// The stand-in's agent owns its unit directory, removing what it did not
	// schedule, as fleet's own /run/fleet/units: give it /run/systemd/system,
	// where systemd reads runtime units, not /etc/systemd/system.
	h.run("root", "install", "-d", "-o", "nap", "-g", "nap", fleetUnitDir)
	h.writeFile("/etc/nap/config.yaml", strings.Replace(operatorConfig, "target: systemd", "target: fleet", 1), "root", 0o644)
	// fleetctl's cluster comes from its environment (as FLEETCTL_ENDPOINT
	// would); sshd passes it to the forced command.
	env := "FLEET_STANDIN_STATE=/var/lib/nap-fleet FLEET_STANDIN_SYSTEMCTL=systemctl " +
		"FLEET_STANDIN_JOURNALCTL=journalctl FLEET_STANDIN_UNIT_DIR=" + fleetUnitDir
	conf, err := os.ReadFile(h.m.Path("/etc/ssh/sshd_config"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.writeFile("/etc/ssh/sshd_config", "SetEnv "+env+"\n"+string(conf), "root", 0o644)
	h.run("root", "systemctl", "reload", "ssh.service")
	// and the operator's own calls (h.run as nap) see the same
	h.fleetEnv = strings.Fields(env)
}

const fleetUnitDir = "/run/systemd/system"

// mustPush pushes master and fails the test if the push is rejected.
func (h *host) mustPush() string {
	h.t.Helper()
	res := h.git("push", remote, "master")
	if res.Code != 0 {
		h.t.Fatalf("push: %s", res)
	}
	return string(res.Stdout) + string(res.Stderr)
}

// remoteMaster is what master holds on the nap side.
func (h *host) remoteMaster() string {
	h.t.Helper()
	return strings.TrimSpace(h.run("nap", "git", "--git-dir", napHome+"/repos/hello.git", "rev-parse", "--verify", "--quiet", "refs/heads/master"))
}

// containers lists the names of containers (running or not) starting with name.
func (h *host) containers(name string) []string {
	h.t.Helper()
	var out []string
	for _, n := range strings.Fields(h.run("root", "docker", "ps", "-a", "--format", "{{.Names}}")) {
		if strings.HasPrefix(n, name) {
			out = append(out, n)
		}
	}
	return out
}

// leftovers lists what is left of units, unit files, containers and keys
// whose names start with name.
func (h *host) leftovers(name string) []string {
	h.t.Helper()
	var left []string
	for _, c := range h.containers(name) {
		left = append(left, "container "+c)
	}
	for _, l := range strings.Split(h.run("root", "systemctl", "list-units", "--all", "--plain", "--no-legend", "--full", name+"*"), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			left = append(left, "unit "+f[0]+" ("+strings.Join(f[1:4], " ")+")")
		}
	}
	for _, dir := range []string{"/etc/systemd/system/", fleetUnitDir + "/"} {
		files, _ := filepath.Glob(h.m.Path(dir + name + "*"))
		for _, f := range files {
			left = append(left, "unit file "+dir+filepath.Base(f))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app := strings.SplitN(name, ".", 2)[0]
	kvs, err := h.m.Etcd().List(ctx, "/services/"+app)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, kv := range kvs {
		if strings.HasPrefix(strings.TrimPrefix(kv.Key, "/services/"), strings.ReplaceAll(name, ".", "/")) {
			left = append(left, "key "+kv.Key)
		}
	}
	return left
}

// checkGone checks that nothing of rev's web process is left.
func (h *host) checkGone(rev string) {
	h.t.Helper()
	if left := h.leftovers("hello.web." + rev[:12]); len(left) > 0 {
		h.t.Errorf("release %s is not gone: %v", rev[:12], left)
	}
}

// prober is the client of steps 4–6: before every request it resolves the
// endpoint from etcd, then asks it once, every 50 ms.
type prober struct {
	h    *host
	stop chan struct{}
	done chan struct{}
	log  []probe
}

type probe struct {
	release string // "" on a failure
	err     error
}

// proberLimit bounds the client whatever happens to the test.
const proberLimit = 3 * time.Minute

func (h *host) startProber() *prober {
	p := &prober{h: h, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		end := time.Now().Add(proberLimit)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for time.Now().Before(end) {
			p.log = append(p.log, p.once())
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *prober) once() probe {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kvs, err := p.h.m.Etcd().List(ctx, prefix)
	if err != nil {
		return probe{err: fmt.Errorf("resolving: %v", err)}
	}
	if len(kvs) == 0 {
		return probe{err: fmt.Errorf("resolving: no key under %s", prefix)}
	}
	// any announced instance must answer; take the last key
	var a announcement
	if err := json.Unmarshal([]byte(kvs[len(kvs)-1].Value), &a); err != nil {
		return probe{err: fmt.Errorf("key %s: %v", kvs[len(kvs)-1].Key, err)}
	}
	body, err := p.h.answer(a)
	if err != nil {
		return probe{err: err}
	}
	rel := releaseOf(body)
	if rel == "" {
		return probe{err: fmt.Errorf("unexpected answer %q", body)}
	}
	return probe{release: rel}
}

// stopAndCheck stops the client and checks that every request was answered,
// first by from, last by to.
func (p *prober) stopAndCheck(from, to string) {
	p.h.t.Helper()
	close(p.stop)
	<-p.done
	counts := map[string]int{}
	failed := 0
	for i, r := range p.log {
		if r.err != nil {
			failed++
			if failed <= 5 {
				p.h.t.Errorf("request %d of %d failed: %v", i+1, len(p.log), r.err)
			}
			continue
		}
		counts[r.release[:12]]++
	}
	p.h.t.Logf("client: %d requests, %d failed, answers by release %v", len(p.log), failed, counts)
	if len(p.log) == 0 {
		p.h.t.Fatal("the client made no request")
	}
	if first := p.log[0]; first.release != from {
		p.h.t.Errorf("first answer from %q, want %s", first.release, from)
	}
	if last := p.log[len(p.log)-1]; last.release != to {
		p.h.t.Errorf("last answer from %q, want %s", last.release, to)
	}
}

// rawDocker times what nap automates, by hand on the same machine: docker
// build (no cache), push, pull (after removing the local image) and run of
// the same tree, until the app answers.
func (h *host) rawDocker(rev string) time.Duration {
	h.t.Helper()
	src := "/var/lib/nap/hello/src/" + rev
	img := "127.0.0.1:5000/rawhello:1"
	start := time.Now()
	h.run("root", "docker", "build", "-q", "--no-cache", "-t", img, src)
	h.run("root", "docker", "push", "-q", img)
	h.run("root", "docker", "rmi", "-f", img)
	h.run("root", "docker", "pull", "-q", img)
	h.run("root", "docker", "run", "-d", "--rm", "--name", "rawhello", "-p", "8080", "-e", "NAP_RELEASE="+rev, "-e", "NAP_INSTANCE=1", img)
	port := strings.TrimSpace(h.run("root", "docker", "inspect", "--format", `{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}`, "rawhello"))
	for {
		code, body, err := h.m.HTTPGet("127.0.0.1:" + port)
		if err == nil && code == 200 && releaseOf(body) == rev {
			break
		}
		if time.Since(start) > 3*time.Minute {
			h.t.Fatalf("raw docker run: no answer: %v %q", err, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	h.run("root", "docker", "rm", "-f", "rawhello")
	return took
}

// lastRemoteLine returns the last line git showed from the remote side.
func lastRemoteLine(out string) string {
	last := ""
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "remote: "); ok {
			last = strings.TrimSpace(rest)
		}
	}
	return last
}
