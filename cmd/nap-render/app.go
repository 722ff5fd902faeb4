package main

import (
	"cmp"
	"fmt"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/source"
	"github.com/nap-paas/nap/unit"
)

// The flags render, check and inspect share: the last three inspect's.
var appFlags = []cli.Flag{
	opt("app", "", "app name (default: APPDIR's directory name)"),
	opt("rev", "", "full git revision (default: HEAD of the git work tree holding APPDIR)"),
	opt("target", "", "fleet or systemd (default: the operator config's target)"),
	opt("config", "", "operator config file (default "+deploy.DefaultConfig+", absent = defaults)"),
	opt("stage", "", "Dockerfile stage to build (default: nap.yaml's stage, else the last)"),
	opt("f", "", "the app's nap.yaml (default APPDIR/nap.yaml, absent = defaults)"),
	opt("build-arg", cli.KeyValues(nil), "K=V build argument, overriding nap.yaml's build_args (repeatable)"),
}

func init() {
	commands["render"] = &cli.Command{
		Synopsis: "[flags] [APPDIR]",
		Summary:  "write the units of an app's release",
		Help: `Writes the units of one release of the app in APPDIR (default "."): the build unit,
and per process its run unit and, when it publishes ports, its discovery unit.
Without -o, each file goes to stdout as "### NAME" and its bytes.`,
		Args:  [2]int{0, 1},
		Flags: append(appFlags, opt("o", "", "write the units into `DIR`, replacing it as a whole (atomically)")),
		Run: func(c *cli.Call) error {
			app, err := loadApp(c, releaseOptions(c, true))
			if err != nil {
				return err
			}
			files, err := render.Render(app.Image, app.Config, app.Release)
			switch {
			case err != nil:
				return err
			case c.String("o") == "":
				return writeUnits(c, files)
			}
			if err := unit.WriteDir(c.String("o"), files); err != nil {
				return fmt.Errorf("-o %w", err)
			}
			return nil
		},
	}
	commands["check"] = &cli.Command{
		Synopsis: "[flags] [APPDIR] | check APP --rev REV (in a bare repository: the tree of REV)",
		Summary:  "check an app's Dockerfile and nap.yaml without writing anything",
		Help: `Checks what render would refuse: exit 0 when the app can be deployed, 1 with
file:line and what to do when it cannot. Warnings (data in a VOLUME is lost on
redeploy, an external base image's settings are known only after the build, ...)
go to stderr and do not change the exit code.`,
		Args:  [2]int{0, 1},
		Flags: appFlags,
		Run: func(c *cli.Call) error {
			o := releaseOptions(c, false)
			o.OrRepo = len(c.Args) == 1 // check APP --rev REV
			app, err := loadApp(c, o)
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
		},
	}
	commands["inspect"] = &cli.Command{
		Synopsis: "[flags] [APPDIR]",
		Summary:  "print the Dockerfile model of an app as JSON",
		Help: `Prints what nap reads from the app's Dockerfile (the stage that would be
built, with nap.yaml's dockerfile, stage and build_args) as JSON.`,
		Args:  [2]int{0, 1},
		Flags: appFlags[len(appFlags)-3:],
		Run: func(c *cli.Call) error {
			o := appOptions(c)
			_, img, err := source.LoadImage(render.DefaultOperator(), o.Dir, o.NapFile, o.Overrides)
			if err != nil {
				return err
			}
			return cli.WriteJSON(c.Stdout, img)
		},
	}
}

// appOptions are what APPDIR and inspect's flags say of the app.
func appOptions(c *cli.Call) source.AppOptions {
	o := source.AppOptions{Dir: cmp.Or(c.Arg(0), "."), NapFile: c.String("f")}
	o.Overrides.Stage, o.Overrides.BuildArgs = c.String("stage"), c.KeyValues("build-arg")
	return o
}

// releaseOptions add what render's and check's flags say of the release.
func releaseOptions(c *cli.Call, needRev bool) source.AppOptions {
	o := appOptions(c)
	o.App, o.Rev, o.NeedRev, o.Overrides.Target = c.String("app"), c.String("rev"), needRev, render.Target(c.String("target"))
	return o
}

// loadApp reads the operator config and the app.
func loadApp(c *cli.Call, o source.AppOptions) (*source.App, error) {
	op, err := deploy.LoadOperator(c.String("config"))
	if err != nil {
		return nil, err
	}
	return source.LoadApp(op, o)
}
