package sandbox

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

//go:embed boot.sh
var bootScript []byte

// Options says which components a machine runs. The zero value is a bare
// systemd.
type Options struct {
	// Name is the machine's hostname; default m1, m2, … in creation order.
	Name string
	// Docker runs docker.service (dockerd, containerd; socket /run/docker.sock,
	// data in /var/lib/docker on the machine's scratch directory).
	Docker bool
	// Registry runs docker-registry.service on 127.0.0.1:5000.
	Registry bool
	// RegistryListen overrides the registry's address, e.g. "0.0.0.0:5000"
	// to serve other machines.
	RegistryListen string
	// InsecureRegistries are registries dockerd may use over plain HTTP
	// besides loopback ones, e.g. "m1:5000" on another machine.
	InsecureRegistries []string
	// Etcd runs etcd.service on port 2379 (all addresses of the machine).
	Etcd bool
	// EtcdV2 also enables etcd's v2 API (implies Etcd).
	EtcdV2 bool
	// SSH runs ssh.service on port 22 with a host key of its own and UsePAM no.
	SSH bool
	// Nginx runs Debian's nginx.service with conf.d/*.conf and no site.
	Nginx bool
	// GoImage loads image golang:1.26 — this machine's Go toolchain, its
	// standard library already compiled — into dockerd (implies Docker).
	GoImage bool
	// Share lists more host directories (below /tmp) visible at their own
	// path inside. The temporary directory of the test that creates the
	// machine is always shared.
	Share []string
}

// Full returns the options of a machine running every component, etcd with
// its v2 API.
func Full() Options {
	return Options{Docker: true, Registry: true, Etcd: true, EtcdV2: true, SSH: true}
}

// Machine is a running simulated machine.
type Machine struct {
	Name string // hostname
	IP   string // address on the harness's network

	opts    Options
	dir     string // scratch directory; the machine's files live in dir/fs
	pid     int    // host pid of PID 1 (systemd)
	cmd     *exec.Cmd
	waited  chan struct{}
	console *os.File
	// consoleSlave is held open so reading console never sees EIO
	consoleSlave *os.File
	cgroups      []string
	index        int

	mu   sync.Mutex
	down bool
}

var validHostname = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

var (
	machinesMu sync.Mutex
	machines   = map[*Machine]bool{}
	machineSeq int
)

// Unavailable fails the test, saying what could not start and why. Every
// test that needs a real component reports its absence through it: a
// missing component fails the run, and no tier can be skipped.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Fatal("sandbox: " + fmt.Sprintf(format, args...))
}

// NewMachine boots a machine with the components opts asks for and waits
// until each of them answers. It is torn down when the test ends.
func NewMachine(t testing.TB, opts Options) *Machine {
	t.Helper()
	recordUser(t)
	if opts.EtcdV2 {
		opts.Etcd = true
	}
	if opts.GoImage {
		opts.Docker = true
	}
	if err := checkHost(opts); err != nil {
		Unavailable(t, "%v", err)
	}
	sweepStale()
	installSignalHandler()

	machinesMu.Lock()
	machineSeq++
	index := machineSeq
	machinesMu.Unlock()
	if opts.Name == "" {
		opts.Name = "m" + strconv.Itoa(index)
	}
	if !validHostname.MatchString(opts.Name) {
		t.Fatalf("sandbox: machine name %q is not a host name (%s)", opts.Name, validHostname)
	}
	m := &Machine{Name: opts.Name, opts: opts, index: index, dir: t.TempDir(), waited: make(chan struct{})}
	m.IP = fmt.Sprintf("10.213.0.%d", 1+(index-1)%250+1)
	t.Cleanup(func() {
		if t.Failed() {
			m.dumpDiagnostics(t)
		}
		if err := m.teardown(); err != nil {
			t.Errorf("sandbox: tearing down %s: %v", m.Name, err)
		}
	})

	start := time.Now()
	// a failure here is reported with the journal by the cleanup above
	if err := m.boot(); err != nil {
		Unavailable(t, "machine %s: %v", m.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.waitReady(ctx); err != nil {
		Unavailable(t, "machine %s: %v", m.Name, err)
	}
	t.Logf("sandbox: machine %s (%s, PID 1 = host pid %d) ready in %v", m.Name, m.IP, m.pid, time.Since(start).Round(time.Millisecond))
	if opts.GoImage {
		// building the image the first time compiles the standard library
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := m.loadGoImage(ctx, t); err != nil {
			Unavailable(t, "machine %s: image golang:1.26: %v", m.Name, err)
		}
	}
	return m
}

// recordUser appends the test's name to $TMPDIR/nap-sandbox-users.txt, which
// make test prints.
func recordUser(t testing.TB) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "nap-sandbox-users.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		t.Logf("sandbox: recording the test's name: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintln(f, t.Name())
}

// checkHost says which binary the machine needs is missing, or why this
// process cannot create machines.
func checkHost(opts Options) error {
	if os.Geteuid() != 0 {
		return errors.New("simulated machines need root (namespaces, mounts, cgroups)")
	}
	need := []string{"/lib/systemd/systemd", "/usr/bin/unshare", "/usr/bin/nsenter", "/usr/bin/setpriv", "/usr/sbin/ip", "/bin/sh", "/usr/bin/systemctl", "/usr/bin/journalctl"}
	for _, c := range enabledComponents(opts) {
		need = append(need, c.binaries...)
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing (make deps installs the Debian packages): %v", p, err)
		}
	}
	for _, u := range unitSources(opts) {
		if _, err := os.Stat(u); err != nil {
			return fmt.Errorf("unit file %s is missing: %v", u, err)
		}
	}
	return nil
}

