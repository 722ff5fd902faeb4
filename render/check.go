package render

import (
	"fmt"
	"strings"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/unit"
)

// Check reports what Render would refuse (err) and, when it would not, what
// a user should know before deploying: the Dockerfile's own warnings, data
// in a VOLUME that each redeploy loses, settings of an external base image
// that are known only after the build, and which port is primary when that
// was not chosen. Warnings come in a fixed order; none holds a line break.
func Check(img *dockerfile.Image, cfg *Config) (warnings []string, err error) {
	p, err := makePlan(img, cfg, nil)
	if err != nil {
		return nil, err
	}
	file := cfg.App.Dockerfile
	for _, w := range img.Warnings {
		warnings = append(warnings, fmt.Sprintf("%s:%d: %s", file, w.Line, w.Message))
	}
	if img.External {
		warnings = append(warnings, fmt.Sprintf(
			"%s: the base image %s comes from outside the Dockerfile: the EXPOSE, CMD, ENTRYPOINT, HEALTHCHECK, USER and STOPSIGNAL it brings are read from the registry after the build",
			file, QuoteName(img.Base)))
	}
	for _, v := range img.Volumes {
		warnings = append(warnings, fmt.Sprintf(
			"%s: VOLUME %s: data written there is lost on every redeploy (each release runs new containers); keep state in a database or on the host", file, QuoteName(v)))
	}
	return append(warnings, p.warnings...), nil
}

// CheckRelease is Check, then Render of rel down to every unit's bytes,
// which validates what Check does not: what `nap-render check` reports.
// A rel without a revision is checked with a placeholder one.
func CheckRelease(img *dockerfile.Image, cfg *Config, rel Release) (warnings []string, files []*unit.File, err error) {
	if warnings, err = Check(img, cfg); err != nil {
		return nil, nil, err
	}
	if rel.Rev == "" {
		rel.Rev = strings.Repeat("0", 40)
	}
	if files, err = Render(img, cfg, rel); err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if _, err := unit.Marshal(f); err != nil {
			return nil, nil, err
		}
	}
	return warnings, files, nil
}
