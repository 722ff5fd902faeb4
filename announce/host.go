package announce

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nap-paas/nap/internal/atomicfile"
	"github.com/nap-paas/nap/unit"
)

// Where a host's registrations live. /run is a tmpfs: a reboot forgets
// them, and the enabled discovery units register their instances again.
const (
	Dir    = "/run/nap/announce"      // one file per registered instance
	Socket = "/run/nap/announce.sock" // the host announcer answers "sync" here
	// Unit is the service the first registration on a host starts the
	// host announcer as (StartHost: nothing to install).
	Unit = "nap-announce.service"
)

// Host is where a host announcer keeps its registrations.
type Host struct {
	Dir, Socket  string
	DockerSocket string    // default /var/run/docker.sock
	Log          io.Writer // the journal: what changes, one line each, prefixed with the key
}

func (h Host) orDefault() Host {
	if h.Dir == "" {
		h.Dir = Dir
	}
	if h.Socket == "" {
		h.Socket = Socket
	}
	if h.DockerSocket == "" {
		h.DockerSocket = "/var/run/docker.sock"
	}
	if h.Log == nil {
		h.Log = io.Discard
	}
	return h
}

// registration is the file name of key's registration: a digest, so any
// key makes one short name.
func registration(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + ".json"
}

// Register records c as an instance of this host and makes the host
// announcer take it up, starting the announcer with start when none
// answers. It returns once the announcer has the instance, not once it is
// announced (that waits for the app).
//
// Stopped while registering (ctx done: systemd stops a unit whenever it
// must), it undoes what it did and returns ErrStopped, so that the unit
// ends inactive, not failed, and nothing stays registered.
func Register(ctx context.Context, h Host, c Config, start func() error) error {
	err := register(ctx, h, c, start)
	if ctx.Err() != nil {
		Withdraw(context.Background(), h, c)
		return ErrStopped
	}
	return err
}

// ErrStopped: Register was stopped and withdrew the instance.
var ErrStopped = errors.New("stopped while registering: withdrawn")

func register(ctx context.Context, h Host, c Config, start func() error) error {
	h = h.orDefault()
	if err := c.ResolveHost(); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(h.Dir, 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(h.Dir, registration(c.Key)), data, 0o600); err != nil {
		return err
	}
	err = syncHost(ctx, h.Socket)
	if err == nil || start == nil {
		return err
	}
	// None answers: start one (several registrations at boot may all try;
	// one wins, the others find it running), then wait for it.
	startErr := start()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if err = syncHost(ctx, h.Socket); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if startErr != nil {
		return fmt.Errorf("no host announcer at %s (%v), and starting one failed: %v", h.Socket, err, startErr)
	}
	return fmt.Errorf("no host announcer at %s: %v", h.Socket, err)
}

