package dockerfile

import (
	"errors"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/command"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// state is what evaluating a stage carries from one instruction to the
// next, and from a stage to the stages built FROM it.
type state struct {
	img      *Image
	x        *expander
	opts     Options
	globals  *vars
	env      *vars               // what words are expanded with: inherited, ARG and ENV
	declared map[string]struct{} // ARG names in scope, set or not
	envIndex map[string]int      // position in img.Env
	shell    []string            // SHELL; nil = /bin/sh -c
	cmdSet   bool                // CMD seen in this stage: ENTRYPOINT keeps it
}

func newState(img *Image, x *expander, opts Options, globals *vars) *state {
	return &state{img: img, x: x, opts: opts, globals: globals, env: newVars(16),
		declared: map[string]struct{}{}, envIndex: map[string]int{}}
}

// enterChild starts a stage built FROM the current one: everything carries
// over except that the new stage has not set CMD yet.
func (st *state) enterChild() { st.cmdSet = false }

func (st *state) word(w string) (string, error) { return st.x.word(w, st.env, st.declared) }

// apply evaluates one instruction of a stage in the chain.
func (st *state) apply(in *instruction) error {
	img := st.img
	switch in.name {
	case command.Env, command.Label:
		// Docker expands every pair before setting any: ENV A=1 B=$A sees
		// the old A.
		kv := make([]string, 0, len(in.args)/3*2)
		for i := 0; i+1 < len(in.args); i += 3 {
			k, err := st.word(in.args[i])
			if err != nil {
				return err
			}
			v, err := st.word(in.args[i+1])
			if err != nil {
				return err
			}
			kv = append(kv, k, v)
		}
		for i := 0; i < len(kv); i += 2 {
			if in.name == command.Label {
				if img.Labels == nil {
					img.Labels = map[string]string{}
				}
				img.Labels[kv[i]] = kv[i+1]
				continue
			}
			st.setEnv(kv[i], kv[i+1])
		}
	case command.Arg:
		for _, a := range in.args {
			arg, err := declareArg(st.x, a, st.opts.BuildArgs, st.env, st.globals, st.declared)
			if err != nil {
				return err
			}
			img.Args = append(img.Args, arg)
			st.declared[arg.Name] = struct{}{}
			if arg.Value != nil {
				st.env.set(arg.Name, *arg.Value)
			}
		}
	case command.Expose:
		for _, a := range in.args {
			words, err := st.x.words(a, st.env, st.declared)
			if err != nil {
				return err
			}
			for _, w := range words {
				p, err := ParsePort(w)
				if err != nil {
					return err
				}
				img.Ports = append(img.Ports, p)
			}
		}
	case command.Cmd:
		st.cmdSet = true
		img.Cmd = st.command(in)
	case command.Entrypoint:
		img.Entrypoint = st.command(in)
		if !st.cmdSet {
			img.Cmd = nil
		}
	case command.Healthcheck:
		hc, err := in.healthcheck()
		if err != nil {
			return err
		}
		img.Healthcheck = hc
	case command.User:
		u, err := st.word(in.args[0])
		if err != nil {
			return err
		}
		img.User = u
	case command.Workdir:
		wd, err := st.word(in.args[0])
		if err != nil {
			return err
		}
		img.Workdir = resolveWorkdir(img.Workdir, wd)
	case command.Volume:
		for _, a := range in.args {
			v, err := st.word(strings.TrimSpace(a))
			if err != nil {
				return err
			}
			if v == "" {
				return errors.New("VOLUME specified can not be an empty string")
			}
			img.Volumes = append(img.Volumes, v)
		}
	case command.StopSignal:
		sig, err := st.word(in.args[0])
		if err != nil {
			return err
		}
		if err := checkSignal(sig); err != nil {
			return err
		}
		img.StopSignal = sig
	case command.Shell:
		st.shell = in.args
	case command.Add, command.Copy:
		// Only for Docker's errors and the unmatched variables: where
		// files go does not change how the container runs.
		for _, a := range in.args {
			if parser.MustParseHeredoc(a) != nil {
				continue
			}
			if _, err := st.word(a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (st *state) setEnv(k, v string) {
	st.env.set(k, v)
	if i, ok := st.envIndex[k]; ok {
		st.img.Env[i].Value = v
		return
	}
	st.envIndex[k] = len(st.img.Env)
	st.img.Env = append(st.img.Env, EnvVar{Name: k, Value: v})
}

// resolveWorkdir is buildkit's NormalizeWorkdir for Linux: a relative path
// is joined to the current one, an absolute one is kept as written.
func resolveWorkdir(current, wd string) string {
	if current == "" {
		current = "/"
	}
	if wd == "" {
		return current
	}
	if path.IsAbs(wd) {
		return wd
	}
	return path.Join(current, wd)
}
