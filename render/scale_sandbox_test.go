package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/unit"
)

// BenchmarkSidekicks measures what announcing costs: 100 instances of one
// app, each with its discovery unit, on one machine (dockerd, etcd v2,
// systemd), over 60 s of steady state. It reports the CPU of every
// nap-render process (the host announcer; the units run none) and
// dockerd's, containerd's and etcd's, then the same 100 containers for 60 s
// with the discovery units stopped: the cost of discovery is the announcer
// plus the daemons' increase. By hand (BENCHMARKS.md):
//
//	go test -run '^$' -bench Sidekicks -benchtime 1x -timeout 30m ./render
func BenchmarkSidekicks(b *testing.B) {
	const n = 100
	const window = 60 * time.Second
	m := sandbox.NewMachine(b, sandbox.Options{Name: "scale", Docker: true, EtcdV2: true})
	naptest.InstallNapRender(b, m)
	sh := func(script string) string {
		b.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		res, err := m.Exec(ctx, "sh", "-c", script)
		if err != nil || res.Code != 0 {
			b.Fatalf("%s: %v %s", script, err, res)
		}
		return strings.TrimSpace(string(res.Stdout))
	}

	dir := b.TempDir()
	bin := filepath.Join(dir, "app")
	if err := os.WriteFile(bin, naptest.Program(b, "testdata/discoveryapp"), 0o755); err != nil {
		b.Fatal(err)
	}
	const df = "FROM scratch\nCOPY app /app\nEXPOSE 8080\nENV LISTEN_PORTS=8080\nCMD [\"/app\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := ParseConfig([]byte("target: systemd\ndiscovery: {etcd: v2, ttl: 60, host: 127.0.0.1}\nlimits: {max_instances: 100}\n"),
		[]byte("instances: "+strconv.Itoa(n)+"\n"))
	if err != nil {
		b.Fatal(err)
	}
	rel := Release{App: "scale", Rev: discoveryRev}
	sh("/usr/bin/docker build -q -t " + Image(cfg, rel) + " " + dir)
	img, err := dockerfile.Parse("Dockerfile", strings.NewReader(df), dockerfile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	files, err := Render(img, cfg, rel)
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		data, err := unit.Marshal(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.WriteFile("/etc/systemd/system/"+f.Name, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	stem := "scale.web." + discoveryRev[:12]
	// CPU time is read from /proc (utime+stime of the processes): the
	// machine's cgroups have no cpu controller on a cgroup-v1 host.
	sh("systemctl daemon-reload")
	sh(fmt.Sprintf("for i in $(seq %d); do systemctl start --no-block %s@$i.service %s.discovery@$i.service; done", n, stem, stem))
	deadline := time.Now().Add(10 * time.Minute)
	for {
		got := sh("ETCDCTL_API=2 etcdctl ls /services/scale/web 2>/dev/null | wc -l")
		if got == strconv.Itoa(n) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s of %d instances announced after 10 minutes", got, n)
		}
		time.Sleep(time.Second)
	}
	// cpu sums the CPU time (ns) of the processes named (pgrep -x).
	tick := time.Second / time.Duration(mustInt(b, sh("getconf CLK_TCK")))
	cpu := func(names ...string) int64 {
		var sum int64
		for _, n := range names {
			out := sh("for p in $(pgrep -x " + n + "); do cat /proc/$p/stat 2>/dev/null; done | awk '{ s += $14 + $15 } END { print s+0 }'")
			sum += mustInt(b, out)
		}
		return sum * int64(tick)
	}
	sidekicks := func() int64 { return cpu("nap-render") }
	daemons := func() int64 { return cpu("dockerd", "containerd", "containerd-shim", "etcd") }
	percent := func(ns int64) float64 { return 100 * float64(ns) / float64(window) }

	// switches counts the sidekicks' threads' context switches: wake-ups.
	switches := func() int64 {
		return mustInt(b, sh("for p in $(pgrep -x nap-render); do cat /proc/$p/task/*/status 2>/dev/null; done | awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/ { s += $2 } END { print s+0 }'"))
	}
	time.Sleep(10 * time.Second) // past the start-up
	s0, d0, w0 := sidekicks(), daemons(), switches()
	time.Sleep(window)
	s1, d1, w1 := sidekicks(), daemons(), switches()
	b.Logf("sidekicks: %d processes, %d threads, %.1f context switches per second each",
		mustInt(b, sh("pgrep -x nap-render | wc -l")), mustInt(b, sh("for p in $(pgrep -x nap-render); do ls /proc/$p/task; done | wc -l")),
		float64(w1-w0)/window.Seconds()/n)
	sh(fmt.Sprintf("for i in $(seq %d); do systemctl stop %s.discovery@$i.service; done", n, stem))
	time.Sleep(10 * time.Second)
	b0 := daemons()
	time.Sleep(window)
	b1 := daemons()

	side, with, without := percent(s1-s0), percent(d1-d0), percent(b1-b0)
	total := side + with - without
	b.Logf("sidekicks: %d instances, %v: sidekicks %.2f%% of a core; dockerd+containerd+etcd %.2f%% with them, %.2f%% without; discovery costs %.2f%% of a core (%.3f%% per instance)",
		n, window, side, with, without, total, total/n)
	b.ReportMetric(total, "%core-total")
	b.ReportMetric(side, "%core-sidekicks")
}

func mustInt(b *testing.B, s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		b.Fatalf("not a number: %q", s)
	}
	return v
}
