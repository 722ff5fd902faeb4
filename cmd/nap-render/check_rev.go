package main

import (
	"context"
	"fmt"
	"io"
)

// checkRev is `check APP --rev REV`: the bare-repository form of check,
// rendering the tree of REV. check.go (owned by the render work) dispatches
// here when --rev is given with an APP name; until it does, the form is
// registered as its own command, check-rev.
func checkRev(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", "check APP --rev REV [--git-dir DIR] [--config F]", stderr)
	var df deployFlags
	df.register(fs)
	rev := fs.String("rev", "", "full commit id to check")
	gitDir := fs.String("git-dir", "", "the app's repository (default: $GIT_DIR, or the current directory)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *rev == "" {
		return usageErr("check APP --rev REV")
	}
	d, err := df.deployer(stdout)
	if err != nil {
		return err
	}
	files, _, err := d.RenderRev(context.Background(), pos[0], *gitDir, *rev)
	if err != nil {
		return deployErr(err)
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "ok %s\n", f.Name)
	}
	return nil
}

func init() {
	register("check-rev", command{
		summary: "check-rev APP --rev REV: check the tree of REV in a bare repo (check APP --rev REV)",
		run:     checkRev,
	})
}
