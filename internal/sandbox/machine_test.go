package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mustExec runs argv on m and fails the test unless it exits 0.
func mustExec(t *testing.T, m *Machine, c Cmd) Result {
	t.Helper()
	res, err := m.Run(testContext(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 {
		t.Fatalf("%s on %s: %s", strings.Join(c.Argv, " "), m.Name, res)
	}
	return res
}

// TestMachine boots one machine with every component and checks what a test
// of nap relies on, sharing it across subtests.
func TestMachine(t *testing.T) {
	opts := Full()
	opts.RegistryListen = "0.0.0.0:5000" // serves the second machine
	m := NewMachine(t, opts)

	t.Run("components answer", func(t *testing.T) {
		for _, u := range []string{"docker.service", "containerd.service", "docker-registry.service", "etcd.service", "ssh.service", "systemd-journald.service"} {
			if out, err := m.Systemctl("is-active", u); err != nil || out != "active" {
				t.Errorf("systemctl is-active %s = %q, %v", u, out, err)
			}
		}
		res := mustExec(t, m, Cmd{Argv: []string{"docker", "info", "--format", "{{.DockerRootDir}} {{.Driver}}"}})
		if got := strings.TrimSpace(string(res.Stdout)); got != "/var/lib/docker overlay2" {
			t.Errorf("docker info = %q, want the machine's /var/lib/docker on overlay2", got)
		}
		if code, body, err := m.HTTPGet("http://127.0.0.1:5000/v2/"); err != nil || code != 200 {
			t.Errorf("registry: %d %q %v", code, body, err)
		}
		if code, body, err := m.HTTPGet("127.0.0.1:2379/health"); err != nil || code != 200 || !strings.Contains(body, "true") {
			t.Errorf("etcd health: %d %q %v", code, body, err)
		}
		res = mustExec(t, m, Cmd{Argv: []string{"hostname"}})
		if got := strings.TrimSpace(string(res.Stdout)); got != m.Name {
			t.Errorf("hostname = %q, want %q", got, m.Name)
		}
		hostID, _ := os.ReadFile("/etc/machine-id")
		res = mustExec(t, m, Cmd{Argv: []string{"cat", "/etc/machine-id"}})
		if len(bytes.TrimSpace(res.Stdout)) != 32 || bytes.Equal(res.Stdout, hostID) {
			t.Errorf("machine-id = %q, want 32 hex digits of its own (host: %q)", res.Stdout, hostID)
		}
		// the test's own temporary directory is visible at the same path
		dir := t.TempDir()
		os.WriteFile(dir+"/from-host", []byte("hi"), 0o644)
		m.Share(t, dir)
		res = mustExec(t, m, Cmd{Argv: []string{"cat", dir + "/from-host"}})
		if string(res.Stdout) != "hi" {
			t.Errorf("shared file reads %q inside", res.Stdout)
		}
	})

	t.Run("exec", func(t *testing.T) {
		ctx := testContext(t)
		res, err := m.Run(ctx, Cmd{Argv: []string{"sh", "-c", `cat; echo "$FOO" >&2; pwd; exit 7`}, Env: []string{"FOO=b a r"}, Stdin: strings.NewReader("in\n"), Dir: "/tmp"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != 7 || string(res.Stdout) != "in\n/tmp\n" || string(res.Stderr) != "b a r\n" {
			t.Errorf("got %s", res)
		}
		res = mustExec(t, m, Cmd{User: "nobody", Argv: []string{"sh", "-c", "id -un; pwd"}})
		if string(res.Stdout) != "nobody\n/\n" {
			t.Errorf("as nobody (home /nonexistent): %s", res)
		}
		_, err = m.Systemctl("is-active", "no-such.service")
		var exitErr *ExitError
		if !errors.As(err, &exitErr) || exitErr.Result.Code == 0 {
			t.Errorf("systemctl is-active no-such.service: err = %v, want an *ExitError", err)
		}
		if j := m.Journal("etcd.service"); !strings.Contains(j, "Started etcd.service") {
			t.Errorf("journal of etcd.service lacks its start:\n%s", j)
		}
	})

	t.Run("etcd v2 and v3", func(t *testing.T) {
		ctx := testContext(t)
		for _, e := range []*Etcd{m.Etcd().V2(), m.Etcd().V3()} {
			api := "v3"
			if e.v2 {
				api = "v2"
			}
			key := "/services/app/web/" + api + " odd?key"
			if err := e.Put(ctx, key, `{"host":"m1"}`, 30*time.Second); err != nil {
				t.Fatalf("%s put: %v", api, err)
			}
			kv, err := e.Get(ctx, key)
			if err != nil || kv.Value != `{"host":"m1"}` || kv.TTL <= 0 || kv.TTL > 30 {
				t.Errorf("%s get = %+v, %v", api, kv, err)
			}
			list, err := e.List(ctx, "/services/app")
			if err != nil || len(list) != 1 || list[0].Key != key {
				t.Errorf("%s list = %+v, %v", api, list, err)
			}
			if err := e.Delete(ctx, key); err != nil {
				t.Errorf("%s delete: %v", api, err)
			}
			if _, err := e.Get(ctx, key); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s get after delete: %v, want ErrNotFound", api, err)
			}
		}
		// the tools nap uses see the same keys
		mustExec(t, m, Cmd{Argv: []string{"etcdctl", "set", "/from-etcdctl", "v"}, Env: []string{"ETCDCTL_API=2"}})
		if kv, err := m.Etcd().V2().Get(ctx, "/from-etcdctl"); err != nil || kv.Value != "v" {
			t.Errorf("v2 key set by etcdctl = %+v, %v", kv, err)
		}
	})

	t.Run("users and ssh", func(t *testing.T) {
		for _, name := range []string{"git", "alice"} {
			if _, err := m.AddUser(name); err != nil {
				t.Fatal(err)
			}
		}
		hostPasswd, _ := os.ReadFile("/etc/passwd")
		if bytes.Contains(hostPasswd, []byte("\nalice:")) {
			t.Fatal("a user added on the machine appeared in the host's /etc/passwd")
		}
		pub, err := m.NewSSHKey("alice")
		if err != nil {
			t.Fatal(err)
		}
		git, _ := m.User("git")
		mustExec(t, m, Cmd{User: "git", Argv: []string{"sh", "-c", `umask 077; mkdir -p .ssh; printf '%s\n' "$1" > .ssh/authorized_keys`, "sh", pub}})
		hostKey, _ := m.HostKey()
		mustExec(t, m, Cmd{User: "alice", Argv: []string{"sh", "-c", `mkdir -p .ssh; printf '%s %s\n' "$1" "$2" > .ssh/known_hosts`, "sh", m.Name, hostKey}})
		res := mustExec(t, m, Cmd{User: "alice", Argv: []string{"ssh", "-o", "BatchMode=yes", "git@" + m.Name, "id -un; pwd"}})
		if got := string(res.Stdout); got != "git\n"+git.Home+"\n" {
			t.Errorf("ssh git@%s ran as %q", m.Name, got)
		}
	})

	t.Run("two machines", func(t *testing.T) {
		ctx := testContext(t)
		var m2 *Machine
		t.Run("second machine", func(t *testing.T) {
			m2 = NewMachine(t, Options{Etcd: true, Docker: true, InsecureRegistries: []string{m.Name + ":5000"}})
			// an image pushed on m pulls on m2 from m's registry
			mustExec(t, m, Cmd{Argv: []string{"sh", "-c", "tar -c -T /dev/null | docker import - 127.0.0.1:5000/empty:1 && docker push -q 127.0.0.1:5000/empty:1"}})
			mustExec(t, m2, Cmd{Argv: []string{"docker", "pull", "-q", m.Name + ":5000/empty:1"}})
			res := mustExec(t, m, Cmd{Argv: []string{"getent", "hosts", m2.Name}})
			if !strings.HasPrefix(string(res.Stdout), m2.IP+" ") {
				t.Errorf("%s resolves %s as %q, want %s", m.Name, m2.Name, res.Stdout, m2.IP)
			}
			// etcd on m2, written from m, read on m2
			if err := m.EtcdAt("http://"+m2.Name+":2379").Put(ctx, "/cross", m.Name, 0); err != nil {
				t.Fatal(err)
			}
			if kv, err := m2.Etcd().Get(ctx, "/cross"); err != nil || kv.Value != m.Name {
				t.Errorf("m2 reads /cross = %+v, %v", kv, err)
			}
			if code, _, err := m2.HTTPGet("http://" + m.Name + ":2379/health"); err != nil || code != 200 {
				t.Errorf("m2 → %s etcd: %d %v", m.Name, code, err)
			}
		})
		// m2 is gone with its subtest: its network address no longer answers
		ctx2, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if conn, err := m.DialContext(ctx2, "tcp", m2.IP+":2379"); err == nil {
			conn.Close()
			t.Errorf("%s still answers after its test ended", m2.Name)
		}
		if processAlive(m2.pid) {
			t.Errorf("PID 1 of %s (%d) still runs", m2.Name, m2.pid)
		}
	})
}

// TestCleanupLeavesNothing tears a busy machine down and looks for anything
// left behind on the host: processes, mounts, cgroups, network links, files.
func TestCleanupLeavesNothing(t *testing.T) {
	mountsBefore := hostMounts(t)
	linksBefore := hostLinks(t)
	etcBefore := hostEtc(t)
	probe := fmt.Sprintf("/tmp/nap-sandbox-probe-%d", os.Getpid())

	m := NewMachine(t, Options{Docker: true, Etcd: true})
	mustExec(t, m, Cmd{Argv: []string{"useradd", "probe"}})
	mustExec(t, m, Cmd{Argv: []string{"touch", probe, "/etc/nap-sandbox-probe", "/var/lib/nap-sandbox-probe", "/root/nap-sandbox-probe"}})
	mustExec(t, m, Cmd{Argv: []string{"systemd-run", "--unit=busy", "sleep", "infinity"}})
	var pids []string
	for _, d := range m.cgroups {
		pids = append(pids, strings.Fields(cgroupProcs(d))...)
	}
	if len(pids) < 5 {
		t.Fatalf("the machine's cgroups hold only %v", pids)
	}

	// a dead host first (as Kill leaves it), then the cleanup
	m.Kill()
	if processAlive(m.pid) {
		t.Errorf("PID 1 survived Kill")
	}
	if err := m.teardown(); err != nil {
		t.Fatal(err)
	}

	var alive []string
	for _, p := range pids {
		if _, err := os.Stat("/proc/" + p); err == nil {
			alive = append(alive, p)
		}
	}
	if len(alive) > 0 {
		t.Errorf("processes of the machine still run: %v", alive)
	}
	if left := leftoverCgroups(); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
	if got := hostMounts(t); got != mountsBefore {
		t.Errorf("host mounts changed:\nbefore:\n%s\nafter:\n%s", mountsBefore, got)
	}
	if got := hostLinks(t); got != linksBefore {
		t.Errorf("host network links changed:\nbefore:\n%s\nafter:\n%s", linksBefore, got)
	}
	if network.holder != nil {
		t.Errorf("the network's namespace holder still runs with no machine left")
	}
	if diff := cmp.Diff(etcBefore, hostEtc(t)); diff != "" {
		t.Errorf("the host's /etc changed (-before +after):\n%s", diff)
	}
	for _, f := range []string{probe, "/etc/nap-sandbox-probe", "/var/lib/nap-sandbox-probe", "/root/nap-sandbox-probe"} {
		if _, err := os.Stat(f); err == nil {
			os.Remove(f)
			t.Errorf("%s, written inside the machine, is on the host", f)
		}
	}
}

// hostEtc reads the host's files a machine has its own copy of.
func hostEtc(t *testing.T) map[string]string {
	files := map[string]string{}
	for _, pattern := range []string{"/etc/hosts", "/etc/hostname", "/etc/machine-id", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/ssh/*", "/etc/systemd/system/*", "/etc/docker/*", "/etc/default/*"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			st, err := os.Lstat(p)
			if err != nil {
				continue
			}
			b, _ := os.ReadFile(p)
			files[p] = fmt.Sprintf("%v %v %x", st.Mode(), st.ModTime(), b)
		}
	}
	return files
}

func hostMounts(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 {
			lines = append(lines, f[4])
		}
	}
	return strings.Join(lines, "\n")
}

func hostLinks(t *testing.T) string {
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestGoImage builds an app the way nap's build unit does: a multi-stage
// Dockerfile FROM golang:1.26 to a scratch image, pushed to the machine's
// registry, run by docker, answering HTTP.
func TestGoImage(t *testing.T) {
	m := NewMachine(t, Options{GoImage: true, Registry: true})
	app := t.TempDir()
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.26\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, \"hello from a container\") })\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
		"Dockerfile": "FROM golang:1.26 AS build\nWORKDIR /src\nCOPY . .\nRUN [\"go\", \"build\", \"-o\", \"/hello\", \".\"]\n" +
			"FROM scratch\nCOPY --from=build /hello /hello\nEXPOSE 8080\nENTRYPOINT [\"/hello\"]\n",
	}
	for name, content := range files {
		if err := os.WriteFile(app+"/"+name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m.Share(t, app)
	image := "127.0.0.1:5000/hello:v1"
	start := time.Now()
	mustExec(t, m, Cmd{Argv: []string{"/usr/bin/docker", "build", "-q", "-t", image, app}})
	t.Logf("multi-stage build took %v", time.Since(start).Round(time.Millisecond))
	mustExec(t, m, Cmd{Argv: []string{"/usr/bin/docker", "push", "-q", image}})
	mustExec(t, m, Cmd{Argv: []string{"/usr/bin/docker", "run", "-d", "--name", "hello", "-p", "127.0.0.1:18080:8080", image}})
	ctx := testContext(t)
	var body string
	err := retry(ctx, func() error {
		code, b, err := m.HTTPGet("http://127.0.0.1:18080/")
		if err == nil && code != 200 {
			err = fmt.Errorf("status %d", code)
		}
		body = b
		return err
	})
	if err != nil || body != "hello from a container" {
		t.Fatalf("GET the container: %q, %v", body, err)
	}
}
