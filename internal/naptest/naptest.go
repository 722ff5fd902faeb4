// Package naptest installs nap on a simulated machine the way README's
// "Git hooks → Shell mode" and "Least privilege for the git user" sections
// say, and drives it as the developer dev: the set-up the hooks and e2e
// machine tests share. It is test-only, like internal/sandbox.
package naptest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nap-paas/nap/announce"
	"github.com/nap-paas/nap/internal/sandbox"
)

const (
	// Bin is where nap-render is installed on the machine.
	Bin = sandbox.NapRender
	// Home is the nap user's home.
	Home = "/home/nap"
	// Remote is where dev pushes the app hello.
	Remote = "nap@127.0.0.1:hello"
	// Repo is the server's bare repository of hello.
	Repo = Home + "/repos/hello.git"
	// ConfigPath is the operator's config on the machine.
	ConfigPath = "/etc/nap/config.yaml"
)

// PolkitRule is the README's least-privilege set-up: the nap user may
// manage units through polkit, nothing more.
const PolkitRule = `polkit.addRule(function(action, subject) {
  if (subject.user == "nap" &&
      (action.id == "org.freedesktop.systemd1.manage-units" ||
       action.id == "org.freedesktop.systemd1.manage-unit-files" ||
       action.id == "org.freedesktop.systemd1.reload-daemon")) return polkit.Result.YES;
});
`

// GitEnv is dev's environment for git over ssh.
var GitEnv = []string{
	"GIT_SSH_COMMAND=ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
	"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
	"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com",
}

// Options says what differs between the tests' installations.
type Options struct {
	// Config is the content of /etc/nap/config.yaml.
	Config string
}

// Host is a machine with nap installed, and the test driving it.
type Host struct {
	t testing.TB
	M *sandbox.Machine
}

// T is the test driving the host: its failures fail that test.
func (h *Host) T() testing.TB { return h.t }

// For is the same machine driven by t, a subtest: h itself stays with its
// test, so subtests may run in parallel.
func (h *Host) For(t testing.TB) *Host {
	c := *h
	c.t = t
	return &c
}

