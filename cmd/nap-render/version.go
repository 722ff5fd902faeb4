package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	register("version", command{"print nap-render's version", runVersion})
}

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// the module version or the VCS revision the binary was built from is used.
var version = ""

func runVersion(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(stderr, "usage: nap-render version\n\nPrints nap-render's version, the revision it was built from and the Go version.")
			return nil
		}
		return usageErr("version takes no arguments")
	}
	fmt.Fprintf(stdout, "nap-render %s %s\n", versionString(), runtime.Version())
	return nil
}

func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" && (v == "" || v == "(devel)") {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return rev + dirty
	}
	return v
}
