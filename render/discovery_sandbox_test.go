package render

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/announce"
	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/unit"
)

// The sidekick on simulated machines: machine "etcd" runs etcd (v2 and v3
// APIs), machine "apps" runs dockerd and a registry; the units are rendered,
// installed and started the way deploy does (enable the discovery instance,
// start the run instance). Latencies are logged as "discovery latency:" lines
// (BENCHMARKS.md).

const (
	sandboxTTL = 6
	// hostilePrefix is beyond what ParseConfig accepts: the sidekick must keep
	// it literal all the same.
	hostilePrefix = `/nap "q" $x %i 'y'`
	hostileHost   = `h"o\s t$%H`
	// latencyBound fails announce, de-announce and re-announce latencies
	// that mean a wrong mechanism (a refresh or TTL where an event should
	// act). The goal, 1 s, is measured, not asserted: the "discovery
	// latency:" lines go to BENCHMARKS.md; the machine is shared by other
	// tests.
	latencyBound = 3 * time.Second
)

const webDockerfile = `FROM scratch
COPY app /app
EXPOSE 8080 8081 9090/udp
ENV LISTEN_AFTER=2s LISTEN_PORTS="8080 8081"
CMD ["/app"]
`

const healthDockerfile = `FROM scratch
COPY app /app
EXPOSE 8080
ENV LISTEN_PORTS=8080 HEALTHY_AFTER=3s
HEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD ["/app", "-check"]
CMD ["/app"]
`

// discoveryLab is the shared set-up of the sandbox tests.
type discoveryLab struct {
	t          *testing.T
	etcd, apps *sandbox.Machine
	http       *http.Client // to etcd's machine
}

// deployed is one rendered, installed app with one instance.
type deployed struct {
	app, api  string
	run, disc string // unit instance names
	container string
	key       string
	host      string // expected "host" in the value
}

func TestDiscoveryOnMachines(t *testing.T) {
	lab := &discoveryLab{t: t}
	lab.etcd = sandbox.NewMachine(t, sandbox.Options{Name: "etcd", EtcdV2: true})
	lab.apps = sandbox.NewMachine(t, sandbox.Options{Name: "apps", Docker: true, Registry: true})
	naptest.InstallNapRender(t, lab.apps)
	lab.http = lab.etcd.HTTPClient()
	webImg, healthImg := lab.buildImages()

	apps := map[string]map[string]*deployed{}
	for _, api := range []string{"v2", "v3"} {
		host := "%H"
		if api == "v3" {
			host = hostileHost
		}
		apps[api] = map[string]*deployed{
			"web":    lab.deploy("web"+api, api, host, webImg, webDockerfile),
			"health": lab.deploy("health"+api, api, host, healthImg, healthDockerfile),
		}
	}
	lab.systemctl("daemon-reload")

	for _, api := range []string{"v2", "v3"} {
		web, health := apps[api]["web"], apps[api]["health"]
		t.Run(api, func(t *testing.T) {
			t.Run("announces only once the app listens", func(t *testing.T) { lab.announce(t, web, "listening", latencyBound) })
			t.Run("multi-port value", func(t *testing.T) { lab.checkValue(t, web) })
			t.Run("waits for healthy", func(t *testing.T) {
				// docker notices /healthy at its next check (interval 1 s)
				lab.announce(t, health, "healthy", latencyBound+time.Second)
			})
			t.Run("host announcer killed", func(t *testing.T) { lab.announcerKilled(t, web) })
			t.Run("key lost behind its back", func(t *testing.T) { lab.keyLost(t, web) })
			t.Run("container killed", func(t *testing.T) { lab.containerKilled(t, web) })
			t.Run("container paused", func(t *testing.T) { lab.paused(t, web) })
			if api == "v2" {
				// The probe and the unit's life do not depend on etcd's
				// API: once is enough.
				t.Run("app closes its port", func(t *testing.T) { lab.portClosed(t, web) })
				t.Run("stopped while registering", func(t *testing.T) { lab.stoppedWhileRegistering(t, web) })
				t.Run("registration gone without a word", func(t *testing.T) { lab.registrationGone(t, web) })
			}
			t.Run("run unit stopped", func(t *testing.T) {
				lab.stopped(t, web)
				lab.stopped(t, health)
			})
		})
	}
	webs := []*deployed{apps["v2"]["web"], apps["v3"]["web"]}
	t.Run("etcd down at start", func(t *testing.T) { lab.etcdDownAtStart(t, webs) })
	t.Run("steady state writes", func(t *testing.T) { lab.steadyWrites(t, webs) })
	t.Run("logs etcd failures", func(t *testing.T) {
		for _, d := range webs {
			t.Run(d.api, func(t *testing.T) {
				t.Parallel()
				lab.logsFailures(t, d)
			})
		}
	})
	t.Run("machine dies", func(t *testing.T) { lab.machineDies(t, webs) })
}

