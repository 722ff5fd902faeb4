package hooks

import (
	"os"
	"strings"
	"testing"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

// nap's commands under gitolite on a simulated machine, with real sshd and
// gitolite3: the user who created an app (CREATOR), a user gitolite gives
// nothing, an admin of gitolite's rules, and hostile command lines — each
// answered by gitolite's rules and nap's parsing before anything runs.
func TestGitoliteCommandsOnMachine(t *testing.T) {
	if os.Geteuid() != 0 {
		sandbox.Unavailable(t, "simulated machines need root")
	}
	m := sandbox.NewMachine(t, sandbox.Options{SSH: true, EtcdV2: true})
	h := naptest.New(t, m)
	h.StartDBus() // systemctl as the gitolite user: status reads the units
	for _, u := range []string{"git", "dev", "eve", "ops"} {
		if _, err := m.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"dev", "eve", "ops"} {
		pub, err := m.NewSSHKey(u)
		if err != nil {
			t.Fatal(err)
		}
		h.WriteFile("/tmp/"+u+".pub", []byte(pub+"\n"), "git", 0o644)
	}
	h.WriteFile(naptest.ConfigPath, []byte("target: systemd\nstate: /var/lib/git-nap\ndiscovery: {etcd: v2}\n"), "root", 0o644)
	h.Run("root", "install", "-d", "-o", "git", "-g", "git", "/var/lib/git-nap")
	h.Run("git", "gitolite", "setup", "-pk", "/tmp/ops.pub")
	h.WriteFile("/home/git/.gitolite/conf/gitolite.conf", []byte(`repo gitolite-admin
    RW+     =   ops
repo [a-z][a-z0-9-]{0,62}
    C       =   dev
    RW+     =   CREATOR
    RW+     =   ops
`), "git", 0o600)
	for _, u := range []string{"dev", "eve"} {
		h.Run("git", "cp", "/tmp/"+u+".pub", "/home/git/.gitolite/keydir/"+u+".pub")
	}
	h.Run("git", "gitolite", "compile")
	h.Run("git", "gitolite", "trigger", "POST_COMPILE")
	h.Run("git", naptest.Bin, "hooks", "install", "--mode", "gitolite", "--gitolite-home", "/home/git", "--config", naptest.ConfigPath)

	// dev creates shop by pushing a branch nap does not deploy
	h.Run("dev", "git", "init", "-q", "-b", "dev", "/home/dev/shop")
	h.Commit("/home/dev/shop", "first", map[string]string{"README": "shop\n"})
	if res := h.Try("dev", naptest.GitEnv, "git", "-C", "/home/dev/shop", "push", "git@127.0.0.1:shop", "dev"); res.Code != 0 {
		t.Fatalf("dev's push: %s", res)
	}

	ssh := func(user string, words ...string) sandbox.Result {
		t.Helper()
		return h.Try(user, nil, naptest.SSHArgvTo("git", append([]string{"nap"}, words...)...)...)
	}
	for _, user := range []string{"dev", "ops"} {
		if res := ssh(user, "status", "shop", "--json"); res.Code != 0 || !strings.Contains(string(res.Stdout), `"app": "shop"`) {
			t.Errorf("%s's status of shop: %s", user, res)
		}
	}
	for _, words := range [][]string{{"status", "shop"}, {"logs", "shop"}, {"config", "shop"}, {"destroy", "shop", "--confirm", "shop"}, {"run", "shop", "--", "id"}} {
		if res := ssh("eve", words...); res.Code == 0 || !strings.Contains(string(res.Stderr), "no access to shop") {
			t.Errorf("eve's %v: %s", words, res)
		}
	}
	for line, want := range map[string]string{
		"status shop; touch /tmp/pwned":         "';' outside quotes",
		"status shop\ntouch /tmp/pwned":         "newlines in the command", // gitolite refuses it first
		"run shop -- $(touch /tmp/pwned)":       "'(' outside quotes",
		"status shop --evil":                    "flag provided but not defined: -evil",
		"status " + strings.Repeat("x ", 10000): "at most 512 are taken",
	} {
		if res := ssh("dev", line); res.Code == 0 || !strings.Contains(string(res.Stderr), want) {
			t.Errorf("%.40q: %s\nwant %q", line, res, want)
		}
	}
	if h.Try("root", nil, "test", "-e", "/tmp/pwned").Code == 0 {
		t.Errorf("a hostile command line ran something")
	}
	// the config, with a secret on stdin, for the app's writer
	ctxRes, err := m.Run(t.Context(), sandbox.Cmd{User: "dev", Argv: naptest.SSHArgvTo("git", "nap", "config:set", "shop", "TOKEN", "-"), Stdin: strings.NewReader("t0ken\n")})
	if err != nil || ctxRes.Code != 0 || !strings.Contains(string(ctxRes.Stdout), "shop has no release running: the next push runs with them") {
		t.Errorf("dev's config:set TOKEN -: %v %s", err, ctxRes)
	}
	if res := ssh("dev", "config", "shop"); string(res.Stdout) != "TOKEN=t0ken\n" {
		t.Errorf("dev's config: %s", res)
	}
}
