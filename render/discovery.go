// Discovery: every instance of a process with ports is announced in etcd by a
// sidekick unit, APP.PROC.R.discovery@.service, bound to the run unit's
// instance (BindsTo=, After=, [Install] WantedBy= the run unit — enabled, it
// comes back whenever the run unit starts again; on fleet also MachineOf=).
//
// The sidekick is `nap-render announce` (package announce), installed on
// every host at the operator's nap_render path: its command line says what
// it announces, flag by flag, each value a separate word — the key, the
// container, the host, the ports, the probe. It writes
// PREFIX/APP/PROC/R.N = {"host":…,"port":HOSTPORT,"ports":{"8080/tcp":HOSTPORT,…},"release":REV}
// only while the app answers (a TCP connect to the container's own address
// and primary port, or docker's "healthy" when the image has a
// HEALTHCHECK), refreshed every TTL/3, deleted at once when the container
// dies or stops answering and when the sidekick stops; if the host dies the
// key expires after the TTL. Stopping the run unit stops the sidekick first
// (After=).
package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/unit"
)

// Sidekick is what one process's discovery unit announces.
type Sidekick struct {
	App, Proc, Rev string
	// Primary is the container port whose host side becomes "port".
	Primary int
	// Ports are every container port the process publishes.
	Ports []dockerfile.Port
	// Healthcheck: the image has an enabled HEALTHCHECK; announce only once
	// docker reports the container healthy.
	Healthcheck bool
}

// discoveryUnit returns APP.PROC.R.discovery@.service for s: a sidekick bound
// to the run unit's instance %i that announces host:port in etcd while the app
// answers.
func discoveryUnit(cfg *Config, s Sidekick) *unit.File {
	base := s.App + "." + s.Proc + "." + s.Rev[:12]
	instance := unit.Spec(unit.Instance)
	run := unit.Cat(unit.Lit(base+"@"), instance, unit.Lit(".service"))
	op := cfg.Operator
	d := op.Discovery

	host := unit.Spec(unit.Host)
	if d.Host != "%H" {
		host = unit.Lit(d.Host)
	}
	probe := "none"
	switch {
	case s.Healthcheck:
		probe = "health"
	case primaryProto(s) == "tcp":
		probe = "tcp"
	}
	words := []unit.Text{
		unit.Lit(op.NapRender), unit.Lit("announce"),
		unit.Lit("--etcd"), unit.Lit(d.Etcd),
		unit.Lit("--endpoints"), unit.Lit(strings.Join(d.Endpoints, ",")),
		unit.Lit("--ttl"), unit.Lit(strconv.Itoa(d.TTL)),
		unit.Lit("--key"), unit.Cat(unit.Lit(discoveryKeyPrefix(d.Prefix, s)), instance),
		unit.Lit("--container"), unit.Cat(unit.Lit(base+"."), instance),
		unit.Lit("--host"), host,
		unit.Lit("--release"), unit.Lit(s.Rev),
		unit.Lit("--probe"), unit.Lit(probe),
		unit.Lit("--primary"), unit.Lit(fmt.Sprintf("%d/%s", s.Primary, primaryProto(s))),
	}
	for _, p := range containerPorts(s) {
		words = append(words, unit.Lit("--port"), unit.Lit(p))
	}
	exec := unit.ExecWords(0, words...)

	f := unit.NewFile(base + ".discovery@.service")
	f.Section("Unit").
		Add("Description", unit.Cat(unit.Lit("announce "+base+" instance "), instance, unit.Lit(" in etcd"))).
		Add("BindsTo", run).
		Add("After", run).
		// Stopped before a local etcd and the network at shutdown, so its
		// TERM trap can still withdraw the key (After= of a unit the
		// machine does not have orders nothing).
		Add("After", unit.Lit("network.target etcd.service etcd2.service etcd-member.service")).
		// A sidekick never gives up: it must come back after any crash.
		Add("StartLimitIntervalSec", unit.Lit("0"))
	f.Section("Service").
		AddRaw("ExecStart", exec).
		Add("Restart", unit.Lit("always")).
		Add("RestartSec", unit.Lit("500ms")).
		// On TERM it deletes the key (within two 3 s requests) and exits.
		Add("TimeoutStopSec", unit.Lit("15s"))
	f.Section("Install").Add("WantedBy", run)
	if op.Target == TargetFleet {
		f.Section("X-Fleet").Add("MachineOf", run)
	}
	return f
}

// discoveryKeyPrefix is the key without its instance number: PREFIX/APP/PROC/R.
func discoveryKeyPrefix(prefix string, s Sidekick) string {
	return strings.TrimRight(prefix, "/") + "/" + s.App + "/" + s.Proc + "/" + s.Rev[:12] + "."
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
