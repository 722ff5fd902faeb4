package hooks

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

// These tests deploy for real: one simulated machine (systemd, dockerd, the
// registry, etcd, sshd) with nap-render installed for a nap user in
// forced-command mode, and a developer pushing over ssh on that machine.
// The app is examples/hello's program, built here and shipped FROM scratch:
// compiling Go inside a container on 2 shared cores takes minutes, and the
// hook cases do not depend on how the image is built.

const (
	machineConfig = `registry: 127.0.0.1:5000
target: systemd
state: /var/lib/nap
unit_dir: /etc/systemd/system
deploy_branch: master
drain: 1s
discovery: {etcd: v2, prefix: /services, ttl: 30, host: 127.0.0.1, endpoints: ["http://127.0.0.1:2379"]}
`
	scratchHello = "FROM scratch\nCOPY hello /hello\nEXPOSE 8080\nCMD [\"/hello\"]\n"
)

// newWork makes a work tree of dev at dir holding the hello binary (built
// on the host) and a Dockerfile, committed on master.
func newWork(h *naptest.Host, dir string, hello []byte) {
	h.Run("dev", "git", "init", "-q", "-b", "master", dir)
	h.WriteFile(dir+"/hello", hello, "dev", 0o755)
	h.Commit(dir, "hello", map[string]string{"Dockerfile": scratchHello})
}

// answer reads web instance 1's announcement and asks its endpoint: the
// body of examples/hello names the release it runs.
func answer(h *naptest.Host) (string, error) { return h.Answer("/services/hello/web") }

