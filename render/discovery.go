// Discovery: every instance of a process with ports is announced in etcd,
// registered by a unit of its own, APP.PROC.R.discovery@.service, bound to
// the run unit's instance (BindsTo=, After=, [Install] WantedBy= the run
// unit — enabled, it comes back whenever the run unit starts again; on
// fleet also MachineOf=).
//
// The unit runs no process: its start is `nap-render announce register`,
// its stop `nap-render announce withdraw` (nap-render installed on every
// host at the operator's nap_render path), and the host announcer (package
// announce, one process per host, started by the first registration) does
// the work in between. The command lines say what is announced, flag by
// flag, each value a separate word — the key, the container, the host, the
// ports, the probe. The announcer writes
// PREFIX/APP/PROC/R.N = {"host":…,"port":HOSTPORT,"ports":{"8080/tcp":HOSTPORT,…},"release":REV}
// only while the app answers (a TCP connect to the container's own address
// and primary port, or docker's "healthy" when the image has a
// HEALTHCHECK), refreshed every TTL/3, deleted at once when the container
// dies or stops answering and when the unit stops; if the host dies the
// key expires after the TTL. Stopping the run unit stops this unit first
// (After=).
package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/announce"
	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/unit"
)

// Sidekick is what one process's discovery unit announces.
type Sidekick struct {
	App, Proc, Rev string
	Gen            int // the release's generation (Names)
	// Primary is the container port whose host side becomes "port".
	Primary int
	// Ports are every container port the process publishes.
	Ports []dockerfile.Port
	// Healthcheck: the image has an enabled HEALTHCHECK; announce only once
	// docker reports the container healthy.
	Healthcheck bool
}

// discoveryUnit returns APP.PROC.R.discovery@.service for s: bound to the run
// unit's instance %i, it registers that instance with the host announcer
// while it is up, which announces host:port in etcd while the app answers.
func discoveryUnit(cfg *Config, s Sidekick) *unit.File {
	names := Names{App: s.App, Rev: s.Rev, Gen: s.Gen}
	base := names.Stem(s.Proc)
	instance := unit.Spec(unit.Instance)
	run := names.RunOf(s.Proc)
	op := cfg.Operator
	d := op.Discovery

	// The announced host: systemd's %H, a literal, or a variable of the
	// environment file on the instance's machine, which register reads
	// itself (no ${} expansion in the unit: nothing there is a variable).
	hostArgs := []unit.Text{unit.Lit("--host"), unit.Spec(unit.Host)}
	if name, ok := HostVar(d.Host); ok {
		hostArgs = []unit.Text{unit.Lit("--host-from"), unit.Lit(name), unit.Lit("--env-file"), unit.Lit(d.EnvFile)}
	} else if d.Host != "%H" {
		hostArgs[1] = unit.Lit(d.Host)
	}
	probe := "none"
	switch {
	case s.Healthcheck:
		probe = "health"
	case primaryProto(s) == "tcp":
		probe = "tcp"
	}
	key := names.KeyOf(d.Prefix, s.Proc)
	etcd := []unit.Text{
		unit.Lit("--etcd"), unit.Lit(d.Etcd),
		unit.Lit("--endpoints"), unit.Lit(strings.Join(d.Endpoints, ",")),
	}
	register := append([]unit.Text{unit.Lit(op.NapRender), unit.Lit("announce"), unit.Lit("register")}, etcd...)
	register = append(register,
		unit.Lit("--ttl"), unit.Lit(strconv.Itoa(d.TTL)),
		unit.Lit("--key"), key,
		unit.Lit("--container"), names.ContainerOf(s.Proc),
	)
	register = append(register, hostArgs...)
	register = append(register,
		unit.Lit("--release"), unit.Lit(s.Rev),
		unit.Lit("--probe"), unit.Lit(probe),
		unit.Lit("--primary"), unit.Lit(fmt.Sprintf("%d/%s", s.Primary, primaryProto(s))),
	)
	for _, p := range containerPorts(s) {
		register = append(register, unit.Lit("--port"), unit.Lit(p))
	}
	withdraw := append([]unit.Text{unit.Lit(op.NapRender), unit.Lit("announce"), unit.Lit("withdraw")}, etcd...)
	withdraw = append(withdraw, unit.Lit("--key"), key)

	f := unit.NewFile(names.Discovery(s.Proc))
	f.Section("Unit").
		Add("Description", unit.Cat(unit.Lit("announce "+base+" instance "), instance, unit.Lit(" in etcd"))).
		Add("BindsTo", run).
		Add("After", run).
		// Stopped before the host announcer, a local etcd and the network
		// at shutdown, so that its stop can still delete the key (After= of
		// a unit the machine does not have orders nothing).
		Add("After", unit.Lit("network.target etcd.service etcd2.service etcd-member.service "+announce.Unit)).
		// Started again whenever its run unit restarts, however often the
		// app crash-loops: a start limit would leave a recovered instance
		// unannounced.
		Add("StartLimitIntervalSec", unit.Lit("0"))
	f.Section("Service").
		// No process of its own: the host announcer (one per host)
		// announces the instance from its registration to its withdrawal.
		Add("Type", unit.Lit("oneshot")).
		Add("RemainAfterExit", unit.Lit("yes")).
		AddRaw("ExecStart", unit.ExecWords(0, register...)).
		// ExecStopPost, not ExecStop: it runs however the unit goes down,
		// also when a stop comes while the start is still running (then
		// systemd skips ExecStop, and a registration would outlive its
		// instance).
		AddRaw("ExecStopPost", unit.ExecWords(0, withdraw...)).
		// register handles TERM (a stop during the start) by undoing what
		// it did and exiting 0; a TERM that kills it came before it had
		// done anything.
		Add("SuccessExitStatus", unit.Lit("SIGTERM")).
		// Each waits for the host announcer or etcd: two 3 s requests.
		Add("TimeoutSec", unit.Lit("30s"))
	f.Section("Install").Add("WantedBy", run)
	if op.Target == TargetFleet {
		f.Section(unit.FleetSection).Add("MachineOf", run)
	}
	return f
}

// containerPorts lists s's ports as docker names them ("8080/tcp"), ranges
// expanded, sorted by number then protocol.
func containerPorts(s Sidekick) []string {
	type port struct {
		num   int
		proto string
	}
	var ps []port
	seen := map[port]bool{}
	for _, p := range s.Ports {
		for n := int(p.Start); n <= int(p.End); n++ {
			if k := (port{n, p.Proto}); !seen[k] {
				seen[k] = true
				ps = append(ps, k)
			}
		}
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].num != ps[j].num {
			return ps[i].num < ps[j].num
		}
		return ps[i].proto < ps[j].proto
	})
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = fmt.Sprintf("%d/%s", p.num, p.proto)
	}
	return names
}

// primaryProto is the protocol of the primary port: tcp when the process
// publishes it as tcp (or lists nothing about it).
func primaryProto(s Sidekick) string {
	proto := ""
	for _, p := range s.Ports {
		if int(p.Start) <= s.Primary && s.Primary <= int(p.End) {
			if p.Proto == "tcp" {
				return "tcp"
			}
			proto = p.Proto
		}
	}
	if proto == "" {
		return "tcp"
	}
	return proto
}
