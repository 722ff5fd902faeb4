// Package announce keeps app instances' keys in etcd while, and only while,
// they answer. One process per host, `nap-render announce serve` (Serve),
// announces every instance registered on that host: a discovery unit
// registers its instance at start (Register: a file in Dir) and withdraws it
// at stop (Withdraw), and runs no process in between.
//
// It asks dockerd over its socket and etcd over HTTP: no program is started
// per check. It follows docker's event stream for containers starting,
// dying or changing health, probes each app with a TCP connect to the
// container's own address and primary port (docker-proxy accepts on the host
// port before the app listens) every 250 ms until it answers and every
// second while it is announced, and only then writes
// KEY = {"host":…,"port":HOSTPORT,"ports":{"8080/tcp":HOSTPORT,…},"release":REV}
// with the TTL, refreshed every TTL/3 (v2: written again; v3: one lease per
// announcement, kept alive, granted again once lost). The key is deleted at
// once when the container dies or stops answering, and when the instance is
// withdrawn; if the host dies it expires after the TTL. The wake-ups of all
// instances fall on one grid (every 250 ms, every second), so a host with
// a hundred instances wakes about once a second, not a hundred times. etcd
// being unreachable is retried with a backoff (0.25 s doubling to 4 s) and
// logged at the 1st, 2nd, 4th, 8th… failure in a row; the app is never
// touched.
//
// Run is the same announcer for one instance in its own process: what
// discovery units rendered before the host announcer run.
package announce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nap-paas/nap/etcd"
)

// Config is one instance's announcement.
type Config struct {
	DockerSocket string        `json:"-"` // dockerd's API socket; default /var/run/docker.sock
	V3           bool          // etcd's v3 API (its JSON gateway), else v2
	Endpoints    []string      // etcd client URLs, tried in turn
	TTL          time.Duration // whole seconds, at least 3
	Key          string
	Container    string
	Host         string // announced as "host"
	// HostFrom names a variable of EnvFile (KEY=VALUE lines, as systemd's
	// EnvironmentFile=) whose value Register announces as the host: e.g.
	// COREOS_PUBLIC_IPV4, an address the other machines reach.
	HostFrom string   `json:"-"`
	EnvFile  string   `json:"-"`
	Primary  string   // the container port announced as "port", e.g. "8080/tcp"
	Ports    []string // the container ports listed in "ports"
	Release  string
	// Probe is "tcp" (the app accepts TCP on the container's address and
	// the primary port), "health" (docker reports the container healthy)
	// or "none" (it runs with its ports published).
	Probe string
	Log   io.Writer `json:"-"` // what the journal shows: changes only
}

const (
	notReadyPoll = 250 * time.Millisecond // until the app answers
	// firstPoll: the first second after the container runs, while the app
	// starts listening, it is asked this often (a user's first request
	// waits for it; a second of them costs a few milliseconds of CPU).
	firstPoll  = 25 * time.Millisecond
	answerPoll = time.Second // while announced: withdraw within a second of silence
	maxBackoff = 4 * time.Second
)

// Run announces one instance until ctx ends, then withdraws the key. It
// returns nil on a clean stop.
func Run(ctx context.Context, c Config) error {
	if err := c.Check(); err != nil {
		return err
	}
	d := newDocker(c.DockerSocket)
	a := newAnnouncer(c, d, &http.Client{})
	wake := make(chan struct{}, 1)
	go watch(ctx, d, c.Container, func(string) { poke(wake) })
	a.run(ctx, wake)
	return nil
}

