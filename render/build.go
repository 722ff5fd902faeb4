package render

import (
	"path"
	"sort"
	"strconv"
	"time"

	"github.com/nap-paas/nap/unit"
)

// buildUnit is APP.build.R.service: a oneshot that builds the release's
// image from the exported tree STATE/APP/src/REV and pushes it, so that any
// machine can pull it.
func buildUnit(cfg *Config, rel Release) *unit.File {
	op, app := &cfg.Operator, &cfg.App
	image := Image(cfg, rel)
	src := path.Join(op.State, rel.App, "src", rel.Rev)

	argv := []string{op.Docker, "build"}
	keys := make([]string, 0, len(app.BuildArgs))
	for k := range app.BuildArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		argv = append(argv, "--build-arg", k+"="+app.BuildArgs[k])
	}
	argv = append(argv, "-f", path.Join(src, app.Dockerfile))
	if app.Stage != "" {
		argv = append(argv, "--target", app.Stage)
	}
	argv = append(argv, "-t", image, path.Join(src, app.Context))

	f := unit.NewFile(rel.Names().Build())
	f.Section("Unit").
		Add("Description", unit.Lit("nap: build "+rel.App+" at "+rel.Names().R())).
		Add("Requires", unit.Lit("docker.service")).
		Add("After", unit.Lit("docker.service"))
	f.Section("Service").
		Add("Type", unit.Lit("oneshot")).
		Add("RemainAfterExit", unit.Lit("yes")).
		Add("TimeoutStartSec", unit.Lit(seconds(op.BuildTimeout))).
		AddRaw("ExecStart", unit.Exec(argv...)).
		AddRaw("ExecStart", unit.Exec(op.Docker, "push", image))
	if op.Target == TargetFleet {
		id := op.Builder.MachineID
		if id == "" {
			id = rel.MachineID
		}
		if id != "" {
			f.Section(unit.FleetSection).Add("MachineID", unit.Lit(id))
		}
	}
	return f
}

// seconds writes a duration as systemd reads a time span: whole seconds,
// else milliseconds.
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}
