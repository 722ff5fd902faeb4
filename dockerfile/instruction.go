package dockerfile

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/util/suggest"
)

// instruction is one AST node after the checks buildkit's instructions
// package makes, without that package's cost: its arguments, its flags by
// name, and whether it used JSON form.
type instruction struct {
	node  *parser.Node
	name  string // lower case, as in package command
	args  []string
	flags map[string][]string
	json  bool
	line  int // where errors point: the node's, or the FROM that ran an ONBUILD trigger
}

func (in *instruction) fail(file string, err error) *Error {
	return &Error{File: file, Line: in.line, Instruction: strings.ToUpper(in.name), Err: err}
}

func (in *instruction) flag(name string) (string, bool) {
	v, ok := in.flags[name]
	if !ok || len(v) == 0 {
		return "", ok
	}
	return v[len(v)-1], true
}

type flagKind int

const (
	stringFlag flagKind = iota
	boolFlag
	stringsFlag // may repeat
)

// allowedFlags are the flags each instruction takes, as buildkit's
// instructions package defines them; an instruction missing here takes none.
var allowedFlags = map[string]map[string]flagKind{
	command.Add: {"chown": stringFlag, "chmod": stringFlag, "link": boolFlag, "keep-git-dir": boolFlag,
		"checksum": stringFlag, "unpack": boolFlag, "exclude": stringsFlag},
	command.Copy: {"chown": stringFlag, "from": stringFlag, "chmod": stringFlag, "link": boolFlag,
		"exclude": stringsFlag, "parents": boolFlag},
	command.From: {"platform": stringFlag},
	command.Run:  {"mount": stringsFlag, "network": stringFlag, "security": stringFlag, "device": stringsFlag},
	command.Healthcheck: {"interval": stringFlag, "timeout": stringFlag, "start-period": stringFlag,
		"start-interval": stringFlag, "retries": stringFlag},
}

var instructionNames = func() []string {
	names := make([]string, 0, len(command.Commands))
	for name := range command.Commands {
		names = append(names, strings.ToUpper(name))
	}
	return names
}()

var validStageName = regexp.MustCompile(`^[a-z][a-z0-9-_.]*$`)

// newInstruction checks node as buildkit's instructions.Parse would and
// returns it ready for evaluation.
func newInstruction(file string, node *parser.Node, line int) (*instruction, error) {
	in := &instruction{node: node, name: strings.ToLower(node.Value), json: node.Attributes["json"], line: line}
	if _, known := command.Commands[in.name]; !known {
		err := suggest.WrapError(fmt.Errorf("unknown instruction: %s", node.Value), node.Value, instructionNames, false)
		return nil, &Error{File: file, Line: line, Err: err}
	}
	for n := node.Next; n != nil; n = n.Next {
		if len(n.Children) == 0 {
			in.args = append(in.args, n.Value)
		}
	}
	// STOPSIGNAL never parses its flags in buildkit: a flag there is ignored.
	if in.name != command.StopSignal {
		if err := in.parseFlags(); err != nil {
			return nil, in.fail(file, err)
		}
	}
	if err := in.check(); err != nil {
		return nil, in.fail(file, err)
	}
	return in, nil
}

func (in *instruction) parseFlags() error {
	allowed := allowedFlags[in.name]
	for _, raw := range in.node.Flags {
		if raw == "--" {
			return nil
		}
		if !strings.HasPrefix(raw, "--") {
			return fmt.Errorf("arg should start with -- : %s", raw)
		}
		flagName, value, hasValue := strings.Cut(raw, "=")
		name := flagName[2:]
		kind, ok := allowed[name]
		if !ok {
			names := make([]string, 0, len(allowed))
			for n := range allowed {
				names = append(names, n)
			}
			return suggest.WrapError(fmt.Errorf("unknown flag: %s", flagName), name, names, true)
		}
		if _, dup := in.flags[name]; dup && kind != stringsFlag {
			return fmt.Errorf("duplicate flag specified: %s", flagName)
		}
		switch kind {
		case boolFlag:
			if hasValue && value == "" {
				return fmt.Errorf("missing a value on flag: %s", flagName)
			}
			switch strings.ToLower(value) {
			case "", "true":
				value = "true"
			case "false":
				value = "false"
			default:
				return fmt.Errorf("expecting boolean value for flag %s, not: %s", flagName, value)
			}
		default:
			if !hasValue {
				return fmt.Errorf("missing a value on flag: %s", flagName)
			}
		}
		if in.flags == nil {
			in.flags = map[string][]string{}
		}
		in.flags[name] = append(in.flags[name], value)
	}
	return nil
}

func (in *instruction) check() error {
	upper := strings.ToUpper(in.name)
	n := len(in.args)
	switch in.name {
	case command.Env, command.Label:
		if n == 0 {
			return fmt.Errorf("%s requires at least one argument", upper)
		}
		for i := 0; i < n; i += 3 {
			if in.args[i] == "" {
				return fmt.Errorf("%s names can not be blank", upper)
			}
		}
	case command.Maintainer, command.Workdir, command.User, command.StopSignal:
		if n != 1 {
			return fmt.Errorf("%s requires exactly one argument", upper)
		}
	case command.Add, command.Copy:
		if n < 2 {
			return fmt.Errorf("%s requires at least two arguments, but only one was provided. Destination could not be determined", upper)
		}
		if parser.MustParseHeredoc(in.args[n-1]) != nil {
			return fmt.Errorf("%s cannot accept a heredoc as a destination", upper)
		}
	case command.From:
		switch {
		case n == 3 && strings.EqualFold(in.args[1], "as"):
			if !validStageName.MatchString(strings.ToLower(in.args[2])) {
				return fmt.Errorf("invalid name for build stage: %q, name can't start with a number or contain symbols", in.args[2])
			}
		case n != 1:
			return errors.New("FROM requires either one or three arguments")
		}
	case command.Onbuild:
		trigger := in.onbuildTrigger()
		if trigger == nil {
			return errors.New("ONBUILD requires at least one argument")
		}
		switch t := strings.ToUpper(trigger.Value); t {
		case "ONBUILD":
			return errors.New("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
		case "MAINTAINER", "FROM":
			return fmt.Errorf("%s isn't allowed as an ONBUILD trigger", t)
		}
	case command.Expose, command.Volume, command.Arg:
		if n == 0 {
			return fmt.Errorf("%s requires at least one argument", upper)
		}
		if in.name == command.Volume {
			for _, v := range in.args {
				if strings.TrimSpace(v) == "" {
					return errors.New("VOLUME specified can not be an empty string")
				}
			}
		}
		if in.name == command.Arg {
			for _, a := range in.args {
				if strings.HasPrefix(a, "=") {
					return errors.New("ARG names can not be blank")
				}
			}
		}
	case command.Shell:
		if n == 0 {
			return errors.New("SHELL requires at least one argument")
		}
		if !in.json {
			return errors.New("SHELL requires the arguments to be in JSON form")
		}
	case command.Healthcheck:
		_, err := in.healthcheck()
		return err
	}
	return nil
}

// onbuildTrigger is the instruction node ONBUILD wraps, nil when missing.
func (in *instruction) onbuildTrigger() *parser.Node {
	if in.node.Next == nil || len(in.node.Next.Children) == 0 {
		return nil
	}
	return in.node.Next.Children[0]
}
