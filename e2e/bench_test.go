package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

// scratchApp is examples/hello built on the test's side and copied in: the
// docker build is a COPY, so the push's time is nap's and docker's steps.
const scratchDockerfile = "FROM scratch\nCOPY hello /hello\nEXPOSE 8080\nCMD [\"/hello\"]\n"

// BenchmarkPushToURL measures what a user waits for from `git push` to
// http://hello.apps.test answering with the pushed commit, beside a plain
// git push of the same commit (same sshd, same key, a bare repository
// without hooks) and the same app by hand with docker (build, push, rmi,
// pull, run, until it answers), interleaved, one round per iteration:
//
//	go test ./e2e -run '^$' -bench PushToURL -benchtime 5x -v
//
// nap's own time is push→URL minus the docker steps; the log breaks each
// nap push down by the moment each of its progress lines reached the
// pusher.
func BenchmarkPushToURL(b *testing.B) {
	opts := sandbox.Full()
	opts.Nginx = true
	m := sandbox.NewMachine(b, opts)
	h := &host{naptest.Install(b, m, naptest.Options{Config: operatorConfig})}
	h.StartRouter(naptest.ConfigPath)
	// the plain side: a user with dev's key and a bare repository
	if _, err := m.AddUser("plain"); err != nil {
		b.Fatal(err)
	}
	pub := h.Run("root", "cat", "/home/dev/.ssh/id_ed25519.pub")
	h.WriteFile("/home/plain/.ssh/authorized_keys", []byte(pub), "plain", 0o600)
	h.Run("plain", "git", "init", "-q", "--bare", "/home/plain/hello.git")

	hello := naptest.Program(b, naptest.HelloDir)
	h.Run(devUser, "git", "init", "-q", "-b", "master", workTree)
	h.WriteFile(workTree+"/hello", hello, devUser, 0o755)
	h.commit("hello", map[string]string{"Dockerfile": scratchDockerfile})
	h.mustGit("remote", "add", "plain", "plain@127.0.0.1:/home/plain/hello.git")
	h.mustPush() // the first deploy: no old release to retire in the rounds

	var plain, url, raw, own []time.Duration
	phases := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rev := h.commit(fmt.Sprint("round ", i), map[string]string{"CHANGES": fmt.Sprint(i, "\n")})

		began := time.Now()
		if res := h.Try(devUser, naptest.GitEnv, "git", "-C", workTree, "push", "plain", "master"); res.Code != 0 {
			b.Fatalf("plain push: %s", res)
		}
		plain = append(plain, time.Since(began))

		stamps, took := h.timedPush(rev)
		url = append(url, took)
		for phase, d := range stamps {
			phases[phase] = append(phases[phase], d)
		}

		r := h.rawDocker(rev)
		raw = append(raw, r)
		own = append(own, took-r)
	}
	b.StopTimer()
	med := func(ds []time.Duration) time.Duration {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[len(s)/2]
	}
	b.ReportMetric(float64(med(plain).Milliseconds()), "plain-ms")
	b.ReportMetric(float64(med(url).Milliseconds()), "push-to-url-ms")
	b.ReportMetric(float64(med(raw).Milliseconds()), "raw-docker-ms")
	b.ReportMetric(float64(med(own).Milliseconds()), "nap-own-ms")
	b.ReportMetric(float64(med(own))/float64(med(plain)), "own/plain")
	b.Logf("rounds: plain %v; push→URL %v; raw docker %v; nap's own %v", plain, url, raw, own)
	var names []string
	for p := range phases {
		names = append(names, p)
	}
	sort.Slice(names, func(i, j int) bool { return med(phases[names[i]]) < med(phases[names[j]]) })
	for _, p := range names {
		b.Logf("median %8v  %s", med(phases[p]).Round(time.Millisecond), p)
	}
}

// timedPush pushes master to nap and asks http://hello.apps.test through
// the router until it answers with rev. It returns when each progress line
// reached the pusher (by its first words), and when the URL answered, from
// the push's start.
func (h *host) timedPush(rev string) (map[string]time.Duration, time.Duration) {
	h.T().Helper()
	began := time.Now()
	stamps := map[string]time.Duration{}
	var mu sync.Mutex
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		building := false
		for sc.Scan() {
			at := time.Since(began)
			rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "remote: -----> ")
			if !ok {
				continue
			}
			word := strings.Fields(rest + " ?")[0]
			switch {
			case word == "Building":
				building = true
			case word == "Built":
				building = false
			case building:
				word = "" // the build's own lines
				if strings.Contains(rest, ": digest: sha256:") {
					word = "(the image pushed)"
				}
			case strings.HasPrefix(rest, "http"):
				word = "URL"
			case strings.Contains(word, "/"):
				word = "(an instance's address)"
			}
			mu.Lock()
			if _, seen := stamps["-----> "+word]; !seen && word != "" {
				stamps["-----> "+word] = at
			}
			mu.Unlock()
		}
	}()
	answered := make(chan time.Duration, 1)
	stop := make(chan struct{})
	go func() {
		hc := h.M.HTTPClient()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if body, err := naptest.RouterGet(hc, appHost); err == nil && releaseOf(body) == rev {
				answered <- time.Since(began)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := h.M.Run(ctx, sandbox.Cmd{User: devUser, Env: naptest.GitEnv, Stderr: pw,
		Argv: []string{"git", "-C", workTree, "push", naptest.Remote, "master"}})
	pw.Close()
	stamps["(push returned)"] = time.Since(began)
	if err != nil || res.Code != 0 {
		h.T().Fatalf("push: %v %s", err, res)
	}
	select {
	case d := <-answered:
		stamps["(http://hello.apps.test answers)"] = d
		mu.Lock()
		defer mu.Unlock()
		return stamps, d
	case <-time.After(30 * time.Second):
		close(stop)
		h.T().Fatalf("http://%s did not answer with %s", appHost, rev)
	}
	return nil, 0
}