// InstallNapRender puts nap-render (built once per test process, see
// NapRender) at Bin on m: the discovery units of every release nap renders
// run `nap-render announce` from there, the operator's default nap_render.
func InstallNapRender(t testing.TB, m *sandbox.Machine) {
	t.Helper()
	b, err := os.ReadFile(NapRender(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile(Bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// New is a machine with nap-render installed at Bin and nothing else set
// up, driven by t: what a test of the deploy library (as root, its own
// config) starts from.
func New(t testing.TB, m *sandbox.Machine) *Host {
	t.Helper()
	InstallNapRender(t, m)
	return &Host{t: t, M: m}
}

// Install sets m up as README's "Shell mode" and "Least privilege"
// sections say (nap-render statically built from this module), and gives
// user dev a key that nap accepts.
func Install(t testing.TB, m *sandbox.Machine, opts Options) *Host {
	t.Helper()
	h := New(t, m)
	h.Run("root", "chown", "root:", Bin)
	h.StartDBus()
	for _, u := range []string{"nap", "dev"} {
		if _, err := m.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	h.Run("root", "usermod", "-a", "-G", "docker,systemd-journal", "nap")
	// What Debian's tmpfiles.d does at boot on a real host (the sandbox runs
	// no tmpfiles): the journal readable by the systemd-journal group, so
	// deploy can stream the build unit's output. The machine's journal is
	// volatile (/run/log/journal).
	h.Run("root", "sh", "-c", journalReadable)
	h.Run("root", "install", "-d", "-o", "nap", "-g", "nap", "-m", "0755", "/var/lib/nap")
	// README asks for setfacl; a group-writable unit directory grants the
	// same without the acl package.
	h.Run("root", "chgrp", "nap", "/etc/systemd/system")
	h.Run("root", "chmod", "0775", "/etc/systemd/system")
	h.WriteFile(ConfigPath, []byte(opts.Config), "root", 0o644)
	out := h.Run("nap", Bin, "hooks", "install", "--mode", "shell", "--home", Home, "--config", ConfigPath)
	t.Logf("hooks install:\n%s", out)
	pub, err := m.NewSSHKey("dev")
	if err != nil {
		t.Fatal(err)
	}
	h.WriteFile("/tmp/dev.pub", []byte(pub+"\n"), "nap", 0o644)
	h.Run("nap", Bin, "keys", "add", "dev", "/tmp/dev.pub")
	return h
}

// StartDBus starts D-Bus and polkit with README's rule for the nap user:
// systemctl as a user other than root goes through them.
func (h *Host) StartDBus() {
	h.t.Helper()
	for _, u := range []string{"dbus.socket", "dbus.service", "polkit.service"} {
		b, err := os.ReadFile("/lib/systemd/system/" + u)
		if err != nil {
			sandbox.Unavailable(h.t, "unit %s: %v", u, err)
		}
		h.WriteFile("/etc/systemd/system/"+u, b, "root", 0o644)
	}
	h.WriteFile("/etc/polkit-1/rules.d/50-nap.rules", []byte(PolkitRule), "root", 0o644)
	h.Run("root", "systemctl", "daemon-reload")
	h.Run("root", "systemctl", "start", "dbus.socket", "dbus.service", "polkit.service")
}

// journalReadable is what Debian's tmpfiles.d does at boot: the journal
// readable by the systemd-journal group.
const journalReadable = `for d in /run/log/journal /var/log/journal; do mkdir -p $d && chgrp -R systemd-journal $d && chmod -R g+rX $d && find $d -type d -exec chmod g+s {} +; done`

// Try runs argv on the machine as user, with env, and returns what it did.
func (h *Host) Try(user string, env []string, argv ...string) sandbox.Result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := h.M.Run(ctx, sandbox.Cmd{User: user, Env: env, Argv: argv})
	if err != nil {
		h.t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	return res
}

// SSHArgv is `ssh nap@127.0.0.1 WORDS…` as user sends it: ssh joins the
// words with spaces into the command line the forced command reads.
func SSHArgv(words ...string) []string { return SSHArgvTo("nap", words...) }

// SSHArgvTo is SSHArgv to another user of the machine (gitolite's).
func SSHArgvTo(login string, words ...string) []string {
	return append([]string{"ssh", "-T", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR", login + "@127.0.0.1"}, words...)
}

// SSH runs an app command over ssh as user (dev holds the key nap
// accepts), stdin empty, and returns what it did.
func (h *Host) SSH(user string, words ...string) sandbox.Result {
	h.t.Helper()
	return h.Try(user, nil, SSHArgv(words...)...)
}

// Run runs argv on the machine as user, fails the test on a non-zero exit
// and returns the standard output.
func (h *Host) Run(user string, argv ...string) string {
	h.t.Helper()
	res := h.Try(user, nil, argv...)
	if res.Code != 0 {
		h.t.Fatalf("%s: %s", strings.Join(argv, " "), res)
	}
	return string(res.Stdout)
}

// WriteFile writes a file inside the machine, owned by owner.
func (h *Host) WriteFile(p string, data []byte, owner string, mode os.FileMode) {
	h.t.Helper()
	if err := h.M.WriteFile(p, data, mode); err != nil {
		h.t.Fatal(err)
	}
	h.Run("root", "chown", owner+":", p)
}

// Git runs git as dev in the work tree dir, fails the test on a non-zero
// exit and returns the trimmed standard output.
func (h *Host) Git(dir string, args ...string) string {
	h.t.Helper()
	res := h.Try("dev", GitEnv, append([]string{"git", "-C", dir}, args...)...)
	if res.Code != 0 {
		h.t.Fatalf("git %s: %s", strings.Join(args, " "), res)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// Commit writes files into dev's work tree dir and commits them, returning
// the new revision.
func (h *Host) Commit(dir, msg string, files map[string]string) string {
	h.t.Helper()
	for name, content := range files {
		h.WriteFile(dir+"/"+name, []byte(content), "dev", 0o644)
	}
	h.Git(dir, "add", "-A")
	h.Git(dir, "commit", "-q", "--allow-empty", "-m", msg)
	return h.Git(dir, "rev-parse", "HEAD")
}

// Push pushes master from dir to nap and returns the exit code and all
// that git printed. The log shows it with the build's own output counted,
// not copied: a failure further on stays within what a CI excerpt shows.
func (h *Host) Push(dir string) (int, string) {
	h.t.Helper()
	res := h.Try("dev", GitEnv, "git", "-C", dir, "push", Remote, "master")
	out := string(res.Stdout) + string(res.Stderr)
	h.t.Logf("push from %s: exit %d\n%s", dir, res.Code, WithoutBuildOutput(out))
	return res.Code, out
}

// WithoutBuildOutput replaces the lines between deploy's "Building" and
// "Built" with their count; a build that did not end in "Built" is kept
// whole, its end being the reason it failed.
func WithoutBuildOutput(out string) string {
	var b strings.Builder
	var build []string // the current build's lines
	inBuild := false
	for _, line := range strings.SplitAfter(out, "\n") {
		nap := strings.TrimSpace(strings.TrimPrefix(line, "remote: -----> "))
		if inBuild {
			if !strings.HasPrefix(nap, "Built ") {
				build = append(build, line)
				continue
			}
			fmt.Fprintf(&b, "remote: -----> [%d lines of build output]\n", len(build))
			build, inBuild = nil, false
		}
		b.WriteString(line)
		inBuild = strings.HasPrefix(nap, "Building ")
	}
	b.WriteString(strings.Join(build, ""))
	return b.String()
}

// Master is what the server's bare repository holds for master ("" if
// nothing).
func (h *Host) Master() string {
	h.t.Helper()
	res := h.Try("nap", nil, "git", "--git-dir", Repo, "rev-parse", "--verify", "--quiet", "refs/heads/master")
	return strings.TrimSpace(string(res.Stdout))
}

// Announcement is the value of a discovery key (DESIGN.md).
type Announcement = announce.Value

// Announced lists the keys under prefix in etcd, without failing the test.
func (h *Host) Announced(prefix string) ([]sandbox.KV, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.M.Etcd().V2().List(ctx, prefix)
}

// Get asks an announced endpoint once, without retries.
func (h *Host) Get(a Announcement) (string, error) {
	code, body, err := h.M.HTTPGet(fmt.Sprintf("http://%s:%d/", a.Host, a.Port))
	if err != nil {
		return "", err
	}
	if code != 200 {
		return body, fmt.Errorf("HTTP %d: %q", code, body)
	}
	return body, nil
}

// Answer reads the one announcement under prefix and asks its endpoint.
func (h *Host) Answer(prefix string) (string, error) {
	kvs, err := h.Announced(prefix)
	if err != nil {
		return "", err
	}
	if len(kvs) != 1 {
		return "", fmt.Errorf("%d endpoints announced, want 1: %v", len(kvs), kvs)
	}
	var a Announcement
	if err := json.Unmarshal([]byte(kvs[0].Value), &a); err != nil {
		return "", err
	}
	return h.Get(a)
}

var (
	napRenderOnce sync.Once
	napRenderBin  string
	napRenderErr  error
	buildDir      string
)

// NapRender builds nap-render once per test process, static as README's
// install step builds it: a cgo binary loads libc first, about a
// millisecond more on every push. See Main for the clean-up.
func NapRender(t testing.TB) string {
	t.Helper()
	napRenderOnce.Do(func() {
		if buildDir, napRenderErr = os.MkdirTemp("", "nap-render-bin-"); napRenderErr != nil {
			return
		}
		napRenderBin = filepath.Join(buildDir, "nap-render")
		build := exec.Command("go", "build", "-o", napRenderBin, "github.com/nap-paas/nap/cmd/nap-render")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			napRenderErr = fmt.Errorf("go build nap-render: %v\n%s", err, out)
		}
	})
	if napRenderErr != nil {
		t.Fatal(napRenderErr)
	}
	return napRenderBin
}

// Main runs the tests and removes what NapRender built; a package's
// TestMain is `os.Exit(naptest.Main(m))`.
func Main(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	return code
}
