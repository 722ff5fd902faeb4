package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

func init() {
	register("plan", command{
		summary: "plan APP [--rev REV]: what the scheduler holds vs what deploy would submit; exit 4 when changes are pending",
		run:     runPlan,
	})
}

func runPlan(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plan", "plan APP [--rev REV] [--git-dir DIR] [--config F]", stderr)
	var df deployFlags
	df.register(fs)
	rev := fs.String("rev", "", "revision to plan (default: the current release)")
	gitDir := fs.String("git-dir", "", "the app's repository (default: $GIT_DIR, or the current directory)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("plan takes one APP")
	}
	d, err := df.deployer(stdout)
	if err != nil {
		return err
	}
	p, err := d.Plan(context.Background(), pos[0], *gitDir, *rev)
	if err != nil {
		return deployErr(err)
	}
	fmt.Fprint(stdout, p.Diff)
	if !p.Pending() {
		fmt.Fprintln(stdout, "nothing to do")
		return nil
	}
	for _, a := range p.Actions {
		fmt.Fprintln(stdout, a)
	}
	return &exitError{exitPending, errors.New("")}
}
