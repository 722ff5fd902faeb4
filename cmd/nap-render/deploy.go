package main

import (
	"cmp"
	"context"
	"flag"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/render"
)

func init() {
	commands["deploy"] = &cli.Command{
		Synopsis: "APP --rev REV [--git-dir DIR] | deploy [APPDIR]",
		Summary:  "deploy APP --rev REV (in a bare repo) or deploy [APPDIR]: build, start, switch",
		Args:     [2]int{0, 1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			rev := fs.String("rev", "", "full commit id to deploy (bare-repo form)")
			gitDir := fs.String("git-dir", "", "the app's repository (default: $GIT_DIR, or the current directory)")
			return func(c *cli.Call, d *deploy.Deployer) error {
				d.Env = os.Environ()
				if *rev == "" {
					return d.DeployWorkTree(context.Background(), first(c.Args))
				} else if len(c.Args) != 1 {
					return usageErr("deploy --rev REV needs the APP name")
				}
				return d.Deploy(context.Background(), c.Args[0], *gitDir, *rev)
			}
		}),
	}
	commands["rollback"] = &cli.Command{
		Synopsis: "APP [REV]",
		Summary:  "rollback APP [REV]: make a stored release current again, without a build",
		Args:     [2]int{1, 2},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			return func(c *cli.Call, d *deploy.Deployer) error {
				return d.Rollback(context.Background(), c.Args[0], append(c.Args, "")[1])
			}
		}),
	}
	commands["destroy"] = &cli.Command{
		Synopsis: "APP [--confirm APP]",
		Summary:  "destroy APP: remove every unit, container, announcement and release of APP",
		Args:     [2]int{1, 1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			confirm := fs.String("confirm", "", "the app's name again (over ssh it is required)")
			return func(c *cli.Call, d *deploy.Deployer) error {
				if *confirm != "" && *confirm != c.Args[0] {
					return usageErr("--confirm %q is not %s: nothing destroyed", *confirm, c.Args[0])
				}
				return d.Destroy(context.Background(), c.Args[0])
			}
		}),
	}
	commands["restart"] = &cli.Command{
		Synopsis: "APP [PROCESS]",
		Summary:  "restart APP [PROCESS]: restart the running instances one at a time",
		Args:     [2]int{1, 2},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			return func(c *cli.Call, d *deploy.Deployer) error {
				return d.Restart(context.Background(), c.Args[0], append(c.Args, "")[1])
			}
		}),
	}
	commands["apps"] = &cli.Command{
		Synopsis: "[--json] [--for USER]",
		Summary:  "apps: the apps, their running release and URL",
		Args:     [2]int{0, 0},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			asJSON := fs.Bool("json", false, "print JSON")
			user := fs.String("for", "", "only the apps USER owns or was granted")
			return func(c *cli.Call, d *deploy.Deployer) error {
				apps, err := d.AppList(*user)
				if err != nil || *asJSON {
					return cmp.Or(err, writeJSON(c, apps))
				}
				return deploy.WriteApps(c.Stdout, apps)
			}
		}),
	}
	commands["config"] = &cli.Command{
		Synopsis: "APP [--json]",
		Summary:  "config APP: the app's config vars (config:set), NAME=VALUE",
		Args:     [2]int{1, 1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			asJSON := fs.Bool("json", false, "print JSON")
			return func(c *cli.Call, d *deploy.Deployer) error {
				vars, err := d.Config(c.Args[0])
				if err != nil || *asJSON {
					return cmp.Or(err, writeJSON(c, vars))
				}
				_, err = c.Stdout.Write(render.EnvFile(vars))
				return err
			}
		}),
	}
	commands["config:set"] = &cli.Command{
		Synopsis: "APP NAME=VALUE… | APP NAME - (the value on stdin)",
		Summary:  "config:set APP NAME=VALUE…: set config vars, released at once blue/green",
		Help: `Sets config vars of APP and deploys its running revision with them as a new
release (R-N), blue/green; rollback brings the earlier vars back with the earlier
release. "NAME -" reads the value from stdin (one trailing newline dropped):
command lines are logged by shells, sshd and gitolite, stdin is not. Values
never appear in a unit, a log line or a push.`,
		Args: [2]int{2, -1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			return func(c *cli.Call, d *deploy.Deployer) error {
				set, stdinName, err := render.ParseConfigArgs(c.Args[1:])
				if err != nil {
					return usageErr("%v", err)
				}
				if stdinName != "" {
					b, err := io.ReadAll(io.LimitReader(os.Stdin, render.MaxConfigValue+2))
					if err != nil {
						return err
					}
					set[stdinName] = strings.TrimSuffix(string(b), "\n")
				}
				return d.SetConfig(context.Background(), c.Args[0], set, nil)
			}
		}),
	}
	commands["config:unset"] = &cli.Command{
		Synopsis: "APP NAME…",
		Summary:  "config:unset APP NAME…: remove config vars, released at once blue/green",
		Args:     [2]int{2, -1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			return func(c *cli.Call, d *deploy.Deployer) error {
				return d.SetConfig(context.Background(), c.Args[0], nil, c.Args[1:])
			}
		}),
	}
	commands["config-fetch"] = &cli.Command{
		Synopsis: "--etcd v2|v3 --endpoints URL[,URL…] --key KEY --out FILE",
		Summary:  "config-fetch: a fleet run unit's config vars from etcd into FILE (0600; run by the unit)",
		Args:     [2]int{0, 0},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			api := fs.String("etcd", "v2", "etcd's API: v2 or v3")
			endpoints := fs.String("endpoints", "http://127.0.0.1:2379", "etcd's client URLs, comma-separated")
			key := fs.String("key", "", "the key")
			out := fs.String("out", "", "the file written")
			return func(c *cli.Call) error {
				if *key == "" || !filepath.IsAbs(*out) || (*api != "v2" && *api != "v3") {
					return usageErr("give --etcd v2|v3, --key and an absolute --out")
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				d := render.Discovery{Etcd: *api, Endpoints: strings.Split(*endpoints, ",")}
				return envErr(deploy.FetchConfig(ctx, d.Client(), *key, *out))
			}
		},
	}
	commands["run"] = &cli.Command{
		Synopsis: "APP -- CMD…",
		Summary:  "run APP -- CMD…: a one-off container of the running release; its exit code is run's",
		Help: `Runs CMD in a one-off container of APP's running release on this host: its
image, the web process's environment with the config vars, its memory and CPU
limits. stdin and stdout are streams (no terminal); the container is removed
when it exits, or when run is interrupted.`,
		Args: [2]int{2, -1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			return func(c *cli.Call, d *deploy.Deployer) error {
				ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
				defer stop()
				code, err := d.Run(ctx, c.Args[0], c.Args[1:], os.Stdin, c.Stdout, c.Stderr)
				if err == nil && code != 0 {
					err = cli.Silent(code)
				}
				return err
			}
		}),
	}
	commands["logs"] = &cli.Command{
		Synopsis: "APP [-f] [-n N] [--process P]",
		Summary:  "logs APP: the journals of the running instances, merged (web.1 | …)",
		Help: `Prints the last N entries (default 100) of every instance of APP's running
release, in time order, each prefixed with its instance. -f then follows them
until interrupted, or until the client goes away (over ssh: stdin closed, or a
write that fails).`,
		Args: [2]int{1, 1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			var o deploy.LogOptions
			fs.BoolVar(&o.Follow, "f", false, "follow")
			fs.IntVar(&o.Lines, "n", 100, "entries shown first")
			fs.StringVar(&o.Process, "process", "", "one process's instances only")
			return func(c *cli.Call, d *deploy.Deployer) error {
				if o.Lines < 0 {
					return usageErr("-n %d: give 0 or more", o.Lines)
				}
				ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
				defer stop()
				if o.Follow {
					var cancel context.CancelFunc
					ctx, cancel = untilClientGone(ctx)
					defer cancel()
				}
				return d.Logs(ctx, c.Args[0], o, c.Stdout)
			}
		}),
	}
	commands["reconcile"] = &cli.Command{
		Synopsis: "[--wait] [APP…]",
		Summary:  "reconcile [--wait] [APP…]: finish or undo what a killed deploy or rollback left (every app: at boot)",
		Args:     [2]int{0, -1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			wait := fs.Bool("wait", false, "wait for a running deploy of the app to end first (what a deploy's guard does)")
			return func(c *cli.Call, d *deploy.Deployer) error {
				return d.ReconcileAll(context.Background(), c.Args, *wait)
			}
		}),
	}
	commands["plan"] = &cli.Command{
		Synopsis: "APP [--rev REV] [--git-dir DIR]",
		Summary:  "plan APP [--rev REV]: what the scheduler holds vs what deploy would submit; exit 4 when changes are pending",
		Args:     [2]int{1, 1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			rev := fs.String("rev", "", "revision to plan (default: the current release)")
			gitDir := fs.String("git-dir", "", "the app's repository (default: $GIT_DIR, or the current directory)")
			return func(c *cli.Call, d *deploy.Deployer) error {
				p, err := d.Plan(context.Background(), c.Args[0], *gitDir, *rev)
				if err != nil {
					return err
				}
				if err := p.WriteText(c.Stdout); err != nil || !p.Pending() {
					return err
				}
				return cli.Silent(exitPending)
			}
		}),
	}
	commands["status"] = &cli.Command{
		Synopsis: "APP [--json]",
		Summary:  "status APP [--json]: releases, units and their states, endpoints",
		Args:     [2]int{1, 1},
		Setup: deployer(func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error {
			asJSON := fs.Bool("json", false, "print JSON")
			return func(c *cli.Call, d *deploy.Deployer) error {
				d.Out = c.Stderr // progress lines (a reconcile) stay out of the report
				st, err := d.Status(context.Background(), c.Args[0])
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(c, st)
				}
				return st.WriteText(c.Stdout)
			}
		}),
	}
}

