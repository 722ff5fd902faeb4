package render

import (
	"fmt"
	"sort"

	"github.com/nap-paas/nap/dockerfile"
	"gopkg.in/yaml.v3"
)

// checkVarsLimit holds a mapping of variables (env or build_args, named ctx
// at node n) to the operator's limits.max_env keys and MaxEnvBytes: both
// end up on a command line and in a unit, where size is not free.
func (d doc) checkVarsLimit(n *yaml.Node, ctx string, vars map[string]string, lim Limits) error {
	if len(vars) > lim.MaxEnv {
		return d.errf(n, "%s: %d variables; this host allows %d per app (limits.max_env): keep settings in fewer variables, or in a file of the image",
			ctx, len(vars), lim.MaxEnv)
	}
	size := 0
	for k, v := range vars {
		size += len(k) + len(v) + 2 // NAME=VALUE and a separator
	}
	if size > MaxEnvBytes {
		return d.errf(n, "%s: %s in all; this host allows %s per app: keep large values in a file of the image",
			ctx, formatBytes(size), formatBytes(MaxEnvBytes))
	}
	return nil
}

// checkPorts holds what the release publishes to limits.max_ports: each
// published port is a docker-proxy process (two, with IPv6) per instance.
func (p *plan) checkPorts(cfg *Config, built bool) error {
	total := 0
	var all []dockerfile.Port
	for _, pr := range p.procs {
		for _, q := range pr.ports {
			total += int(q.End) - int(q.Start) + 1
			all = append(all, q)
		}
	}
	max := cfg.Operator.Limits.MaxPorts
	if total <= max {
		return nil
	}
	sort.Slice(all, func(i, j int) bool { return lessPort(all[i], all[j]) })
	what := fmt.Sprintf("the app publishes %d ports (%s)", total, shortList(portList(all), 120))
	if built {
		what = fmt.Sprintf("the built image exposes more than its Dockerfile: %s", what[len("the app "):])
	}
	return &dockerfile.Error{File: cfg.App.Dockerfile, Err: fmt.Errorf(
		"%s; this host allows %d per app (limits.max_ports): EXPOSE fewer, or list the ones to publish in processes.web.ports of nap.yaml",
		what, max)}
}

// shortList cuts a long list at about n bytes.
func shortList(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// formatBytes writes a byte count for a message.
func formatBytes(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	if n >= 1<<10 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