// Withdraw forgets c's instance and deletes its key: the registration goes
// first, so nothing writes the key again; the host announcer (if one runs)
// withdraws it; then the key is deleted here too, which also covers an
// announcer that never read the registration.
func Withdraw(ctx context.Context, h Host, c Config) error {
	h = h.orDefault()
	if err := os.Remove(filepath.Join(h.Dir, registration(c.Key))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	syncHost(ctx, h.Socket) // none running: the delete below is all there is to do
	ctx, cancel := context.WithTimeout(ctx, 2*requestTimeout)
	defer cancel()
	return etcdClient(c, &http.Client{}).Key(c.Key, c.TTL).Delete(ctx)
}

// StartHost starts the host announcer as Unit, running argv (the
// announcer's own command line), restarted whenever it exits. The unit is
// written to systemd's runtime directory, like a transient unit (gone at
// reboot, where the registrations go too) but read again by every
// daemon-reload, which systemd-run's are not reliably.
func StartHost(ctx context.Context, argv ...string) error {
	f := unit.NewFile(Unit)
	f.Section("Unit").
		Add("Description", unit.Lit("nap: announces this host's app instances in etcd")).
		// It never gives up: every instance of the host depends on it.
		Add("StartLimitIntervalSec", unit.Lit("0"))
	words := make([]unit.Text, len(argv))
	for i, a := range argv {
		words[i] = unit.Lit(a)
	}
	f.Section("Service").
		AddRaw("ExecStart", unit.ExecWords(0, words...)).
		Add("Restart", unit.Lit("always")).
		Add("RestartSec", unit.Lit("500ms")).
		Add("TimeoutStopSec", unit.Lit("15s"))
	data, err := unit.Marshal(f)
	if err != nil {
		return err
	}
	// One registration at a time writes it: at boot every instance of the
	// host may find no announcer at once.
	if err := os.MkdirAll(filepath.Dir(Dir), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(filepath.Dir(Dir), "announce.start"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	name := filepath.Join(runtimeUnitDir, Unit)
	if old, err := os.ReadFile(name); err != nil || string(old) != string(data) {
		if err := os.MkdirAll(runtimeUnitDir, 0o755); err != nil {
			return err
		}
		if err := atomicfile.Write(name, data, 0o644); err != nil {
			return err
		}
		if err := systemctl(ctx, "daemon-reload"); err != nil {
			return err
		}
	}
	return systemctl(ctx, "start", Unit)
}

// runtimeUnitDir is systemd's directory of units that last until reboot.
const runtimeUnitDir = "/run/systemd/system"

func systemctl(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// syncHost asks the host announcer to read the registrations again and
// waits until it has started and stopped what changed.
func syncHost(ctx context.Context, socket string) error {
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, 2*requestTimeout+time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, "sync\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("host announcer: %v", err)
	}
	if line != "ok\n" {
		return fmt.Errorf("host announcer: %s", strings.TrimSpace(line))
	}
	return nil
}

// Serve is the host announcer: it announces every registered instance until
// ctx ends, and leaves their keys when it stops (the next one takes them
// over; a discovery unit's stop withdraws its own).
func Serve(ctx context.Context, h Host) error {
	h = h.orDefault()
	if err := os.MkdirAll(h.Dir, 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(h.Dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("another host announcer runs (%s is locked)", lock.Name())
	}
	os.Remove(h.Socket) // left by a killed predecessor; the lock says none runs
	ln, err := net.Listen("unix", h.Socket)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := os.Chmod(h.Socket, 0o600); err != nil {
		return err
	}

	s := &server{h: h, docker: newDocker(h.DockerSocket), client: &http.Client{}, running: map[string]*instance{}}
	go watch(ctx, s.docker, "", s.wake)
	s.sync()
	go s.watchDir(ctx)
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(h.Log, "accept: %v\n", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go s.answer(conn)
	}
	s.stopAll()
	return nil
}

type server struct {
	h      Host
	docker *docker
	client *http.Client // etcd's, shared: its connections are kept alive

	syncMu  sync.Mutex // one sync at a time
	mu      sync.Mutex // guards running
	running map[string]*instance
}

// instance is one registered instance being announced.
type instance struct {
	data      []byte // the registration as read
	container string
	wake      chan struct{}
	cancel    context.CancelCauseFunc
	done      chan struct{}
}

func (s *server) answer(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(conn, 64)).ReadString('\n')
	if err != nil || line != "sync\n" {
		io.WriteString(conn, "error: want sync\n")
		return
	}
	s.sync()
	io.WriteString(conn, "ok\n")
}

// watchDir syncs whenever the registrations changed without a sync — a
// register or withdraw killed between its file and its sync — looking at
// the directory's mtime once a second, on the grid every announcer wakes
// on anyway.
func (s *server) watchDir(ctx context.Context) {
	last := s.dirTime()
	for {
		t := time.NewTimer(time.Until(tick(time.Now(), answerPoll)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if now := s.dirTime(); !now.Equal(last) {
			last = now
			s.sync()
		}
	}
}

func (s *server) dirTime() time.Time {
	st, err := os.Stat(s.h.Dir)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// wake passes a docker event on to the instances of the container ("":
// all of them).
func (s *server) wake(container string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.running {
		if container == "" || in.container == container {
			poke(in.wake)
		}
	}
}

// sync makes the running instances those registered: it starts the new,
// restarts the changed (keeping the key) and withdraws the removed, and
// returns when the withdrawn are gone.
func (s *server) sync() {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	want := map[string][]byte{}
	entries, err := os.ReadDir(s.h.Dir)
	if err != nil {
		fmt.Fprintf(s.h.Log, "reading %s: %v\n", s.h.Dir, err)
		return
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.h.Dir, e.Name()))
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(s.h.Log, "%s: %v\n", e.Name(), err)
			}
			continue
		}
		want[e.Name()] = data
	}
	s.mu.Lock()
	var stopping []*instance
	for name, in := range s.running {
		if data, ok := want[name]; !ok || string(data) != string(in.data) {
			cause := error(nil) // removed: withdraw
			if ok {
				cause = errKeep // changed: its successor writes the key
			}
			in.cancel(cause)
			stopping = append(stopping, in)
			delete(s.running, name)
		}
	}
	s.mu.Unlock()
	for _, in := range stopping {
		<-in.done
	}
	for name, data := range want {
		s.mu.Lock()
		_, ok := s.running[name]
		s.mu.Unlock()
		if !ok {
			s.start(name, data)
		}
	}
}

func (s *server) start(name string, data []byte) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		fmt.Fprintf(s.h.Log, "%s: %v\n", name, err)
		return
	}
	c.DockerSocket = s.h.DockerSocket
	c.Log = &prefixed{w: s.h.Log, prefix: c.Key + ": "}
	if err := c.Check(); err != nil {
		fmt.Fprintf(s.h.Log, "%s: %v\n", name, err)
		return
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	in := &instance{data: data, container: c.Container, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.running[name] = in
	s.mu.Unlock()
	a := newAnnouncer(c, s.docker, s.client)
	go func() {
		defer close(in.done)
		a.run(ctx, in.wake)
	}()
}

// stopAll ends every instance, keeping its key.
func (s *server) stopAll() {
	s.mu.Lock()
	var all []*instance
	for name, in := range s.running {
		in.cancel(errKeep)
		all = append(all, in)
		delete(s.running, name)
	}
	s.mu.Unlock()
	for _, in := range all {
		<-in.done
	}
}

// prefixed writes whole lines, each with its prefix, to one shared writer.
type prefixed struct {
	w      io.Writer
	prefix string
}

var logMu sync.Mutex

func (p *prefixed) Write(b []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			if _, err := io.WriteString(p.w, p.prefix+line); err != nil {
				return 0, err
			}
		}
	}
	return len(b), nil
}
