package sandbox

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
)

// The machines of one test process share a network: a bridge in a network
// namespace of its own (held by a sleeping process), one veth pair per
// machine with its eth0 end in the machine. No address of it exists in the
// host's namespace, and it vanishes with the last machine.
var network struct {
	holder *exec.Cmd // its process holds the bridge's namespace
}

// attachNetwork plugs m into the network, creating the network if m is the
// first machine, and tells every machine m's name (/etc/hosts).
func attachNetwork(m *Machine) error {
	machinesMu.Lock()
	defer machinesMu.Unlock()
	if network.holder == nil {
		holder := exec.Command("/bin/sleep", "infinity")
		holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
		if err := holder.Start(); err != nil {
			return fmt.Errorf("starting the network's namespace holder: %w", err)
		}
		network.holder = holder
		if err := inNetNS(holder.Process.Pid, "ip", "link", "add", "br0", "type", "bridge"); err != nil {
			return err
		}
		if err := inNetNS(holder.Process.Pid, "ip", "link", "set", "br0", "up"); err != nil {
			return err
		}
	}
	sw := network.holder.Process.Pid
	port := fmt.Sprintf("m%d", m.index)
	if err := inNetNS(sw, "ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", fmt.Sprint(m.pid)); err != nil {
		return err
	}
	if err := inNetNS(sw, "ip", "link", "set", port, "master", "br0", "up"); err != nil {
		return err
	}
	return writeHosts()
}

// detachNetwork forgets m; after the last machine, the network goes too.
func detachNetwork(m *Machine, last bool) {
	machinesMu.Lock()
	defer machinesMu.Unlock()
	if last && network.holder != nil {
		network.holder.Process.Kill()
		network.holder.Wait()
		network.holder = nil
	}
	writeHosts()
}

func inNetNS(pid int, argv ...string) error {
	args := append([]string{"-t", fmt.Sprint(pid), "-n", "--"}, argv...)
	out, err := exec.Command("nsenter", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return nil
}

// writeHosts rewrites /etc/hosts of every live machine to name them all.
// machinesMu must be held.
func writeHosts() error {
	var all []*Machine
	for m := range machines {
		all = append(all, m)
	}
	content := hostsFile(all)
	for _, m := range all {
		// in place, never by rename: the machine's /etc/hosts is a bind
		// mount of this very file
		if err := os.WriteFile(filepath.Join(m.dir, "hosts"), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func hostsFile(ms []*Machine) string {
	lines := []string{"127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"}
	sort.Slice(ms, func(i, j int) bool { return ms[i].index < ms[j].index })
	for _, m := range ms {
		lines = append(lines, m.IP+"\t"+m.Name)
	}
	return strings.Join(lines, "\n") + "\n"
}

// DialContext connects from inside the machine's network namespace, as a
// process on the machine would: "127.0.0.1:5000" is the machine's own
// registry. A host name is resolved with the machine's /etc/hosts.
func (m *Machine) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) == nil {
		ip, err := m.lookupHost(host)
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort(ip, port)
	}
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		// A socket belongs to the network namespace of the thread that
		// creates it; this thread enters the machine's, dials, and returns.
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer self.Close()
		target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", m.pid))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("machine %s is not running: %w", m.Name, err)}
			return
		}
		defer target.Close()
		if err := setns(target, syscall.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("entering %s's network: %w", m.Name, err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err := setns(self, syscall.CLONE_NEWNET); err != nil {
			// stay locked: the runtime ends this thread with the goroutine
			if conn != nil {
				conn.Close()
			}
			ch <- result{err: fmt.Errorf("leaving %s's network: %w", m.Name, err)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{conn, err}
	}()
	r := <-ch
	return r.conn, r.err
}

func setns(f *os.File, nstype int) error {
	if _, _, errno := syscall.RawSyscall(sysSetns, f.Fd(), uintptr(nstype), 0); errno != 0 {
		return errno
	}
	return nil
}

func (m *Machine) lookupHost(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(m.dir, "hosts"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		for _, n := range f[min(1, len(f)):] {
			if n == name && strings.Count(f[0], ".") == 3 {
				return f[0], nil
			}
		}
	}
	return "", fmt.Errorf("host %q is not in %s's /etc/hosts", name, m.Name)
}

// sysSetns is setns(2) on linux/amd64 (the syscall package does not name it).
const sysSetns = 308
