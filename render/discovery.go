// Discovery: every instance of a process with ports is announced in etcd by a
// sidekick unit, APP.PROC.R.discovery@.service, bound to the run unit's
// instance (BindsTo=, After=, [Install] WantedBy= the run unit — enabled, it
// comes back whenever the run unit starts again; on fleet also MachineOf=).
//
// The sidekick announces only what answers. It polls docker every 250 ms until
// the container runs with every port published, then until the app accepts a
// TCP connection on the container's own address and primary port (docker-proxy
// accepts on the host port long before the app listens) or, when the image has
// a HEALTHCHECK, until docker reports it healthy. Only then does it write
// PREFIX/APP/PROC/R.N = {"host":…,"port":HOSTPORT,"ports":{"8080/tcp":HOSTPORT,…},"release":REV}
// with the operator's TTL, refreshed within TTL/3 (v2: set --ttl; v3: one
// lease per announcement kept alive, granted again once it expired): every
// TTL/3-4 to TTL/3-1 s from TTL 15 s, on every check below. It checks the
// instance every 2 s (1 s for TTLs under 12 s) and deletes the key at once
// when the container is gone or no longer answers. Stopping the run unit stops
// the sidekick first (After=), and its TERM trap deletes the key before the
// container stops; if the host dies, the key expires after the TTL. When etcd
// cannot be reached the sidekick retries with a backoff (0.25 s doubling to
// 4 s), logs to the journal and never touches the app.
//
// The loop is a bash script (discovery.sh) held as one constant ExecStart=
// word: every instance- or operator-dependent value (container name, key,
// host, endpoints, paths, TTL) is a separate argument, so no value is ever
// parsed as code. It is bash, not POSIX sh, for its /dev/tcp connect, run
// under coreutils' timeout: Debian and CoreOS hosts both have bash and
// coreutils, while nc and curl are not on every host, and docker exec cannot
// help in an image without a shell.
package render

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

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

//go:embed discovery.sh
var discoverySource string

// discoveryScript is discovery.sh as the one line an ExecStart= word holds,
// joined on first use: nap-render's other commands (two run on every push)
// need not pay for it at start-up.
var discoveryScript = sync.OnceValue(func() string { return joinScript(discoverySource) })

// joinScript drops comment lines and indentation and joins the remaining
// lines with spaces. discovery.sh is written so that this keeps its meaning
// (every line ends where a space may replace the newline; a test checks it).
func joinScript(src string) string {
	var lines []string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, " ")
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
		probe = strconv.Itoa(s.Primary)
	}
	exec := unit.ExecWords(0,
		unit.Lit("/bin/bash"), unit.Lit("-c"), unit.Lit(discoveryScript()), unit.Lit("nap-discovery"),
		unit.Lit(op.Docker), unit.Lit(op.Etcdctl), unit.Lit(d.Etcd),
		unit.Lit(strings.Join(d.Endpoints, ",")), unit.Lit(strconv.Itoa(d.TTL)),
		unit.Cat(unit.Lit(discoveryKeyPrefix(d.Prefix, s)), instance),
		unit.Cat(unit.Lit(base+"."), instance),
		host, unit.Lit(inspectFormat(s)), unit.Lit(probe))

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
		// TERM reaches only the loop, whose trap lets a running etcdctl
		// finish before it deletes the key (no put can land after the delete).
		Add("KillMode", unit.Lit("mixed")).
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

// inspectFormat is the docker inspect template the sidekick reads the
// container with: RUNNING|HEALTH|IP|TAIL, where TAIL is the announcement after
// its "host" member, with null for a port not published yet. Every constant
// part of the JSON is written here by encoding/json.
func inspectFormat(s Sidekick) string {
	hostPort := func(name string) string {
		return "{{with index .NetworkSettings.Ports " + strconv.Quote(name) +
			"}}{{with (index . 0).HostPort}}{{.}}{{else}}null{{end}}{{else}}null{{end}}"
	}
	var b strings.Builder
	b.WriteString("{{.State.Running}}|{{with index .State \"Health\"}}{{.Status}}{{end}}|{{.NetworkSettings.IPAddress}}|")
	b.WriteString(`"port":` + hostPort(fmt.Sprintf("%d/%s", s.Primary, primaryProto(s))) + `,"ports":{`)
	for i, name := range containerPorts(s) {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(jsonString(name) + ":" + hostPort(name))
	}
	b.WriteString(`},"release":` + jsonString(s.Rev) + "}")
	return b.String()
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(b)
}
