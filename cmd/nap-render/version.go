package main

import (
	"cmp"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/nap-paas/nap/internal/cli"
)

func init() {
	commands["version"] = &cli.Command{
		Summary: "print nap-render's version",
		Help:    "Prints nap-render's version (the revision it was built from when untagged) and the Go version.",
		Setup: func(*flag.FlagSet) func(*cli.Call) error {
			return func(c *cli.Call) error {
				_, err := fmt.Fprintf(c.Stdout, "nap-render %s %s\n", versionString(), runtime.Version())
				return err
			}
		},
	}
}

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// go build's module version is used, which holds the VCS revision (and
// "+dirty") of an untagged build.
var version = ""

func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = &debug.BuildInfo{}
	}
	return cmp.Or(version, info.Main.Version, "(unknown)")
}
