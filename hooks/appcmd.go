package hooks

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/internal/sh"
	"github.com/nap-paas/nap/render"
)

// AppCommand is one of the commands app owners run: over ssh (`ssh
// nap@host logs hello -f`), where ParseCommand checks its words before
// anything runs, and on the host as the nap-render command of the same
// name, which hands the same words to the same flags and checks and then
// runs it (Host). One definition serves both, so the two cannot read a
// command line differently.
type AppCommand struct {
	Name    string
	Usage   string // after "ssh nap@HOST "
	Summary string
	Help    string // optional
	Args    [2]int // positional arguments, APP included: at least, at most (-1: any)
	app     bool   // APP is the first argument
	writes  bool   // it changes the app (or shows secrets): gitolite's W, else R
	flags   []cli.Flag
	// hostFlags are the host's alone: an ssh session gives them (apps
	// --for USER), never its user.
	hostFlags []cli.Flag
	check     func(c *cli.Call, remote bool) error
	run       func(c *cli.Call, d *deploy.Deployer) error
}

var jsonFlag = cli.Flag{Name: "json", Value: false, Usage: "print JSON"}

// AppCommands are the app commands, in the order help lists them.
var AppCommands = []*AppCommand{
	{Name: "apps", Usage: "apps [--json]", Summary: "the apps, their running release and URL",
		flags: []cli.Flag{jsonFlag}, hostFlags: []cli.Flag{{Name: "for", Value: "", Usage: "only the apps USER owns or was granted"}},
		run: func(c *cli.Call, d *deploy.Deployer) error {
			apps, err := d.AppList(c.String("for"))
			return report(c, apps, err, func(w io.Writer) error { return deploy.WriteApps(w, apps) })
		}},
	{Name: "status", Usage: "status APP [--json]", Summary: "releases, units and their states, endpoints, URL",
		app: true, Args: [2]int{1, 1}, flags: []cli.Flag{jsonFlag},
		run: func(c *cli.Call, d *deploy.Deployer) error {
			d.Out = c.Stderr // progress lines (a reconcile) stay out of the report
			st, err := d.Status(context.Background(), c.Args[0])
			return report(c, st, err, func(w io.Writer) error { return st.WriteText(w) })
		}},
	{Name: "logs", Usage: "logs APP [-f] [-n N] [--process P]", Summary: "the journals of the running instances, merged (web.1 | …)",
		Help: `Prints the last N entries (default 100) of every instance of APP's running
release, in time order, each prefixed with its instance. -f then follows them
until interrupted, or until the client goes away (over ssh: stdin closed, or a
write that fails).`,
		app: true, Args: [2]int{1, 1},
		flags: []cli.Flag{{Name: "f", Value: false, Usage: "follow"}, {Name: "n", Value: 100, Usage: "entries shown first"},
			{Name: "process", Value: "", Usage: "one process's instances only"}},
		check: checkLogs,
		run: func(c *cli.Call, d *deploy.Deployer) error {
			o := deploy.LogOptions{Follow: c.Bool("f"), Lines: c.Int("n"), Process: c.String("process")}
			ctx, stop := cli.Interruptible()
			defer stop()
			if o.Follow {
				ctx, stop = cli.UntilClientGone(ctx)
				defer stop()
			}
			return d.Logs(ctx, c.Args[0], o, c.Stdout)
		}},
	{Name: "restart", Usage: "restart APP [PROCESS]", Summary: "restart the running instances one at a time",
		app: true, writes: true, Args: [2]int{1, 2}, check: checkRestart,
		run: func(c *cli.Call, d *deploy.Deployer) error {
			return d.Restart(context.Background(), c.Args[0], c.Arg(1))
		}},
	{Name: "rollback", Usage: "rollback APP [RELEASE]", Summary: "make a stored release current again (default: the one before), without a build",
		app: true, writes: true, Args: [2]int{1, 2}, check: checkRollback,
		run: func(c *cli.Call, d *deploy.Deployer) error {
			return d.Rollback(context.Background(), c.Args[0], c.Arg(1))
		}},
	// config shows secrets: writers only
	{Name: "config", Usage: "config APP [--json]", Summary: "the app's config vars (config:set), NAME=VALUE",
		app: true, writes: true, Args: [2]int{1, 1}, flags: []cli.Flag{jsonFlag},
		run: func(c *cli.Call, d *deploy.Deployer) error {
			vars, err := d.Config(c.Args[0])
			return report(c, vars, err, func(w io.Writer) error { _, err := w.Write(render.EnvFile(vars)); return err })
		}},
	{Name: "config:set", Usage: "config:set APP NAME=VALUE… | APP NAME -",
		Summary: "set config vars (NAME -: the value on stdin), released at once blue/green",
		Help: `Sets config vars of APP and deploys its running revision with them as a new
release (R-N), blue/green; rollback brings the earlier vars back with the earlier
release. "NAME -" reads the value from stdin (one trailing newline dropped):
command lines are logged by shells, sshd and gitolite, stdin is not. Values
never appear in a unit, a log line or a push.`,
		app: true, writes: true, Args: [2]int{2, -1}, check: checkConfigSet,
		run: func(c *cli.Call, d *deploy.Deployer) error {
			return d.SetConfigArgs(context.Background(), c.Args[0], c.Args[1:], c.Stdin)
		}},
	{Name: "config:unset", Usage: "config:unset APP NAME…", Summary: "remove config vars, released at once blue/green",
		app: true, writes: true, Args: [2]int{2, -1}, check: checkConfigUnset,
		run: func(c *cli.Call, d *deploy.Deployer) error {
			return d.SetConfig(context.Background(), c.Args[0], nil, c.Args[1:])
		}},
	{Name: "run", Usage: "run APP [--] CMD…", Summary: "a one-off container of the running release; its exit code is run's",
		Help: `Runs CMD in a one-off container of APP's running release on the git host: its
image, the web process's environment with the config vars, its memory and CPU
limits. stdin and stdout are streams (no terminal); the container is removed
when it exits, or when run is interrupted. Give -- before a CMD with flags.`,
		app: true, writes: true, Args: [2]int{2, -1},
		run: func(c *cli.Call, d *deploy.Deployer) error {
			ctx, stop := cli.Interruptible()
			defer stop()
			code, err := d.Run(ctx, c.Args[0], c.Args[1:], c.Stdin, c.Stdout, c.Stderr)
			if err == nil && code != 0 {
				err = cli.Silent(code)
			}
			return err
		}},
	{Name: "destroy", Usage: "destroy APP --confirm APP", Summary: "remove every unit, container, announcement, release and config var of APP",
		app: true, writes: true, Args: [2]int{1, 1},
		flags: []cli.Flag{{Name: "confirm", Value: "", Usage: "the app's name again (required over ssh)"}},
		check: checkDestroy,
		run: func(c *cli.Call, d *deploy.Deployer) error {
			return d.Destroy(context.Background(), c.Args[0])
		}},
	// help is the ssh side's own: nap-render has its help.
	{Name: "help", Usage: "help [COMMAND]", Summary: "these commands, or what one does", Args: [2]int{0, 1}},
}

