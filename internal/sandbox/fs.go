package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	for _, c := range enabledComponents(opts) {
		names = append(names, c.units...)
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
	for _, c := range enabledComponents(opts) {
		wants = append(wants, c.unit)
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
func (m *Machine) prepareFS() error {
	fs := filepath.Join(m.dir, "fs")
	for _, d := range []string{"tmp", "home", "root", "opt", "srv", "var/lib", "var/log/journal", "var/tmp", "var/lib/systemd"} {
		if err := os.MkdirAll(filepath.Join(fs, d), 0o755); err != nil {
			return err
		}
	}
	// no generators: the host's would read the host's fstab and units
	if err := os.Mkdir(filepath.Join(m.dir, "empty"), 0o755); err != nil {
		return err
	}
	for _, d := range []string{"tmp", "var/tmp"} {
		if err := os.Chmod(filepath.Join(fs, d), 0o1777); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(fs, "root"), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(m.dir, "boot.sh"), bootScript, 0o755); err != nil {
		return err
	}
	// The machine's /etc is an overlay: the host's /etc below, fs/etc (what
	// the machine changes, and what is written here) above. Copying /etc
	// would cost more than half of a machine's boot time.
	if strings.ContainsAny(m.dir, ",:\\") {
		return fmt.Errorf("the scratch directory %q holds a character overlayfs options cannot take", m.dir)
	}
	etc := filepath.Join(fs, "etc")
	for _, d := range []string{etc, filepath.Join(fs, "etc-work"), filepath.Join(etc, "ssh")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// the host's units and enablement symlinks mean nothing here: an opaque
	// directory hides them
	if err := os.MkdirAll(filepath.Join(etc, "systemd/system"), 0o755); err != nil {
		return err
	}
	if err := syscall.Setxattr(filepath.Join(etc, "systemd/system"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		return fmt.Errorf("making /etc/systemd/system opaque: %w", err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	files := map[string]string{
		"etc/machine-id": hex.EncodeToString(id) + "\n",
		"etc/hostname":   m.Name + "\n",
		"../hosts":       hostsFile([]*Machine{m}),
	}
	if m.opts.Docker {
		daemon := map[string]any{"storage-driver": "overlay2", "log-level": "warn"}
		if len(m.opts.InsecureRegistries) > 0 {
			daemon["insecure-registries"] = m.opts.InsecureRegistries
		}
		b, err := json.MarshalIndent(daemon, "", "  ")
		if err != nil {
			return err
		}
		files["etc/docker/daemon.json"] = string(b) + "\n"
		files["etc/default/docker"] = ""
	}
	if m.opts.Registry {
		files["etc/docker/registry/config.yml"] = strings.Replace(registryConfig, "127.0.0.1:5000", strconv.Quote(registryListen(m.opts)), 1)
		if err := mkdirOwned(filepath.Join(fs, "var/lib/docker-registry"), "docker-registry"); err != nil {
			return err
		}
	}
	if m.opts.Etcd {
		files["etc/default/etcd"] = etcdDefaults(m.Name, m.IP, m.opts.EtcdV2)
		if err := mkdirOwned(filepath.Join(fs, "var/lib/etcd"), "etcd"); err != nil {
			return err
		}
	}
	if m.opts.Nginx {
		files["etc/nginx/nginx.conf"] = nginxConfig
		for _, d := range []string{"var/log/nginx", "var/lib/nginx"} {
			if err := os.MkdirAll(filepath.Join(fs, d), 0o755); err != nil {
				return err
			}
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
	// the host's keys would make every machine the same host: whiteouts
	// (0/0 character devices) hide them
	keys, _ := filepath.Glob("/etc/ssh/ssh_host_*")
	for _, k := range keys {
		if _, err := os.Lstat(filepath.Join(etc, "ssh", filepath.Base(k))); err == nil {
			continue // the machine's own
		}
		if err := syscall.Mknod(filepath.Join(etc, "ssh", filepath.Base(k)), syscall.S_IFCHR, 0); err != nil {
			return fmt.Errorf("hiding the host's %s: %w", k, err)
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

// mkdirOwned creates dir owned by user as /etc/passwd (the host's, so far
// the machine's too) says.
func mkdirOwned(dir, user string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	u, err := lookupUser("/etc", user)
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
