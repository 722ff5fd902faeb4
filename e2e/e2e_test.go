package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

const (
	devUser  = "dev"
	appName  = "hello"
	workTree = "/home/dev/hello"
	prefix   = "/services/hello/web/"
)

func TestMain(m *testing.M) { os.Exit(naptest.Main(m)) }

// operatorConfig is /etc/nap/config.yaml inside the machine.
const operatorConfig = `registry: 127.0.0.1:5000
target: systemd
state: /var/lib/nap
unit_dir: /etc/systemd/system
deploy_branch: master
drain: 2s
discovery: {etcd: v2, prefix: /services, ttl: 60, host: "%H", endpoints: ["http://127.0.0.1:2379"]}
router: {domain: apps.test}
`

// appHost is where the router serves the app (router.domain).
const appHost = appName + ".apps.test"

// announcement is the value of a discovery key (DESIGN.md).
type announcement = naptest.Announcement

// host is the machine with nap installed, and the test driving it.
type host struct {
	*naptest.Host
}

// commit writes files into the developer's work tree and commits them,
// returning the new revision.
func (h *host) commit(msg string, files map[string]string) string {
	h.T().Helper()
	return h.Commit(workTree, msg, files)
}

// mustGit runs git as the developer in the work tree.
func (h *host) mustGit(args ...string) string {
	h.T().Helper()
	return h.Git(workTree, args...)
}

// newAppRepo copies examples/hello into a fresh repository of the developer.
func (h *host) newAppRepo() string {
	h.T().Helper()
	files := map[string]string{}
	for _, name := range []string{"Dockerfile", "go.mod", "main.go"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", "hello", name))
		if err != nil {
			h.T().Fatal(err)
		}
		files[name] = string(b)
	}
	h.Run(devUser, "git", "init", "-q", "-b", "master", workTree)
	return h.commit("hello", files)
}