// Limits of a command line over ssh.
const (
	maxCommandBytes = 64 << 10
	maxCommandWords = 512
)

// AppCommandNamed is the app command called name, or nil.
func AppCommandNamed(name string) *AppCommand {
	for _, a := range AppCommands {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Synopsis is the usage after the command's name.
func (a *AppCommand) Synopsis() string { return strings.TrimPrefix(a.Usage, a.Name+" ") }

// Flags are the host command's flags (the ssh user's and the host's own).
func (a *AppCommand) Flags() []cli.Flag { return slices.Concat(a.flags, a.hostFlags) }

// OnHost reports whether the host runs the command (help is the ssh
// side's own).
func (a *AppCommand) OnHost() bool { return a.run != nil }

func init() {
	AppCommandNamed("help").check = func(c *cli.Call, _ bool) error {
		if len(c.Args) == 1 && AppCommandNamed(c.Args[0]) == nil {
			return fmt.Errorf("unknown command %s", render.QuoteName(c.Args[0]))
		}
		return nil
	}
}

// Host runs the command on the host, its words parsed by Flags: the checks
// an ssh session made, again (a command line typed on the host gets
// them too), then the work, with d.
func (a *AppCommand) Host(c *cli.Call, d *deploy.Deployer) error {
	if err := a.checkCall(c, false); err != nil {
		return err
	}
	return a.run(c, d)
}

// checkCall checks APP and the command's own rules.
func (a *AppCommand) checkCall(c *cli.Call, remote bool) error {
	if a.app {
		if err := render.ValidApp(c.Args[0]); err != nil {
			return &RequestError{err.Error()}
		}
	}
	if a.check != nil {
		if err := a.check(c, remote); err != nil {
			return &RequestError{fmt.Sprintf("%v; usage: %s", err, a.Usage)}
		}
	}
	return nil
}

// Command is an app command line read over ssh.
type Command struct {
	*AppCommand
	App   string   // "" for apps and help
	Words []string // after the name, as given: Host reads them again
}

// IsGitRequest reports whether an ssh command line is one of git's
// requests (Verbs), which ParseRequest reads.
func IsGitRequest(original string) bool {
	verb, _, _ := strings.Cut(original, " ")
	return slices.Contains(Verbs, verb)
}

// ParseCommand reads an ssh command line that is not git's: its words by
// POSIX shell quoting (sh.Split: nothing expanded, no operators), then by
// the command's flags (the one rule of flags, cli.ParseFlags; a flag the
// user may not give is unknown) and checks. Every refusal is a
// *RequestError saying what to do.
func ParseCommand(original string) (Command, error) {
	if len(original) > maxCommandBytes {
		return Command{}, &RequestError{fmt.Sprintf("the command is %d bytes; at most %d are taken", len(original), maxCommandBytes)}
	}
	words, err := sh.Split(original)
	if err != nil {
		return Command{}, &RequestError{fmt.Sprintf("cannot read the command %s: %v", render.QuoteName(original), err)}
	}
	if len(words) > maxCommandWords {
		return Command{}, &RequestError{fmt.Sprintf("the command has %d words; at most %d are taken", len(words), maxCommandWords)}
	}
	if len(words) == 0 {
		return Command{}, &RequestError{"interactive shell access is not allowed: push with git push nap@host:APP master, or run a command (ssh nap@host help)"}
	}
	a := AppCommandNamed(words[0])
	if a == nil {
		return Command{}, &RequestError{fmt.Sprintf("unknown command %s: ssh nap@host help lists them", render.QuoteName(words[0]))}
	}
	call, err := (&cli.Command{Synopsis: a.Synopsis(), Args: a.Args, Flags: a.flags}).Parse(words[1:])
	if errors.Is(err, flag.ErrHelp) { // COMMAND -h: help COMMAND
		return Command{AppCommand: AppCommandNamed("help"), Words: []string{a.Name}}, nil
	}
	if call == nil {
		return Command{}, &RequestError{fmt.Sprintf("%v; usage: %s", err, a.Usage)}
	} else if err != nil {
		return Command{}, &RequestError{"usage: " + a.Usage}
	}
	if err := a.checkCall(call, true); err != nil {
		return Command{}, err
	}
	c := Command{AppCommand: a, Words: words[1:]}
	if a.app {
		c.App = call.Args[0]
	}
	return c, nil
}

// Writes reports whether the command changes the app.
func (c Command) Writes() bool { return c.writes }

// Argv is the command's nap-render command line on the host, after the
// binary: the name, then the words ParseCommand checked.
func (c Command) Argv() []string { return append([]string{c.Name}, c.Words...) }

// CommandHelp is what `help [COMMAND]` says, each command line starting
// with prefix (e.g. "ssh nap@HOST ").
func CommandHelp(prefix string, args []string) string {
	var b strings.Builder
	if a := AppCommandNamed(append(args, "")[0]); a != nil {
		about := cmp.Or(a.Help, strings.ToUpper(a.Summary[:1])+a.Summary[1:]+".")
		fmt.Fprintf(&b, "%s%s\n\n%s\n", prefix, a.Usage, about)
		return b.String()
	}
	b.WriteString("git push nap@HOST:APP master\n    deploy APP (the first push creates it)\n")
	for _, a := range AppCommands {
		fmt.Fprintf(&b, "%s%s\n    %s\n", prefix, a.Usage, a.Summary)
	}
	return b.String()
}

// report prints v: as JSON with --json, else as text does; err first.
func report(c *cli.Call, v any, err error, text func(io.Writer) error) error {
	switch {
	case err != nil:
		return err
	case c.Bool("json"):
		return cli.WriteJSON(c.Stdout, v)
	}
	return text(c.Stdout)
}

// maxLogLines bounds logs -n.
const maxLogLines = 100000

func checkLogs(c *cli.Call, _ bool) error {
	if n := c.Int("n"); n < 0 || n > maxLogLines {
		return fmt.Errorf("-n %d: give a number of lines, 0 to %d", n, maxLogLines)
	}
	if p := c.String("process"); p != "" {
		return render.ValidProcess(p)
	}
	return nil
}

func checkRestart(c *cli.Call, _ bool) error {
	if len(c.Args) == 2 {
		return render.ValidProcess(c.Args[1])
	}
	return nil
}

func checkRollback(c *cli.Call, _ bool) error {
	if len(c.Args) < 2 {
		return nil
	}
	rel := c.Args[1]
	rev, gen, _ := strings.Cut(rel, "-")
	ok := len(rev) >= 7 && len(rev) <= 64
	for i := 0; ok && i < len(rev); i++ {
		ok = '0' <= rev[i] && rev[i] <= '9' || 'a' <= rev[i] && rev[i] <= 'f'
	}
	if n, err := strconv.Atoi(gen); gen != "" && (err != nil || n < 2 || strconv.Itoa(n) != gen) {
		ok = false
	}
	if !ok {
		return fmt.Errorf("release %s: give a release as status lists it (REV or REV-N)", render.QuoteName(rel))
	}
	return nil
}

// checkDestroy: over ssh --confirm APP is required; on the host it is
// optional, but when given it must name the app.
func checkDestroy(c *cli.Call, remote bool) error {
	app, confirm := c.Args[0], c.String("confirm")
	if confirm != app && (remote || confirm != "") {
		return fmt.Errorf("destroy removes every instance, release and announcement of %s: confirm with --confirm %s", app, app)
	}
	return nil
}

func checkConfigSet(c *cli.Call, _ bool) error {
	set, stdinName, err := render.ParseConfigArgs(c.Args[1:])
	if err != nil {
		return err
	}
	if stdinName != "" {
		return render.CheckConfigVar(stdinName, "")
	}
	for _, k := range slices.Sorted(maps.Keys(set)) { // the first wrong one, always the same
		if err := render.CheckConfigVar(k, set[k]); err != nil {
			return err
		}
	}
	return nil
}

func checkConfigUnset(c *cli.Call, _ bool) error {
	for _, k := range c.Args[1:] {
		if err := render.CheckConfigVar(k, ""); err != nil {
			return err
		}
	}
	return nil
}
