package main

import (
	"context"
	"io"
)

func init() {
	register("destroy", command{
		summary: "destroy APP: remove every unit, container, announcement and release of APP",
		run:     runDestroy,
	})
}

func runDestroy(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("destroy", "destroy APP [--config F]", stderr)
	var df deployFlags
	df.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("destroy takes one APP")
	}
	d, err := df.deployer(stdout)
	if err != nil {
		return err
	}
	return deployErr(d.Destroy(context.Background(), pos[0]))
}
