package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"github.com/nap-paas/nap/deploy"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/source"
	"github.com/nap-paas/nap/unit"
)

func init() {
	register("render", command{"write the units of an app's release", runRender})
}

const renderUsage = `usage: nap-render render [flags] [APPDIR]

Writes the units of one release of the app in APPDIR (default "."): the build
unit, and per process its run unit and, when it publishes ports, its
discovery unit. Without -o, each file goes to stdout as "### NAME" and its
bytes.

flags:
`

// appFlags are the flags render and check share.
type appFlags struct {
	app, rev, target, stage, config, napFile string
	buildArgs                                keyValues
}

func (a *appFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&a.app, "app", "", "app name (default: APPDIR's directory name)")
	fs.StringVar(&a.rev, "rev", "", "full git revision (default: HEAD of the git work tree holding APPDIR)")
	fs.StringVar(&a.target, "target", "", "fleet or systemd (default: the operator config's target)")
	fs.StringVar(&a.stage, "stage", "", "Dockerfile stage to build (default: nap.yaml's stage, else the last)")
	fs.StringVar(&a.config, "config", "", "operator config file (default "+deploy.DefaultConfig+", absent = defaults)")
	fs.StringVar(&a.napFile, "f", "", "the app's nap.yaml (default APPDIR/nap.yaml, absent = defaults)")
	fs.Var(&a.buildArgs, "build-arg", "K=V build argument, overriding nap.yaml's build_args (repeatable)")
}

// keyValues is a repeatable K=V flag.
type keyValues map[string]string

func (kv *keyValues) String() string { return "" }
func (kv *keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want K=V, got %q", s)
	}
	if *kv == nil {
		*kv = keyValues{}
	}
	(*kv)[k] = v
	return nil
}

// parseArgs is parseFlags for a command whose usage is a text of its own.
func parseArgs(flags *flag.FlagSet, usage string, args []string, stderr io.Writer) ([]string, error) {
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(stderr, usage)
		flags.PrintDefaults()
	}
	return parseFlags(flags, args)
}

// release is everything render and check work on, read from disk.
type release struct {
	dir    string // APPDIR as given
	cfg    *render.Config
	img    *dockerfile.Image
	rel    render.Release
	revSet bool // the revision is known (given or from git)
}

// load reads the operator config, nap.yaml and the Dockerfile of APPDIR and
// settles the app name and revision. needRev: fail when no revision is known.
func (a *appFlags) load(dir string, needRev bool) (*release, error) {
	op, err := readOperator(a.config)
	if err != nil {
		return nil, err
	}
	tree, cfg, err := a.openApp(op, dir)
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	if err := cfg.Apply(render.Overrides{Target: render.Target(a.target), Stage: a.stage, BuildArgs: a.buildArgs}); err != nil {
		return nil, &exitError{exitUsage, err}
	}

	r := &release{dir: dir, cfg: cfg}
	r.rel.App = a.app
	if r.rel.App == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		r.rel.App = filepath.Base(abs)
		if err := render.ValidApp(r.rel.App); err != nil {
			return nil, &exitError{exitUsage, fmt.Errorf("%v (taken from the directory's name): name the app with --app", err)}
		}
	} else if err := render.ValidApp(r.rel.App); err != nil {
		return nil, &exitError{exitUsage, fmt.Errorf("--app: %v", err)}
	}
	switch {
	case a.rev != "":
		if err := render.ValidRev(a.rev); err != nil {
			return nil, &exitError{exitUsage, fmt.Errorf("--rev: %v", err)}
		}
		r.rel.Rev, r.revSet = a.rev, true
	default:
		rev, err := source.HeadRev(dir)
		if err != nil && needRev {
			if errors.Is(err, source.ErrNoHead) {
				return nil, &exitError{exitUsage, err}
			}
			return nil, &exitError{exitEnv, err}
		}
		r.rel.Rev, r.revSet = rev, err == nil
	}

	r.img, err = tree.Image(cfg)
	if err != nil {
		return nil, treeErr(err)
	}
	return r, nil
}

// readOperator reads the operator config: the --config file, which must
// exist, or the default path (absent: all defaults). A file that cannot be
// read is exit 1 when missing, 3 otherwise; a wrong one is exit 1.
func readOperator(config string) (render.Operator, error) {
	op, err := deploy.LoadOperator(config)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return op, fileErr(pe.Path, err)
	}
	return op, err
}

// openApp opens APPDIR as the tree it would be when pushed (source reads
// it exactly as a deploy does) with its nap.yaml, or the -f file instead.
func (a *appFlags) openApp(op render.Operator, dir string) (*source.Tree, *render.Config, error) {
	tree, err := source.Open(dir)
	if err != nil {
		return nil, nil, fileErr(dir, err)
	}
	var cfg *render.Config
	if a.napFile != "" {
		var data []byte
		if data, err = os.ReadFile(a.napFile); err != nil {
			err = fileErr(a.napFile, err)
		} else {
			cfg, err = render.ParseAppConfig(op, a.napFile, data)
		}
	} else {
		cfg, err = tree.AppConfig(op)
	}
	if err != nil {
		tree.Close()
		return nil, nil, treeErr(err)
	}
	return tree, cfg, nil
}

// treeErr gives an error of reading the app its exit code: 1 for the
// tree's fault, 3 for the machine's.
func treeErr(err error) error {
	var ee *exitError
	if errors.As(err, &ee) || source.IsTreeFault(err) {
		return err
	}
	return &exitError{exitEnv, err}
}

// fileErr says what to do about a file that cannot be read: a missing one
// is the user's input (exit 1), anything else the environment (exit 3).
func fileErr(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &exitError{exitEnv, fmt.Errorf("%s: %v", path, err)}
}

func runRender(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("render", flag.ContinueOnError)
	var a appFlags
	a.define(flags)
	out := flags.String("o", "", "write the units into `DIR`, replacing it as a whole (atomically)")
	pos, err := parseArgs(flags, renderUsage, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr("one APPDIR at most, got %q", pos)
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	r, err := a.load(dir, true)
	if err != nil {
		return err
	}
	files, err := render.Render(r.img, r.cfg, r.rel)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := unit.WriteDir(*out, files); err != nil {
			if errors.Is(err, unit.ErrNotUnitDir) {
				return fmt.Errorf("-o %v", err)
			}
			return fileErr(*out, err)
		}
		return nil
	}
	var b bytes.Buffer
	for _, f := range files {
		data, err := unit.Marshal(f)
		if err != nil {
			return err
		}
		b.WriteString("### " + f.Name + "\n")
		b.Write(data)
	}
	_, err = stdout.Write(b.Bytes())
	return err
}
