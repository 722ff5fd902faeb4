package main

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/nap-paas/nap/internal/cli"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); else
// go build's module version is used: the tag, or the VCS revision (and
// "+dirty") of an untagged build.
var version = ""

func init() {
	commands["version"] = &cli.Command{
		Summary: "print nap-render's version",
		Help:    "Prints nap-render's version (the revision it was built from when untagged) and the Go version.",
		Run: func(c *cli.Call) error {
			info, _ := debug.ReadBuildInfo()
			v := version
			if info != nil {
				v = cmp.Or(v, info.Main.Version)
			}
			_, err := fmt.Fprintf(c.Stdout, "nap-render %s %s\n", cmp.Or(v, "(unknown)"), runtime.Version())
			return err
		},
	}
}
