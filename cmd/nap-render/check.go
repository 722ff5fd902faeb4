package main

import (
	"flag"
	"fmt"
	"github.com/nap-paas/nap/unit"
	"io"
	"os"

	"github.com/nap-paas/nap/render"
)

func init() {
	register("check", command{"check an app's Dockerfile and nap.yaml without writing anything", runCheck})
}

const checkUsage = `usage: nap-render check [flags] [APPDIR]
       nap-render check APP --rev REV      (in a bare repository: the tree of REV)

Checks what render would refuse: exit 0 when the app can be deployed, 1 with
file:line and what to do when it cannot. Warnings (data in a VOLUME is lost
on redeploy, settings of an external base image are known only after the
build, ...) go to stderr and do not change the exit code.

flags:
`

func runCheck(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("check", flag.ContinueOnError)
	var a appFlags
	a.define(flags)
	pos, err := parseArgs(flags, checkUsage, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr("one APPDIR (or APP with --rev) at most, got %q", pos)
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			if a.rev == "" {
				return usageErr("%s is not a directory: give an APPDIR, or APP --rev REV inside the app's bare repository", dir)
			}
			if a.app == "" {
				a.app = dir
			}
			tree, cleanup, err := exportCheckTree(a.app, a.rev, a.config)
			if err != nil {
				return err
			}
			defer cleanup()
			dir = tree
		}
	}
	r, err := a.load(dir, false)
	if err != nil {
		return err
	}
	warnings, err := render.Check(r.img, r.cfg)
	if err != nil {
		return err
	}
	// Render too: it validates what Check does not, down to every unit line.
	rel := r.rel
	if !r.revSet {
		rel.Rev = "0000000000000000000000000000000000000000"
	}
	files, err := render.Render(r.img, r.cfg, rel)
	if err != nil {
		return err
	}
	if err := marshalAll(files); err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning: "+w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d units)\n", r.rel.App, len(files))
	return nil
}

// marshalAll checks that every file can be written.
func marshalAll(files []*unit.File) error {
	for _, f := range files {
		if _, err := unit.Marshal(f); err != nil {
			return err
		}
	}
	return nil
}
