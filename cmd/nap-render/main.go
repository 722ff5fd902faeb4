// Command nap-render renders, checks and deploys nap apps. It holds flags and
// messages only; the work is done by nap's packages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit codes of DESIGN.md.
const (
	exitOK      = 0
	exitInput   = 1 // the input is wrong (file:line), or a build failed
	exitUsage   = 2
	exitEnv     = 3 // the environment failed: a tool missing, failing or timing out; a deploy already running
	exitPending = 4 // plan: changes pending
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}

// command is one subcommand. Each lives in its own file and registers itself.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name string, c command) { commands[name] = c }

// standalone is set when this process is the nap-render binary itself, not
// a test calling run: a deploy's guard runs this executable again, which
// only the binary may do.
var standalone bool

func main() {
	standalone = true
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "nap-render: unknown command %q\n", args[0])
		printUsage(stderr)
		return exitUsage
	}
	err := c.run(args[1:], stdout, stderr)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "nap-render %s: %v\n", args[0], ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "nap-render %s: %v\n", args[0], err)
	return exitInput
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: nap-render COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'nap-render COMMAND -h' for a command's flags.")
}