func TestPushDeploysOnMachine(t *testing.T) {
	if os.Geteuid() != 0 {
		sandbox.Unavailable(t, "simulated machines need root")
	}
	helloBin := naptest.Program(t, naptest.HelloDir)
	// A RUN step that exits 1 needs a program in the scratch image.
	falseBin := naptest.ProgramOf(t, "false", "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(1) }\n")
	h := naptest.Install(t, sandbox.NewMachine(t, sandbox.Full()), naptest.Options{Config: machineConfig})
	const work, other = "/home/dev/hello", "/home/dev/other"
	newWork(h, work, helloBin)
	rev1 := h.Git(work, "rev-parse", "HEAD")

	t.Run("first push creates the app and deploys it", func(t *testing.T) {
		h := h.For(t)
		code, out := h.Push(work)
		if code != 0 {
			t.Fatalf("push: exit %d", code)
		}
		for _, want := range []string{"-----> Deploying hello " + rev1[:12], "-----> Switched hello to " + rev1[:12]} {
			if !strings.Contains(out, want) {
				t.Errorf("push output lacks %q", want)
			}
		}
		if got := h.Master(); got != rev1 {
			t.Errorf("master = %q, want %s", got, rev1)
		}
		if body, err := answer(h); err != nil || !strings.Contains(body, "hello from "+rev1) {
			t.Errorf("announced endpoint answered %q, %v; want release %s", body, err, rev1)
		}
	})

	t.Run("failed build: rejected, branch and release unchanged", func(t *testing.T) {
		h := h.For(t)
		h.WriteFile(work+"/false", falseBin, "dev", 0o755)
		rev := h.Commit(work, "broken build", map[string]string{"Dockerfile": "FROM scratch\nCOPY hello false /\nRUN [\"/false\"]\nEXPOSE 8080\nCMD [\"/hello\"]\n"})
		code, out := h.Push(work)
		if code == 0 || !strings.Contains(out, "returned a non-zero code: 1") || !strings.Contains(out, "deploy of hello failed") || !strings.Contains(out, "push rejected, refs/heads/master still points at "+rev1[:12]) {
			t.Errorf("push of %s: exit %d, want a rejection naming the failed deploy", rev[:12], code)
		}
		if got := h.Master(); got != rev1 {
			t.Errorf("master = %q after a failed build, want %s", got, rev1)
		}
		if body, err := answer(h); err != nil || !strings.Contains(body, "hello from "+rev1) {
			t.Errorf("after the failed build the endpoint answered %q, %v; want release %s", body, err, rev1)
		}
		h.Git(work, "reset", "-q", "--hard", rev1)
	})

	t.Run("concurrent pushes: one deploys, the other is refused at once", func(t *testing.T) {
		h := h.For(t)
		h.Run("dev", "git", "clone", "-q", work, other)
		revA := h.Commit(work, "a", nil)
		revB := h.Commit(other, "b", nil)
		type result struct {
			code int
			out  string
		}
		done := make(chan result, 1)
		go func() {
			res := h.Try("dev", naptest.GitEnv, "git", "-C", work, "push", naptest.Remote, "master")
			done <- result{res.Code, string(res.Stdout) + string(res.Stderr)}
		}()
		// Push B once A's deploy holds the app's lock.
		deadline := time.Now().Add(2 * time.Minute)
		// Read from /proc/locks: probing with flock would take the lock
		// itself for a moment, and refuse push A when it lands then.
		held := `ino=$(stat -c %i /var/lib/nap/hello/lock 2>/dev/null) && grep -q "FLOCK .* WRITE .*:$ino " /proc/locks`
		for h.Try("root", nil, "sh", "-c", held).Code != 0 {
			select {
			case r := <-done:
				t.Fatalf("push A ended (exit %d) before B could race it:\n%s", r.code, r.out)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("push A never took the app's lock")
			}
			time.Sleep(50 * time.Millisecond)
		}
		codeB, outB := h.Push(other)
		if codeB == 0 || !strings.Contains(outB, "another deploy") || !strings.Contains(outB, "push rejected") {
			t.Errorf("push B: exit %d, want a refusal naming the running deploy", codeB)
		}
		if got := h.Master(); got == revB {
			t.Errorf("master moved to B's %s", revB[:12])
		}
		a := <-done
		t.Logf("push A: exit %d\n%s", a.code, a.out)
		if a.code != 0 {
			t.Errorf("push A: exit %d", a.code)
		}
		if got := h.Master(); got != revA {
			t.Errorf("master = %q, want A's %s", got, revA)
		}
		if body, err := answer(h); err != nil || !strings.Contains(body, "hello from "+revA) {
			t.Errorf("endpoint answered %q, %v; want release %s", body, err, revA)
		}
	})

	// The deploy killed with SIGKILL under a push: before the switch the
	// push is rejected and the previous release serves; after it, the push
	// is accepted and the branch names what serves.
	killed := func(h *naptest.Host, ready func(h *naptest.Host, rev string) bool) (rev string, code int, out string) {
		t := h.T()
		before := h.Master()
		rev = h.Commit(work, "killed "+t.Name(), nil)
		done := make(chan sandbox.Result, 1)
		go func() { done <- h.Try("dev", naptest.GitEnv, "git", "-C", work, "push", naptest.Remote, "master") }()
		deadline := time.Now().Add(2 * time.Minute)
		for !ready(h, rev) {
			if time.Now().After(deadline) {
				t.Fatal("the deploy never got there")
			}
			time.Sleep(20 * time.Millisecond)
		}
		h.Run("root", "pkill", "-9", "-f", "nap-render deploy")
		res := <-done
		out = string(res.Stdout) + string(res.Stderr)
		t.Logf("push killed midway: exit %d\n%s", res.Code, naptest.WithoutBuildOutput(out))
		if res.Code == 0 && h.Master() == before {
			t.Errorf("push accepted but master did not move")
		}
		return rev, res.Code, out
	}
	started := func(h *naptest.Host, rev string) bool {
		return strings.TrimSpace(h.Run("root", "sh", "-c", "systemctl list-units --all --plain --no-legend 'hello.web."+rev[:12]+"*' | wc -l")) != "0"
	}
	current := func(h *naptest.Host) string {
		return strings.TrimPrefix(strings.TrimSpace(string(h.Try("root", nil, "readlink", "/var/lib/nap/hello/current").Stdout)), "releases/")
	}
	t.Run("deploy killed before the switch: push rejected, the previous release serves", func(t *testing.T) {
		h := h.For(t)
		before := h.Master()
		rev, code, _ := killed(h, started)
		if code == 0 || h.Master() != before {
			t.Errorf("push: exit %d, master %.12s; want a rejection leaving %.12s", code, h.Master(), before)
		}
		waitAnswer(t, h, before, rev)
		h.Git(work, "reset", "-q", "--hard", before)
	})
	t.Run("deploy killed after the switch: push accepted, the new release serves", func(t *testing.T) {
		h := h.For(t)
		rev, code, out := killed(h, func(h *naptest.Host, rev string) bool { return current(h) == rev })
		if code != 0 || h.Master() != rev || !strings.Contains(out, "but its deploy ended early") {
			t.Errorf("push: exit %d, master %.12s; want it accepted at %.12s", code, h.Master(), rev)
		}
		waitAnswer(t, h, rev, "")
	})
	t.Run("ref update failing after the hook accepted: said, and replaced by the next push", func(t *testing.T) {
		h := h.For(t)
		before := h.Master()
		h.Run("nap", "sh", "-c", "echo "+before+" > "+naptest.Repo+"/refs/heads/master.lock")
		rev := h.Commit(work, "stale lock", nil)
		code, out := h.Push(work)
		h.Run("nap", "rm", naptest.Repo+"/refs/heads/master.lock")
		if code == 0 || h.Master() != before || current(h) != rev {
			t.Errorf("push: exit %d, master %.12s, current %.12s; want a failure with master %.12s and %.12s serving", code, h.Master(), current(h), before, rev)
		}
		if !strings.Contains(out, "master.lock") {
			t.Errorf("git's reason is not shown")
		}
		next := h.Commit(work, "after the stale lock", nil)
		code, out = h.Push(work)
		if code != 0 || !strings.Contains(out, "hello serves "+rev[:12]+", which refs/heads/master does not name") {
			t.Errorf("next push: exit %d; want it to say what serves", code)
		}
		waitAnswer(t, h, next, "")
	})
}

// waitAnswer waits (bounded) until want alone answers and gone's keys are
// withdrawn.
func waitAnswer(t *testing.T, h *naptest.Host, want, gone string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		kvs, err := h.Announced("/services/hello/web")
		body, gerr := answer(h)
		if err == nil && gerr == nil && len(kvs) == 1 && strings.Contains(body, "hello from "+want) && (gone == "" || !strings.Contains(kvs[0].Key, gone[:12])) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: announced %v (%v), answer %q (%v); want %.12s alone", kvs, err, body, gerr, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
