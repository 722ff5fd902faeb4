package hooks

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/internal/sh"
	"github.com/nap-paas/nap/render"
)

// Command is one of the commands app owners run over ssh (`ssh nap@host
// logs hello -f`), its words checked before anything runs. It runs as the
// same nap-render command on the host (Argv).
type Command struct {
	Name string
	App  string   // "" for apps and help
	Args []string // the checked words after APP
}

// commandSpec says what one command takes.
type commandSpec struct {
	app    bool // APP is its first argument
	writes bool // it changes the app: gitolite's W, else R
	usage  string
	check  func(app string, args []string) error
}

var commandSpecs = map[string]commandSpec{
	"help":     {usage: "help", check: noArgs},
	"apps":     {usage: "apps [--json]", check: flagsOnly("--json")},
	"status":   {app: true, usage: "status APP [--json]", check: flagsOnly("--json")},
	"logs":     {app: true, usage: "logs APP [-f] [-n N] [--process P]", check: checkLogs},
	"restart":  {app: true, writes: true, usage: "restart APP [PROCESS]", check: checkRestart},
	"rollback": {app: true, writes: true, usage: "rollback APP [RELEASE]", check: checkRollback},
	"destroy":  {app: true, writes: true, usage: "destroy APP --confirm APP", check: checkDestroy},
	// config shows secrets: writers only
	"config":       {app: true, writes: true, usage: "config APP [--json]", check: flagsOnly("--json")},
	"config:set":   {app: true, writes: true, usage: "config:set APP NAME=VALUE… | config:set APP NAME - (the value on stdin)", check: checkConfigSet},
	"config:unset": {app: true, writes: true, usage: "config:unset APP NAME…", check: checkConfigUnset},
	"run":          {app: true, writes: true, usage: "run APP -- CMD…", check: checkRun},
}

// Limits of a command line over ssh.
const (
	maxCommandBytes = 64 << 10
	maxCommandWords = 512
)

// IsGitRequest reports whether an ssh command line is one of git's
// requests (Verbs), which ParseRequest reads.
func IsGitRequest(original string) bool {
	verb, _, _ := strings.Cut(original, " ")
	for _, v := range Verbs {
		if verb == v {
			return true
		}
	}
	return false
}

// ParseCommand reads an ssh command line that is not git's: its words by
// POSIX shell quoting (sh.Split: nothing expanded, no operators), then the
// command's own rules. Every refusal is a *RequestError saying what to do.
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
	spec, ok := commandSpecs[words[0]]
	if !ok {
		return Command{}, &RequestError{fmt.Sprintf("unknown command %s: ssh nap@host help lists them", render.QuoteName(words[0]))}
	}
	c := Command{Name: words[0], Args: words[1:]}
	if spec.app {
		if len(c.Args) == 0 {
			return Command{}, &RequestError{"usage: " + spec.usage}
		}
		c.App, c.Args = c.Args[0], c.Args[1:]
		if err := render.ValidApp(c.App); err != nil {
			return Command{}, &RequestError{err.Error()}
		}
	}
	if err := spec.check(c.App, c.Args); err != nil {
		return Command{}, &RequestError{fmt.Sprintf("%v; usage: %s", err, spec.usage)}
	}
	if c.Args == nil {
		c.Args = []string{}
	}
	return c, nil
}

// Writes reports whether the command changes the app.
func (c Command) Writes() bool { return commandSpecs[c.Name].writes }

// Argv is the command's nap-render command line on the host, after the
// binary: each word checked by ParseCommand, APP first.
func (c Command) Argv() []string {
	argv := []string{c.Name}
	if c.App != "" {
		argv = append(argv, c.App)
	}
	return append(argv, c.Args...)
}

// CommandHelp is what `help` says over ssh.
func CommandHelp() string {
	var b strings.Builder
	b.WriteString("git push nap@HOST:APP master     deploy APP (the first push creates it)\n")
	for _, name := range []string{"apps", "status", "logs", "restart", "rollback", "config", "config:set", "config:unset", "run", "destroy", "help"} {
		fmt.Fprintf(&b, "ssh nap@HOST %s\n", commandSpecs[name].usage)
	}
	return b.String()
}

func noArgs(_ string, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected %s", render.QuoteName(args[0]))
	}
	return nil
}

func flagsOnly(allowed ...string) func(string, []string) error {
	return func(_ string, args []string) error {
		for _, a := range args {
			ok := false
			for _, f := range allowed {
				ok = ok || a == f
			}
			if !ok {
				return fmt.Errorf("unexpected %s", render.QuoteName(a))
			}
		}
		return nil
	}
}

// maxLogLines bounds logs -n.
const maxLogLines = 100000

func checkLogs(_ string, args []string) error {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-f":
		case "-n", "--process":
			if i+1 == len(args) {
				return fmt.Errorf("%s needs a value", a)
			}
			i++
			if a == "-n" {
				if n, err := strconv.Atoi(args[i]); err != nil || n < 0 || n > maxLogLines || strconv.Itoa(n) != args[i] {
					return fmt.Errorf("-n %s: give a number of lines, 0 to %d", render.QuoteName(args[i]), maxLogLines)
				}
			} else if err := render.ValidProcess(args[i]); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected %s", render.QuoteName(a))
		}
	}
	return nil
}

func checkRestart(_ string, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("unexpected %s", render.QuoteName(args[1]))
	}
	if len(args) == 1 {
		return render.ValidProcess(args[0])
	}
	return nil
}

func checkRollback(_ string, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("unexpected %s", render.QuoteName(args[1]))
	}
	if len(args) == 1 {
		rev, gen, _ := strings.Cut(args[0], "-")
		ok := len(rev) >= 7 && len(rev) <= 64
		for i := 0; ok && i < len(rev); i++ {
			ok = '0' <= rev[i] && rev[i] <= '9' || 'a' <= rev[i] && rev[i] <= 'f'
		}
		if n, err := strconv.Atoi(gen); gen != "" && (err != nil || n < 2 || strconv.Itoa(n) != gen) {
			ok = false
		}
		if !ok {
			return fmt.Errorf("release %s: give a release as status lists it (REV or REV-N)", render.QuoteName(args[0]))
		}
	}
	return nil
}

func checkDestroy(app string, args []string) error {
	if len(args) != 2 || args[0] != "--confirm" || args[1] != app {
		return fmt.Errorf("destroy removes every instance, release and announcement of %s: confirm with --confirm %s", app, app)
	}
	return nil
}

func checkConfigSet(_ string, args []string) error {
	set, stdinName, err := render.ParseConfigArgs(args)
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

func checkConfigUnset(_ string, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("name no variable")
	}
	for _, k := range args {
		if err := render.CheckConfigVar(k, ""); err != nil {
			return err
		}
	}
	return nil
}

// checkRun: "--", then the command; its words go to the container as they
// are (no shell sees them here either).
func checkRun(_ string, args []string) error {
	if len(args) < 2 || args[0] != "--" {
		return fmt.Errorf("give the command after --")
	}
	return nil
}
