package main

import (
	"cmp"
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/hooks"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/render"
)

var (
	configFlag = opt("config", "", "operator config (default "+deploy.DefaultConfig+")")
	revFlag    = opt("rev", "", "full commit id")
	gitDirFlag = opt("git-dir", "", "the app's repository (default: $GIT_DIR, or the current directory)")
)

func init() {
	for _, a := range hooks.AppCommands {
		if a.OnHost() {
			commands[a.Name] = &cli.Command{Synopsis: a.Synopsis(), Summary: a.Summary, Help: a.Help, Args: a.Args,
				Flags: deployerFlags(a.Flags()...), Run: withDeployer(a.Host)}
		}
	}
	commands["deploy"] = &cli.Command{
		Synopsis: "APP --rev REV [--git-dir DIR] | deploy [APPDIR]",
		Summary:  "deploy APP --rev REV (in a bare repo) or deploy [APPDIR]: build, start, switch",
		Args:     [2]int{0, 1},
		Flags:    deployerFlags(revFlag, gitDirFlag),
		Run: withDeployer(func(c *cli.Call, d *deploy.Deployer) error {
			d.Env = os.Environ()
			if c.String("rev") == "" {
				return d.DeployWorkTree(context.Background(), cmp.Or(c.Arg(0), "."))
			} else if len(c.Args) != 1 {
				return usageErr("deploy --rev REV needs the APP name")
			}
			return d.Deploy(context.Background(), c.Args[0], c.String("git-dir"), c.String("rev"))
		}),
	}
	commands["config-fetch"] = &cli.Command{
		Synopsis: "--etcd v2|v3 --endpoints URL[,URL…] --key KEY --out FILE",
		Summary:  "config-fetch: a fleet run unit's config vars from etcd into FILE (0600; run by the unit)",
		Flags: []cli.Flag{opt("etcd", "v2", "etcd's API: v2 or v3"), opt("endpoints", "http://127.0.0.1:2379", "etcd's client URLs, comma-separated"),
			opt("key", "", "the key"), opt("out", "", "the file written")},
		Run: func(c *cli.Call) error {
			d := render.Discovery{Etcd: c.String("etcd"), Endpoints: strings.Split(c.String("endpoints"), ",")}
			return deploy.FetchConfig(context.Background(), d, c.String("key"), c.String("out"))
		},
	}
	commands["reconcile"] = &cli.Command{
		Synopsis: "[--wait] [APP…]",
		Summary:  "reconcile [--wait] [APP…]: finish or undo what a killed deploy or rollback left (every app: at boot)",
		Args:     [2]int{0, -1},
		Flags:    deployerFlags(opt("wait", false, "wait for a running deploy of the app to end first (what a deploy's guard does)")),
		Run: withDeployer(func(c *cli.Call, d *deploy.Deployer) error {
			return d.ReconcileAll(context.Background(), c.Args, c.Bool("wait"))
		}),
	}
	commands["plan"] = &cli.Command{
		Synopsis: "APP [--rev REV] [--git-dir DIR]",
		Summary:  "plan APP [--rev REV]: what the scheduler holds vs what deploy would submit; exit 4 when changes are pending",
		Args:     [2]int{1, 1},
		Flags:    deployerFlags(revFlag, gitDirFlag),
		Run: withDeployer(func(c *cli.Call, d *deploy.Deployer) error {
			p, err := d.Plan(context.Background(), c.Args[0], c.String("git-dir"), c.String("rev"))
			if err != nil {
				return err
			}
			if err := p.WriteText(c.Stdout); err != nil || !p.Pending() {
				return err
			}
			return cli.Silent(exitPending)
		}),
	}
}

// deployerFlags are the flags of a command that drives a deploy.Deployer,
// then the command's own.
func deployerFlags(own ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{configFlag, opt("tool-timeout", time.Duration(0), "bound on each systemctl/fleetctl call (default 1m)")}, own...)
}

// withDeployer runs a command with the deploy.Deployer its flags make.
func withDeployer(run func(*cli.Call, *deploy.Deployer) error) func(*cli.Call) error {
	return func(c *cli.Call) error {
		d, err := newDeployer(c.String("config"), c.Duration("tool-timeout"), c.Stdout)
		if err != nil {
			return err
		}
		return run(c, d)
	}
}

// newDeployer is the Deployer of the operator config; a deploy's guard
// runs this binary again (reconcile --wait).
func newDeployer(config string, timeout time.Duration, out io.Writer) (*deploy.Deployer, error) {
	op, err := deploy.LoadOperator(config)
	if err != nil {
		return nil, err
	}
	d := &deploy.Deployer{Operator: op, Out: out, ToolTimeout: timeout}
	if self, err := cli.Executable(); err == nil && standalone {
		d.Guard = []string{self, "reconcile", "--wait"}
		if config != "" {
			d.Guard = append(d.Guard, "--config", config)
		}
	}
	return d, nil
}
