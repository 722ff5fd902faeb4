package render

import (
	"errors"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

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

// instanceMark stands for systemd's %i in envArgs' words for a unit: no
// other word can be NAP_INSTANCE=… (nap.yaml and config vars may not set
// NAP_ names).
const instanceMark = "\x00i"

// envArgs are docker run's flags for a container of proc's environment
// and limits: nap's variables (NAP_INSTANCE=instance), PORT, nap.yaml's
// env but for the names config vars set (docker's -e would win over them),
// the operator's env_dir file, the config vars' file, memory and CPU
// shares.
func envArgs(cfg *Config, rel Release, proc string, primary int, instance string) []string {
	op, app := &cfg.Operator, &cfg.App
	words := []string{"-e", "NAP_APP=" + rel.App, "-e", "NAP_PROCESS=" + proc, "-e", "NAP_RELEASE=" + rel.Rev, "-e", "NAP_INSTANCE=" + instance}
	if _, set := app.Env["PORT"]; !set && primary != 0 {
		words = append(words, "-e", "PORT="+strconv.Itoa(primary))
	}
	keys := make([]string, 0, len(app.Env))
	for k := range app.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(rel.ConfigKeys, k) {
			words = append(words, "-e", k+"="+app.Env[k])
		}
	}
	if op.EnvDir != "" {
		words = append(words, "--env-file", path.Join(op.EnvDir, rel.App+".env"))
	}
	if rel.ConfigFile != "" {
		words = append(words, "--env-file", rel.ConfigFile)
	}
	if app.Memory > 0 {
		words = append(words, "--memory", FormatSize(app.Memory))
	}
	if app.CPUShares > 0 {
		words = append(words, "--cpu-shares", strconv.Itoa(app.CPUShares))
	}
	return words
}

// OneOff is the docker command line (after the docker binary) of a
// one-off container of rel named name (`nap-render run APP -- CMD…`):
// the web process's environment and limits, NAP_INSTANCE=run, stdin kept
// open and no terminal, removed when it exits; cmd replaces the image's
// CMD as a process's command does.
func OneOff(img *dockerfile.Image, cfg *Config, rel Release, name string, cmd []string) ([]string, error) {
	if err := checkConfigRef(rel); err != nil {
		return nil, err
	}
	if len(cmd) == 0 {
		return nil, errors.New("run: give the command after --")
	}
	argv := append([]string{"run", "--rm", "-i", "--name", name}, envArgs(cfg, rel, "run", 0, "run")...)
	return append(argv, runArgs(img, Image(cfg, rel), cmd)...), nil
}

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
	for _, w := range envArgs(cfg, rel, pr.name, pr.primary, instanceMark) {
		if w == "NAP_INSTANCE="+instanceMark {
			words = append(words, unit.Cat(lit("NAP_INSTANCE="), unit.Spec(unit.Instance)))
		} else {
			words = append(words, lit(w))
		}
	}
	if rel.ConfigKey != "" {
		words = append(words, lit("--env-file"), configFetched())
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
	svc := f.Section("Service").
		Add("Restart", lit("on-failure")).
		Add("RestartSec", lit(restartDelay)).
		Add("TimeoutStartSec", lit(startTimeout)).
		Add("TimeoutStopSec", lit(stopTimeout)).
		Add("SuccessExitStatus", lit(success)).
		AddRaw("ExecStartPre", unit.ExecWords(unit.IgnoreFailure, lit(op.Docker), lit("rm"), lit("-f"), name)).
		// "-": an instance restarts from its local image while the registry
		// is down (a crash, a docker restart, a reboot); a missing image
		// still fails at docker run.
		AddRaw("ExecStartPre", unit.ExecWords(unit.IgnoreFailure, lit(op.Docker), lit("pull"), lit(image)))
	if rel.ConfigKey != "" {
		// The config vars come from etcd onto this machine (0600, root's)
		// for this start only; the unit names the key, never a value.
		d := op.Discovery
		svc.AddRaw("ExecStartPre", unit.ExecWords(0, lit(op.NapRender), lit("config-fetch"), lit("--etcd"), lit(d.Etcd),
			lit("--endpoints"), lit(strings.Join(d.Endpoints, ",")), lit("--key"), lit(rel.ConfigKey), lit("--out"), configFetched()))
	}
	svc.AddRaw("ExecStart", unit.ExecWords(0, words...)).
		AddRaw("ExecStop", unit.ExecWords(0, lit(op.Docker), lit("stop"), name))
	if rel.ConfigKey != "" {
		svc.AddRaw("ExecStopPost", unit.ExecWords(unit.IgnoreFailure, lit("/bin/rm"), lit("-f"), configFetched()))
	}
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
