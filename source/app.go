package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/render"
)

// AppOptions say which app a directory holds and how to read it: what
// render, check and inspect are given on the command line.
type AppOptions struct {
	Dir       string // the tree: a developer's work tree or an exported one; "" is "."
	App       string // the app's name; "": Dir's base name
	Rev       string // the full revision; "": HEAD of the git work tree holding Dir
	NapFile   string // a nap.yaml to read instead of Dir's
	Overrides render.Overrides
	NeedRev   bool // fail when no revision is known
	// FromRepo: the tree is commit Rev of the bare repository Repo (App
	// must be given), exported within the operator's limits as a deploy
	// exports it; Dir is not read.
	FromRepo bool
	Repo     Repo
	// OrRepo: when Dir names no directory it is the app's name, and the
	// tree commit Rev of the bare repository (check APP --rev REV in a
	// hook).
	OrRepo bool
}

// App is an app read from its tree, ready to render.
type App struct {
	Config   *render.Config
	Image    *dockerfile.Image
	Release  render.Release
	RevKnown bool // Release.Rev was given or found in git
}

// OptionError is a wrong AppOptions field: the caller's usage, not the tree.
type OptionError struct {
	Option string // "app", "rev", "overrides"
	Err    error
}

func (e *OptionError) Error() string {
	if e.Option == "overrides" {
		return e.Err.Error()
	}
	return "--" + e.Option + ": " + e.Err.Error()
}

func (e *OptionError) Unwrap() error { return e.Err }

// LoadApp reads the app in o.Dir exactly as a deploy reads a pushed tree:
// nap.yaml (or o.NapFile) under op, then the Dockerfile. Errors are the
// tree's (IsTreeFault: *Error for a missing file too), an *OptionError,
// ErrNoHead when o.NeedRev and git knows no HEAD, or the machine's.
func LoadApp(op render.Operator, o AppOptions) (*App, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	if st, err := os.Stat(o.Dir); o.OrRepo && (err != nil || !st.IsDir()) {
		if o.Rev == "" {
			return nil, &OptionError{"rev", fmt.Errorf("%s is not a directory: give an APPDIR, or APP --rev REV inside the app's bare repository", o.Dir)}
		}
		o.App, o.FromRepo = cmp.Or(o.App, o.Dir), true
	}
	if o.FromRepo {
		dir, cleanup, err := exportApp(context.Background(), o.Repo, o.App, o.Rev, op.Limits)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		o.Dir, o.FromRepo = dir, false
	}
	a := &App{Release: render.Release{App: o.App, Rev: o.Rev}}
	if a.Release.App == "" {
		abs, err := filepath.Abs(o.Dir)
		if err != nil {
			return nil, err
		}
		a.Release.App = filepath.Base(abs)
		if err := render.ValidApp(a.Release.App); err != nil {
			return nil, &OptionError{"app", fmt.Errorf("%v (taken from the directory's name): name the app with --app", err)}
		}
	} else if err := render.ValidApp(a.Release.App); err != nil {
		return nil, &OptionError{"app", err}
	}
	if o.Rev != "" {
		if err := render.ValidRev(o.Rev); err != nil {
			return nil, &OptionError{"rev", err}
		}
		a.RevKnown = true
	} else {
		rev, err := HeadRev(o.Dir)
		if err != nil && o.NeedRev {
			return nil, err
		}
		a.Release.Rev, a.RevKnown = rev, err == nil
	}

	var err error
	a.Config, a.Image, err = LoadImage(op, o.Dir, o.NapFile, o.Overrides)
	return a, err
}

// LoadImage reads the app's config (nap.yaml in dir, or napFile) with o
// applied, and the Dockerfile it names: what `nap-render inspect` shows.
func LoadImage(op render.Operator, dir, napFile string, o render.Overrides) (*render.Config, *dockerfile.Image, error) {
	tree, cfg, err := OpenApp(op, dir, napFile)
	if err != nil {
		return nil, nil, err
	}
	defer tree.Close()
	if err := cfg.Apply(o); err != nil {
		return nil, nil, &OptionError{"overrides", err}
	}
	img, err := tree.Image(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, img, nil
}

// OpenApp opens the tree at dir with its nap.yaml, or napFile instead when
// given. The caller closes the tree.
func OpenApp(op render.Operator, dir, napFile string) (*Tree, *render.Config, error) {
	tree, err := Open(dir)
	if err != nil {
		return nil, nil, fileErr(dir, err)
	}
	var cfg *render.Config
	if napFile != "" {
		var data []byte
		if data, err = os.ReadFile(napFile); err != nil {
			err = fileErr(napFile, err)
		} else {
			cfg, err = render.ParseAppConfig(op, napFile, data)
		}
	} else {
		cfg, err = tree.AppConfig(op)
	}
	if err != nil {
		tree.Close()
		return nil, nil, err
	}
	return tree, cfg, nil
}

// fileErr: a missing file the user named is their input (*Error); any
// other failure to read it is the machine's.
func fileErr(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(path, 0, "no such file")
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// exportApp exports the tree of commit rev of the bare repository r to a
// new temporary directory named after app, within lim, as a deploy does.
// It returns the tree's directory and a function removing it.
func exportApp(ctx context.Context, r Repo, app, rev string, lim render.Limits) (string, func(), error) {
	if err := render.ValidApp(app); err != nil {
		return "", nil, &OptionError{"app", err}
	}
	if err := render.ValidRev(rev); err != nil {
		return "", nil, &OptionError{"rev", err}
	}
	tmp, err := os.MkdirTemp("", "nap-check-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	tree := filepath.Join(tmp, app)
	if err := r.Export(ctx, rev, tree, lim); err != nil {
		cleanup()
		return "", nil, err
	}
	return tree, cleanup, nil
}
