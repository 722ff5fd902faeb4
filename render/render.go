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
// per process (sorted by name, web first) its run template and, when it
// publishes ports, its discovery template. Warnings are things nap cannot
// honour (see Check).
func Render(img *dockerfile.Image, cfg *Config, rel Release) ([]*unit.File, error) {
	panic("not implemented")
}