func (m *Machine) boot() error {
	if err := m.prepareFS(); err != nil {
		return fmt.Errorf("preparing its file system: %w", err)
	}
	cgroups, controllers, err := createCgroups(m.cgroupName())
	m.cgroups = cgroups
	if err != nil {
		return fmt.Errorf("creating its cgroups: %w", err)
	}
	console, consoleSlave, ptsN, err := openPTY()
	if err != nil {
		return fmt.Errorf("opening a console: %w", err)
	}
	m.console, m.consoleSlave = console, consoleSlave
	consoleLog, err := os.Create(filepath.Join(m.dir, "console.log"))
	if err != nil {
		return err
	}
	go func() {
		io.Copy(consoleLog, console)
		consoleLog.Close()
	}()
	bootLog, err := os.Create(filepath.Join(m.dir, "boot.log"))
	if err != nil {
		return err
	}
	defer bootLog.Close()
	goR, goW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer goR.Close()
	defer goW.Close()
	mountedR, mountedW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer mountedR.Close()
	defer mountedW.Close()

	var procs []string
	for _, d := range cgroups {
		procs = append(procs, filepath.Join(d, "cgroup.procs"))
	}
	var shares []string
	for _, s := range append([]string{filepath.Dir(m.dir)}, m.opts.Share...) {
		if rel, ok := strings.CutPrefix(filepath.Clean(s), "/tmp/"); ok {
			shares = append(shares, rel)
		}
	}
	cmd := exec.Command("/bin/sh", filepath.Join(m.dir, "boot.sh"), "outer")
	cmd.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"SB_ROOT=" + m.dir,
		"SB_CGROUPS=" + strings.Join(procs, "\n"),
		"SB_CONTROLLERS=" + strings.Join(controllers, "\n"),
		"SB_CONSOLE=" + strconv.Itoa(ptsN),
		"SB_SHARES=" + strings.Join(shares, "\n"),
		"SB_HOSTNAME=" + m.Name,
		"SB_ADDR=" + m.IP + "/24",
		"SB_UNIT_PATH=/etc/systemd/system:/run/systemd/system:" + filepath.Join(m.dir, "units"),
	}
	cmd.Stdout = bootLog
	cmd.Stderr = bootLog
	cmd.ExtraFiles = []*os.File{goR, mountedW}
	// If the test process dies, unshare dies, and --kill-child takes the
	// machine with it. (Pdeathsig follows the starting thread; the Go
	// runtime does not end idle threads.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting boot.sh: %w", err)
	}
	m.cmd = cmd
	register(m)
	go func() {
		cmd.Wait()
		close(m.waited)
	}()
	goR.Close()
	mountedW.Close()

	pid, err := m.findPID1(10 * time.Second)
	if err != nil {
		return err
	}
	// Until boot.sh has mounted the machine's own /etc, /proc/PID/root/etc
	// is the host's: nothing may look there before.
	mountedR.SetReadDeadline(time.Now().Add(time.Minute))
	line, _ := bufio.NewReader(mountedR).ReadString('\n')
	if line != "mounted\n" {
		m.cmd.Process.Kill()
		<-m.waited
		return fmt.Errorf("boot.sh failed to build the machine's file system; boot.log:\n%s", m.readFile("boot.log"))
	}
	m.pid = pid
	if err := attachNetwork(m); err != nil {
		return fmt.Errorf("plugging it into the network: %w", err)
	}
	if _, err := goW.Write([]byte("go\n")); err != nil {
		return fmt.Errorf("releasing boot.sh: %w", err)
	}
	return nil
}

func (m *Machine) cgroupName() string {
	return fmt.Sprintf("nap-sandbox-%d-%d", os.Getpid(), m.index)
}

// findPID1 finds the host pid of the machine's PID 1: the one child of
// unshare.
func (m *Machine) findPID1(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		unsharePID := m.cmd.Process.Pid
		self, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", unsharePID))
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", unsharePID, unsharePID))
		// before boot.sh outer execs unshare, its children are its own subshells
		if err == nil && strings.TrimSpace(string(self)) == "unshare" {
			if f := strings.Fields(string(b)); len(f) == 1 {
				comm, _ := os.ReadFile("/proc/" + f[0] + "/comm")
				if strings.TrimSpace(string(comm)) != "unshare" {
					return strconv.Atoi(f[0])
				}
			}
		}
		select {
		case <-m.waited:
			return 0, fmt.Errorf("boot.sh exited early (%v); boot.log:\n%s", m.cmd.ProcessState, m.readFile("boot.log"))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no PID 1 after %v; boot.log:\n%s", timeout, m.readFile("boot.log"))
		}
	}
}

