package hooks

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// BenchmarkPush times one push of a non-deploy branch (nap decides to do
// nothing) over ssh on loopback: through nap (forced command, pre-receive,
// nap-render hooks pre-receive) and to a plain bare repository without hooks
// behind the same sshd. The two pushes alternate within each iteration (the
// order flips every time), so both see the same load on a shared machine;
// it reports the medians of each and of the paired difference. Each push is
// preceded (untimed) by a reset of the branch, so every timed push moves it.
func BenchmarkPush(b *testing.B) {
	dir := b.TempDir()
	home := filepath.Join(dir, "nap")
	ak := filepath.Join(dir, "authorized_keys")
	h := startGitHost(b, dir, home, ak)
	must(b, nil, "", h.napRender, "hooks", "install", "--mode", "shell", "--home", home, "--config", h.config)
	alice := userKey(b, dir, "alice")
	must(b, nil, "", h.napRender, "keys", "add", "alice", alice+".pub", "--authorized-keys", ak, "--config", h.config)
	// The plain key runs git-shell on whatever git asks for, the classic
	// set-up without nap: git-receive-pack on an absolute path.
	plainKey := userKey(b, dir, "plain")
	data, _ := os.ReadFile(plainKey + ".pub")
	f, _ := os.OpenFile(ak, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString(`restrict,command="git-shell -c \"$SSH_ORIGINAL_COMMAND\"" ` + string(data))
	f.Close()
	plainRepo := filepath.Join(dir, "plain.git")
	must(b, nil, "", "git", "init", "-q", "--bare", "--template=", plainRepo)

	work := filepath.Join(dir, "work")
	appRepo(b, h, work)
	type side struct {
		env    []string
		remote string
		took   []time.Duration
	}
	nap := &side{env: h.as(alice), remote: "root@127.0.0.1:myapp"}
	plain := &side{env: h.as(plainKey), remote: "root@127.0.0.1:" + plainRepo}
	for _, s := range []*side{nap, plain} {
		must(b, s.env, work, "git", "push", "-q", s.remote, "dev")
	}
	push := func(s *side) {
		must(b, s.env, work, "git", "push", "-q", "-f", s.remote, "master:dev")
		start := time.Now()
		must(b, s.env, work, "git", "push", "-q", s.remote, "dev:dev")
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
