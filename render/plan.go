package render

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/dockerfile"
)

// plan is what Render and Check share: the image settings that count and,
// per process, what it publishes and runs.
type plan struct {
	img      *dockerfile.Image // the Dockerfile model, with the built image's settings when known
	procs    []proc            // web first, then by name
	warnings []string
}

type proc struct {
	name    string
	Process                   // from nap.yaml
	ports   []dockerfile.Port // published, in the order nap.yaml lists them, else sorted
	primary int               // container port announced as "port"; 0 when none
}

// effective is img with the built image's runtime settings, which include
// what a base image from outside the Dockerfile brings.
func effective(img, built *dockerfile.Image) *dockerfile.Image {
	if built == nil {
		return img
	}
	e := *img
	e.External = false
	e.Ports = built.Ports
	e.Healthcheck = built.Healthcheck
	e.Cmd = built.Cmd
	e.Entrypoint = built.Entrypoint
	e.User = built.User
	e.StopSignal = built.StopSignal
	e.Volumes = built.Volumes
	return &e
}

func makePlan(img *dockerfile.Image, cfg *Config, built *dockerfile.Image) (*plan, error) {
	if img == nil || cfg == nil {
		return nil, errors.New("render: no image model or no config")
	}
	p := &plan{img: effective(img, built)}
	names := make([]string, 0, len(cfg.App.Processes))
	for n := range cfg.App.Processes {
		names = append(names, n) // "web" always exists
	}
	SortProcesses(names)
	for _, n := range names {
		pr := proc{name: n, Process: cfg.App.Processes[n]}
		if err := p.resolvePorts(cfg, &pr); err != nil {
			return nil, err
		}
		if err := p.checkCommand(cfg, &pr); err != nil {
			return nil, err
		}
		p.procs = append(p.procs, pr)
	}
	if err := p.checkPorts(cfg, built != nil); err != nil {
		return nil, err
	}
	return p, nil
}

// resolvePorts decides what pr publishes: for web without a ports entry every
// EXPOSEd port; otherwise the listed ports, each with the protocols the image
// exposes it with.
func (p *plan) resolvePorts(cfg *Config, pr *proc) error {
	img := p.img
	if pr.Ports == nil {
		if pr.name != "web" || len(img.Ports) == 0 {
			return nil
		}
		pr.ports = append([]dockerfile.Port(nil), img.Ports...)
		sort.Slice(pr.ports, func(i, j int) bool { return lessPort(pr.ports[i], pr.ports[j]) })
		pr.primary = int(pr.ports[0].Start)
		for _, q := range pr.ports { // the lowest TCP port: announcements are checked over TCP
			if q.Proto == "tcp" {
				pr.primary = int(q.Start)
				break
			}
		}
		if len(pr.ports) > 1 || pr.ports[0].End != pr.ports[0].Start {
			p.warnings = append(p.warnings, fmt.Sprintf(
				"web publishes %s and nap.yaml lists no ports: %d is the primary port (announced as \"port\"); list ports in processes.web.ports to choose",
				portList(pr.ports), pr.primary))
		}
		return nil
	}
	for i, n := range pr.Ports {
		found := false
		for _, q := range img.Ports {
			if int(q.Start) <= n && n <= int(q.End) {
				found = true
				if one := (dockerfile.Port{Start: uint16(n), End: uint16(n), Proto: q.Proto}); !slices.Contains(pr.ports, one) {
					pr.ports = append(pr.ports, one) // once, even when EXPOSE ranges overlap
				}
			}
		}
		if !found {
			at := fmt.Sprintf("processes.%s.ports.%d", pr.name, i)
			file := cfg.appFile
			if file == "" { // a Config built by hand
				file = AppFile
			}
			if !img.External {
				return &ConfigError{File: file, Line: cfg.where[at], Msg: fmt.Sprintf(
					"processes.%s.ports: %d is not EXPOSEd: add EXPOSE %d to the Dockerfile or remove it here", pr.name, n, n)}
			}
			p.warnings = append(p.warnings, fmt.Sprintf(
				"%s:%d: processes.%s.ports: %d is not EXPOSEd by the Dockerfile; the base image %s may expose it, which is checked after the build",
				file, cfg.where[at], pr.name, n, QuoteName(img.Base)))
			pr.ports = append(pr.ports, dockerfile.Port{Start: uint16(n), End: uint16(n), Proto: "tcp"})
		}
	}
	if len(pr.ports) > 0 {
		pr.primary = pr.Ports[0]
	}
	return nil
}

func lessPort(a, b dockerfile.Port) bool {
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	if a.End != b.End {
		return a.End < b.End
	}
	return a.Proto < b.Proto
}

// portSpec is docker's -p form for a dynamic host port: 8080/tcp, 7000-7002/udp.
func portSpec(q dockerfile.Port) string {
	s := strconv.Itoa(int(q.Start))
	if q.End != q.Start {
		s += "-" + strconv.Itoa(int(q.End))
	}
	return s + "/" + q.Proto
}

func portList(ports []dockerfile.Port) string {
	s := make([]string, len(ports))
	for i, q := range ports {
		s[i] = portSpec(q)
	}
	return strings.Join(s, ", ")
}

// checkCommand refuses a process with nothing to run, when that is known.
func (p *plan) checkCommand(cfg *Config, pr *proc) error {
	img := p.img
	if pr.Command == nil && img.Cmd == nil && img.Entrypoint == nil && !img.External {
		return &dockerfile.Error{File: cfg.App.Dockerfile, Err: fmt.Errorf(
			"no CMD or ENTRYPOINT: process %s has nothing to run; add CMD [\"/app\"] or set processes.%s.command in nap.yaml", pr.name, pr.name)}
	}
	if pr.Command != nil && img.Entrypoint != nil && img.Entrypoint.Shell {
		p.warnings = append(p.warnings, fmt.Sprintf(
			"processes.%s.command replaces the shell-form ENTRYPOINT, which would ignore it: it runs with --entrypoint %s", pr.name, QuoteName(pr.Command[0])))
	}
	return nil
}

// runArgs is what follows "docker run [flags]": the flags that replace the
// entrypoint, the image, then the process's command.
func runArgs(img *dockerfile.Image, image string, command []string) []string {
	if command == nil {
		return []string{image}
	}
	// Docker runs a shell-form ENTRYPOINT as "sh -c LINE" and drops whatever
	// follows the image: the process's own command would be lost. Run it as
	// the entrypoint instead.
	if img.Entrypoint != nil && img.Entrypoint.Shell {
		return append([]string{"--entrypoint", command[0], image}, command[1:]...)
	}
	return append([]string{image}, command...)
}

// signals are the stop signals whose 128+n exit status means "stopped as
// asked" rather than a failure.
var signals = map[string]int{"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15}

// stopStatus is the exit status of an app killed by its stop signal.
func stopStatus(stopSignal string) int {
	s := strings.TrimPrefix(strings.ToUpper(stopSignal), "SIG")
	if n, ok := signals[s]; ok {
		return 128 + n
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return 128 + n
	}
	return 128 + 15
}
