package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// coreUnits are systemd's own units a booting manager needs, copied from
// the host's systemd (so they match its version). Their .wants directories
// are not copied: no host unit is ever pulled in.
var coreUnits = []string{
	"basic.target", "sysinit.target", "sockets.target", "timers.target", "paths.target",
	"slices.target", "local-fs.target", "local-fs-pre.target", "swap.target",
	"network.target", "network-pre.target", "network-online.target", "multi-user.target",
	"shutdown.target", "exit.target", "final.target", "umount.target", "poweroff.target",
	"systemd-exit.service", "systemd-poweroff.service",
	"systemd-journald.service", "systemd-journald.socket", "systemd-journald-dev-log.socket",
}

const hostUnitDir = "/lib/systemd/system"

// unitSources are the host's unit files the machine runs verbatim.
func unitSources(opts Options) []string {
	names := append([]string(nil), coreUnits...)
	if opts.Docker {
		names = append(names, "docker.service", "docker.socket", "containerd.service")
	}
	if opts.Registry {
		names = append(names, "docker-registry.service")
	}
	if opts.Etcd {
		names = append(names, "etcd.service")
	}
	if opts.SSH {
		names = append(names, "ssh.service")
	}
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(hostUnitDir, n))
	}
	return paths
}

// targetUnit is what the machine boots: basic.target plus the components.
func targetUnit(opts Options) string {
	var wants []string
	if opts.Docker {
		wants = append(wants, "docker.service")
	}
	if opts.Registry {
		wants = append(wants, "docker-registry.service")
	}
	if opts.Etcd {
		wants = append(wants, "etcd.service")
	}
	if opts.SSH {
		wants = append(wants, "ssh.service")
	}
	s := "[Unit]\nDescription=nap sandbox machine\nRequires=basic.target\nAfter=basic.target\nAllowIsolate=yes\n"
	if len(wants) > 0 {
		w := strings.Join(wants, " ")
		s += "Wants=" + w + "\nAfter=" + w + "\n"
	}
	return s
}

// prepareFS builds the machine's scratch directory: the private trees that
// boot.sh mounts over the host's, a copy of /etc adjusted to this machine,
// and the unit directory.
func (m *Machine) prepareFS(t testing.TB) error {
	fs := filepath.Join(m.dir, "fs")
	for _, d := range []string{"tmp", "home", "root", "opt", "srv", "var/lib", "var/log/journal", "var/tmp", "var/lib/systemd", "units", "../empty"} {
		if err := os.MkdirAll(filepath.Join(fs, d), 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{"tmp", "var/tmp"} {
		if err := os.Chmod(filepath.Join(fs, d), 0o1777); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(fs, "root"), 0o700); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", "/etc", filepath.Join(fs, "etc")).CombinedOutput(); err != nil {
		return fmt.Errorf("copying /etc: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(m.dir, "boot.sh"), bootScript, 0o755); err != nil {
		return err
	}
	etc := filepath.Join(fs, "etc")
	// the host's enablement symlinks and units mean nothing here
	if err := os.RemoveAll(filepath.Join(etc, "systemd/system")); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(etc, "systemd/system"), 0o755); err != nil {
		return err
	}
	id := make([]byte, 16)
	rand.Read(id)
	files := map[string]string{
		"etc/machine-id": hex.EncodeToString(id) + "\n",
		"etc/hostname":   m.Name + "\n",
		"etc/hosts":      hostsFile(nil),
	}
	// a host key copied from the host would make every machine the same host
	keys, _ := filepath.Glob(filepath.Join(etc, "ssh/ssh_host_*"))
	for _, k := range keys {
		os.Remove(k)
	}
	if m.opts.Docker {
		files["etc/docker/daemon.json"] = `{"storage-driver": "overlay2", "log-level": "warn"}` + "\n"
		files["etc/default/docker"] = ""
	}
	if m.opts.Registry {
		files["etc/docker/registry/config.yml"] = registryConfig
		if err := mkdirOwned(filepath.Join(fs, "var/lib/docker-registry"), etc, "docker-registry"); err != nil {
			return err
		}
	}
	if m.opts.Etcd {
		files["etc/default/etcd"] = etcdDefaults(m.Name, m.IP, m.opts.EtcdV2)
		if err := mkdirOwned(filepath.Join(fs, "var/lib/etcd"), etc, "etcd"); err != nil {
			return err
		}
	}
	if m.opts.SSH {
		files["etc/ssh/sshd_config"] = sshdConfig
		files["etc/default/ssh"] = ""
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@"+m.Name,
			"-f", filepath.Join(etc, "ssh/ssh_host_ed25519_key")).CombinedOutput(); err != nil {
			return fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	for name, content := range files {
		p := filepath.Join(fs, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	units := filepath.Join(m.dir, "units")
	if err := os.MkdirAll(units, 0o755); err != nil {
		return err
	}
	for _, src := range unitSources(m.opts) {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(units, filepath.Base(src)), b, 0o644); err != nil {
			return err
		}
	}
	// the journal starts first, as on a host (there via sockets.target.wants)
	wants := filepath.Join(units, "sysinit.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return err
	}
	for _, u := range []string{"systemd-journald.socket", "systemd-journald-dev-log.socket", "systemd-journald.service"} {
		if err := os.Symlink("../"+u, filepath.Join(wants, u)); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(units, "nap-sandbox.target"), []byte(targetUnit(m.opts)), 0o644)
}

// mkdirOwned creates dir owned by user as the machine's /etc/passwd says.
func mkdirOwned(dir, etc, user string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	u, err := lookupUser(etc, user)
	if err != nil {
		return err
	}
	return os.Chown(dir, u.UID, u.GID)
}

const registryConfig = `version: 0.1
log:
  level: warn
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
  headers:
    X-Content-Type-Options: [nosniff]
`

func etcdDefaults(name, ip string, v2 bool) string {
	s := "ETCD_NAME=" + name + "\n" +
		"ETCD_DATA_DIR=/var/lib/etcd/default\n" +
		"ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379\n" +
		"ETCD_ADVERTISE_CLIENT_URLS=http://" + ip + ":2379\n" +
		"ETCD_LISTEN_PEER_URLS=http://127.0.0.1:2380\n" +
		"ETCD_INITIAL_ADVERTISE_PEER_URLS=http://127.0.0.1:2380\n" +
		"ETCD_INITIAL_CLUSTER=" + name + "=http://127.0.0.1:2380\n" +
		"ETCD_LOG_LEVEL=warn\n"
	if v2 {
		s += "ETCD_ENABLE_V2=true\n"
	}
	return s
}

const sshdConfig = `# nap sandbox machine: sshd on port 22, own host key, no PAM.
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
PermitUserEnvironment no
X11Forwarding no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
AcceptEnv GIT_PROTOCOL
`
