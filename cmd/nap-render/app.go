package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/source"
	"github.com/nap-paas/nap/unit"
)

func init() {
	commands["render"] = &cli.Command{
		Synopsis: "[flags] [APPDIR]",
		Summary:  "write the units of an app's release",
		Help: `Writes the units of one release of the app in APPDIR (default "."): the build unit,
and per process its run unit and, when it publishes ports, its discovery unit.
Without -o, each file goes to stdout as "### NAME" and its bytes.`,
		Args: [2]int{0, 1},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			a := appFlags{}
			a.define(fs, true)
			out := fs.String("o", "", "write the units into `DIR`, replacing it as a whole (atomically)")
			return func(c *cli.Call) error { return runRender(c, &a, *out) }
		},
	}
	commands["check"] = &cli.Command{
		Synopsis: "[flags] [APPDIR] | check APP --rev REV (in a bare repository: the tree of REV)",
		Summary:  "check an app's Dockerfile and nap.yaml without writing anything",
		Help: `Checks what render would refuse: exit 0 when the app can be deployed, 1 with
file:line and what to do when it cannot. Warnings (data in a VOLUME is lost on
redeploy, an external base image's settings are known only after the build, ...)
go to stderr and do not change the exit code.`,
		Args: [2]int{0, 1},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			a := appFlags{}
			a.define(fs, true)
			return func(c *cli.Call) error { return runCheck(c, &a) }
		},
	}
	commands["inspect"] = &cli.Command{
		Synopsis: "[flags] [APPDIR]",
		Summary:  "print the Dockerfile model of an app as JSON",
		Help: `Prints what nap reads from the app's Dockerfile (the stage that would be
built, with nap.yaml's dockerfile, stage and build_args) as JSON.`,
		Args: [2]int{0, 1},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			a := appFlags{}
			a.define(fs, false)
			return func(c *cli.Call) error {
				a.opts.Dir, a.opts.Overrides.BuildArgs = first(c.Args), a.buildArgs
				_, img, err := source.LoadImage(render.DefaultOperator(), a.opts.Dir, a.opts.NapFile, a.opts.Overrides)
				if err != nil {
					return err
				}
				return writeJSON(c, img)
			}
		},
	}
}

// appFlags are the flags render, check and inspect share.
type appFlags struct {
	opts      source.AppOptions
	target    string
	config    string
	buildArgs cli.KeyValues
}

func (a *appFlags) define(fs *flag.FlagSet, release bool) {
	if release {
		fs.StringVar(&a.opts.App, "app", "", "app name (default: APPDIR's directory name)")
		fs.StringVar(&a.opts.Rev, "rev", "", "full git revision (default: HEAD of the git work tree holding APPDIR)")
		fs.StringVar(&a.target, "target", "", "fleet or systemd (default: the operator config's target)")
		fs.StringVar(&a.config, "config", "", "operator config file (default "+deploy.DefaultConfig+", absent = defaults)")
	}
	fs.StringVar(&a.opts.Overrides.Stage, "stage", "", "Dockerfile stage to build (default: nap.yaml's stage, else the last)")
	fs.StringVar(&a.opts.NapFile, "f", "", "the app's nap.yaml (default APPDIR/nap.yaml, absent = defaults)")
	fs.Var(&a.buildArgs, "build-arg", "K=V build argument, overriding nap.yaml's build_args (repeatable)")
}

// load reads the operator config and the app in dir.
func (a *appFlags) load(dir string, needRev bool) (*source.App, error) {
	op, err := deploy.LoadOperator(a.config)
	if err != nil {
		return nil, err
	}
	a.opts.Dir, a.opts.NeedRev = dir, needRev
	a.opts.Overrides.Target, a.opts.Overrides.BuildArgs = render.Target(a.target), a.buildArgs
	return source.LoadApp(op, a.opts)
}

func runRender(c *cli.Call, a *appFlags, out string) error {
	app, err := a.load(first(c.Args), true)
	if err != nil {
		return err
	}
	files, err := render.Render(app.Image, app.Config, app.Release)
	if err != nil {
		return err
	}
	if out != "" {
		if err := unit.WriteDir(out, files); err != nil {
			return fmt.Errorf("-o %w", err)
		}
		return nil
	}
	data, err := unit.MarshalAll(files)
	if err == nil {
		_, err = c.Stdout.Write(data)
	}
	return err
}

func runCheck(c *cli.Call, a *appFlags) error {
	dir := first(c.Args)
	if st, err := os.Stat(dir); len(c.Args) == 1 && (err != nil || !st.IsDir()) {
		// check APP --rev REV: the tree of REV in this bare repository.
		if a.opts.Rev == "" {
			return usageErr("%s is not a directory: give an APPDIR, or APP --rev REV inside the app's bare repository", dir)
		}
		a.opts.App, a.opts.FromRepo = cmp.Or(a.opts.App, dir), true
	}
	app, err := a.load(dir, false)
	if err != nil {
		return err
	}
	warnings, files, err := render.CheckRelease(app.Image, app.Config, app.Release)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(c.Stderr, "warning: "+w)
	}
	fmt.Fprintf(c.Stdout, "%s: ok (%d units)\n", app.Release.App, len(files))
	return nil
}
