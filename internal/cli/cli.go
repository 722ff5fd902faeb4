// Package cli runs a program of subcommands with the standard flag
// package: one rule for flags (anywhere among the arguments, "--" ends
// them), usage texts made from each command's synopsis and flags, and
// errors that carry their exit code. It knows nothing of nap.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ExitUsage is the exit code of a wrong command line.
const ExitUsage = 2

// ExitError gives Err an exit code; an empty message is not printed (it
// was said already).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Exit gives err the exit code; nil stays nil.
func Exit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{code, err}
}

// Usagef is a wrong command line: exit 2 with the message.
func Usagef(format string, a ...any) error { return Exit(ExitUsage, fmt.Errorf(format, a...)) }

// Silent is an exit code whose reason was said already.
func Silent(code int) error { return &ExitError{code, errors.New("")} }

// Command is one subcommand.
type Command struct {
	Synopsis string // after "PROGRAM NAME "
	Summary  string // one line in the program's usage
	Help     string // optional, after the synopsis in -h
	Args     [2]int // positional arguments: at least, at most (-1: any)
	// Setup defines the command's flags on a fresh FlagSet and returns
	// what runs once they are parsed.
	Setup func(fs *flag.FlagSet) func(*Call) error
}

// Call is one run of a command.
type Call struct {
	Args           []string // positional
	Stdout, Stderr io.Writer
}

// Program is a set of commands.
type Program struct {
	Name     string
	Commands map[string]*Command
	// ExitCode gives an error that is no *ExitError its exit code.
	ExitCode func(error) int
}

// Run runs the command args names and returns the exit code, after the
// error's message (prefixed with the program's and the command's name).
func (p *Program) Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		p.usage(stderr)
		if len(args) == 0 {
			return ExitUsage
		}
		return 0
	}
	c, ok := p.Commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n", p.Name, args[0])
		p.usage(stderr)
		return ExitUsage
	}
	err := c.run(p.Name+" "+args[0], args[1:], stdout, stderr)
	if err == nil {
		return 0
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "%s %s: %s\n", p.Name, args[0], msg)
	}
	if ee := (*ExitError)(nil); errors.As(err, &ee) {
		return ee.Code
	}
	return p.ExitCode(err)
}

func (c *Command) run(name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s %s\n", name, c.Synopsis)
		if c.Help != "" {
			fmt.Fprintf(stderr, "\n%s\n", c.Help)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	do := c.Setup(fs)
	pos, err := ParseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < c.Args[0] || (c.Args[1] >= 0 && len(pos) > c.Args[1]) {
		return Usagef("want %s, got %d argument(s)", c.Synopsis, len(pos))
	}
	return do(&Call{pos, stdout, stderr})
}

// ParseFlags is the one rule: flags may stand anywhere among the
// positional arguments ("deploy APP --rev REV"), and "--" ends them
// (everything after it is positional, whatever it looks like). -h is a
// successful exit after the usage text; a wrong flag exit 2 after it.
func ParseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
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
				return nil, Silent(0)
			}
			return nil, Silent(ExitUsage) // flag printed the reason and the usage
		}
		if fs.NArg() == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func (p *Program) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s COMMAND [flags] [args]\n\ncommands:\n", p.Name)
	names := make([]string, 0, len(p.Commands))
	for n := range p.Commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, p.Commands[n].Summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND -h' for a command's flags.\n", p.Name)
}

// KeyValues is a repeatable K=V flag.
type KeyValues map[string]string

func (kv *KeyValues) String() string { return "" }
func (kv *KeyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want K=V, got %q", s)
	}
	if *kv == nil {
		*kv = KeyValues{}
	}
	(*kv)[k] = v
	return nil
}

// Strings is a repeatable flag, in the order given.
type Strings []string

func (s *Strings) String() string     { return strings.Join(*s, ",") }
func (s *Strings) Set(v string) error { *s = append(*s, v); return nil }
