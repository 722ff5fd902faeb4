package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// User is an account of a machine (its private /etc/passwd).
type User struct {
	Name     string
	UID, GID int
	Home     string
}

// lookupUser reads name's entry from the passwd file in etc.
func lookupUser(etc, name string) (User, error) {
	f, err := os.Open(filepath.Join(etc, "passwd"))
	if err != nil {
		return User{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 7 || fields[0] != name {
			continue
		}
		uid, err1 := strconv.Atoi(fields[2])
		gid, err2 := strconv.Atoi(fields[3])
		if err1 != nil || err2 != nil {
			return User{}, fmt.Errorf("bad passwd entry for %q", name)
		}
		return User{Name: name, UID: uid, GID: gid, Home: fields[5]}, nil
	}
	if err := sc.Err(); err != nil {
		return User{}, err
	}
	return User{}, fmt.Errorf("no user %q", name)
}

// AddUser creates a user on the machine with a home directory and a login
// shell, unlocked for ssh public-key logins (sshd with UsePAM no refuses a
// locked account), and returns it. Only the machine's /etc changes.
func (m *Machine) AddUser(name string) (User, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, argv := range [][]string{
		{"useradd", "--create-home", "--shell", "/bin/sh", "--user-group", "--", name},
		{"usermod", "-p", "*", "--", name},
	} {
		res, err := m.Exec(ctx, argv...)
		if err != nil {
			return User{}, err
		}
		if res.Code != 0 {
			return User{}, &ExitError{Argv: argv, Result: res}
		}
	}
	return lookupUser(m.Path("/etc"), name)
}

// User returns the machine's user name.
func (m *Machine) User(name string) (User, error) {
	return lookupUser(m.Path("/etc"), name)
}

// NewSSHKey creates an ed25519 key pair for user in ~/.ssh/id_ed25519 (if
// there is none) and returns the public key line; ssh and git run as user
// then use it.
func (m *Machine) NewSSHKey(user string) (string, error) {
	u, err := m.User(user)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := filepath.Join(u.Home, ".ssh", "id_ed25519")
	script := `set -e; umask 077; mkdir -p "$HOME/.ssh"; [ -f "$1" ] || ssh-keygen -q -t ed25519 -N '' -C "$USER@$(hostname)" -f "$1"; cat "$1.pub"`
	argv := []string{"sh", "-c", script, "sh", key}
	res, err := m.Run(ctx, Cmd{Argv: argv, User: user})
	if err != nil {
		return "", err
	}
	if res.Code != 0 {
		return "", &ExitError{Argv: argv, Result: res}
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// WriteFile writes a file inside the running machine (its /etc,
// /var/lib, … as the machine sees them), creating parent directories.
func (m *Machine) WriteFile(path string, data []byte, perm os.FileMode) error {
	p := m.Path(path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, perm)
}

// HostKey returns the machine's sshd public host key line
// ("ssh-ed25519 AAAA… root@NAME").
func (m *Machine) HostKey() (string, error) {
	b, err := os.ReadFile(m.Path("/etc/ssh/ssh_host_ed25519_key.pub"))
	return strings.TrimSpace(string(b)), err
}
