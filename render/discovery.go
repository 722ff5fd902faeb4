package render

import (
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
//
// Owned by the discovery work (issue 6); this first version is a placeholder
// that the discovery branch replaces.
func discoveryUnit(cfg *Config, s Sidekick) *unit.File {
	f := unit.NewFile(s.App + "." + s.Proc + "." + s.Rev[:12] + ".discovery@.service")
	f.Section("Unit").Add("Description", unit.Cat(unit.Lit("announce "+s.App+" "+s.Proc+" "), unit.Spec(unit.Instance)))
	f.Section("Service").AddRaw("ExecStart", unit.Exec("/bin/true"))
	return f
}
