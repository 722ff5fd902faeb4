package render

import (
	"path"
	"sort"
	"strconv"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/unit"
)

// Settings of every run unit.
const (
	// restartDelay keeps a crashing app from spinning.
	restartDelay = "5"
	// startTimeout bounds docker pull (the ExecStartPre) plus start.
	startTimeout = "300"
	// stopTimeout leaves docker stop its 10 s grace period and some slack.
	stopTimeout = "30"
)

// runUnit is APP.PROC.R@.service: instance %i runs one container in the
// foreground, so that systemd (and fleet) see the app's life and exit.
func runUnit(img *dockerfile.Image, cfg *Config, rel Release, pr *proc) *unit.File {
	op, app := &cfg.Operator, &cfg.App
	image := Image(cfg, rel)
	names := rel.Names()
	name := names.ContainerOf(pr.name)
	lit := unit.Lit

	words := []unit.Text{lit(op.Docker), lit("run"), lit("--rm"), lit("--name"), name}
	for _, q := range pr.ports {
		words = append(words, lit("-p"), lit(portSpec(q)))
	}
	words = append(words,
		lit("-e"), lit("NAP_APP="+rel.App),
		lit("-e"), lit("NAP_PROCESS="+pr.name),
		lit("-e"), lit("NAP_RELEASE="+rel.Rev),
		lit("-e"), unit.Cat(lit("NAP_INSTANCE="), unit.Spec(unit.Instance)))
	if _, set := app.Env["PORT"]; !set && pr.primary != 0 {
		words = append(words, lit("-e"), lit("PORT="+strconv.Itoa(pr.primary)))
	}
	keys := make([]string, 0, len(app.Env))
	for k := range app.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		words = append(words, lit("-e"), lit(k+"="+app.Env[k]))
	}
	if op.EnvDir != "" {
		words = append(words, lit("--env-file"), lit(path.Join(op.EnvDir, rel.App+".env")))
	}
	if app.Memory > 0 {
		words = append(words, lit("--memory"), lit(FormatSize(app.Memory)))
	}
	if app.CPUShares > 0 {
		words = append(words, lit("--cpu-shares"), lit(strconv.Itoa(app.CPUShares)))
	}
	for _, a := range runArgs(img, image, pr.Command) {
		words = append(words, lit(a))
	}

	f := unit.NewFile(names.Run(pr.name))
	f.Section("Unit").
		Add("Description", unit.Cat(lit("nap: "+rel.App+" "+pr.name+" at "+names.R()+", instance "), unit.Spec(unit.Instance))).
		Add("Requires", lit("docker.service")).
		Add("After", lit("docker.service"))
	success := "143" // docker run passes on the app's exit: 128+SIGTERM after docker stop
	if s := stopStatus(img.StopSignal); s != 143 {
		success += " " + strconv.Itoa(s)
	}
	f.Section("Service").
		Add("Restart", lit("on-failure")).
		Add("RestartSec", lit(restartDelay)).
		Add("TimeoutStartSec", lit(startTimeout)).
		Add("TimeoutStopSec", lit(stopTimeout)).
		Add("SuccessExitStatus", lit(success)).
		AddRaw("ExecStartPre", unit.ExecWords(unit.IgnoreFailure, lit(op.Docker), lit("rm"), lit("-f"), name)).
		// "-": an instance restarts from its local image while the registry
		// is down (a crash, a docker restart, a reboot); a missing image
		// still fails at docker run.
		AddRaw("ExecStartPre", unit.ExecWords(unit.IgnoreFailure, lit(op.Docker), lit("pull"), lit(image))).
		AddRaw("ExecStart", unit.ExecWords(0, words...)).
		AddRaw("ExecStop", unit.ExecWords(0, lit(op.Docker), lit("stop"), name))
	if op.Target == TargetFleet {
		x := f.Section(unit.FleetSection).Add("Conflicts", lit(names.RunGlob(pr.name)))
		for _, m := range app.Metadata {
			x.Add("MachineMetadata", lit(m))
		}
	} else {
		f.Section("Install").Add("WantedBy", lit("multi-user.target"))
	}
	return f
}