func (l *discoveryLab) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute)
}

func (l *discoveryLab) systemctl(args ...string) string {
	l.t.Helper()
	out, err := l.apps.Systemctl(args...)
	if err != nil {
		l.t.Fatalf("systemctl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// run runs argv on m and fails the test on a non-zero exit.
func run(t testing.TB, m *sandbox.Machine, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := m.Exec(ctx, argv...)
	if err != nil || res.Code != 0 {
		t.Fatalf("%s on %s: %v %s", strings.Join(argv, " "), m.Name, err, res)
	}
	return string(res.Stdout)
}

// buildImages builds the test app (static, for FROM scratch) and the web and
// health images on the apps machine.
func (l *discoveryLab) buildImages() (web, health string) {
	t := l.t
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	if err := os.WriteFile(bin, naptest.Program(t, "testdata/discoveryapp"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, df := range map[string]string{"web": webDockerfile, "health": healthDockerfile} {
		ctxDir := filepath.Join(dir, name)
		if err := os.MkdirAll(ctxDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(bin, filepath.Join(ctxDir, "app")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(df), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, l.apps, "/usr/bin/docker", "build", "-q", "-t", "discovery-test/"+name, ctxDir)
	}
	return "discovery-test/web", "discovery-test/health"
}

// deploy renders app from dockerfileText for etcd api, pushes its image,
// installs its units and enables the discovery instance 1.
func (l *discoveryLab) deploy(app, api, host, image, dockerfileText string) *deployed {
	t := l.t
	t.Helper()
	cfg, err := ParseConfig([]byte(fmt.Sprintf(
		"target: systemd\nregistry: 127.0.0.1:5000\ndiscovery: {etcd: %s, ttl: %d, endpoints: [http://%s:2379]}\n",
		api, sandboxTTL, l.etcd.IP)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Operator.Discovery.Prefix = hostilePrefix
	cfg.Operator.Discovery.Host = host
	img, err := dockerfile.Parse("Dockerfile", strings.NewReader(dockerfileText), dockerfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rel := Release{App: app, Rev: discoveryRev}
	files, err := Render(img, cfg, rel)
	if err != nil {
		t.Fatal(err)
	}
	ref := Image(cfg, rel)
	run(t, l.apps, "/usr/bin/docker", "tag", image, ref)
	run(t, l.apps, "/usr/bin/docker", "push", "-q", ref)
	for _, f := range files {
		b, err := unit.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.apps.Path("/etc/systemd/system/"+f.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stem := app + ".web." + discoveryRev[:12]
	d := &deployed{
		app: app, api: api,
		run: stem + "@1.service", disc: stem + ".discovery@1.service",
		container: stem + ".1",
		key:       hostilePrefix + "/" + app + "/web/" + discoveryRev[:12] + ".1",
		host:      host,
	}
	if host == "%H" {
		d.host = l.apps.Name
	}
	return d
}

// get reads d's key from etcd over its HTTP APIs (cheap enough to poll
// every few milliseconds): its value, or ok false when there is none. mark
// changes with every write (v2: modified index; v3: lease and revision).
func (l *discoveryLab) get(t testing.TB, d *deployed) (value, mark string, ok bool) {
	t.Helper()
	if d.api == "v2" {
		var segs []string
		for _, s := range strings.Split(d.key, "/") {
			segs = append(segs, url.PathEscape(s))
		}
		resp, err := l.http.Get("http://127.0.0.1:2379/v2/keys" + strings.Join(segs, "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			ErrorCode int `json:"errorCode"`
			Node      struct {
				Key           string `json:"key"`
				Value         string `json:"value"`
				ModifiedIndex int    `json:"modifiedIndex"`
			} `json:"node"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatalf("etcd v2 get: %s: %v", resp.Status, err)
		}
		if r.ErrorCode == 100 { // key not found
			return "", "", false
		}
		if resp.StatusCode != 200 || r.Node.Key != d.key {
			t.Fatalf("etcd v2 get %q: %s, key %q", d.key, resp.Status, r.Node.Key)
		}
		return r.Node.Value, strconv.Itoa(r.Node.ModifiedIndex), true
	}
	req, _ := json.Marshal(map[string][]byte{"key": []byte(d.key)})
	resp, err := l.http.Post("http://127.0.0.1:2379/v3/kv/range", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Kvs []struct {
			Key         []byte `json:"key"`
			Value       []byte `json:"value"`
			Lease       string `json:"lease"`
			ModRevision string `json:"mod_revision"`
		} `json:"kvs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("etcd v3 range: %s: %v", resp.Status, err)
	}
	if len(r.Kvs) == 0 {
		return "", "", false
	}
	if string(r.Kvs[0].Key) != d.key {
		t.Fatalf("etcd v3 range %q returned key %q", d.key, r.Kvs[0].Key)
	}
	return string(r.Kvs[0].Value), r.Kvs[0].Lease + " " + r.Kvs[0].ModRevision, true
}

// waitKey polls until d's key is present (or absent) and returns when it
// first saw it so, and the value.
func (l *discoveryLab) waitKey(t testing.TB, d *deployed, present bool, timeout time.Duration) (time.Time, string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, _, ok := l.get(t, d)
		now := time.Now()
		if ok == present {
			return now, v
		}
		if now.After(deadline) {
			t.Fatalf("key %q: still present=%v after %v\n%s", d.key, ok, timeout, l.diagnose(d))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// diagnose shows what the units and docker say about d.
func (l *discoveryLab) diagnose(d *deployed) string {
	status, _ := l.apps.Systemctl("show", "-p", "Id,ActiveState,SubState,NRestarts,ExecMainStatus", d.disc, d.run, announce.Unit)
	ctx, cancel := l.ctx()
	defer cancel()
	res, _ := l.apps.Exec(ctx, "/usr/bin/docker", "ps", "-a")
	return status + "\n" + string(res.Stdout) + "\n" + l.apps.Journal(d.disc) + "\n" + l.apps.Journal(announce.Unit)
}

// event returns when the current container of d last printed what.
func (l *discoveryLab) event(t testing.TB, d *deployed, what string) (time.Time, bool) {
	t.Helper()
	ctx, cancel := l.ctx()
	defer cancel()
	res, err := l.apps.Exec(ctx, "/usr/bin/docker", "logs", d.container)
	if err != nil || res.Code != 0 {
		return time.Time{}, false
	}
	var at time.Time
	found := false
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == what {
			if ts, err := time.Parse(time.RFC3339Nano, f[1]); err == nil {
				at, found = ts, true
			}
		}
	}
	return at, found
}

// announce starts d and checks that its key appears only after the app
// printed event, and within goal of it.
func (l *discoveryLab) announce(t *testing.T, d *deployed, event string, goal time.Duration) {
	if _, _, ok := l.get(t, d); ok {
		t.Fatalf("key %q exists before the start", d.key)
	}
	l.systemctl("enable", d.disc)
	l.systemctl("start", "--no-block", d.run)
	seen, _ := l.waitKey(t, d, true, time.Minute)
	at, ok := l.event(t, d, event)
	if !ok {
		t.Fatalf("key written, but the app never printed %q\n%s", event, l.diagnose(d))
	}
	lat := seen.Sub(at)
	t.Logf("discovery latency: announce (%s, after %s) = %v", d.api, event, lat.Round(time.Millisecond))
	if lat < 0 {
		t.Errorf("key written %v before the app was %s", -lat, event)
	}
	if lat > goal {
		t.Errorf("key written %v after the app was %s, want ≤ %v", lat, event, goal)
	}
}

// checkValue compares d's announcement with what docker published.
func (l *discoveryLab) checkValue(t *testing.T, d *deployed) {
	v, _, ok := l.get(t, d)
	if !ok {
		t.Fatalf("no key %q", d.key)
	}
	var got struct {
		Host    string         `json:"host"`
		Port    int            `json:"port"`
		Ports   map[string]int `json:"ports"`
		Release string         `json:"release"`
	}
	if err := json.Unmarshal([]byte(v), &got); err != nil {
		t.Fatalf("value %q: %v", v, err)
	}
	published := map[string]int{}
	for _, p := range []string{"8080/tcp", "8081/tcp", "9090/udp"} {
		out := run(t, l.apps, "/usr/bin/docker", "port", d.container, p)
		_, port, _ := strings.Cut(strings.Fields(out)[0], ":")
		published[p], _ = strconv.Atoi(port)
	}
	if got.Host != d.host || got.Port != published["8080/tcp"] || got.Release != discoveryRev ||
		fmt.Sprint(got.Ports) != fmt.Sprint(published) {
		t.Errorf("value %s\nwant host %q, port %d, ports %v, release %s", v, d.host, published["8080/tcp"], published, discoveryRev)
	}
}

// announcerKilled SIGKILLs the host announcer: the key stays, systemd
// restarts the announcer, and the new one writes the key again.
func (l *discoveryLab) announcerKilled(t *testing.T, d *deployed) {
	_, before, ok := l.get(t, d)
	if !ok {
		t.Fatalf("no key %q", d.key)
	}
	restarts := l.systemctl("show", "-P", "NRestarts", announce.Unit)
	l.systemctl("kill", "--signal=SIGKILL", announce.Unit)
	killed := time.Now()
	rewritten := time.Duration(0)
	for time.Since(killed) < 4*time.Second {
		_, mark, ok := l.get(t, d)
		if !ok {
			t.Fatalf("key gone %v after the SIGKILL\n%s", time.Since(killed), l.diagnose(d))
		}
		if mark != before && rewritten == 0 {
			rewritten = time.Since(killed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := l.systemctl("show", "-P", "NRestarts", announce.Unit); n == restarts {
		t.Errorf("%s was not restarted", announce.Unit)
	}
	if rewritten == 0 {
		t.Errorf("key not written again within 4 s of the SIGKILL\n%s", l.diagnose(d))
	}
	t.Logf("discovery latency: rewrite after SIGKILL of the host announcer (%s) = %v", d.api, rewritten.Round(time.Millisecond))
}

// keyLost removes the key behind the sidekick's back (v2: deletes it; v3:
// revokes its lease, as an expiry would): the next refresh writes it again
// (v3: a keep-alive fails, so a new lease is granted).
func (l *discoveryLab) keyLost(t *testing.T, d *deployed) {
	_, mark, ok := l.get(t, d)
	if !ok {
		t.Fatalf("no key %q", d.key)
	}
	argv := []string{"env", "ETCDCTL_API=2", "etcdctl", "--endpoints", "http://127.0.0.1:2379", "rm", "--", d.key}
	if d.api == "v3" {
		lease, _, _ := strings.Cut(mark, " ")
		id, err := strconv.ParseInt(lease, 10, 64)
		if err != nil || id == 0 {
			t.Fatalf("key %q has no lease (%q)", d.key, mark)
		}
		argv = []string{"env", "ETCDCTL_API=3", "etcdctl", "--endpoints=http://127.0.0.1:2379", "lease", "revoke", strconv.FormatInt(id, 16)}
	}
	run(t, l.etcd, argv...)
	lost := time.Now()
	l.waitKey(t, d, false, 5*time.Second)
	back, _ := l.waitKey(t, d, true, time.Duration(sandboxTTL)*time.Second)
	t.Logf("discovery latency: key written again after it was lost (%s) = %v", d.api, back.Sub(lost).Round(time.Millisecond))
	if _, newMark, _ := l.get(t, d); d.api == "v3" && strings.Split(newMark, " ")[0] == strings.Split(mark, " ")[0] {
		t.Errorf("the key came back under the revoked lease %s", mark)
	}
}

// deannounced waits for d's key to go after cause, just done, and returns
// when cause was done.
func (l *discoveryLab) deannounced(t *testing.T, d *deployed, cause string) time.Time {
	t.Helper()
	done := time.Now()
	gone, _ := l.waitKey(t, d, false, 10*time.Second)
	lat := gone.Sub(done)
	t.Logf("discovery latency: de-announce after %s (%s) = %v", cause, d.api, lat.Round(time.Millisecond))
	if lat > latencyBound {
		t.Errorf("key still there %v after %s, want ≤ %v", lat, cause, latencyBound)
	}
	return done
}

// containerKilled kills d's container: the key goes at once, the run unit
// starts a new container and the key comes back once it listens.
func (l *discoveryLab) containerKilled(t *testing.T, d *deployed) {
	run(t, l.apps, "/usr/bin/docker", "kill", d.container)
	killed := l.deannounced(t, d, "docker kill")
	back, _ := l.waitKey(t, d, true, time.Minute)
	at, ok := l.event(t, d, "listening")
	if !ok || at.Before(killed) {
		t.Fatalf("key back, but the new container never printed listening (%v)", at)
	}
	lat := back.Sub(at)
	t.Logf("discovery latency: re-announce after restart (%s) = %v", d.api, lat.Round(time.Millisecond))
	if lat < 0 || lat > latencyBound {
		t.Errorf("key back %v after the new container listened, want within [0, %v]", lat, latencyBound)
	}
}

// portClosed makes d's app close its ports while its container runs: only
// the probe can tell, and the key goes within its period. A new container
// (docker kill, the run unit restarts it) brings the key back.
func (l *discoveryLab) portClosed(t *testing.T, d *deployed) {
	l.waitKey(t, d, true, 10*time.Second)
	run(t, l.apps, "/usr/bin/docker", "kill", "--signal=USR1", d.container)
	gone, _ := l.waitKey(t, d, false, 10*time.Second)
	at, ok := l.event(t, d, "closed")
	if !ok {
		t.Fatalf("key gone, but the app never printed closed\n%s", l.diagnose(d))
	}
	lat := gone.Sub(at)
	t.Logf("discovery latency: de-announce after the app closed its port (%s) = %v", d.api, lat.Round(time.Millisecond))
	if lat < 0 || lat > latencyBound {
		t.Errorf("key gone %v after the app closed its port, want within [0, %v]", lat, latencyBound)
	}
	run(t, l.apps, "/usr/bin/docker", "kill", d.container)
	l.waitKey(t, d, true, time.Minute)
}

// paused pauses d's container: frozen, it would fill its backlog and answer
// nothing, so its key goes at once (docker's "pause" event) and comes back
// after "unpause".
func (l *discoveryLab) paused(t *testing.T, d *deployed) {
	l.waitKey(t, d, true, 10*time.Second)
	run(t, l.apps, "/usr/bin/docker", "pause", d.container)
	l.deannounced(t, d, "docker pause")
	run(t, l.apps, "/usr/bin/docker", "unpause", d.container)
	unpaused := time.Now()
	back, _ := l.waitKey(t, d, true, 10*time.Second)
	t.Logf("discovery latency: re-announce after docker unpause (%s) = %v", d.api, back.Sub(unpaused).Round(time.Millisecond))
}

// stoppedWhileRegistering stops d's discovery unit while its start is
// still registering (the host announcer stopped first, so the registration
// has to start it: the slow path), at 0, 10, 20 and 30 ms into it: the
// unit ends inactive, not failed, and
// nothing stays announced; started again, it announces.
func (l *discoveryLab) stoppedWhileRegistering(t *testing.T, d *deployed) {
	for i := 0; i < 4; i++ {
		l.systemctl("stop", announce.Unit)
		l.systemctl("restart", "--no-block", d.disc)
		time.Sleep(time.Duration(i*10) * time.Millisecond)
		l.systemctl("stop", d.disc)
		if st := l.systemctl("show", "-P", "ActiveState", d.disc); st != "inactive" {
			t.Errorf("try %d: %s is %s after a stop during its start, want inactive\n%s", i, d.disc, st, l.diagnose(d))
		}
		time.Sleep(time.Second) // past a write the announcer might have had in flight (its grid is 250 ms)
		if _, _, ok := l.get(t, d); ok {
			t.Errorf("try %d: key %q announced after the unit stopped\n%s", i, d.key, l.diagnose(d))
		}
	}
	l.systemctl("start", d.disc)
	l.waitKey(t, d, true, 10*time.Second)
}

// registrationGone removes d's registration file the way a withdraw
// SIGKILLed between its file and its word to the announcer leaves it: the
// announcer notices within its second and withdraws the key.
func (l *discoveryLab) registrationGone(t *testing.T, d *deployed) {
	l.waitKey(t, d, true, 10*time.Second)
	run(t, l.apps, "sh", "-c", "rm $(grep -lF '\""+d.container+"\"' "+announce.Dir+"/*.json)")
	l.deannounced(t, d, "its registration was removed")
	l.systemctl("restart", d.disc)
	l.waitKey(t, d, true, 10*time.Second)
}

// stopped stops d's run unit: the sidekick stops first and deletes the key.
func (l *discoveryLab) stopped(t *testing.T, d *deployed) {
	l.systemctl("stop", "--no-block", d.run)
	l.deannounced(t, d, "systemctl stop")
	deadline := time.Now().Add(30 * time.Second)
	for l.systemctl("show", "-P", "ActiveState", d.disc) != "inactive" || l.systemctl("show", "-P", "ActiveState", d.run) != "inactive" {
		if time.Now().After(deadline) {
			t.Fatalf("%s and %s still not inactive", d.run, d.disc)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, _, ok := l.get(t, d); ok {
		t.Errorf("key %q written again after the stop", d.key)
	}
}

// etcdDownAtStart starts the apps while etcd is down: the sidekicks keep
// retrying, and the keys appear once etcd is back.
func (l *discoveryLab) etcdDownAtStart(t *testing.T, ds []*deployed) {
	if _, err := l.etcd.Systemctl("stop", "etcd.service"); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		l.systemctl("start", "--no-block", d.run)
	}
	for _, d := range ds {
		deadline := time.Now().Add(time.Minute)
		for {
			if _, ok := l.event(t, d, "listening"); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never listened", d.container)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	time.Sleep(2 * time.Second) // the sidekicks try, fail and back off
	restarts := map[string]string{}
	for _, d := range ds {
		if active := l.systemctl("show", "-P", "ActiveState", d.disc); active != "active" {
			t.Errorf("%s is %s while etcd is down, want active (retrying)\n%s", d.disc, active, l.diagnose(d))
		}
		restarts[d.disc] = l.systemctl("show", "-P", "NRestarts", d.disc)
	}
	if _, err := l.etcd.Systemctl("start", "etcd.service"); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	for _, d := range ds {
		seen, _ := l.waitKey(t, d, true, 30*time.Second)
		t.Logf("discovery latency: announce after etcd came back (%s) = %v", d.api, seen.Sub(up).Round(time.Millisecond))
		if n := l.systemctl("show", "-P", "NRestarts", d.disc); n != restarts[d.disc] {
			t.Errorf("%s restarted while etcd was down (NRestarts %s → %s): it must keep running", d.disc, restarts[d.disc], n)
		}
		if active := l.systemctl("show", "-P", "ActiveState", d.run); active != "active" {
			t.Errorf("%s is %s: the sidekick must never touch the app", d.run, active)
		}
	}
}

// etcdMetrics reads etcd's write counters: v2 sets, v3 puts, lease grants
// and lease renewals (keep-alives).
func (l *discoveryLab) etcdMetrics(t testing.TB) map[string]float64 {
	t.Helper()
	code, body, err := l.etcd.HTTPGet("http://127.0.0.1:2379/metrics")
	if err != nil || code != 200 {
		t.Fatalf("etcd metrics: %d %v", code, err)
	}
	names := map[string]string{
		`etcd_debugging_store_writes_total{action="set"}`: "v2 set",
		"etcd_mvcc_put_total":                             "v3 put",
		"etcd_debugging_lease_granted_total":              "v3 lease grant",
		"etcd_debugging_lease_renewed_total":              "v3 keep-alive",
	}
	m := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) == 2 && names[f[0]] != "" {
			m[names[f[0]]], _ = strconv.ParseFloat(f[1], 64)
		}
	}
	return m
}

// steadyWrites counts etcd's writes while one v2 and one v3 instance stay
// announced, and the v2 refreshes seen, for BENCHMARKS.md: writes per
// refresh, and so writes per second per 1,000 instances at any TTL.
func (l *discoveryLab) steadyWrites(t *testing.T, ds []*deployed) {
	for _, d := range ds {
		l.waitKey(t, d, true, 10*time.Second)
	}
	const window = 10 * time.Second
	before := l.etcdMetrics(t)
	start := time.Now()
	marks := map[string]bool{}
	for time.Since(start) < window {
		_, mark, ok := l.get(t, ds[0])
		if !ok {
			t.Fatalf("key %q gone in steady state", ds[0].key)
		}
		marks[mark] = true
		time.Sleep(100 * time.Millisecond)
	}
	after := l.etcdMetrics(t)
	refreshes := len(marks) - 1
	if refreshes < 1 {
		t.Fatalf("no v2 refresh seen in %v", window)
	}
	interval := window / time.Duration(refreshes)
	for _, k := range []string{"v2 set", "v3 put", "v3 lease grant", "v3 keep-alive"} {
		t.Logf("discovery writes: %s: %v in %v (TTL %ds)", k, after[k]-before[k], window, sandboxTTL)
	}
	t.Logf("discovery writes: v2 refresh interval at TTL %ds: %v (%d refreshes seen)", sandboxTTL, interval.Round(10*time.Millisecond), refreshes)
	v2 := after["v2 set"] - before["v2 set"]
	v3 := after["v3 put"] + after["v3 lease grant"] + after["v3 keep-alive"] -
		before["v3 put"] - before["v3 lease grant"] - before["v3 keep-alive"]
	// one request per refresh, give or take the refresh at either end of the window
	if v2 < float64(refreshes-1) || v2 > float64(refreshes+2) {
		t.Errorf("v2: %v sets for %d refreshes, want one each", v2, refreshes)
	}
	if v3 < float64(refreshes-2) || v3 > float64(refreshes+3) || after["v3 put"] != before["v3 put"] {
		t.Errorf("v3: %v requests (%v puts) for about %d refreshes, want one keep-alive each and no put", v3, after["v3 put"]-before["v3 put"], refreshes)
	}
}

// logsFailures registers d's instance by hand under another key, as its
// unit's ExecStart= would but with an etcd endpoint nobody listens on, and
// withdraws it after a while: the host announcer's journal says what
// failed, the withdrawal says the key will expire.
func (l *discoveryLab) logsFailures(t *testing.T, d *deployed) {
	b, err := os.ReadFile(l.apps.Path("/etc/systemd/system/" + strings.Replace(d.disc, "@1.", "@.", 1)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := unit.Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	f.Name = d.disc
	// systemd's part: the instance ends the key and the container name (a
	// "%i" inside the hostile prefix is literal), %H is the whole host word.
	const endpoint = "http://127.0.0.1:1"
	key := d.key + "-by-hand"
	bySystemd := func(argv []string) []string {
		for i := 1; i < len(argv); i++ {
			switch argv[i-1] {
			case "--key":
				argv[i] = key
			case "--container":
				argv[i] = strings.TrimSuffix(argv[i], "%i") + "1"
			case "--host":
				if argv[i] == "%H" {
					argv[i] = l.apps.Name
				}
			case "--endpoints":
				argv[i] = endpoint
			}
		}
		return argv
	}
	ctx, cancel := l.ctx()
	defer cancel()
	journal := func() string { return l.apps.Journal(announce.Unit) }
	before := journal()
	res, err := l.apps.Exec(ctx, bySystemd(execArgv(t, f))...)
	if err != nil || res.Code != 0 {
		t.Fatalf("register: %v\n%s", err, res)
	}
	// Backoff 0.25 s doubling: failures at 0, 0.25, 0.75, 1.75 and 3.75 s.
	time.Sleep(5 * time.Second)
	res, err = l.apps.Exec(ctx, bySystemd(commandArgv(t, f, "ExecStopPost"))...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 {
		t.Errorf("withdraw exited %d, want 0 (a stop goes on)\n%s", res.Code, res)
	}
	if want := "could not delete " + key + " (it expires after its TTL): "; !strings.Contains(string(res.Stdout), want) {
		t.Errorf("withdraw's output lacks %q:\n%s", want, res)
	}
	wants := []string{key + ": could not withdraw " + key + " (it expires after 6s): "}
	for _, n := range []int{1, 2, 4} {
		wants = append(wants, fmt.Sprintf("%s: etcd at %s failed (%d in a row): ", key, endpoint, n))
	}
	var logged string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		logged = strings.TrimPrefix(journal(), before)
		missing := false
		for _, want := range wants {
			missing = missing || !strings.Contains(logged, want)
		}
		if !missing || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range wants {
		if !strings.Contains(logged, want) {
			t.Errorf("%s's journal lacks %q:\n%s", announce.Unit, want, logged)
		}
	}
	if strings.Contains(logged, "(3 in a row)") {
		t.Errorf("the 3rd failure in a row is logged; only the 1st, 2nd, 4th, 8th… should be:\n%s", logged)
	}
}

// machineDies kills the apps machine's PID 1: nothing can delete the keys,
// so they must expire after the TTL.
func (l *discoveryLab) machineDies(t *testing.T, ds []*deployed) {
	for _, d := range ds {
		l.waitKey(t, d, true, 10*time.Second)
	}
	l.apps.Kill()
	died := time.Now()
	// The last refresh was at most 2 s before the kill: every key lives at
	// least TTL-2 s longer, and none more than TTL.
	time.Sleep(time.Duration(sandboxTTL-3) * time.Second)
	for _, d := range ds {
		if _, _, ok := l.get(t, d); !ok {
			t.Errorf("key %q gone %v after the machine died, before its TTL", d.key, time.Since(died))
		}
	}
	for _, d := range ds {
		gone, _ := l.waitKey(t, d, false, time.Duration(sandboxTTL+5)*time.Second)
		t.Logf("discovery: key expired %v after the machine died (%s, TTL %ds)", gone.Sub(died).Round(time.Millisecond), d.api, sandboxTTL)
		if gone.Sub(died) > time.Duration(sandboxTTL+2)*time.Second {
			t.Errorf("key lived %v after the machine died, TTL %ds", gone.Sub(died), sandboxTTL)
		}
	}
}

func TestMain(m *testing.M) { os.Exit(naptest.Main(m)) }
