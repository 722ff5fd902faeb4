package hooks

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

// These tests push over ssh to a private sshd on a loopback port, logging in
// as the current user with an authorized_keys file and HOME of their own
// (no accounts are added to the host), through the real nap-render binary,
// git, git-shell and gitolite.

func TestMain(m *testing.M) { os.Exit(naptest.Main(m)) }

// gitHost is one private sshd and the client side that pushes to it.
type gitHost struct {
	dir, port, napRender, config string
	env                          []string // the client's git environment
}

func run(t testing.TB, env []string, dir string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func must(t testing.TB, env []string, dir string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, env, dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// startGitHost starts sshd serving authorizedKeys with HOME=home.
func startGitHost(t testing.TB, dir, home, authorizedKeys string) *gitHost {
	sshd := sandbox.Tool(t, "sshd")
	sandbox.Tool(t, "git-shell")
	h := &gitHost{dir: dir, port: freePort(t), napRender: naptest.NapRender(t), config: filepath.Join(dir, "config.yaml")}
	os.WriteFile(h.config, []byte("deploy_branch: master\nstate: "+filepath.Join(dir, "state")+"\n"), 0o644)
	must(t, nil, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "hostkey"))
	conf := fmt.Sprintf(`Port %s
ListenAddress 127.0.0.1
HostKey %s/hostkey
PidFile %s/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin forced-commands-only
AuthorizedKeysFile %s
StrictModes no
PermitUserEnvironment no
SetEnv HOME=%s
`, h.port, dir, dir, authorizedKeys, home)
	os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600)
	os.MkdirAll("/run/sshd", 0o755)
	cmd := exec.Command(sshd, "-D", "-f", filepath.Join(dir, "sshd_config"), "-E", filepath.Join(dir, "sshd.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+h.port)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd did not listen: %v\n%s", err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	clientHome := filepath.Join(dir, "client")
	os.MkdirAll(clientHome, 0o700)
	h.env = []string{"HOME=" + clientHome, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
	return h
}

// as returns the client environment pushing with key.
func (h *gitHost) as(key string) []string {
	return append(append([]string{}, h.env...), "GIT_SSH_COMMAND=ssh -F /dev/null -p "+h.port+" -i "+key+
		" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR")
}

func (h *gitHost) ssh(key string, args ...string) (string, error) {
	all := append([]string{"-F", "/dev/null", "-T", "-p", h.port, "-i", key, "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "root@127.0.0.1"}, args...)
	cmd := exec.Command("ssh", all...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func userKey(t testing.TB, dir, name string) string {
	key := filepath.Join(dir, name)
	must(t, nil, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key)
	return key
}

// appRepo makes a client work tree with commits on master and dev.
func appRepo(t testing.TB, h *gitHost, dir string) (master, dev string) {
	env := h.env
	must(t, env, "", "git", "init", "-q", "-b", "master", dir)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY hello /hello\nEXPOSE 8080\nCMD [\"/hello\"]\n"), 0o644)
	must(t, env, dir, "git", "add", "-A")
	must(t, env, dir, "git", "commit", "-q", "-m", "one")
	must(t, env, dir, "git", "checkout", "-q", "-b", "dev")
	os.WriteFile(filepath.Join(dir, "README"), []byte("dev\n"), 0o644)
	must(t, env, dir, "git", "add", "-A")
	must(t, env, dir, "git", "commit", "-q", "-m", "two")
	must(t, env, dir, "git", "checkout", "-q", "master")
	return strings.TrimSpace(must(t, env, dir, "git", "rev-parse", "master")), strings.TrimSpace(must(t, env, dir, "git", "rev-parse", "dev"))
}

// refAt is what the server's repository holds for ref ("" when it has none).
func refAt(t *testing.T, gitDir, ref string) string {
	out, err := run(t, nil, "", "git", "--git-dir", gitDir, "rev-parse", "--verify", "--quiet", ref)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

func listDir(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPushShellMode(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "nap")
	ak := filepath.Join(dir, "authorized_keys")
	h := startGitHost(t, dir, home, ak)
	out := must(t, nil, "", h.napRender, "hooks", "install", "--mode", "shell", "--home", home, "--config", h.config)
	if !strings.Contains(out, "wrote "+filepath.Join(home, "hooks", "pre-receive")) {
		t.Errorf("hooks install printed %q", out)
	}
	if out := must(t, nil, "", h.napRender, "hooks", "install", "--mode", "shell", "--home", home, "--config", h.config); !strings.HasPrefix(out, "unchanged ") {
		t.Errorf("second hooks install printed %q, want unchanged", out)
	}
	alice := userKey(t, dir, "alice")
	must(t, nil, "", h.napRender, "keys", "add", "alice", alice+".pub", "--authorized-keys", ak, "--config", h.config)
	if out := must(t, nil, "", h.napRender, "keys", "add", "alice", alice+".pub", "--authorized-keys", ak, "--config", h.config); !strings.HasPrefix(out, "unchanged ") {
		t.Errorf("second keys add printed %q", out)
	}
	repos := filepath.Join(home, "repos")

	t.Run("refused requests create nothing", func(t *testing.T) {
		for _, tc := range []struct{ cmd, want string }{
			{"", "interactive shell access is not allowed"},
			{"id", `unknown command "id"`},
			{"status myapp; id", "';' outside quotes"},
			{"status myapp\nid", "outside quotes"},
			{"status $(id)", "'(' outside quotes"},
			{"logs myapp --evil", "flag provided but not defined: -evil"},
			{"destroy myapp", "confirm with --confirm myapp"},
			{"status " + strings.Repeat("x ", 10000), "at most 512 are taken"},
			{"git-receive-pack 'myapp'; touch /tmp/pwned", "bad repository argument"},
			{"git-receive-pack 'my\napp'", "invalid app name"},
			{"git-receive-pack '../myapp'", "invalid app name"},
			{"git-receive-pack 'a/b'", "invalid app name"},
			{"git-receive-pack 'MyApp'", "invalid app name"},
			{"git-receive-pack '" + strings.Repeat("a", 64) + "'", "invalid app name"},
			{"git-receive-pack 'gitolite-admin'", "reserved"},
			{"git-receive-pack 'nap'", "reserved"},
			{"git-upload-pack 'ghost'", "no access to ghost"},
			{"status ghost", "no access to ghost"},
		} {
			var args []string
			if tc.cmd != "" {
				args = []string{tc.cmd}
			}
			out, err := h.ssh(alice, args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("ssh %q: %v %q, want a failure saying %q", tc.cmd, err, out, tc.want)
			}
		}
		// git's own verb on a new app, sending no ref: nothing stays.
		if out, err := h.ssh(alice, "git-receive-pack 'squat'"); err != nil {
			t.Logf("ssh git-receive-pack 'squat' sending nothing: %v %q", err, out)
		}
		if names := listDir(repos); len(names) != 0 {
			t.Errorf("refused requests created %v", names)
		}
		if _, err := os.Stat("/tmp/pwned"); err == nil {
			t.Errorf("a command ran")
		}
	})

	work := filepath.Join(dir, "work")
	master, dev := appRepo(t, h, work)
	env := h.as(alice)
	remote := "root@127.0.0.1:myapp"
	gitDir := filepath.Join(repos, "myapp.git")

	t.Run("bad names over git push", func(t *testing.T) {
		for _, name := range []string{"../evil", "Evil", "gitolite-admin", "a.b"} {
			out, err := run(t, env, work, "git", "push", "root@127.0.0.1:"+name, "master")
			if err == nil || !strings.Contains(out, "invalid app name") {
				t.Errorf("push to %q: %v %q", name, err, out)
			}
		}
		if names := listDir(repos); len(names) != 0 {
			t.Errorf("bad names created %v", names)
		}
	})

	t.Run("non-deploy branch: created, accepted, nothing deployed", func(t *testing.T) {
		out := must(t, env, work, "git", "push", remote, "dev")
		if !strings.Contains(out, "refs/heads/dev: accepted, not deployed (myapp deploys from master)") || strings.Contains(out, "Deploying") {
			t.Errorf("push dev printed %q", out)
		}
		if got := refAt(t, gitDir, "refs/heads/dev"); got != dev {
			t.Errorf("dev = %q, want %s", got, dev)
		}
		if out := must(t, env, work, "git", "ls-remote", remote); !strings.Contains(out, dev+"\trefs/heads/dev") {
			t.Errorf("ls-remote: %q", out)
		}
	})

	t.Run("deploy branch: nap-render deploy runs before the ref moves", func(t *testing.T) {
		// No deploy environment here (no docker, state, registry): the
		// deploy fails, so the push is rejected and master is not created.
		out, err := run(t, env, work, "git", "push", remote, "master")
		if err == nil {
			t.Fatalf("push master succeeded without a deploy environment: %s", out)
		}
		for _, want := range []string{"-----> Deploying myapp " + master[:12], "deploy of myapp failed", "push rejected, refs/heads/master was not created", "pre-receive hook declined"} {
			if !strings.Contains(out, want) {
				t.Errorf("push output lacks %q:\n%s", want, out)
			}
		}
		if got := refAt(t, gitDir, "refs/heads/master"); got != "" {
			t.Errorf("master moved to %s after a failed deploy", got)
		}
		// The first push of a new app, rejected: no app is left behind.
		if out, err := run(t, env, work, "git", "push", "root@127.0.0.1:fresh", "master"); err == nil {
			t.Fatalf("push to fresh succeeded: %s", out)
		}
		if _, err := os.Stat(filepath.Join(repos, "fresh.git")); !os.IsNotExist(err) {
			t.Errorf("a rejected first push left fresh.git: %v", err)
		}
	})

	t.Run("bad app input: rejected with file:line, branch unchanged", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			files map[string]string // "" removes the file
			want  string
		}{
			{"no Dockerfile", map[string]string{"Dockerfile": ""}, "Dockerfile"},
			{"bad EXPOSE", map[string]string{"Dockerfile": "FROM scratch\nCOPY hello /hello\nEXPOSE x\n"}, "Dockerfile:3"},
			{"operator field", map[string]string{"nap.yaml": "instances: 1\nregistry: evil:5000\n"}, "nap.yaml:2"},
		} {
			must(t, h.env, work, "git", "checkout", "-q", "-B", "bad", "master")
			for f, content := range tc.files {
				if content == "" {
					os.Remove(filepath.Join(work, f))
				} else {
					os.WriteFile(filepath.Join(work, f), []byte(content), 0o644)
				}
			}
			must(t, h.env, work, "git", "add", "-A")
			must(t, h.env, work, "git", "commit", "-q", "-m", tc.name)
			out, err := run(t, env, work, "git", "push", remote, "bad:master")
			t.Logf("%s:\n%s", tc.name, out)
			if err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, "push rejected") {
				t.Errorf("%s: push: %v, want a rejection naming %q:\n%s", tc.name, err, tc.want, out)
			}
			if got := refAt(t, gitDir, "refs/heads/master"); got != "" {
				t.Errorf("%s: master moved to %s", tc.name, got)
			}
			must(t, h.env, work, "git", "checkout", "-q", "master")
		}
	})

	t.Run("access: the first pusher owns the app; others get no access until granted", func(t *testing.T) {
		bob := userKey(t, dir, "bob")
		must(t, nil, "", h.napRender, "keys", "add", "bob", bob+".pub", "--authorized-keys", ak, "--config", h.config)
		root := userKey(t, dir, "root")
		must(t, nil, "", h.napRender, "keys", "add", "root", root+".pub", "--admin", "--authorized-keys", ak, "--config", h.config)
		bobEnv := h.as(bob)
		before := refAt(t, gitDir, "refs/heads/bad")
		for _, tc := range []struct {
			what string
			do   func() (string, error)
		}{
			{"push", func() (string, error) { return run(t, bobEnv, work, "git", "push", remote, "master:bad") }},
			{"fetch", func() (string, error) { return run(t, bobEnv, work, "git", "ls-remote", remote) }},
			{"status", func() (string, error) { return h.ssh(bob, "status myapp") }},
			{"logs", func() (string, error) { return h.ssh(bob, "logs myapp -f") }},
			{"destroy", func() (string, error) { return h.ssh(bob, "destroy myapp --confirm myapp") }},
		} {
			if out, err := tc.do(); err == nil || !strings.Contains(out, "no access to myapp") {
				t.Errorf("bob's %s of alice's app: %v %q, want no access", tc.what, err, out)
			}
		}
		if got := refAt(t, gitDir, "refs/heads/bad"); got != before {
			t.Errorf("bob's refused push moved bad to %s", got)
		}
		// apps lists what each may use
		if out, err := h.ssh(alice, "apps"); err != nil || !strings.Contains(out, "myapp") {
			t.Errorf("alice's apps: %v %q", err, out)
		}
		if out, _ := h.ssh(bob, "apps"); strings.Contains(out, "myapp") {
			t.Errorf("bob's apps lists alice's app: %q", out)
		}
		// granted, bob may; an admin may anyway
		must(t, nil, "", h.napRender, "keys", "grant", "myapp", "bob", "--config", h.config)
		if out, err := run(t, bobEnv, work, "git", "ls-remote", remote); err != nil {
			t.Errorf("bob's fetch after the grant: %v %q", err, out)
		}
		if out, err := h.ssh(bob, "apps --json"); err != nil || !strings.Contains(out, `"app": "myapp"`) {
			t.Errorf("bob's apps after the grant: %v %q", err, out)
		}
		if out, err := run(t, h.as(root), work, "git", "ls-remote", remote); err != nil {
			t.Errorf("the admin's fetch: %v %q", err, out)
		}
		must(t, nil, "", h.napRender, "keys", "revoke", "myapp", "bob", "--config", h.config)
		if out, err := h.ssh(bob, "status myapp"); err == nil || !strings.Contains(out, "no access to myapp") {
			t.Errorf("bob after the revoke: %v %q", err, out)
		}
		// help needs no app
		if out, err := h.ssh(bob, "help"); err != nil || !strings.Contains(out, "ssh nap@HOST logs APP [-f]") {
			t.Errorf("help: %v %q", err, out)
		}
	})

	t.Run("branch delete: accepted, nothing deployed", func(t *testing.T) {
		out := must(t, env, work, "git", "push", remote, ":dev")
		if !strings.Contains(out, "refs/heads/dev: accepted, not deployed") || strings.Contains(out, "Deploying") {
			t.Errorf("delete printed %q", out)
		}
		if got := refAt(t, gitDir, "refs/heads/dev"); got != "" {
			t.Errorf("dev still at %s", got)
		}
	})
}

func TestPushGitoliteMode(t *testing.T) {
	gitolite := sandbox.Tool(t, "gitolite")
	dir := t.TempDir()
	gl := filepath.Join(dir, "gitolite")
	os.MkdirAll(gl, 0o755)
	keys := map[string]string{}
	for _, u := range []string{"admin", "alice", "bob", "carol"} {
		keys[u] = userKey(t, dir, u)
	}
	glEnv := []string{"HOME=" + gl, "USER=git", "PATH=" + os.Getenv("PATH")}
	must(t, glEnv, dir, gitolite, "setup", "-pk", keys["admin"]+".pub")
	// carol has a key but no rights; bob may write dev of shop, not master.
	conf := `@deployers = alice bob
repo gitolite-admin
    RW+     =   admin
repo shop
    RW+     =   alice
    RW dev  =   bob
repo [a-z][a-z0-9-]{0,62}
    C       =   @deployers
    RW+     =   CREATOR
`
	os.WriteFile(filepath.Join(gl, ".gitolite", "conf", "gitolite.conf"), []byte(conf), 0o600)
	for _, u := range []string{"alice", "bob", "carol"} {
		data, _ := os.ReadFile(keys[u] + ".pub")
		os.WriteFile(filepath.Join(gl, ".gitolite", "keydir", u+".pub"), data, 0o600)
	}
	must(t, glEnv, dir, gitolite, "compile")
	must(t, glEnv, dir, gitolite, "trigger", "POST_COMPILE")
	h := startGitHost(t, dir, gl, filepath.Join(gl, ".ssh", "authorized_keys"))

	rc, _ := os.ReadFile(filepath.Join(gl, ".gitolite.rc"))
	out := must(t, nil, "", h.napRender, "hooks", "install", "--mode", "gitolite", "--gitolite-home", gl, "--config", h.config, "--print")
	if !strings.Contains(out, "+        LOCAL_CODE                =>  \"$ENV{HOME}/local\",") || !strings.Contains(out, "would write "+GitoliteHookPath(gl)) {
		t.Errorf("--print printed %q", out)
	}
	if again, _ := os.ReadFile(filepath.Join(gl, ".gitolite.rc")); string(again) != string(rc) {
		t.Errorf("--print changed .gitolite.rc")
	}
	must(t, nil, "", h.napRender, "hooks", "install", "--mode", "gitolite", "--gitolite-home", gl, "--config", h.config)
	if out := must(t, nil, "", h.napRender, "hooks", "install", "--mode", "gitolite", "--gitolite-home", gl, "--config", h.config); !strings.Contains(out, "unchanged "+GitoliteHookPath(gl)) || !strings.Contains(out, "unchanged "+filepath.Join(gl, ".gitolite.rc")) {
		t.Errorf("second install printed %q", out)
	}

	if rc, _ := os.ReadFile(filepath.Join(gl, ".gitolite.rc")); !strings.Contains(string(rc), "'nap ua',") {
		t.Errorf(".gitolite.rc does not enable nap's command")
	}
	if _, err := os.Stat(GitoliteCommandPath(gl)); err != nil {
		t.Errorf("nap's gitolite command: %v", err)
	}

	work := filepath.Join(dir, "work")
	master, dev := appRepo(t, h, work)
	repos := filepath.Join(gl, "repositories")

	t.Run("no write access: refused before nap runs", func(t *testing.T) {
		out, err := run(t, h.as(keys["carol"]), work, "git", "push", "root@127.0.0.1:myapp", "master")
		if err == nil || !strings.Contains(out, "DENIED") || strings.Contains(out, "----->") {
			t.Errorf("carol's push: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(repos, "myapp.git")); err == nil {
			t.Errorf("carol's push created myapp")
		}
	})

	t.Run("nap's commands: gitolite's rules, nap's parsing", func(t *testing.T) {
		if out, err := h.ssh(keys["carol"], "nap status shop"); err == nil || !strings.Contains(out, "no access to shop") {
			t.Errorf("carol's status of shop: %v %q", err, out)
		}
		// bob may write shop's dev, not master (the deploy branch)
		if out, err := h.ssh(keys["bob"], "nap destroy shop --confirm shop"); err == nil || !strings.Contains(out, "no access to shop") {
			t.Errorf("bob (no W on shop's master) destroys shop: %v %q", err, out)
		}
		// quotes reach nap (gitolite's own pattern would refuse them), and
		// nap-render runs the command (no deploy environment here: it fails
		// on fleetctl, after the access check)
		for _, tc := range []struct{ key, line string }{{"alice", "nap status 'shop' --json"}, {"bob", "nap logs shop -n 5"}} {
			out, _ := h.ssh(keys[tc.key], tc.line)
			if strings.Contains(out, "no access") || strings.Contains(out, "suspicious") || !strings.Contains(out, "nap-render "+strings.Fields(tc.line)[1]+":") {
				t.Errorf("%s's %q: %q, want nap-render to run it", tc.key, tc.line, out)
			}
		}
		for line, want := range map[string]string{
			"nap status shop; id": "';' outside quotes",
			"nap apps":            "ssh git@host info",
			"nap rm -rf /":        `unknown command "rm"`,
			"napstatus shop":      "unknown git/gitolite command",
		} {
			if out, err := h.ssh(keys["alice"], line); err == nil || !strings.Contains(out, want) {
				t.Errorf("%q: %v %q, want %q", line, err, out, want)
			}
		}
		if out, err := h.ssh(keys["carol"], "nap help"); err != nil || !strings.Contains(out, "ssh git@HOST nap logs APP") {
			t.Errorf("nap help: %v %q", err, out)
		}
	})

	t.Run("first push creates the app and deploys master", func(t *testing.T) {
		out, err := run(t, h.as(keys["alice"]), work, "git", "push", "root@127.0.0.1:myapp", "dev", "master")
		if err == nil || !strings.Contains(out, "-----> Deploying myapp "+master[:12]) || !strings.Contains(out, "deploy of myapp failed") {
			t.Errorf("alice's first push: %v\n%s", err, out)
		}
		gitDir := filepath.Join(repos, "myapp.git")
		if got := refAt(t, gitDir, "refs/heads/master"); got != "" {
			t.Errorf("master moved to %s after a failed deploy", got)
		}
		// The whole push is rejected with the deploy: dev did not move either.
		if got := refAt(t, gitDir, "refs/heads/dev"); got != "" {
			t.Errorf("dev = %s", got)
		}
		out = must(t, h.as(keys["alice"]), work, "git", "push", "root@127.0.0.1:myapp", "dev")
		if !strings.Contains(out, "refs/heads/dev: accepted, not deployed") {
			t.Errorf("dev push printed %q", out)
		}
		if got := refAt(t, gitDir, "refs/heads/dev"); got != dev {
			t.Errorf("dev = %q, want %s", got, dev)
		}
	})

	t.Run("per-ref rule denies master: no deploy", func(t *testing.T) {
		// shop exists (alice creates it with dev); bob may push dev only.
		must(t, h.as(keys["alice"]), work, "git", "push", "root@127.0.0.1:shop", "dev")
		out, err := run(t, h.as(keys["bob"]), work, "git", "push", "root@127.0.0.1:shop", "master")
		if err == nil || strings.Contains(out, "Deploying") || !strings.Contains(out, "refs/heads/master: you may not write it: nothing deployed") || !strings.Contains(out, "DENIED") {
			t.Errorf("bob's master push: %v\n%s", err, out)
		}
		if got := refAt(t, filepath.Join(repos, "shop.git"), "refs/heads/master"); got != "" {
			t.Errorf("master = %s", got)
		}
	})

	t.Run("gitolite-admin never deploys", func(t *testing.T) {
		admin := filepath.Join(dir, "admin-work")
		env := h.as(keys["admin"])
		must(t, env, "", "git", "clone", "-q", "root@127.0.0.1:gitolite-admin", admin)
		os.WriteFile(filepath.Join(admin, "README"), []byte("x\n"), 0o644)
		must(t, env, admin, "git", "add", "README")
		must(t, env, admin, "git", "commit", "-q", "-m", "readme")
		if out := must(t, env, admin, "git", "push", "-q", "origin", "master"); strings.Contains(out, "----->") {
			t.Errorf("gitolite-admin push ran nap: %s", out)
		}
		// The wild-repo rule matches gitolite-admin too; C applies to new repos only.
		if out, err := run(t, h.as(keys["alice"]), admin, "git", "push", "origin", "master"); err == nil || !strings.Contains(out, "DENIED") {
			t.Errorf("alice pushed gitolite-admin: %s", out)
		}
	})
}
