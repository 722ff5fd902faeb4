package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nap-paas/nap/deploy"
)

// defaultConfig is where the operator's config lives; a missing file at
// this default path means all defaults, a missing --config file is an error.
const defaultConfig = "/etc/nap/config.yaml"

// deployFlags are the flags deploy, rollback, destroy, status and plan share.
type deployFlags struct {
	config      string
	toolTimeout time.Duration
}

func (f *deployFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "operator config (default "+defaultConfig+")")
	fs.DurationVar(&f.toolTimeout, "tool-timeout", 0, "bound on each systemctl/fleetctl call (default 1m)")
}

// deployer builds the library's Deployer from the flags.
func (f *deployFlags) deployer(stdout io.Writer) (*deploy.Deployer, error) {
	path, explicit := f.config, f.config != ""
	if !explicit {
		path = defaultConfig
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			b = nil
		} else {
			return nil, &exitError{exitEnv, err}
		}
	}
	d := &deploy.Deployer{Operator: b, Out: stdout, ToolTimeout: f.toolTimeout}
	if self, err := selfPath(); err == nil && standalone {
		d.Guard = []string{self, "reconcile", "--wait"}
		if explicit {
			d.Guard = append(d.Guard, "--config", path)
		}
	}
	return d, nil
}

// parseInterspersed parses flags placed anywhere ("deploy APP --rev REV")
// and returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &exitError{exitOK, errors.New("")}
			}
			return nil, &exitError{exitUsage, errors.New("")}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// deployErr maps a deploy error to its exit code: a wrong input or failed
// build is 1, an environment failure (or a held lock) 3.
func deployErr(err error) error {
	if err == nil {
		return nil
	}
	if deploy.KindOf(err) == deploy.KindInput {
		return &exitError{exitInput, err}
	}
	return &exitError{exitEnv, err}
}

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nap-render %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}
