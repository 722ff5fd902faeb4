package render

import (
	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/unit"
)

// Release is what a render is for.
type Release struct {
	App string // validated by ValidApp
	Rev string // full git SHA, 40 or 64 hex
	// Gen is the release's generation of Rev: 0 or 1 for its first
	// release (id R), N ≥ 2 for the N-th with other units (id R-N), so that
	// a changed unit set of one revision runs beside the old one.
	Gen int
	// MachineID is this machine's id (/etc/machine-id), pinning the build unit
	// on fleet when the operator names no builder.
	MachineID string
	// Built is the built image's config read from the registry, nil before the
	// build. When set, its runtime settings (EXPOSE, HEALTHCHECK, CMD,
	// ENTRYPOINT, USER, STOPSIGNAL) win over the Dockerfile model's.
	Built *dockerfile.Image
	// ConfigFile holds the app's config vars (config:set) on the
	// instance's machine, docker's env-file format; ConfigKeys are their
	// names, which win over nap.yaml's env of the same name. "" = none.
	ConfigFile string
	ConfigKeys []string
	// ConfigKey (fleet, whose machines do not share the git host's disk)
	// is the etcd key holding them (ConfigKey): the run unit fetches it
	// into /run/nap/UNIT.env on its machine before docker starts.
	ConfigKey string
}

// Units is one release's unit set, typed: what deploy reads instead of
// cutting names out of strings.
type Units struct {
	Names     Names
	Build     *unit.File
	Processes []ProcessUnits // web first, then by name
}

// ProcessUnits are one process's units.
type ProcessUnits struct {
	Name      string
	Instances int        // how many instances run
	Run       *unit.File // the run template
	Discovery *unit.File // the discovery template; nil when no port is published
}

// Files lists the units in Render's order.
func (u *Units) Files() []*unit.File {
	files := []*unit.File{u.Build}
	for _, p := range u.Processes {
		files = append(files, p.Run)
		if p.Discovery != nil {
			files = append(files, p.Discovery)
		}
	}
	return files
}

// Instances maps each process to its instance count.
func (u *Units) Instances() map[string]int {
	out := make(map[string]int, len(u.Processes))
	for _, p := range u.Processes {
		out[p.Name] = p.Instances
	}
	return out
}

// Render returns the release's units in a fixed order: the build unit, then
// per process (web first, the others sorted by name) its run template and,
// when it publishes ports, its discovery template. Check reports what Render
// accepts but a user should know.
func Render(img *dockerfile.Image, cfg *Config, rel Release) ([]*unit.File, error) {
	u, err := RenderUnits(img, cfg, rel)
	if err != nil {
		return nil, err
	}
	return u.Files(), nil
}

// RenderUnits is Render, typed.
func RenderUnits(img *dockerfile.Image, cfg *Config, rel Release) (*Units, error) {
	if err := ValidApp(rel.App); err != nil {
		return nil, err
	}
	if err := ValidRev(rel.Rev); err != nil {
		return nil, err
	}
	if rel.MachineID != "" {
		if err := validMachineIDOrEmpty(rel.MachineID); err != nil {
			return nil, err
		}
	}
	if err := checkConfigRef(rel); err != nil {
		return nil, err
	}
	p, err := makePlan(img, cfg, rel.Built)
	if err != nil {
		return nil, err
	}
	u := &Units{Names: rel.Names(), Build: buildUnit(cfg, rel)}
	for i := range p.procs {
		pr := &p.procs[i]
		pu := ProcessUnits{Name: pr.name, Instances: max(pr.Instances, 1), Run: runUnit(p.img, cfg, rel, pr)}
		if len(pr.ports) > 0 {
			pu.Discovery = discoveryUnit(cfg, Sidekick{
				App: rel.App, Proc: pr.name, Rev: rel.Rev, Gen: rel.Gen,
				Primary: pr.primary, Ports: pr.ports,
				Healthcheck: p.img.Healthcheck != nil && !p.img.Healthcheck.Disabled(),
			})
		}
		u.Processes = append(u.Processes, pu)
	}
	return u, nil
}

// Image is the release's image reference, REGISTRY/APP:REV.
func Image(cfg *Config, rel Release) string {
	return cfg.Operator.Registry + "/" + rel.App + ":" + rel.Rev
}

// Names are the release's names.
func (rel Release) Names() Names { return Names{App: rel.App, Rev: rel.Rev, Gen: rel.Gen} }
