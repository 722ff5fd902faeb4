// Package cli runs a program of subcommands with the standard flag
// package: one rule for flags (anywhere among the arguments, "--" ends
// them), usage texts made from each command's synopsis and flags, and
// errors that carry their exit code. It knows nothing of nap.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
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
	Flags    []Flag
	Run      func(*Call) error
	// Setup, instead of Flags and Run, is for flags a package defines
	// itself: it defines them on a fresh FlagSet and returns what runs
	// once they are parsed.
	Setup func(fs *flag.FlagSet) func(*Call) error
}

// Flag is one flag of a command. Value is its default, whose type is the
// flag's: bool, string, int, time.Duration, or KeyValues or Strings
// (repeatable, starting empty at every run).
type Flag struct {
	Name  string
	Value any
	Usage string
}

// Call is one run of a command.
type Call struct {
	Args           []string // positional
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	flags          *flag.FlagSet
}

// Arg is the i-th positional argument, "" when there are fewer.
func (c *Call) Arg(i int) string {
	if i < len(c.Args) {
		return c.Args[i]
	}
	return ""
}

// The values of the command's flags, by name; a name the command does not
// define is a programming error (a panic).
func (c *Call) Bool(name string) bool              { return c.get(name).(bool) }
func (c *Call) String(name string) string          { return c.get(name).(string) }
func (c *Call) Int(name string) int                { return c.get(name).(int) }
func (c *Call) Duration(name string) time.Duration { return c.get(name).(time.Duration) }
func (c *Call) KeyValues(name string) KeyValues    { return c.get(name).(KeyValues) }
func (c *Call) Strings(name string) []string       { return c.get(name).(Strings) }

func (c *Call) get(name string) any { return c.flags.Lookup(name).Value.(flag.Getter).Get() }

func (f Flag) define(fs *flag.FlagSet) {
	switch v := f.Value.(type) {
	case bool:
		fs.Bool(f.Name, v, f.Usage)
	case string:
		fs.String(f.Name, v, f.Usage)
	case int:
		fs.Int(f.Name, v, f.Usage)
	case time.Duration:
		fs.Duration(f.Name, v, f.Usage)
	case KeyValues:
		fs.Var(&KeyValues{}, f.Name, f.Usage)
	case Strings:
		fs.Var(&Strings{}, f.Name, f.Usage)
	default:
		panic(fmt.Sprintf("flag --%s: no flag is of type %T", f.Name, v))
	}
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
	do := c.Run
	if c.Setup != nil {
		do = c.Setup(fs)
	}
	call, err := c.parse(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return Silent(0)
	case err != nil && call == nil:
		return Silent(ExitUsage) // flag printed the reason and the usage
	case err != nil:
		return err
	}
	call.Stdin, call.Stdout, call.Stderr = os.Stdin, stdout, stderr
	return do(call)
}

// Parse reads args as running the command does — its flags by the one
// rule, then the count of positional arguments — and prints nothing: for
// a caller that checks a command line it has run elsewhere (the Call has
// no streams). Errors are usage errors (exit 2) saying what is wrong.
func (c *Command) Parse(args []string) (*Call, error) {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	call, err := c.parse(fs, args)
	if err != nil && call == nil {
		return nil, Exit(ExitUsage, err) // flag.ErrHelp for -h
	}
	return call, err
}

// parse defines the flags and parses args. A flag's error comes back with
// no Call, a wrong count of arguments with one.
func (c *Command) parse(fs *flag.FlagSet, args []string) (*Call, error) {
	for _, f := range c.Flags {
		f.define(fs)
	}
	pos, err := ParseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	call := &Call{Args: pos, flags: fs}
	if len(pos) < c.Args[0] || (c.Args[1] >= 0 && len(pos) > c.Args[1]) {
		return call, Usagef("want %s, got %d argument(s)", c.Synopsis, len(pos))
	}
	return call, nil
}

// ParseFlags is the one rule: flags may stand anywhere among the
// positional arguments ("deploy APP --rev REV"), and "--" ends them
// (everything after it is positional, whatever it looks like). The error
// is the flag package's (flag.ErrHelp for -h), after it printed it and
// the usage to fs's output.
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
			return nil, err
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

// WriteJSON writes v as indented JSON and a newline.
func WriteJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		_, err = w.Write(append(b, '\n'))
	}
	return err
}

// Interruptible is a context that ends at SIGTERM or an interrupt, for a
// command that stops what it started before it exits (a follow, a
// container).
func Interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
}

// UntilClientGone ends ctx when the client goes away: over ssh without a
// pty stdin is a pipe that closes with the connection (a terminal is left
// alone), and a write to a closed stdout fails instead of killing the
// process with SIGPIPE, so what follows ends and its tools are stopped.
func UntilClientGone(ctx context.Context) (context.Context, context.CancelFunc) {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(ctx)
	if st, err := os.Stdin.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
	}
	return ctx, cancel
}

// Executable is this program's absolute path with symlinks resolved, as
// hooks, units and authorized_keys name it.
func Executable() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

// KeyValues is a repeatable K=V flag.
type KeyValues map[string]string

func (kv *KeyValues) String() string { return "" }
func (kv *KeyValues) Get() any       { return *kv }
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
func (s *Strings) Get() any           { return *s }