// Check fills in defaults and refuses what cannot be announced.
func (c *Config) Check() error {
	if c.DockerSocket == "" {
		c.DockerSocket = "/var/run/docker.sock"
	}
	if c.TTL < 3*time.Second {
		return fmt.Errorf("ttl %v: at least 3s", c.TTL)
	}
	if c.Key == "" || c.Container == "" {
		return fmt.Errorf("a key and a container are needed")
	}
	if c.Probe != "tcp" && c.Probe != "health" && c.Probe != "none" {
		return fmt.Errorf("probe %q: want tcp, health or none", c.Probe)
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return nil
}

func newAnnouncer(c Config, d *docker, client *http.Client) *announcer {
	return &announcer{c: c, docker: d, key: etcdClient(c, client).Key(c.Key, c.TTL)}
}

// etcdClient is the etcd client of c's announcement, its requests through
// client.
func etcdClient(c Config, client *http.Client) *etcd.Client {
	return &etcd.Client{Endpoints: c.Endpoints, V3: c.V3, Timeout: requestTimeout, HTTP: client}
}

// poke wakes a loop waiting on ch without ever blocking.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

type announcer struct {
	c      Config
	docker *docker
	key    *etcd.Key
	shown  string // the last state line logged
}

// say logs a state line once, not again until the state changes.
func (a *announcer) say(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if line != a.shown {
		a.shown = line
		fmt.Fprintln(a.c.Log, line)
	}
}

// errKeep ends an announcer without withdrawing its key: the host
// announcer stops (for an upgrade, or the machine's shutdown, where each
// discovery unit's stop withdraws its own), and the next one takes over.
var errKeep = errors.New("announcer stopping; keys stay until withdrawn or expired")

// run announces until ctx ends: then it withdraws the key, unless ctx was
// cancelled with errKeep. wake says that docker reported an event of the
// container.
func (a *announcer) run(ctx context.Context, wake <-chan struct{}) {
	var (
		info      *container
		stale     = true // info must be read again
		announced string
		wrote     time.Time
		dirty     = true // a predecessor may have left the key
		failures  int
		retryAt   time.Time
		polls     int
		inspected time.Time
		quickTill time.Time // polls at firstPoll until then
	)
	refresh := a.c.TTL / 3
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if stale {
			var err error
			inspected = time.Now()
			if info, err = a.docker.inspect(ctx, a.c.Container); err != nil {
				if ctx.Err() == nil {
					a.say("docker: %v", err)
				}
				info = nil
			}
			stale = false
		}
		value, waiting := a.ready(info)
		if info == nil || !info.Running {
			quickTill = time.Time{} // a restart starts quick again
		}
		if value == "" {
			a.say("%s", waiting)
		}
		var err error
		if !time.Now().Before(retryAt) && ctx.Err() == nil {
			switch {
			case value != "" && value != announced:
				if err = a.key.Put(ctx, value); err == nil {
					announced, wrote, dirty = value, time.Now(), false
					a.say("announced %s = %s", a.c.Key, value)
				}
			case value != "" && time.Since(wrote) >= refresh:
				if err = a.key.Refresh(ctx, value); err == etcd.ErrMissing {
					err = a.key.Put(ctx, value)
				}
				if err == nil {
					wrote = time.Now()
				}
			case value == "" && (announced != "" || dirty):
				if err = a.key.Delete(ctx); err == nil {
					if announced != "" {
						a.say("withdrew %s", a.c.Key)
					}
					announced, dirty = "", false
				}
			}
			if err != nil && ctx.Err() == nil {
				failures++
				if failures&(failures-1) == 0 { // 1st, 2nd, 4th, 8th…
					fmt.Fprintf(a.c.Log, "etcd at %s failed (%d in a row): %v\n", strings.Join(a.c.Endpoints, ","), failures, err)
				}
				retryAt = time.Now().Add(backoff(failures))
			} else if err == nil {
				failures = 0
			}
		}

		now := time.Now()
		var at time.Time // the next wake-up; zero: only an event or the refresh
		switch {
		case value == "" && info != nil && info.Running && quickTill.IsZero():
			quickTill = now.Add(time.Second)
			fallthrough
		case value == "" && now.Before(quickTill):
			at = now.Add(firstPoll)
		case value == "":
			at = tick(now, notReadyPoll)
			if polls++; polls%4 == 0 {
				stale = true // ports or health not there yet: look again every second
			}
		case a.c.Probe == "tcp":
			at = tick(now, answerPoll)
		}
		if value != "" {
			at = earliest(at, onGrid(wrote.Add(refresh)))
		}
		if failures > 0 {
			at = earliest(at, onGrid(retryAt))
		}
		if now.Sub(inspected) >= a.c.TTL {
			stale = true // events say every change; this is only a safety net
		}
		timer.Reset(max(at.Sub(now), 0))
		select {
		case <-ctx.Done():
			if context.Cause(ctx) != errKeep {
				a.withdraw(announced != "" || dirty)
			}
			return
		case <-wake:
			stale = true
			timer.Stop()
		case <-timer.C:
		}
	}
}