// keys returns the announcements under the app's web prefix, by key.
func (h *host) keys() map[string]announcement {
	h.T().Helper()
	kvs, err := h.Announced(prefix)
	if err != nil {
		h.T().Fatalf("etcd list %s: %v", prefix, err)
	}
	out := map[string]announcement{}
	for _, kv := range kvs {
		var a announcement
		if err := json.Unmarshal([]byte(kv.Value), &a); err != nil {
			h.T().Errorf("key %s holds %q, not the announcement JSON: %v", kv.Key, kv.Value, err)
			continue
		}
		out[kv.Key] = a
	}
	return out
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

// waitKeys waits until the prefix holds n keys, all of release rev.
func (h *host) waitKeys(n int, rev string, within time.Duration) map[string]announcement {
	h.T().Helper()
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
			h.T().Fatalf("after %v: keys under %s are %v, want %d of release %s", within, prefix, ks, n, rev)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPushToAnswer(t *testing.T) {
	if os.Geteuid() != 0 {
		sandbox.Unavailable(t, "e2e: simulated machines need root")
	}
	opts := sandbox.Full()
	opts.GoImage = true
	opts.Nginx = true
	m := sandbox.NewMachine(t, opts)

	// 1. nap installed for the nap user, forced-command mode; the router
	// in front of the apps, as README sets up an edge host.
	h := &host{naptest.Install(t, m, naptest.Options{Config: operatorConfig})}
	h.StartRouter(naptest.ConfigPath)
	rev1 := h.newAppRepo()
	h.warmUp()

	// 2. git push over ssh; 3. the key and the answer.
	start := time.Now()
	out := h.mustPush()
	h.checkAnswering("systemd", out, rev1)
	answered := time.Since(start)
	t.Logf("bench: git push to first answer: %v", answered.Round(time.Millisecond))

	if st := h.Run("nap", naptest.Bin, "status", appName); !regexp.MustCompile(`(?m)^url +http://hello\.apps\.test$`).MatchString(st) {
		t.Errorf("status does not show the app's URL:\n%s", st)
	}
	raw := h.rawDocker(rev1)
	t.Logf("bench: raw docker build+push+pull+run to first answer: %v; nap/raw = %.2f", raw.Round(time.Millisecond), answered.Seconds()/raw.Seconds())

	// 4. a redeploy while a client resolves and requests every 50 ms.
	rev2 := h.redeployUnderClient(rev1, "release 2")

	// 5. rollback to release 1, same client.
	p := h.startProber()
	if out := h.Run("nap", naptest.Bin, "rollback", appName); !strings.Contains(out, "-----> Rolling hello back to "+rev1[:12]) {
		t.Errorf("rollback printed %q", out)
	}
	h.waitKeys(1, rev1, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	p.stopAndCheck(rev2, rev1)
	h.checkGone(rev2)

	// 6. a broken Dockerfile is rejected; the branch and the app stay.
	p = h.startProber()
	h.commit("break it", map[string]string{"Dockerfile": "FROM scratch\nEXPOSE x\n"})
	code, out := h.Push(workTree)
	if code == 0 || !regexp.MustCompile(`remote: .*Dockerfile:2: EXPOSE`).MatchString(out) {
		t.Errorf("push of a broken Dockerfile: exit %d, want a rejection naming Dockerfile:2:\n%s", code, out)
	}
	if got := h.Master(); got != rev2 {
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
		body, err := h.Get(a)
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
	ps := h.containers("hello.web." + rev3[:12])
	if len(ps) != 3 {
		t.Fatalf("containers of %s: %v, want 3", rev3[:12], ps)
	}
	h.checkGone(rev1)
	// Through the router: requests spread over the three; one killed
	// costs at most one request (nginx moves the rest to the others).
	seen := map[string]bool{}
	for i := 0; i < 30; i++ {
		body, err := naptest.RouterGet(h.M.HTTPClient(), appHost)
		if m := answerRE.FindStringSubmatch(body); err == nil && m != nil {
			seen[m[2]] = true
		}
	}
	if len(seen) != 3 {
		t.Errorf("30 requests through the router reached instances %v, want 1, 2 and 3", seen)
	}
	c := naptest.StartRouterClient(h.M, appHost, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	h.Run("root", "docker", "kill", ps[1])
	time.Sleep(2 * time.Second)
	c.Check(t, "an instance killed", 1)

	// 7b. the app's owner at the keyboard: ssh nap@host COMMAND.
	h.appCommands(rev3)

	// 8. destroy: containers, units and keys gone within 1 s.
	start = time.Now()
	h.Run("nap", naptest.Bin, "destroy", appName)
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

	// 9. the same app on fleet (the real fleetd and fleetctl v1.0.0 on this
	// machine): steps 2–4.
	h.useFleet()
	rev4 := h.commit("on fleet", map[string]string{"nap.yaml": "instances: 1\n"})
	h.checkAnswering("fleet", h.mustPush(), rev4)
	if held := h.Run("nap", "fleetctl", "list-unit-files", "--no-legend", "--fields", "unit"); !strings.Contains(held, "hello.web."+rev4[:12]+"@1.service") {
		t.Errorf("fleet holds:\n%s\nwant hello.web.%s@1.service", held, rev4[:12])
	}
	h.redeployUnderClient(rev4, "release 5")
}

// checkAnswering checks steps 2 and 3 after a first push of rev: the push
// output shows nap's progress lines and the build's own output and ends with
// the endpoint; the one key holds DESIGN.md's JSON; its host:port answers
// with rev.
func (h *host) checkAnswering(target, out, rev string) {
	h.T().Helper()
	wants := []string{
		"-----> Deploying hello " + rev[:12],
		"-----> Step 1/9 : FROM golang:1.26 AS build", // the build's own output, from its start
		"-----> Successfully tagged 127.0.0.1:5000/hello:" + rev,
		"-----> " + rev + ": digest: sha256:", // to its last line
		"-----> Switched hello to " + rev[:12],
	}
	lacks := false
	for _, want := range wants {
		if !strings.Contains(out, want) {
			h.T().Errorf("%s: push output lacks %q", target, want)
			lacks = true
		}
	}
	if lacks {
		h.T().Logf("%s: the whole push output:\n%s", target, out)
	}
	key := prefix + rev[:12] + ".1"
	a, ok := h.waitKeys(1, rev, 10*time.Second)[key]
	if !ok {
		h.T().Fatalf("%s: no key %s", target, key)
	}
	if a.Host != h.M.Name || a.Port == 0 || a.Ports["8080/tcp"] != a.Port || len(a.Ports) != 1 {
		h.T().Errorf("%s: key %s = %+v, want host %s, port = ports[8080/tcp] != 0", target, key, a, h.M.Name)
	}
	if body, err := h.Get(a); err != nil || releaseOf(body) != rev {
		h.T().Fatalf("%s: GET %s:%d = %q, %v; want hello from %s", target, a.Host, a.Port, body, err, rev)
	}
	if want := fmt.Sprintf("-----> hello/web/%s.1 %s:%d", rev[:12], a.Host, a.Port); !strings.Contains(out, want) {
		h.T().Errorf("%s: the push does not name the instance: no %q", target, want)
	}
	// git prints its ref summary after what the remote said: nap's last
	// line is the last "remote:" one, the app's address.
	if last := lastRemoteLine(out); last != "-----> http://"+appHost {
		h.T().Errorf("%s: nap's last line is %q, want the app's URL", target, last)
	}
	// The router serves the new instance once its watch has seen the key
	// and nginx has reloaded: a fraction of a second. Right after a reload
	// the old workers may still take a connection or two (with the
	// configuration before, here: the app's 503), so it counts from the
	// first answer of ten in a row.
	var first time.Duration
	for began, inRow := time.Now(), 0; ; time.Sleep(10 * time.Millisecond) {
		body, err := naptest.RouterGet(h.M.HTTPClient(), appHost)
		if err == nil && releaseOf(body) == rev {
			if inRow++; inRow == 1 {
				first = time.Since(began)
			}
		} else {
			inRow = 0
		}
		if inRow == 10 {
			h.T().Logf("%s: http://%s answers through the router %v after the key was seen", target, appHost, first.Round(time.Millisecond))
			break
		}
		if time.Since(began) > 5*time.Second {
			h.T().Fatalf("%s: http://%s through the router = %q, %v after 5 s; want hello from %s", target, appHost, body, err, rev)
		}
	}
}

// redeployUnderClient is step 4: push a change while the client runs; no
// request fails, the answers and the key switch from the running release to
// the new one, and nothing of the old one is left after the drain.
func (h *host) redeployUnderClient(running, change string) string {
	h.T().Helper()
	p := h.startProber()
	rev := h.commit(change, map[string]string{"CHANGES": change + "\n"})
	h.mustPush()
	h.waitKeys(1, rev, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	p.stopAndCheck(running, rev)
	h.checkGone(running)
	return rev
}

// useFleet turns the machine into a one-machine fleet cluster (fleetd
// socket-activated, its registry in this machine's etcd v2) and the
// operator's target into fleet; the nap user reaches fleet's socket
// through its group, as fleetctl's default endpoint.
func (h *host) useFleet() {
	h.T().Helper()
	h.M.StartFleet(h.T(), sandbox.FleetOptions{SocketGroup: "nap"})
	h.WriteFile(naptest.ConfigPath, []byte(strings.Replace(operatorConfig, "target: systemd", "target: fleet", 1)), "root", 0o644)
}

// mustPush pushes master and fails the test if the push is rejected.
func (h *host) mustPush() string {
	h.T().Helper()
	code, out := h.Push(workTree)
	if code != 0 {
		h.T().Fatalf("push: exit %d", code)
	}
	return out
}

// containers lists the names of containers (running or not) starting with name.
func (h *host) containers(name string) []string {
	h.T().Helper()
	var out []string
	for _, n := range strings.Fields(h.Run("root", "docker", "ps", "-a", "--format", "{{.Names}}")) {
		if strings.HasPrefix(n, name) {
			out = append(out, n)
		}
	}
	return out
}

// leftovers lists what is left of units, unit files, containers and keys
// whose names start with name.
func (h *host) leftovers(name string) []string {
	h.T().Helper()
	var left []string
	for _, c := range h.containers(name) {
		left = append(left, "container "+c)
	}
	for _, l := range strings.Split(h.Run("root", "systemctl", "list-units", "--all", "--plain", "--no-legend", "--full", name+"*"), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			left = append(left, "unit "+f[0]+" ("+strings.Join(f[1:4], " ")+")")
		}
	}
	for _, dir := range []string{"/etc/systemd/system/", "/run/systemd/system/", "/run/fleet/units/"} {
		files, _ := filepath.Glob(h.M.Path(dir + name + "*"))
		for _, f := range files {
			left = append(left, "unit file "+dir+filepath.Base(f))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app := strings.SplitN(name, ".", 2)[0]
	kvs, err := h.M.Etcd().List(ctx, "/services/"+app)
	if err != nil {
		h.T().Fatal(err)
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
	h.T().Helper()
	if left := h.leftovers("hello.web." + rev[:12]); len(left) > 0 {
		h.T().Errorf("release %s is not gone: %v", rev[:12], left)
	}
}

// prober is the client of steps 4–6: a user of http://hello.apps.test
// through the router, every 10 ms, over keep-alive connections.
type prober struct {
	h    *host
	hc   *http.Client
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
	p := &prober{h: h, stop: make(chan struct{}), done: make(chan struct{}),
		hc: &http.Client{Transport: &http.Transport{DialContext: h.M.DialContext, Proxy: nil}}}
	go func() {
		defer close(p.done)
		end := time.Now().Add(proberLimit)
		tick := time.NewTicker(10 * time.Millisecond)
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
	body, err := naptest.RouterGet(p.hc, appHost)
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
	p.h.T().Helper()
	close(p.stop)
	<-p.done
	counts := map[string]int{}
	failed := 0
	for i, r := range p.log {
		if r.err != nil {
			failed++
			if failed <= 5 {
				p.h.T().Errorf("request %d of %d failed: %v", i+1, len(p.log), r.err)
			}
			continue
		}
		counts[r.release[:12]]++
	}
	p.h.T().Logf("client: %d requests, %d failed, answers by release %v", len(p.log), failed, counts)
	if len(p.log) == 0 {
		p.h.T().Fatal("the client made no request")
	}
	if first := p.log[0]; first.release != from {
		p.h.T().Errorf("first answer from %q, want %s", first.release, from)
	}
	if last := p.log[len(p.log)-1]; last.release != to {
		p.h.T().Errorf("last answer from %q, want %s", last.release, to)
	}
}

// rawDocker times what nap automates, by hand on the same machine: docker
// build (no cache), push, pull (after removing the local image) and run of
// the same tree, until the app answers.
func (h *host) rawDocker(rev string) time.Duration {
	h.T().Helper()
	src := "/var/lib/nap/hello/src/" + rev
	img := "127.0.0.1:5000/rawhello:1"
	start := time.Now()
	h.Run("root", "docker", "build", "-q", "--no-cache", "-t", img, src)
	h.Run("root", "docker", "push", "-q", img)
	h.Run("root", "docker", "rmi", "-f", img)
	h.Run("root", "docker", "pull", "-q", img)
	h.Run("root", "docker", "run", "-d", "--rm", "--name", "rawhello", "-p", "8080", "-e", "NAP_RELEASE="+rev, "-e", "NAP_INSTANCE=1", img)
	port := strings.TrimSpace(h.Run("root", "docker", "inspect", "--format", `{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}`, "rawhello"))
	for {
		code, body, err := h.M.HTTPGet("127.0.0.1:" + port)
		if err == nil && code == 200 && releaseOf(body) == rev {
			break
		}
		if time.Since(start) > 3*time.Minute {
			h.T().Fatalf("raw docker run: no answer: %v %q", err, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	h.Run("root", "docker", "rm", "-f", "rawhello")
	return took
}

// warmUp makes the two timings of step 3 start from the same warm caches:
// an untimed build reads the golang image and the toolchain into memory,
// which the first of them (nap's) would otherwise pay for alone. Every
// image it made is removed, the build stage's intermediate ones too: both
// builds still start without a layer cache.
func (h *host) warmUp() {
	h.T().Helper()
	images := func() map[string]bool {
		ids := map[string]bool{}
		for _, id := range strings.Fields(h.Run("root", "docker", "images", "-aq", "--no-trunc")) {
			ids[id] = true
		}
		return ids
	}
	before := images()
	h.Run("root", "docker", "build", "-q", "--no-cache", workTree)
	var made []string
	for id := range images() {
		if !before[id] {
			made = append(made, id)
		}
	}
	// removing a child removes its untagged parents too: a later id of the
	// list may be gone already, so the count below is the check
	h.Try("root", nil, append([]string{"docker", "rmi", "-f"}, made...)...)
	if left := len(images()) - len(before); left != 0 {
		h.T().Fatalf("warm-up: %d images left", left)
	}
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

// appCommands is step 7b: the commands over ssh as the app's owner (dev,
// who pushed it), as another user and as an admin; logs -f of the three
// instances while a restart goes through them under a client of the
// router; the follow ends when the client goes away.
func (h *host) appCommands(rev string) {
	t := h.T()
	t.Helper()
	for _, u := range []string{"eve", "ops"} {
		if _, err := h.M.AddUser(u); err != nil {
			t.Fatal(err)
		}
		pub, err := h.M.NewSSHKey(u)
		if err != nil {
			t.Fatal(err)
		}
		h.WriteFile("/tmp/"+u+".pub", []byte(pub+"\n"), "nap", 0o644)
	}
	h.Run("nap", naptest.Bin, "keys", "add", "eve", "/tmp/eve.pub")
	h.Run("nap", naptest.Bin, "keys", "add", "ops", "/tmp/ops.pub", "--admin")

	if res := h.SSH(devUser, "status", appName); res.Code != 0 || !strings.Contains(string(res.Stdout), "current  "+rev) || !strings.Contains(string(res.Stdout), "url      http://"+appHost) {
		t.Errorf("ssh status as the owner: %s", res)
	}
	for _, words := range [][]string{{"status", appName}, {"logs", appName}, {"restart", appName}, {"destroy", appName, "--confirm", appName}} {
		if res := h.SSH("eve", words...); res.Code == 0 || !strings.Contains(string(res.Stderr), "no access to hello") {
			t.Errorf("ssh %v as another user: %s", words, res)
		}
	}
	// hostile command lines, as ssh sends them: refused before anything runs
	for words, want := range map[string]string{
		"status hello; touch /tmp/pwned":        "';' outside quotes",
		"status hello\ntouch /tmp/pwned":        "outside quotes",
		"run hello -- $(touch /tmp/pwned)":      "'(' outside quotes",
		"logs hello --since yesterday":          "flag provided but not defined: -since",
		"config:set hello 'A=x\nB=y'":           "line break",
		"status " + strings.Repeat("x ", 10000): "at most 512 are taken",
		"sh -c id":                              `unknown command "sh"`,
	} {
		if res := h.SSH(devUser, words); res.Code == 0 || !strings.Contains(string(res.Stderr), want) {
			t.Errorf("ssh %.40q: %s\nwant a refusal saying %q", words, res, want)
		}
	}
	if h.Try("root", nil, "test", "-e", "/tmp/pwned").Code == 0 {
		t.Errorf("a hostile command line ran something")
	}
	if res := h.SSH("eve", "apps"); res.Code != 0 || strings.Contains(string(res.Stdout), appName) {
		t.Errorf("ssh apps as another user: %s", res)
	}
	if res := h.SSH("ops", "apps"); res.Code != 0 || !strings.Contains(string(res.Stdout), appName+"  ") {
		t.Errorf("ssh apps as an admin: %s", res)
	}
	if res := h.SSH(devUser, "logs", appName, "-n", "50"); res.Code != 0 || !strings.Contains(string(res.Stdout), "web.1 | ") ||
		!strings.Contains(string(res.Stdout), "web.3 | ") {
		t.Errorf("ssh logs: %s", res)
	}

	// logs -f through a restart of the three, one at a time
	var out lockedBuffer
	stdin, hold := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	followed := make(chan sandbox.Result, 1)
	go func() {
		res, _ := h.M.Run(ctx, sandbox.Cmd{User: devUser, Argv: naptest.SSHArgv("logs", appName, "-f", "-n", "0"), Stdin: stdin, Stdout: &out})
		followed <- res
	}()
	time.Sleep(2 * time.Second) // the follow is in place
	c := naptest.StartRouterClient(h.M, appHost, 10*time.Millisecond)
	res := h.SSH(devUser, "restart", appName)
	c.Check(t, "a restart over ssh", 0)
	if res.Code != 0 || !strings.Contains(string(res.Stdout), "-----> Restarting hello.web."+rev[:12]+"@3.service") {
		t.Errorf("ssh restart: %s", res)
	}
	for i := 1; i <= 3; i++ {
		want := fmt.Sprintf("web.%d | ", i)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if got := out.String(); strings.Contains(got, want) && strings.Contains(got[strings.Index(got, want):], "listening") {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("logs -f shows no %q…listening line after the restart:\n%s", want, out.String())
				break
			}
		}
	}
	h.configVars(rev)

	// The client goes away (its stdin closes): the remote follow ends, and
	// nothing of it is left on the machine.
	hold.Close()
	select {
	case res := <-followed:
		t.Logf("logs -f ended with exit %d when its client closed stdin", res.Code)
	case <-time.After(10 * time.Second):
		t.Errorf("logs -f did not end 10 s after its client went away")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		left := strings.TrimSpace(string(h.Try("root", nil, "pgrep", "-a", "-f", "nap-render logs|journalctl --no-pager -o json").Stdout))
		if left == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after the follow ended, still running: %s", left)
			break
		}
	}
}

// lockedBuffer is a bytes.Buffer written by one goroutine, read by another.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// configVars: config:set over ssh (a secret on stdin, a value on the
// command line) under a user of the router releases the running revision
// again with them, blue/green, 0 failed; the secret reaches the containers
// and nothing else of nap's — no unit, release record, journal, key or
// output (docker keeps it in its containers' records, root's); a
// rollback brings back the release without them.
func (h *host) configVars(rev string) {
	t := h.T()
	t.Helper()
	const secret = "s3cr3t-9f8e7d6c"
	c := naptest.StartRouterClient(h.M, appHost, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := h.M.Run(ctx, sandbox.Cmd{User: devUser, Argv: naptest.SSHArgv("config:set", appName, "API_KEY", "-"), Stdin: strings.NewReader(secret + "\n")})
	if err != nil || res.Code != 0 || !strings.Contains(string(res.Stdout), "Config of hello: API_KEY changed (version 1)") ||
		!strings.Contains(string(res.Stdout), "releasing them as "+rev[:12]+"-2") {
		t.Fatalf("ssh config:set API_KEY -: %v %s", err, res)
	}
	outputs := string(res.Stdout) + string(res.Stderr)
	res = h.SSH(devUser, "config:set", appName, "MODE=blue")
	outputs += string(res.Stdout) + string(res.Stderr)
	c.Check(t, "two config:set", 0)
	if res.Code != 0 || !strings.Contains(string(res.Stdout), "releasing them as "+rev[:12]+"-3") {
		t.Errorf("ssh config:set MODE=blue: %s", res)
	}
	if res := h.SSH(devUser, "config", appName); string(res.Stdout) != "API_KEY="+secret+"\nMODE=blue\n" {
		t.Errorf("ssh config: %s", res)
	}
	if res := h.SSH("eve", "config", appName); res.Code == 0 || strings.Contains(string(res.Stdout), secret) {
		t.Errorf("ssh config as another user: %s", res)
	}
	container := rev[:12] + "-3.1"
	env := h.Run("root", "docker", "inspect", "--format", "{{json .Config.Env}}", "hello.web."+container)
	if !strings.Contains(env, `"API_KEY=`+secret+`"`) || !strings.Contains(env, `"MODE=blue"`) {
		t.Errorf("the container's environment lacks the config vars: %s", env)
	}
	st := h.SSH(devUser, "status", appName)
	outputs += string(st.Stdout) + string(st.Stderr)
	if strings.Contains(outputs, secret) {
		t.Errorf("the secret is in a command's output:\n%s", outputs)
	}
	where := h.Try("root", nil, "sh", "-c", "grep -rl "+secret+" /etc /run/systemd /var/lib/nap /var/lib/etcd /home 2>/dev/null; journalctl --no-pager -o cat | grep -c "+secret+"; true")
	found := strings.Fields(string(where.Stdout))
	sort.Strings(found)
	if got := strings.Join(found, "\n"); got != "/var/lib/nap/hello/config/1.env\n/var/lib/nap/hello/config/2.env\n0" {
		t.Errorf("the secret is found in (want only the config files, and 0 journal lines):\n%s", got)
	}
	if mode := h.Run("root", "stat", "-c", "%a %U", "/var/lib/nap/hello/config/2.env"); strings.TrimSpace(mode) != "600 nap" {
		t.Errorf("config file mode %s", mode)
	}
	kvs, _ := h.Announced("/services")
	for _, kv := range kvs {
		if strings.Contains(kv.Value, secret) {
			t.Errorf("etcd key %s holds the secret", kv.Key)
		}
	}
	// run: a one-off container of the running release, with its config
	// vars, stdin and stdout as streams; its exit code is the command's.
	res, err = h.M.Run(ctx, sandbox.Cmd{User: devUser, Argv: naptest.SSHArgv("run", appName, "--", "/hello", "exit", "3", "API_KEY", "MODE"),
		Stdin: strings.NewReader("from stdin\n")})
	if want := "release " + rev + "\nAPI_KEY=" + secret + "\nMODE=blue\nfrom stdin\n"; err != nil || res.Code != 3 || string(res.Stdout) != want {
		t.Errorf("ssh run: %v %s\nwant exit 3 and %q", err, res, want)
	}
	if left := h.containers("hello.run."); len(left) > 0 {
		t.Errorf("run left containers: %v", left)
	}
	// rollback: code and config together, back to the release without them
	c = naptest.StartRouterClient(h.M, appHost, 10*time.Millisecond)
	if res := h.SSH(devUser, "rollback", appName, rev); res.Code != 0 {
		t.Errorf("ssh rollback: %s", res)
	}
	c.Check(t, "a rollback over ssh", 0)
	if env := h.Run("root", "docker", "inspect", "--format", "{{json .Config.Env}}", "hello.web."+rev[:12]+".1"); strings.Contains(env, "API_KEY") {
		t.Errorf("after the rollback the container still has the config vars: %s", env)
	}
	// the config is the running release's: what the next push releases
	if res := h.SSH(devUser, "config", appName); res.Code != 0 || string(res.Stdout) != "" {
		t.Errorf("ssh config after the rollback: %s; want the release's (none)", res)
	}
}
