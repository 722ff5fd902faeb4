package hooks

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

	"github.com/nap-paas/nap/internal/sandbox"
)

// These tests deploy for real: one simulated machine (systemd, dockerd, the
// registry, etcd, sshd) with nap-render installed for a nap user in
// forced-command mode, and a developer pushing over ssh on that machine.
// The app is examples/hello's program, built here and shipped FROM scratch:
// compiling Go inside a container on 2 shared cores takes minutes, and the
// hook cases do not depend on how the image is built.

const (
	machineNap    = "/opt/nap/bin/nap-render"
	machineRemote = "nap@127.0.0.1:hello"
	machineRepo   = "/home/nap/repos/hello.git"
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

// The README's least-privilege set-up: the nap user may manage units
// through polkit, nothing more.
const napPolkitRule = `polkit.addRule(function(action, subject) {
  if (subject.user == "nap" &&
      (action.id == "org.freedesktop.systemd1.manage-units" ||
       action.id == "org.freedesktop.systemd1.manage-unit-files" ||
       action.id == "org.freedesktop.systemd1.reload-daemon")) return polkit.Result.YES;
});
`

var machineGitEnv = []string{
	"GIT_SSH_COMMAND=ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
	"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
	"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com",
}

type napMachine struct {
	t *testing.T
	m *sandbox.Machine
}

func (h *napMachine) try(user string, env []string, argv ...string) sandbox.Result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := h.m.Run(ctx, sandbox.Cmd{User: user, Env: env, Argv: argv})
	if err != nil {
		h.t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	return res
}

func (h *napMachine) run(user string, argv ...string) string {
	h.t.Helper()
	res := h.try(user, nil, argv...)
	if res.Code != 0 {
		h.t.Fatalf("%s: %s", strings.Join(argv, " "), res)
	}
	return strings.TrimSpace(string(res.Stdout))
}

func (h *napMachine) writeFile(p string, data []byte, owner string, mode os.FileMode) {
	h.t.Helper()
	if err := h.m.WriteFile(p, data, mode); err != nil {
		h.t.Fatal(err)
	}
	h.run("root", "chown", owner+":", p)
}

// install sets the machine up as README's "Shell mode" and "Least
// privilege" sections say, and gives user dev a key.
func (h *napMachine) install(bin string) {
	b, err := os.ReadFile(bin)
	if err != nil {
		h.t.Fatal(err)
	}
	h.writeFile(machineNap, b, "root", 0o755)
	// systemctl as a user other than root goes through D-Bus and polkit.
	for _, u := range []string{"dbus.socket", "dbus.service", "polkit.service"} {
		b, err := os.ReadFile("/lib/systemd/system/" + u)
		if err != nil {
			sandboxMissing(h.t, "unit %s: %v", u, err)
		}
		h.writeFile("/etc/systemd/system/"+u, b, "root", 0o644)
	}
	h.writeFile("/etc/polkit-1/rules.d/50-nap.rules", []byte(napPolkitRule), "root", 0o644)
	h.run("root", "systemctl", "daemon-reload")
	h.run("root", "systemctl", "start", "dbus.socket", "dbus.service", "polkit.service")
	for _, u := range []string{"nap", "dev"} {
		if _, err := h.m.AddUser(u); err != nil {
			h.t.Fatal(err)
		}
	}
	h.run("root", "usermod", "-a", "-G", "docker,systemd-journal", "nap")
	// What Debian's tmpfiles.d does at boot: the journal readable by the
	// systemd-journal group, so deploy can stream the build's output.
	h.run("root", "sh", "-c", `for d in /run/log/journal /var/log/journal; do mkdir -p $d && chgrp -R systemd-journal $d && chmod -R g+rX $d && find $d -type d -exec chmod g+s {} +; done`)
	h.run("root", "install", "-d", "-o", "nap", "-g", "nap", "-m", "0755", "/var/lib/nap")
	h.run("root", "chgrp", "nap", "/etc/systemd/system")
	h.run("root", "chmod", "0775", "/etc/systemd/system")
	h.writeFile("/etc/nap/config.yaml", []byte(machineConfig), "root", 0o644)
	h.run("nap", machineNap, "hooks", "install", "--mode", "shell", "--home", "/home/nap", "--config", "/etc/nap/config.yaml")
	pub, err := h.m.NewSSHKey("dev")
	if err != nil {
		h.t.Fatal(err)
	}
	h.writeFile("/tmp/dev.pub", []byte(pub+"\n"), "nap", 0o644)
	h.run("nap", machineNap, "keys", "add", "dev", "/tmp/dev.pub")
}

// newWork makes a work tree of dev at dir holding the hello binary (built
// on the host) and a Dockerfile, committed on master.
func (h *napMachine) newWork(dir string, hello []byte) {
	h.run("dev", "git", "init", "-q", "-b", "master", dir)
	h.writeFile(dir+"/hello", hello, "dev", 0o755)
	h.commit(dir, "hello", map[string]string{"Dockerfile": scratchHello})
}

func (h *napMachine) commit(dir, msg string, files map[string]string) string {
	h.t.Helper()
	for name, content := range files {
		h.writeFile(dir+"/"+name, []byte(content), "dev", 0o644)
	}
	h.git(dir, "add", "-A")
	h.git(dir, "commit", "-q", "--allow-empty", "-m", msg)
	return h.git(dir, "rev-parse", "HEAD")
}

func (h *napMachine) git(dir string, args ...string) string {
	h.t.Helper()
	res := h.try("dev", machineGitEnv, append([]string{"git", "-C", dir}, args...)...)
	if res.Code != 0 {
		h.t.Fatalf("git %s: %s", strings.Join(args, " "), res)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// push pushes master from dir and returns the exit code and all output.
func (h *napMachine) push(dir string) (int, string) {
	h.t.Helper()
	res := h.try("dev", machineGitEnv, "git", "-C", dir, "push", machineRemote, "master")
	out := string(res.Stdout) + string(res.Stderr)
	h.t.Logf("push from %s: exit %d\n%s", dir, res.Code, out)
	return res.Code, out
}

// master is what the server's bare repository holds for master.
func (h *napMachine) master() string {
	h.t.Helper()
	res := h.try("nap", nil, "git", "--git-dir", machineRepo, "rev-parse", "--verify", "--quiet", "refs/heads/master")
	return strings.TrimSpace(string(res.Stdout))
}

// answer reads web instance 1's announcement and asks its endpoint: the
// body of examples/hello names the release it runs.
func (h *napMachine) answer() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kvs, err := h.m.Etcd().V2().List(ctx, "/services/hello/web")
	if err != nil {
		return "", err
	}
	if len(kvs) != 1 {
		return "", fmt.Errorf("%d endpoints announced, want 1: %v", len(kvs), kvs)
	}
	var a struct {
		Host string
		Port int
	}
	if err := json.Unmarshal([]byte(kvs[0].Value), &a); err != nil {
		return "", err
	}
	code, body, err := h.m.HTTPGet(fmt.Sprintf("http://%s:%d/", a.Host, a.Port))
	if err == nil && code != 200 {
		err = fmt.Errorf("HTTP %d", code)
	}
	return body, err
}

func sandboxMissing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("NAP_SANDBOX_REQUIRED") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (set NAP_SANDBOX_REQUIRED=1 to make this a failure)", args...)
}

func TestPushDeploysOnMachine(t *testing.T) {
	if os.Geteuid() != 0 {
		sandboxMissing(t, "simulated machines need root")
	}
	dir := t.TempDir()
	hello := filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-trimpath", "-o", hello, ".")
	build.Dir = filepath.Join("..", "examples", "hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build hello: %v\n%s", err, out)
	}
	helloBin, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	// A RUN step that exits 1 needs a program in the scratch image.
	falseBin := buildFalse(t, dir)
	h := &napMachine{t: t, m: sandbox.NewMachine(t, sandbox.Full())}
	h.install(napRender(t))
	const work, other = "/home/dev/hello", "/home/dev/other"
	h.newWork(work, helloBin)
	rev1 := h.git(work, "rev-parse", "HEAD")

	t.Run("first push creates the app and deploys it", func(t *testing.T) {
		h.t = t
		code, out := h.push(work)
		if code != 0 {
			t.Fatalf("push: exit %d", code)
		}
		for _, want := range []string{"-----> Deploying hello " + rev1[:12], "-----> Switched hello to " + rev1[:12]} {
			if !strings.Contains(out, want) {
				t.Errorf("push output lacks %q", want)
			}
		}
		if got := h.master(); got != rev1 {
			t.Errorf("master = %q, want %s", got, rev1)
		}
		if body, err := h.answer(); err != nil || !strings.Contains(body, "hello from "+rev1) {
			t.Errorf("announced endpoint answered %q, %v; want release %s", body, err, rev1)
		}
	})

	t.Run("failed build: rejected, branch and release unchanged", func(t *testing.T) {
		h.t = t
		h.writeFile(work+"/false", falseBin, "dev", 0o755)
		rev := h.commit(work, "broken build", map[string]string{"Dockerfile": "FROM scratch\nCOPY hello false /\nRUN [\"/false\"]\nEXPOSE 8080\nCMD [\"/hello\"]\n"})
		code, out := h.push(work)
		if code == 0 || !strings.Contains(out, "returned a non-zero code: 1") || !strings.Contains(out, "deploy of hello failed") || !strings.Contains(out, "push rejected, refs/heads/master still points at "+rev1[:12]) {
			t.Errorf("push of %s: exit %d, want a rejection naming the failed deploy", rev[:12], code)
		}
		if got := h.master(); got != rev1 {
			t.Errorf("master = %q after a failed build, want %s", got, rev1)
		}
		if body, err := h.answer(); err != nil || !strings.Contains(body, "hello from "+rev1) {
			t.Errorf("after the failed build the endpoint answered %q, %v; want release %s", body, err, rev1)
		}
		h.git(work, "reset", "-q", "--hard", rev1)
	})

	t.Run("concurrent pushes: one deploys, the other is refused at once", func(t *testing.T) {
		h.t = t
		h.run("dev", "git", "clone", "-q", work, other)
		revA := h.commit(work, "a", nil)
		revB := h.commit(other, "b", nil)
		type result struct {
			code int
			out  string
		}
		done := make(chan result, 1)
		go func() {
			res := h.try("dev", machineGitEnv, "git", "-C", work, "push", machineRemote, "master")
			done <- result{res.Code, string(res.Stdout) + string(res.Stderr)}
		}()
		// Push B once A's deploy holds the app's lock.
		deadline := time.Now().Add(2 * time.Minute)
		for h.try("root", nil, "flock", "-n", "-E", "7", "/var/lib/nap/hello/lock", "true").Code != 7 {
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
		codeB, outB := h.push(other)
		if codeB == 0 || !strings.Contains(outB, "another deploy") || !strings.Contains(outB, "push rejected") {
			t.Errorf("push B: exit %d, want a refusal naming the running deploy", codeB)
		}
		if got := h.master(); got == revB {
			t.Errorf("master moved to B's %s", revB[:12])
		}
		a := <-done
		t.Logf("push A: exit %d\n%s", a.code, a.out)
		if a.code != 0 {
			t.Errorf("push A: exit %d", a.code)
		}
		if got := h.master(); got != revA {
			t.Errorf("master = %q, want A's %s", got, revA)
		}
		if body, err := h.answer(); err != nil || !strings.Contains(body, "hello from "+revA) {
			t.Errorf("endpoint answered %q, %v; want release %s", body, err, revA)
		}
	})
}

// buildFalse builds a static program that exits 1, for a RUN step that fails.
func buildFalse(t *testing.T, dir string) []byte {
	src := filepath.Join(dir, "false")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module false\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Exit(1) }\n"), 0o644)
	build := exec.Command("go", "build", "-o", "false.bin", ".")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build false: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(src, "false.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
