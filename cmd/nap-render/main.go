// Command nap-render renders, checks and deploys nap apps. It holds flags,
// messages and exit codes only; the work is done by nap's packages.
package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/hooks"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/source"
	"github.com/nap-paas/nap/unit"
)

// Exit codes of DESIGN.md.
const (
	exitInput   = 1 // the input is wrong (file:line), or a build failed
	exitUsage   = cli.ExitUsage
	exitEnv     = 3 // the environment failed: a tool missing, failing or timing out; a deploy already running
	exitPending = 4 // plan: changes pending
)

var commands = map[string]*cli.Command{}

// standalone is set when this process is the nap-render binary itself, not
// a test calling run: a deploy's guard runs this executable again, which
// only the binary may do.
var standalone bool

func main() {
	standalone = true
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	p := cli.Program{Name: "nap-render", Commands: commands, ExitCode: exitCode}
	return p.Run(args, stdout, stderr)
}

// exitCode says whose fault err is: the input's (1), the caller's (2) or
// the environment's (3), from the types nap's packages return.
func exitCode(err error) int {
	var (
		oe *source.OptionError
		de *deploy.Error
		re *hooks.RequestError
		ue *unit.Error
	)
	switch {
	case errors.As(err, &oe), errors.Is(err, source.ErrNoHead):
		return exitUsage
	case errors.As(err, &de) && de.Kind == deploy.KindInput, source.IsTreeFault(err),
		errors.As(err, &re), errors.As(err, &ue), errors.Is(err, unit.ErrNotUnitDir):
		return exitInput
	}
	return exitEnv // a deploy.Error of KindEnv, or any failure of the machine
}

var usageErr = cli.Usagef

func envErr(err error) error { return cli.Exit(exitEnv, err) }

// opt is a flag of a command.
func opt(name string, value any, usage string) cli.Flag {
	return cli.Flag{Name: name, Value: value, Usage: usage}
}

// configPath is --config made absolute, for what runs nap-render again
// elsewhere; "" is the default.
func configPath(c *cli.Call) string {
	p := c.String("config")
	if a, err := filepath.Abs(p); err == nil && p != "" {
		return a
	}
	return p
}

// configArgs passes --config on to what runs nap-render again.
func configArgs(c *cli.Call) []string {
	if p := configPath(c); p != "" {
		return []string{"--config", p}
	}
	return nil
}

// writeUnits writes files as "### NAME" and each one's bytes.
func writeUnits(c *cli.Call, files []*unit.File) error {
	data, err := unit.MarshalAll(files)
	if err == nil {
		_, err = c.Stdout.Write(data)
	}
	return err
}
