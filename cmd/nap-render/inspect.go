package main

import (
	"encoding/json"
	"flag"
	"io"

	"github.com/nap-paas/nap/render"
)

func init() {
	register("inspect", command{"print the Dockerfile model of an app as JSON", runInspect})
}

const inspectUsage = `usage: nap-render inspect [flags] [APPDIR]

Prints what nap reads from the app's Dockerfile (the stage that would be
built, with nap.yaml's dockerfile, stage and build_args) as JSON.

flags:
`

func runInspect(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("inspect", flag.ContinueOnError)
	var a appFlags
	flags.StringVar(&a.stage, "stage", "", "Dockerfile stage (default: nap.yaml's stage, else the last)")
	flags.StringVar(&a.napFile, "f", "", "the app's nap.yaml (default APPDIR/nap.yaml)")
	flags.Var(&a.buildArgs, "build-arg", "K=V build argument (repeatable)")
	pos, err := parseArgs(flags, inspectUsage, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr("one APPDIR at most, got %q", pos)
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	tree, cfg, err := a.openApp(render.DefaultOperator(), dir)
	if err != nil {
		return err
	}
	defer tree.Close()
	if err := cfg.Apply(render.Overrides{Stage: a.stage, BuildArgs: a.buildArgs}); err != nil {
		return &exitError{exitUsage, err}
	}
	img, err := tree.Image(cfg)
	if err != nil {
		return treeErr(err)
	}
	b, err := json.MarshalIndent(img, "", "  ")
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}
