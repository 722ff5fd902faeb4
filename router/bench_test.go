package router

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
)

// BenchmarkRouterLatency: what the router adds to a request — wrk, one
// connection kept alive, 10 s, against an instance of examples/hello
// directly and through nginx as the router configured it, three runs of
// each interleaved, inside one simulated machine — and how long a new key
// takes to be served (ten keys, one after another):
//
//	go test ./router -run '^$' -bench RouterLatency -benchtime 1x -v
func BenchmarkRouterLatency(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Fatalf("wrk is required: apt-get install wrk (%v)", err)
	}
	h := newRouterMachine(b)
	e := h.M.Etcd().V2()
	put := func(key string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Put(ctx, "/services/"+key, `{"host":"127.0.0.1","port":9001}`, 0); err != nil {
			b.Fatal(err)
		}
	}
	hc := h.M.HTTPClient()
	serving := func(host string) time.Duration {
		began := time.Now()
		for {
			if _, err := naptest.RouterGet(hc, host); err == nil {
				return time.Since(began)
			}
			if time.Since(began) > 10*time.Second {
				b.Fatalf("%s not served after 10 s", host)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	put("shop/web/0123456789ab.1")
	serving("shop.apps.test")

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var direct, routed [2][]float64 // p50, p99 in ms
		for run := 0; run < 3; run++ {
			for _, side := range []struct {
				to   *[2][]float64
				argv []string
			}{
				{&direct, []string{"http://127.0.0.1:9001/"}},
				{&routed, []string{"-H", "Host: shop.apps.test", "http://127.0.0.1/"}},
			} {
				out := h.Run("root", append([]string{"wrk", "-t1", "-c1", "-d10s", "--latency"}, side.argv...)...)
				p50, p99 := percentile(b, out, "50%"), percentile(b, out, "99%")
				side.to[0] = append(side.to[0], p50)
				side.to[1] = append(side.to[1], p99)
				b.Logf("run %d %-6s p50 %.3f ms, p99 %.3f ms", run+1, map[bool]string{true: "direct", false: "router"}[side.to == &direct], p50, p99)
			}
		}
		b.ReportMetric(median(routed[0])-median(direct[0]), "added-p50-ms")
		b.ReportMetric(median(routed[1])-median(direct[1]), "added-p99-ms")
		b.Logf("median p50: direct %.3f ms, router %.3f ms; p99: direct %.3f ms, router %.3f ms",
			median(direct[0]), median(routed[0]), median(direct[1]), median(routed[1]))

		var took []float64
		for k := 0; k < 10; k++ {
			app := fmt.Sprintf("new%d-%d", i, k)
			time.Sleep(300 * time.Millisecond) // a lone change, as a push makes
			began := time.Now()
			put(app + "/web/0123456789ab.1")
			serving(app + ".apps.test")
			took = append(took, float64(time.Since(began).Microseconds())/1000)
		}
		sort.Float64s(took)
		b.ReportMetric(median(took), "key-to-served-ms")
		b.Logf("a key written -> nginx serves it: %v ms", took)
	}
}

var wrkLine = regexp.MustCompile(`(?m)^\s+(\d+%)\s+([\d.]+)(us|ms|s)\s*$`)

// percentile reads wrk's --latency line for p, in milliseconds.
func percentile(b *testing.B, out, p string) float64 {
	for _, m := range wrkLine.FindAllStringSubmatch(out, -1) {
		if m[1] != p {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		return v
	}
	b.Fatalf("no %s line in wrk's output:\n%s", p, out)
	return 0
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
