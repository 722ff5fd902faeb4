package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nap-paas/nap/deploy"
)

// deployFlags are the flags deploy, rollback, destroy, status and plan share.
type deployFlags struct {
	config      string
	toolTimeout time.Duration
}

func (f *deployFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "operator config (default "+deploy.DefaultConfig+")")
	fs.DurationVar(&f.toolTimeout, "tool-timeout", 0, "bound on each systemctl/fleetctl call (default 1m)")
}

// deployer builds the library's Deployer from the flags.
func (f *deployFlags) deployer(stdout io.Writer) (*deploy.Deployer, error) {
	op, err := readOperator(f.config)
	if err != nil {
		return nil, err
	}
	d := &deploy.Deployer{Operator: op, Out: stdout, ToolTimeout: f.toolTimeout}
	if self, err := selfPath(); err == nil && standalone {
		d.Guard = []string{self, "reconcile", "--wait"}
		if f.config != "" {
			d.Guard = append(d.Guard, "--config", f.config)
		}
	}
	return d, nil
}

// parseFlags is every command's one rule: flags may stand anywhere among
// the positional arguments ("deploy APP --rev REV"), and "--" ends them
// (everything after it is positional, whatever it looks like). -h is a
// successful exit after the usage text; a wrong flag exit 2 after it.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &exitError{exitOK, errors.New("")}
			}
			return nil, &exitError{exitUsage, errors.New("")} // flag printed the reason and the usage
		}
		if fs.NArg() == 0 {
			return append(pos, rest...), nil
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