func (m *Machine) readFile(name string) string {
	b, _ := os.ReadFile(filepath.Join(m.dir, name))
	return string(b)
}

// waitReady waits for systemd to finish booting its target, then checks that
// every component answers.
func (m *Machine) waitReady(ctx context.Context) error {
	private := fmt.Sprintf("/proc/%d/root/run/systemd/private", m.pid)
	for {
		if _, err := os.Stat(private); err == nil {
			break
		}
		select {
		case <-m.waited:
			return fmt.Errorf("systemd exited while booting; console:\n%s\nboot.log:\n%s", m.readFile("console.log"), m.readFile("boot.log"))
		case <-ctx.Done():
			return fmt.Errorf("systemd did not come up: %w; console:\n%s", ctx.Err(), m.readFile("console.log"))
		case <-time.After(10 * time.Millisecond):
		}
	}
	res, err := m.Exec(ctx, "systemctl", "is-system-running", "--wait")
	if err != nil {
		return err
	}
	state := strings.TrimSpace(string(res.Stdout))
	if state != "running" {
		failed, _ := m.Exec(ctx, "systemctl", "list-units", "--failed", "--no-legend", "--plain")
		var b strings.Builder
		fmt.Fprintf(&b, "systemd is %q, not running; failed units:\n%s", state, failed.Stdout)
		sc := bufio.NewScanner(strings.NewReader(string(failed.Stdout)))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 0 {
				fmt.Fprintf(&b, "--- journal of %s:\n%s", f[0], m.Journal(f[0]))
			}
		}
		return errors.New(b.String())
	}
	for _, c := range enabledComponents(m.opts) {
		if err := c.ready(ctx, m); err != nil {
			return fmt.Errorf("%s does not answer: %v\n--- journal of %s:\n%s", c.unit, err, c.unit, m.Journal(c.unit))
		}
	}
	return nil
}

// Kill kills the machine's PID 1 and so every process on it, as a host that
// loses power: nothing is stopped cleanly, no etcd key is deleted.
func (m *Machine) Kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pid > 0 {
		syscall.Kill(m.pid, syscall.SIGKILL)
	}
	if m.cmd != nil && m.cmd.Process != nil {
		select {
		case <-m.waited:
		case <-time.After(20 * time.Second):
		}
	}
}

// teardown kills the machine (by its recorded pids only), then removes its
// cgroup directories. It is idempotent.
func (m *Machine) teardown() error {
	m.mu.Lock()
	if m.down {
		m.mu.Unlock()
		return nil
	}
	m.down = true
	m.mu.Unlock()
	defer unregister(m)
	var errs []error
	if m.cmd != nil && m.cmd.Process != nil {
		if m.pid > 0 {
			syscall.Kill(m.pid, syscall.SIGKILL)
		}
		// unshare exits once PID 1 is gone; kill it too in case PID 1 was
		// never found.
		select {
		case <-m.waited:
		case <-time.After(5 * time.Second):
			m.cmd.Process.Kill()
			select {
			case <-m.waited:
			case <-time.After(20 * time.Second):
				errs = append(errs, fmt.Errorf("boot process %d did not exit", m.cmd.Process.Pid))
			}
		}
	}
	if m.console != nil {
		m.consoleSlave.Close()
		m.console.Close()
	}
	if err := removeCgroups(m.cgroups, 20*time.Second); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (m *Machine) dumpDiagnostics(t testing.TB) {
	t.Helper()
	if m.pid > 0 && m.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, _ := m.Exec(ctx, "journalctl", "--no-pager", "-n", "200", "-o", "short-monotonic")
		t.Logf("sandbox: journal of %s (last 200 lines):\n%s%s", m.Name, res.Stdout, res.Stderr)
	}
	t.Logf("sandbox: boot.log of %s:\n%s", m.Name, m.readFile("boot.log"))
}

func (m *Machine) alive() bool {
	select {
	case <-m.waited:
		return false
	default:
		return true
	}
}

// Dir is the machine's scratch directory on the host; its private
// directories (/etc, /home, /tmp, /var/lib, …) are below Dir()/fs.
func (m *Machine) Dir() string { return m.dir }

// Path returns the host path at which the file the machine sees as p can
// be read or written while the machine runs (through /proc/PID/root).
func (m *Machine) Path(p string) string {
	return fmt.Sprintf("/proc/%d/root%s", m.pid, filepath.Join("/", p))
}

// PID returns the host pid of the machine's PID 1 (systemd).
func (m *Machine) PID() int { return m.pid }

func register(m *Machine) {
	machinesMu.Lock()
	defer machinesMu.Unlock()
	machines[m] = true
}

func unregister(m *Machine) {
	machinesMu.Lock()
	delete(machines, m)
	last := len(machines) == 0
	machinesMu.Unlock()
	detachNetwork(m, last)
}

// Tool returns the path of a program a test runs for real (shellcheck, bash,
// git, …), or reports it Unavailable.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is needed: %v (make test installs it)", name, err)
	}
	return p
}
