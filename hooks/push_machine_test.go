package hooks

import (
	"os"
	"strings"
	"testing"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

// These tests push over real sshd on a simulated machine through the real
// nap-render, git, git-shell and gitolite3, with no deploy environment (no
// docker, registry or scheduler): a push of the deploy branch runs the
// deploy, which fails, and is rejected. What they check is the git side:
// names, access, refs, the hook's install.

// noDeployConfig is an operator config whose deploys fail at once.
const noDeployConfig = "deploy_branch: master\ntarget: fleet\nstate: /var/lib/nap\n"

func TestMain(m *testing.M) { os.Exit(naptest.Main(m)) }

// said is what a command printed, both streams.
func said(r sandbox.Result) string { return string(r.Stdout) + string(r.Stderr) }

// sshAs sends one command line over ssh as user to login@127.0.0.1.
func sshAs(h *naptest.Host, user, login, line string) sandbox.Result {
	h.T().Helper()
	var words []string
	if line != "" {
		words = []string{line}
	}
	return h.Try(user, nil, naptest.SSHArgvTo(login, words...)...)
}

// gitAs runs git as user in dir.
func gitAs(h *naptest.Host, user, dir string, args ...string) sandbox.Result {
	h.T().Helper()
	return h.Try(user, naptest.GitEnv, append([]string{"git", "-C", dir}, args...)...)
}

// appRepo makes dev's work tree at dir with commits on master and dev, and
// a copy of it for each of others.
func appRepo(h *naptest.Host, dir string, others ...string) (master, dev string) {
	h.Run("dev", "git", "init", "-q", "-b", "master", dir)
	master = h.Commit(dir, "one", map[string]string{"Dockerfile": scratchHello})
	h.Git(dir, "checkout", "-q", "-b", "dev")
	dev = h.Commit(dir, "two", map[string]string{"README": "dev\n"})
	h.Git(dir, "checkout", "-q", "master")
	for _, u := range others {
		h.Run("root", "cp", "-a", dir, dir+"-"+u)
		h.Run("root", "chown", "-R", u+":", dir+"-"+u)
	}
	return master, dev
}

// refAt is what the server's repository holds for ref ("" when nothing).
func refAt(h *naptest.Host, gitDir, ref string) string {
	h.T().Helper()
	return strings.TrimSpace(string(h.Try("root", nil, "git", "--git-dir", gitDir, "rev-parse", "--verify", "--quiet", ref).Stdout))
}

func TestPushShellMode(t *testing.T) {
	if os.Geteuid() != 0 {
		sandbox.Unavailable(t, "simulated machines need root")
	}
	h := naptest.Install(t, sandbox.NewMachine(t, sandbox.Options{SSH: true}), naptest.Options{Config: noDeployConfig})
	// dev is the first to push (the owner), bob another user, ops an admin.
	h.AddUsers("bob", "ops")
	h.Run("nap", naptest.Bin, "keys", "add", "bob", "/tmp/bob.pub")
	h.Run("nap", naptest.Bin, "keys", "add", "ops", "/tmp/ops.pub", "--admin")
	if out := h.Run("nap", naptest.Bin, "keys", "add", "bob", "/tmp/bob.pub"); !strings.HasPrefix(out, "unchanged ") {
		t.Errorf("second keys add printed %q", out)
	}
	out := h.Run("nap", naptest.Bin, "hooks", "install", "--mode", "shell", "--home", naptest.Home, "--config", naptest.ConfigPath)
	if !strings.HasPrefix(out, "unchanged "+naptest.Home+"/hooks/pre-receive") {
		t.Errorf("second hooks install printed %q, want unchanged", out)
	}
	repos := naptest.Home + "/repos"
	reposHold := func() string { return strings.TrimSpace(string(h.Try("root", nil, "ls", "-A", repos).Stdout)) }

	t.Run("refused requests create nothing", func(t *testing.T) {
		h := h.For(t)
		for _, tc := range []struct{ line, want string }{
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
			if res := sshAs(h, "dev", "nap", tc.line); res.Code == 0 || !strings.Contains(said(res), tc.want) {
				t.Errorf("ssh %.60q: %s\nwant a failure saying %q", tc.line, res, tc.want)
			}
		}
		// git's own verb on a new app, sending no ref: nothing stays.
		sshAs(h, "dev", "nap", "git-receive-pack 'squat'")
		if names := reposHold(); names != "" {
			t.Errorf("refused requests created %q", names)
		}
		if h.Try("root", nil, "test", "-e", "/tmp/pwned").Code == 0 {
			t.Errorf("a command ran")
		}
	})

	const work = "/tmp/work"
	master, dev := appRepo(h, work, "bob", "ops")
	remote := "nap@127.0.0.1:myapp"
	gitDir := repos + "/myapp.git"

	t.Run("bad names over git push", func(t *testing.T) {
		h := h.For(t)
		for _, name := range []string{"../evil", "Evil", "gitolite-admin", "a.b"} {
			if res := gitAs(h, "dev", work, "push", "nap@127.0.0.1:"+name, "master"); res.Code == 0 || !strings.Contains(said(res), "invalid app name") {
				t.Errorf("push to %q: %s", name, res)
			}
		}
		if names := reposHold(); names != "" {
			t.Errorf("bad names created %q", names)
		}
	})

	t.Run("non-deploy branch: created, accepted, nothing deployed", func(t *testing.T) {
		h := h.For(t)
		res := gitAs(h, "dev", work, "push", remote, "dev")
		if out := said(res); res.Code != 0 || !strings.Contains(out, "refs/heads/dev: accepted, not deployed (myapp deploys from master)") || strings.Contains(out, "Deploying") {
			t.Errorf("push dev: %s", res)
		}
		if got := refAt(h, gitDir, "refs/heads/dev"); got != dev {
			t.Errorf("dev = %q, want %s", got, dev)
		}
		if res := gitAs(h, "dev", work, "ls-remote", remote); !strings.Contains(string(res.Stdout), dev+"\trefs/heads/dev") {
			t.Errorf("ls-remote: %s", res)
		}
	})

	t.Run("deploy branch: nap-render deploy runs before the ref moves", func(t *testing.T) {
		h := h.For(t)
		res := gitAs(h, "dev", work, "push", remote, "master")
		if res.Code == 0 {
			t.Fatalf("push master succeeded without a deploy environment: %s", res)
		}
		for _, want := range []string{"-----> Deploying myapp " + master[:12], "deploy of myapp failed", "push rejected, refs/heads/master was not created", "pre-receive hook declined"} {
			if !strings.Contains(said(res), want) {
				t.Errorf("push output lacks %q:\n%s", want, said(res))
			}
		}
		if got := refAt(h, gitDir, "refs/heads/master"); got != "" {
			t.Errorf("master moved to %s after a failed deploy", got)
		}
		// The first push of a new app, rejected: no app is left behind.
		if res := gitAs(h, "dev", work, "push", "nap@127.0.0.1:fresh", "master"); res.Code == 0 {
			t.Fatalf("push to fresh succeeded: %s", res)
		}
		if h.Try("root", nil, "test", "-e", repos+"/fresh.git").Code == 0 {
			t.Errorf("a rejected first push left fresh.git")
		}
	})

	t.Run("bad app input: rejected with file:line, branch unchanged", func(t *testing.T) {
		h := h.For(t)
		for _, tc := range []struct {
			name  string
			files map[string]string // "" removes the file
			want  string
		}{
			{"no Dockerfile", map[string]string{"Dockerfile": ""}, "Dockerfile"},
			{"bad EXPOSE", map[string]string{"Dockerfile": "FROM scratch\nCOPY hello /hello\nEXPOSE x\n"}, "Dockerfile:3"},
			{"operator field", map[string]string{"nap.yaml": "instances: 1\nregistry: evil:5000\n"}, "nap.yaml:2"},
		} {
			h.Git(work, "checkout", "-q", "-B", "bad", "master")
			for f, content := range tc.files {
				if content == "" {
					h.Git(work, "rm", "-q", f)
					delete(tc.files, f)
				}
			}
			h.Commit(work, tc.name, tc.files)
			res := gitAs(h, "dev", work, "push", remote, "bad:master")
			if out := said(res); res.Code == 0 || !strings.Contains(out, tc.want) || !strings.Contains(out, "push rejected") {
				t.Errorf("%s: push: %s\nwant a rejection naming %q", tc.name, res, tc.want)
			}
			if got := refAt(h, gitDir, "refs/heads/master"); got != "" {
				t.Errorf("%s: master moved to %s", tc.name, got)
			}
			h.Git(work, "checkout", "-q", "master")
		}
	})

	t.Run("access: the first pusher owns the app; others get no access until granted", func(t *testing.T) {
		h := h.For(t)
		before := refAt(h, gitDir, "refs/heads/bad")
		for _, tc := range []struct {
			what string
			do   func() sandbox.Result
		}{
			{"push", func() sandbox.Result { return gitAs(h, "bob", work+"-bob", "push", remote, "master:bad") }},
			{"fetch", func() sandbox.Result { return gitAs(h, "bob", work+"-bob", "ls-remote", remote) }},
			{"status", func() sandbox.Result { return sshAs(h, "bob", "nap", "status myapp") }},
			{"logs", func() sandbox.Result { return sshAs(h, "bob", "nap", "logs myapp -f") }},
			{"destroy", func() sandbox.Result { return sshAs(h, "bob", "nap", "destroy myapp --confirm myapp") }},
		} {
			if res := tc.do(); res.Code == 0 || !strings.Contains(said(res), "no access to myapp") {
				t.Errorf("bob's %s of dev's app: %s\nwant no access", tc.what, res)
			}
		}
		if got := refAt(h, gitDir, "refs/heads/bad"); got != before {
			t.Errorf("bob's refused push moved bad to %s", got)
		}
		// apps lists what each may use
		if res := sshAs(h, "dev", "nap", "apps"); res.Code != 0 || !strings.Contains(string(res.Stdout), "myapp") {
			t.Errorf("dev's apps: %s", res)
		}
		if res := sshAs(h, "bob", "nap", "apps"); strings.Contains(string(res.Stdout), "myapp") {
			t.Errorf("bob's apps lists dev's app: %s", res)
		}
		// not even with the host's own flag
		if res := sshAs(h, "bob", "nap", "apps --for dev"); res.Code == 0 || strings.Contains(string(res.Stdout), "myapp") {
			t.Errorf("bob's apps --for dev: %s", res)
		}
		// granted, bob may; an admin may anyway
		h.Run("nap", naptest.Bin, "keys", "grant", "myapp", "bob", "--config", naptest.ConfigPath)
		if res := gitAs(h, "bob", work+"-bob", "ls-remote", remote); res.Code != 0 {
			t.Errorf("bob's fetch after the grant: %s", res)
		}
		if res := sshAs(h, "bob", "nap", "apps --json"); res.Code != 0 || !strings.Contains(string(res.Stdout), `"app": "myapp"`) {
			t.Errorf("bob's apps after the grant: %s", res)
		}
		if res := gitAs(h, "ops", work+"-ops", "ls-remote", remote); res.Code != 0 {
			t.Errorf("the admin's fetch: %s", res)
		}
		h.Run("nap", naptest.Bin, "keys", "revoke", "myapp", "bob", "--config", naptest.ConfigPath)
		if res := sshAs(h, "bob", "nap", "status myapp"); res.Code == 0 || !strings.Contains(said(res), "no access to myapp") {
			t.Errorf("bob after the revoke: %s", res)
		}
		// help needs no app
		if res := sshAs(h, "bob", "nap", "help"); res.Code != 0 || !strings.Contains(string(res.Stdout), "ssh nap@HOST logs APP [-f]") {
			t.Errorf("help: %s", res)
		}
		if res := sshAs(h, "bob", "nap", "help logs"); res.Code != 0 || !strings.Contains(string(res.Stdout), "in time order") {
			t.Errorf("help logs: %s", res)
		}
	})

	t.Run("branch delete: accepted, nothing deployed", func(t *testing.T) {
		h := h.For(t)
		res := gitAs(h, "dev", work, "push", remote, ":dev")
		if out := said(res); res.Code != 0 || !strings.Contains(out, "refs/heads/dev: accepted, not deployed") || strings.Contains(out, "Deploying") {
			t.Errorf("delete: %s", res)
		}
		if got := refAt(h, gitDir, "refs/heads/dev"); got != "" {
			t.Errorf("dev still at %s", got)
		}
	})
}

// gitoliteConf: dev creates apps (CREATOR), bob may write shop's dev but
// not its master, ops administers, eve has a key and no rights.
const gitoliteConf = `repo gitolite-admin
    RW+     =   ops
repo shop
    RW+     =   dev
    RW dev  =   bob
repo [a-z][a-z0-9-]{0,62}
    C       =   dev bob
    RW+     =   CREATOR
    RW+     =   ops
`

// Gitolite mode on a machine with real sshd and gitolite3: the install,
// pushes under gitolite's rules, and nap's commands (ssh git@host nap …)
// for the user who created an app, a user gitolite gives nothing, an admin
// of gitolite's rules, and hostile command lines — each answered by
// gitolite's rules and nap's parsing before anything runs.
func TestGitoliteModeOnMachine(t *testing.T) {
	if os.Geteuid() != 0 {
		sandbox.Unavailable(t, "simulated machines need root")
	}
	m := sandbox.NewMachine(t, sandbox.Options{SSH: true, EtcdV2: true})
	h := naptest.InstallGitolite(t, m, naptest.GitoliteOptions{
		Config: "target: systemd\ndeploy_branch: master\nstate: /var/lib/git-nap\ndiscovery: {etcd: v2}\n",
		Admin:  "ops", Users: []string{"dev", "bob", "eve"}, Conf: gitoliteConf,
	})
	h.Run("root", "install", "-d", "-o", "git", "-g", "git", "/var/lib/git-nap")
	gl, rc := naptest.GitoliteHome, naptest.GitoliteHome+"/.gitolite.rc"
	install := []string{naptest.Bin, "hooks", "install", "--mode", "gitolite", "--gitolite-home", gl, "--config", naptest.ConfigPath}
	rcBefore := h.Run("root", "cat", rc)
	if out := h.Run("git", append(install, "--print")...); !strings.Contains(out, "+        LOCAL_CODE                =>  \"$ENV{HOME}/local\",") || !strings.Contains(out, "would write "+GitoliteHookPath(gl)) {
		t.Errorf("--print printed %q", out)
	}
	if h.Run("root", "cat", rc) != rcBefore {
		t.Errorf("--print changed .gitolite.rc")
	}
	h.Run("git", install...)
	if out := h.Run("git", install...); !strings.Contains(out, "unchanged "+GitoliteHookPath(gl)) || !strings.Contains(out, "unchanged "+rc) {
		t.Errorf("second install printed %q", out)
	}
	if !strings.Contains(h.Run("root", "cat", rc), "'nap ua',") {
		t.Errorf(".gitolite.rc does not enable nap's command")
	}
	h.Run("root", "test", "-x", GitoliteCommandPath(gl))

	const work = "/tmp/work"
	master, dev := appRepo(h, work, "bob", "eve", "ops")
	repos := gl + "/repositories"
	nap := func(user, line string) sandbox.Result { return sshAs(h, user, "git", "nap "+line) }

	t.Run("no write access: refused before nap runs", func(t *testing.T) {
		h := h.For(t)
		res := gitAs(h, "eve", work+"-eve", "push", "git@127.0.0.1:myapp", "master")
		if out := said(res); res.Code == 0 || !strings.Contains(out, "DENIED") || strings.Contains(out, "----->") {
			t.Errorf("eve's push: %s", res)
		}
		if h.Try("root", nil, "test", "-e", repos+"/myapp.git").Code == 0 {
			t.Errorf("eve's push created myapp")
		}
	})

	t.Run("first push creates the app and deploys master", func(t *testing.T) {
		h := h.For(t)
		res := gitAs(h, "dev", work, "push", "git@127.0.0.1:myapp", "dev", "master")
		if out := said(res); res.Code == 0 || !strings.Contains(out, "-----> Deploying myapp "+master[:12]) || !strings.Contains(out, "deploy of myapp failed") {
			t.Errorf("dev's first push: %s", res)
		}
		gitDir := repos + "/myapp.git"
		if got := refAt(h, gitDir, "refs/heads/master"); got != "" {
			t.Errorf("master moved to %s after a failed deploy", got)
		}
		// The whole push is rejected with the deploy: dev did not move either.
		if got := refAt(h, gitDir, "refs/heads/dev"); got != "" {
			t.Errorf("dev = %s", got)
		}
		if res := gitAs(h, "dev", work, "push", "git@127.0.0.1:myapp", "dev"); res.Code != 0 || !strings.Contains(said(res), "refs/heads/dev: accepted, not deployed") {
			t.Errorf("dev push: %s", res)
		}
		if got := refAt(h, gitDir, "refs/heads/dev"); got != dev {
			t.Errorf("dev = %q, want %s", got, dev)
		}
	})

	t.Run("per-ref rule denies master: no deploy", func(t *testing.T) {
		h := h.For(t)
		// dev creates shop by pushing a branch nap does not deploy; bob may
		// push its dev only.
		if res := gitAs(h, "dev", work, "push", "git@127.0.0.1:shop", "dev"); res.Code != 0 {
			t.Fatalf("dev's push of shop: %s", res)
		}
		res := gitAs(h, "bob", work+"-bob", "push", "git@127.0.0.1:shop", "master")
		if out := said(res); res.Code == 0 || strings.Contains(out, "Deploying") || !strings.Contains(out, "refs/heads/master: you may not write it: nothing deployed") || !strings.Contains(out, "DENIED") {
			t.Errorf("bob's master push: %s", res)
		}
		if got := refAt(h, repos+"/shop.git", "refs/heads/master"); got != "" {
			t.Errorf("master = %s", got)
		}
	})

	t.Run("nap's commands: gitolite's rules, nap's parsing", func(t *testing.T) {
		h := h.For(t)
		for _, user := range []string{"dev", "ops"} {
			if res := nap(user, "status 'shop' --json"); res.Code != 0 || !strings.Contains(string(res.Stdout), `"app": "shop"`) {
				t.Errorf("%s's status of shop: %s", user, res)
			}
		}
		for _, line := range []string{"status shop", "logs shop", "config shop", "destroy shop --confirm shop", "run shop -- id"} {
			if res := nap("eve", line); res.Code == 0 || !strings.Contains(string(res.Stderr), "no access to shop") {
				t.Errorf("eve's %q: %s", line, res)
			}
		}
		// bob may write shop's dev, not master (the deploy branch): he may
		// read it (nap-render runs logs: shop has no release), not change it
		if res := nap("bob", "logs shop -n 5"); !strings.Contains(string(res.Stderr), "nap-render logs: shop has no release running: push it first") {
			t.Errorf("bob's logs of shop: %s", res)
		}
		if res := nap("bob", "destroy shop --confirm shop"); res.Code == 0 || !strings.Contains(string(res.Stderr), "no access to shop") {
			t.Errorf("bob (no W on shop's master) destroys shop: %s", res)
		}
		for line, want := range map[string]string{
			"status shop; touch /tmp/pwned":         "';' outside quotes",
			"status shop\ntouch /tmp/pwned":         "newlines in the command", // gitolite refuses it first
			"run shop -- $(touch /tmp/pwned)":       "'(' outside quotes",
			"status shop --evil":                    "flag provided but not defined: -evil",
			"status " + strings.Repeat("x ", 10000): "at most 512 are taken",
			"apps":                                  "ssh git@host info",
			"rm -rf /":                              `unknown command "rm"`,
		} {
			if res := nap("dev", line); res.Code == 0 || !strings.Contains(string(res.Stderr), want) {
				t.Errorf("%.40q: %s\nwant %q", line, res, want)
			}
		}
		if res := sshAs(h, "dev", "git", "napstatus shop"); res.Code == 0 || !strings.Contains(said(res), "unknown git/gitolite command") {
			t.Errorf("napstatus: %s", res)
		}
		if h.Try("root", nil, "test", "-e", "/tmp/pwned").Code == 0 {
			t.Errorf("a hostile command line ran something")
		}
		if res := nap("eve", "help"); res.Code != 0 || !strings.Contains(string(res.Stdout), "ssh git@HOST nap logs APP") {
			t.Errorf("nap help: %s", res)
		}
		// the config, with a secret on stdin, for the app's writer
		res, err := h.M.Run(t.Context(), sandbox.Cmd{User: "dev", Argv: naptest.SSHArgvTo("git", "nap", "config:set", "shop", "TOKEN", "-"), Stdin: strings.NewReader("t0ken\n")})
		if err != nil || res.Code != 0 || !strings.Contains(string(res.Stdout), "shop has no release running: the next push runs with them") {
			t.Errorf("dev's config:set TOKEN -: %v %s", err, res)
		}
		if res := nap("dev", "config shop"); string(res.Stdout) != "TOKEN=t0ken\n" {
			t.Errorf("dev's config: %s", res)
		}
	})

	t.Run("gitolite-admin never deploys", func(t *testing.T) {
		h := h.For(t)
		const admin = "/tmp/admin-work"
		if res := h.Try("ops", naptest.GitEnv, "git", "clone", "-q", "git@127.0.0.1:gitolite-admin", admin); res.Code != 0 {
			t.Fatalf("clone: %s", res)
		}
		h.Run("root", "chown", "-R", "dev:", admin)
		h.Commit(admin, "readme", map[string]string{"README": "x\n"})
		h.Run("root", "chown", "-R", "ops:", admin)
		if res := gitAs(h, "ops", admin, "push", "-q", "origin", "master"); res.Code != 0 || strings.Contains(said(res), "----->") {
			t.Errorf("gitolite-admin push: %s", res)
		}
		// The wild-repo rule matches gitolite-admin too; C applies to new repos only.
		if res := gitAs(h, "dev", work, "push", "git@127.0.0.1:gitolite-admin", "master"); res.Code == 0 || !strings.Contains(said(res), "DENIED") {
			t.Errorf("dev pushed gitolite-admin: %s", res)
		}
	})
}
