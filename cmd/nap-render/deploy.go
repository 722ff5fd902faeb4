package main

import (
	"context"
	"errors"
	"github.com/nap-paas/nap/source"
	"io"
	"os"
	"path/filepath"
)

func init() {
	register("deploy", command{
		summary: "deploy APP --rev REV (in a bare repo) or deploy [APPDIR]: build, start, switch",
		run:     runDeploy,
	})
}

func runDeploy(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("deploy", "deploy APP --rev REV [--git-dir DIR] [--config F] | deploy [APPDIR]", stderr)
	var df deployFlags
	df.register(fs)
	rev := fs.String("rev", "", "full commit id to deploy (bare-repo form)")
	gitDir := fs.String("git-dir", "", "the app's repository (default: $GIT_DIR, or the current directory)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr("deploy takes one APP or APPDIR, got %d arguments", len(pos))
	}
	var app string
	if *rev != "" {
		if len(pos) != 1 {
			return usageErr("deploy --rev REV needs the APP name")
		}
		app = pos[0]
	} else {
		// deploy [APPDIR]: the app is the directory's name, REV its HEAD.
		dir := "."
		if len(pos) == 1 {
			dir = pos[0]
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return usageErr("%v", err)
		}
		app = filepath.Base(abs)
		if *gitDir, *rev, err = source.WorkTree(abs); err != nil {
			if errors.Is(err, source.ErrNoHead) {
				return usageErr("%v", err)
			}
			return &exitError{exitEnv, err}
		}
	}
	d, err := df.deployer(stdout)
	if err != nil {
		return err
	}
	d.Env = os.Environ()
	return deployErr(d.Deploy(context.Background(), app, *gitDir, *rev))
}
