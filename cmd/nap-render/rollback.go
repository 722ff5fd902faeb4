package main

import (
	"context"
	"io"
)

func init() {
	register("rollback", command{
		summary: "rollback APP [REV]: make a stored release current again, without a build",
		run:     runRollback,
	})
}

func runRollback(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rollback", "rollback APP [REV] [--config F]", stderr)
	var df deployFlags
	df.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageErr("rollback takes APP and an optional REV")
	}
	rev := ""
	if len(pos) == 2 {
		rev = pos[1]
	}
	d, err := df.deployer(stdout)
	if err != nil {
		return err
	}
	return deployErr(d.Rollback(context.Background(), pos[0], rev))
}