// tick is the next instant after now on the grid of period: every
// announcer of a host polling at that period wakes at the same instants,
// so the process wakes once for all of them. It is at most period away.
func tick(now time.Time, period time.Duration) time.Time {
	return now.Truncate(period).Add(period)
}

// onGrid moves a deadline up to the next instant of the 250 ms grid, for
// the same reason.
func onGrid(t time.Time) time.Time {
	if g := t.Truncate(notReadyPoll); g.Before(t) {
		return g.Add(notReadyPoll)
	}
	return t
}

// earliest is the earlier of a (zero: none) and b.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// backoff is the wait after the n-th etcd failure in a row: 0.25 s
// doubling to 4 s, and 4 s however long the outage (the shift stops
// before it can overflow).
func backoff(n int) time.Duration {
	return min(notReadyPoll<<min(max(n-1, 0), 8), maxBackoff)
}

// withdraw deletes the key on the way out, with its own deadline.
func (a *announcer) withdraw(needed bool) {
	if !needed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*requestTimeout)
	defer cancel()
	if err := a.key.Delete(ctx); err != nil {
		fmt.Fprintf(a.c.Log, "could not withdraw %s (it expires after %ds): %v\n", a.c.Key, int(a.c.TTL/time.Second), err)
		return
	}
	fmt.Fprintf(a.c.Log, "withdrew %s\n", a.c.Key)
}

// watch calls wake with the container's name at every docker event of
// container (every container when it is ""), following the stream again
// (and waking with "", for all) whenever it breaks: dockerd restarting may
// have changed anything.
func watch(ctx context.Context, d *docker, container string, wake func(name string)) {
	for ctx.Err() == nil {
		d.events(ctx, container, wake)
		wake("")
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// ready returns the value to announce, or "" and what it waits for.
func (a *announcer) ready(c *container) (value, waiting string) {
	name := a.c.Container
	if c == nil {
		return "", "waiting for container " + name
	}
	if !c.Running || c.Ports[a.c.Primary] == "" && a.c.Primary != "" {
		return "", "waiting for container " + name + " to run with its ports published"
	}
	for _, p := range a.c.Ports {
		if c.Ports[p] == "" {
			return "", "waiting for container " + name + " to run with its ports published"
		}
	}
	switch a.c.Probe {
	case "health":
		if c.Health != "healthy" {
			h := c.Health
			if h == "" {
				h = "no status"
			}
			return "", "waiting for container " + name + " to be healthy (" + h + ")"
		}
	case "tcp":
		p, _, _ := strings.Cut(a.c.Primary, "/")
		port, _ := strconv.Atoi(p)
		if !probeTCP(c.IP, port, time.Second) {
			return "", "waiting for container " + name + " to accept TCP on " + net.JoinHostPort(c.IP, p)
		}
	}
	return a.value(c), ""
}

// value is the announcement, its JSON written by encoding/json; "ports" in
// the order given.
func (a *announcer) value(c *container) string {
	hostPort := func(p string) json.RawMessage {
		if n, err := strconv.Atoi(c.Ports[p]); err == nil {
			return json.RawMessage(strconv.Itoa(n))
		}
		return json.RawMessage("null")
	}
	var b strings.Builder
	host, _ := json.Marshal(a.c.Host)
	b.WriteString(`{"host":` + string(host) + `,"port":` + string(hostPort(a.c.Primary)) + `,"ports":{`)
	for i, p := range a.c.Ports {
		if i > 0 {
			b.WriteString(",")
		}
		name, _ := json.Marshal(p)
		b.WriteString(string(name) + ":" + string(hostPort(p)))
	}
	rel, _ := json.Marshal(a.c.Release)
	b.WriteString(`},"release":` + string(rel) + "}")
	return b.String()
}
