package naptest

import (
	"testing"

	"github.com/nap-paas/nap/internal/sandbox"
)

// AddUsers adds users to the machine, each with an ssh key of its own
// (~/.ssh/id_ed25519) whose public half is at /tmp/NAME.pub: what keys add
// and gitolite's keydir are given.
func (h *Host) AddUsers(names ...string) {
	h.t.Helper()
	for _, u := range names {
		if _, err := h.M.AddUser(u); err != nil {
			h.t.Fatal(err)
		}
		pub, err := h.M.NewSSHKey(u)
		if err != nil {
			h.t.Fatal(err)
		}
		h.WriteFile("/tmp/"+u+".pub", []byte(pub+"\n"), "root", 0o644)
	}
}

// GitoliteOptions say how InstallGitolite sets gitolite up.
type GitoliteOptions struct {
	Config string   // the operator's config (ConfigPath)
	Admin  string   // the user whose key gitolite setup is given
	Users  []string // the other users, their keys in gitolite's keydir
	Conf   string   // gitolite.conf
}

// GitoliteHome is the gitolite user's (git's) home.
const GitoliteHome = "/home/git"

// InstallGitolite sets m up for README's "Gitolite mode": the user git
// runs gitolite3 with the admin's key, the users' keys and Conf compiled,
// and the operator's config at ConfigPath. Every user (the admin too) is a
// machine user with a key. nap-render hooks install, the README's next
// step, is the test's.
func InstallGitolite(t testing.TB, m *sandbox.Machine, o GitoliteOptions) *Host {
	t.Helper()
	h := New(t, m)
	h.StartDBus() // systemctl as the gitolite user: status reads the units
	if _, err := m.AddUser("git"); err != nil {
		t.Fatal(err)
	}
	h.AddUsers(append([]string{o.Admin}, o.Users...)...)
	h.WriteFile(ConfigPath, []byte(o.Config), "root", 0o644)
	h.Run("git", "gitolite", "setup", "-pk", "/tmp/"+o.Admin+".pub")
	h.WriteFile(GitoliteHome+"/.gitolite/conf/gitolite.conf", []byte(o.Conf), "git", 0o600)
	for _, u := range o.Users {
		h.Run("git", "cp", "/tmp/"+u+".pub", GitoliteHome+"/.gitolite/keydir/"+u+".pub")
	}
	h.Run("git", "gitolite", "compile")
	h.Run("git", "gitolite", "trigger", "POST_COMPILE")
	return h
}
