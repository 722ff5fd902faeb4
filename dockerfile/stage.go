package dockerfile

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/util/suggest"
)

// stage is one FROM and the instructions up to the next one.
type stage struct {
	from      *instruction
	name      string // lower case, "" when unnamed
	base      string // the FROM argument after expansion
	parent    *stage // the earlier stage base names, nil for an image
	body      []*instruction
	unmatched map[string]struct{} // of the FROM line
}

// platformArgs are the ARGs Docker predefines in the global scope. Builds
// run on the builder host for the hosts of the same cluster, so its
// architecture is the target's.
var platformArgs = [...][2]string{
	{"BUILDPLATFORM", "linux/" + runtime.GOARCH},
	{"BUILDOS", "linux"},
	{"BUILDARCH", runtime.GOARCH},
	{"TARGETPLATFORM", "linux/" + runtime.GOARCH},
	{"TARGETOS", "linux"},
	{"TARGETARCH", runtime.GOARCH},
}

// build checks every instruction, resolves the stages and evaluates the
// chain of stages that ends in the chosen one.
func build(file string, res *parser.Result, opts Options) (*Image, error) {
	var meta []*instruction
	var stages []*stage
	for _, node := range res.AST.Children {
		in, err := newInstruction(file, node, node.StartLine)
		if err != nil {
			return nil, err
		}
		switch {
		case in.name == command.From:
			s := &stage{from: in}
			if len(in.args) == 3 {
				s.name = strings.ToLower(in.args[2])
			}
			stages = append(stages, s)
		case len(stages) == 0 && in.name == command.Arg:
			meta = append(meta, in)
		case len(stages) == 0:
			return nil, in.fail(file, errors.New("comes before the first FROM: only ARG may come before FROM"))
		default:
			s := stages[len(stages)-1]
			s.body = append(s.body, in)
		}
	}
	if len(stages) == 0 {
		return nil, &Error{File: file, Err: errors.New("no FROM instruction: a Dockerfile needs at least one build stage")}
	}

	x := newExpander(res.EscapeToken)
	img := &Image{}
	globals := newVars(len(platformArgs) + 8)
	for _, kv := range platformArgs {
		v := kv[1]
		if o, ok := opts.BuildArgs[kv[0]]; ok {
			v = o
		}
		globals.set(kv[0], v)
	}
	declaredGlobal := map[string]struct{}{}
	for _, in := range meta {
		for _, a := range in.args {
			arg, err := declareArg(x, a, opts.BuildArgs, globals, globals, declaredGlobal)
			if err != nil {
				return nil, in.fail(file, err)
			}
			img.Args = append(img.Args, arg)
			declaredGlobal[arg.Name] = struct{}{}
			if arg.Value != nil {
				globals.set(arg.Name, *arg.Value)
			}
		}
	}

	byName := map[string]*stage{}
	for _, s := range stages {
		x.unmatched = nil
		base, err := x.word(s.from.args[0], globals, declaredGlobal)
		if err != nil {
			return nil, s.from.fail(file, err)
		}
		if base == "" {
			return nil, s.from.fail(file, fmt.Errorf("base name (%s) should not be blank", s.from.args[0]))
		}
		s.base, s.unmatched, s.parent = base, x.unmatched, byName[base]
		if s.name != "" {
			byName[s.name] = s
		}
	}
	x.unmatched = nil

	target := stages[len(stages)-1]
	if opts.Stage != "" {
		var ok bool
		if target, ok = byName[strings.ToLower(opts.Stage)]; !ok {
			return nil, &Error{File: file, Err: unknownStage(opts.Stage, stages)}
		}
	}
	var chain []*stage
	for s := target; s != nil; s = s.parent {
		chain = append(chain, s)
	}
	slices.Reverse(chain)

	st := newState(img, x, opts, globals)
	for i, s := range chain {
		x.note(s.unmatched, nil)
		if i > 0 {
			st.enterChild()
			for _, in := range chain[i-1].body {
				if in.name != command.Onbuild {
					continue
				}
				trigger, err := newInstruction(file, in.onbuildTrigger(), s.from.line)
				if err != nil {
					return nil, err
				}
				if err := st.apply(trigger); err != nil {
					return nil, trigger.fail(file, err)
				}
			}
		}
		for _, in := range s.body {
			if err := st.apply(in); err != nil {
				return nil, in.fail(file, err)
			}
		}
	}

	img.Base, img.Stage = target.base, target.name
	img.Origin = chain[0].base
	img.External = img.Origin != "scratch"
	img.Ports = sortPorts(img.Ports)
	slices.Sort(img.Volumes)
	img.Volumes = slices.Compact(img.Volumes)
	for n := range x.unmatched {
		img.Unmatched = append(img.Unmatched, n)
	}
	slices.Sort(img.Unmatched)
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil {
			line = w.Location.Start.Line
		}
		img.Warnings = append(img.Warnings, Warning{Line: line, Message: w.Short})
	}
	slices.SortStableFunc(img.Warnings, func(a, b Warning) int { return a.Line - b.Line })
	return img, nil
}

// declareArg reads one ARG word (NAME or NAME=default) as Docker does: a
// build arg wins, then the default expanded with env, then (in a stage) the
// global value.
func declareArg(x *expander, word string, buildArgs map[string]string, env, globals *vars, declared map[string]struct{}) (Arg, error) {
	name, def, hasDefault := strings.Cut(word, "=")
	arg := Arg{Name: name}
	if hasDefault {
		arg.Default = &def
	}
	if v, ok := buildArgs[name]; ok {
		arg.Value = &v
		return arg, nil
	}
	if hasDefault {
		v, err := x.word(def, env, declared)
		arg.Value = &v
		return arg, err
	}
	if globals != nil {
		if v, ok := globals.Get(name); ok {
			arg.Value = &v
		}
	}
	return arg, nil
}

func unknownStage(want string, stages []*stage) error {
	var names []string
	for _, s := range stages {
		if s.name != "" {
			names = append(names, s.name)
		}
	}
	err := fmt.Errorf("target stage %q could not be found", want)
	if len(names) == 0 {
		return fmt.Errorf("%w: no stage has a name (FROM image AS name)", err)
	}
	return suggest.WrapError(fmt.Errorf("%w; stages: %s", err, strings.Join(names, ", ")), want, names, false)
}
