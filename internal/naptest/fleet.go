package naptest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nap-paas/nap/internal/sandbox"
)

// FleetSSH lets fleetctl, run by user on h's machine, reach the journal
// of a unit on any of machines, as README's "fleet: journals of other
// machines" asks an operator to: fleetctl journal runs journalctl over ssh
// to the unit's machine (its public IP, port 22) as --ssh-username, with
// the keys of an ssh agent (SSH_AUTH_SOCK) and strict host key checking
// against ~/.fleetctl/known_hosts. Each machine must run sshd
// (sandbox.Options.SSH). It returns the environment fleetctl needs.
func (h *Host) FleetSSH(user, sshUser string, machines ...*sandbox.Machine) []string {
	h.t.Helper()
	pub, err := h.M.NewSSHKey(user)
	if err != nil {
		h.t.Fatal(err)
	}
	u, err := h.M.User(user)
	if err != nil {
		h.t.Fatal(err)
	}
	home := u.Home
	var known strings.Builder
	for _, m := range machines {
		if _, err := m.User(sshUser); err != nil {
			if _, err := m.AddUser(sshUser); err != nil {
				h.t.Fatal(err)
			}
		}
		// journalctl of the machine's units, as CoreOS's core user may.
		h.on(m, "usermod", "-a", "-G", "systemd-journal", sshUser)
		h.on(m, "sh", "-c", journalReadable)
		ak := "/home/" + sshUser + "/.ssh/authorized_keys"
		keys, _ := os.ReadFile(m.Path(ak)) // one user's set-up adds to another's
		if err := m.WriteFile(ak, append(keys, pub+"\n"...), 0o600); err != nil {
			h.t.Fatal(err)
		}
		h.on(m, "chown", "-R", sshUser+":", "/home/"+sshUser+"/.ssh")
		key, err := m.HostKey()
		if err != nil {
			h.t.Fatal(err)
		}
		f := strings.Fields(key)
		fmt.Fprintf(&known, "%s %s %s\n", m.IP, f[0], f[1])
	}
	h.WriteFile(home+"/.fleetctl/known_hosts", []byte(known.String()), user, 0o644)
	h.Run("root", "chown", user+":", home+"/.fleetctl")
	agent := home + "/.fleetctl/agent.sock"
	h.Run(user, "sh", "-c", "rm -f "+agent+" && ssh-agent -a "+agent+" >/dev/null && SSH_AUTH_SOCK="+agent+" ssh-add -q "+home+"/.ssh/id_ed25519")
	return []string{"SSH_AUTH_SOCK=" + agent, "FLEETCTL_SSH_USERNAME=" + sshUser}
}

// on runs argv as root on m, another machine of h's test.
func (h *Host) on(m *sandbox.Machine, argv ...string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if res, err := m.Exec(ctx, argv...); err != nil || res.Code != 0 {
		h.t.Fatalf("%s on %s: %v %s", strings.Join(argv, " "), m.Name, err, res)
	}
}
