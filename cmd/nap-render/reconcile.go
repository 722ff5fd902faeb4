package main

import (
	"context"
	"errors"
	"io"

	"github.com/nap-paas/nap/render"
)

func init() {
	register("reconcile", command{
		summary: "reconcile [--wait] [APP…]: finish or undo what a killed deploy or rollback left (every app: at boot)",
		run:     runReconcile,
	})
}

func runReconcile(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reconcile", "reconcile [--wait] [--config F] [APP…]", stderr)
	var df deployFlags
	df.register(fs)
	wait := fs.Bool("wait", false, "wait for a running deploy of the app to end first (what a deploy's guard does)")
	apps, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	d, err := df.deployer(stdout)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		if apps, err = d.Apps(); err != nil {
			return deployErr(err)
		}
	}
	var first error
	for _, app := range apps {
		if err := render.ValidApp(app); err != nil {
			return usageErr("%v", err)
		}
		if err := d.Reconcile(context.Background(), app, *wait); err != nil {
			first = errors.Join(first, err)
		}
	}
	if first != nil {
		return deployErr(first)
	}
	return nil
}
