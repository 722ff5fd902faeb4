package hooks

import (
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

// BenchmarkPush times one push of a non-deploy branch (nap decides to do
// nothing) over ssh on a machine: through nap (forced command,
// pre-receive, nap-render hooks pre-receive) and to a plain bare
// repository without hooks behind the same sshd. The two pushes alternate
// within each iteration (the order flips every time), so both see the same
// load on a shared machine; it reports the medians of each and of the
// paired difference. Each push is preceded (untimed) by a reset of the
// branch, so every timed push moves it.
func BenchmarkPush(b *testing.B) {
	if os.Geteuid() != 0 {
		sandbox.Unavailable(b, "simulated machines need root")
	}
	h := naptest.Install(b, sandbox.NewMachine(b, sandbox.Options{SSH: true}), naptest.Options{Config: noDeployConfig})
	// The plain user runs git-shell on whatever git asks for with dev's
	// key, the classic set-up without nap.
	if _, err := h.M.AddUser("plain"); err != nil {
		b.Fatal(err)
	}
	pub := strings.TrimSpace(h.Run("root", "cat", "/tmp/dev.pub"))
	h.WriteFile("/home/plain/.ssh/authorized_keys", []byte(`restrict,command="git-shell -c \"$SSH_ORIGINAL_COMMAND\"" `+pub+"\n"), "plain", 0o600)
	h.Run("plain", "git", "init", "-q", "--bare", "--template=", "/home/plain/plain.git")
	const work = "/tmp/work"
	appRepo(h, work)
	type side struct {
		remote string
		took   []time.Duration
	}
	nap := &side{remote: "nap@127.0.0.1:myapp"}
	plain := &side{remote: "plain@127.0.0.1:/home/plain/plain.git"}
	must := func(args ...string) {
		if res := gitAs(h, "dev", work, args...); res.Code != 0 {
			b.Fatalf("git %v: %s", args, res)
		}
	}
	for _, s := range []*side{nap, plain} {
		must("push", "-q", s.remote, "dev")
	}
	push := func(s *side) {
		must("push", "-q", "-f", s.remote, "master:dev")
		start := time.Now()
		must("push", "-q", s.remote, "dev:dev")
		s.took = append(s.took, time.Since(start))
	}
	b.StopTimer()
	added := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			push(nap)
			push(plain)
		} else {
			push(plain)
			push(nap)
		}
		added = append(added, nap.took[i]-plain.took[i])
	}
	ms := func(d []time.Duration) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[len(d)/2]) / 1e6
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(nap.took), "nap-ms")
	b.ReportMetric(ms(plain.took), "plain-ms")
	b.ReportMetric(ms(added), "added-ms")
}