// deployer is the setup of a command that drives a deploy.Deployer: the
// flags every such command has, then the command's own.
func deployer(setup func(fs *flag.FlagSet) func(*cli.Call, *deploy.Deployer) error) func(*flag.FlagSet) func(*cli.Call) error {
	return func(fs *flag.FlagSet) func(*cli.Call) error {
		config := fs.String("config", "", "operator config (default "+deploy.DefaultConfig+")")
		timeout := fs.Duration("tool-timeout", 0, "bound on each systemctl/fleetctl call (default 1m)")
		do := setup(fs)
		return func(c *cli.Call) error {
			d, err := newDeployer(*config, *timeout, c.Stdout)
			if err != nil {
				return err
			}
			return do(c, d)
		}
	}
}

func newDeployer(config string, timeout time.Duration, out io.Writer) (*deploy.Deployer, error) {
	op, err := deploy.LoadOperator(config)
	if err != nil {
		return nil, err
	}
	d := &deploy.Deployer{Operator: op, Out: out, ToolTimeout: timeout}
	if self, err := selfPath(); err == nil && standalone {
		d.Guard = []string{self, "reconcile", "--wait"}
		if config != "" {
			d.Guard = append(d.Guard, "--config", config)
		}
	}
	return d, nil
}

// selfPath is this binary's absolute path with symlinks resolved, as hooks,
// units and authorized_keys must name it.
func selfPath() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

// untilClientGone ends ctx when the client goes away: over ssh without a
// pty stdin is a pipe that closes with the connection (a terminal is
// left alone), and a write to a closed stdout fails instead of killing
// the process with SIGPIPE, so the follow ends and its tools are stopped.
func untilClientGone(ctx context.Context) (context.Context, context.CancelFunc) {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(ctx)
	if st, err := os.Stdin.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
	}
	return ctx, cancel
}
