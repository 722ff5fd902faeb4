package render

import (
	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/unit"
)

// Release is what a render is for.
type Release struct {
	App string // validated by ValidApp
	Rev string // full git SHA, 40 or 64 hex
	// MachineID is this machine's id (/etc/machine-id), pinning the build unit
	// on fleet when the operator names no builder.
	MachineID string
	// Built is the built image's config read from the registry, nil before the
	// build. When set, its runtime settings (EXPOSE, HEALTHCHECK, CMD,
	// ENTRYPOINT, USER, STOPSIGNAL) win over the Dockerfile model's.
	Built *dockerfile.Image
}

// Render returns the release's units in a fixed order: the build unit, then
// per process (web first, the others sorted by name) its run template and,
// when it publishes ports, its discovery template. Check reports what Render
// accepts but a user should know.
func Render(img *dockerfile.Image, cfg *Config, rel Release) ([]*unit.File, error) {
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
	p, err := makePlan(img, cfg, rel.Built)
	if err != nil {
		return nil, err
	}
	files := []*unit.File{buildUnit(cfg, rel)}
	for i := range p.procs {
		pr := &p.procs[i]
		files = append(files, runUnit(p.img, cfg, rel, pr))
		if len(pr.ports) > 0 {
			files = append(files, discoveryUnit(cfg, Sidekick{
				App: rel.App, Proc: pr.name, Rev: rel.Rev,
				Primary: pr.primary, Ports: pr.ports,
				Healthcheck: p.img.Healthcheck != nil && !p.img.Healthcheck.Disabled(),
			}))
		}
	}
	return files, nil
}

// Image is the release's image reference, REGISTRY/APP:REV.
func Image(cfg *Config, rel Release) string {
	return cfg.Operator.Registry + "/" + rel.App + ":" + rel.Rev
}

// Names are the release's names.
func (rel Release) Names() Names { return Names{App: rel.App, Rev: rel.Rev} }
