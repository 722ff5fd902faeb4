package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/render"
)

// AppFile is the app's config file at the top of the tree.
const AppFile = "nap.yaml"

// Sizes beyond which the files nap reads are refused before parsing: far
// above any real one, far below what would make a unit or a message large.
const (
	MaxAppFile    = 256 << 10
	MaxDockerfile = 1 << 20
)

// Tree is an exported tree (or a developer's work tree), opened confined.
type Tree struct {
	dir  string
	root *os.Root
}

// Open opens the tree at dir. dir itself is trusted (the state directory,
// or a path the user gave on the command line).
func Open(dir string) (*Tree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Tree{dir: dir, root: root}, nil
}

// Close releases the tree.
func (t *Tree) Close() error { return t.root.Close() }

// Dir is the directory the tree was opened at.
func (t *Tree) Dir() string { return t.dir }

// where names the setting that chose a path, for messages: nap.yaml's line
// of field when nap.yaml set it.
type where struct {
	file  string // "" when the path is a default
	line  int
	field string // "dockerfile", "context"
	fix   string // what to do, e.g. "commit the Dockerfile itself"
}

func (w where) errorf(p string, format string, a ...any) *Error {
	msg := p + " " + fmt.Sprintf(format, a...)
	if w.file != "" {
		msg = w.field + ": " + msg
	}
	if w.fix != "" {
		msg += ": " + w.fix
	}
	return &Error{File: w.file, Line: w.line, Msg: msg}
}

func (t *Tree) setting(cfg *render.Config, field, fix string) where {
	file, line := cfg.Where(field)
	if line == 0 {
		file = ""
	}
	return where{file: file, line: line, field: field, fix: fix}
}

// lstat checks every component of p (clean, slash-separated, relative) and
// returns what the last one is. A symlink anywhere on the way, or a file
// where a directory is needed, is an *Error; a missing component is
// fs.ErrNotExist (wrapped with the missing prefix).
func (t *Tree) lstat(p string, w where) (fs.FileInfo, error) {
	if p == "." {
		return t.root.Lstat(".")
	}
	for end := 0; ; {
		next := strings.IndexByte(p[end:], '/')
		prefix := p
		if next >= 0 {
			prefix = p[:end+next]
		}
		fi, err := t.root.Lstat(prefix)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &notExist{prefix}
		} else if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			subject := prefix
			if prefix != p {
				subject = p + ": " + prefix
			}
			return nil, t.symlinkErr(subject, prefix, w)
		}
		if next < 0 {
			return fi, nil
		}
		if !fi.IsDir() {
			return nil, w.errorf(p, "cannot be read: %s is not a directory", prefix)
		}
		end += next + 1
	}
}

type notExist struct{ path string }

func (e *notExist) Error() string { return e.path + ": no such file or directory" }
func (e *notExist) Unwrap() error { return fs.ErrNotExist }

// symlinkErr refuses the symlink at p (named subject in the message). Its
// target, text of the tree, is shown; what it points at never is.
func (t *Tree) symlinkErr(subject, p string, w where) *Error {
	target, err := t.root.Readlink(p)
	if err != nil {
		return w.errorf(subject, "is a symlink: nap follows none here")
	}
	if to := path.Join(path.Dir(p), target); path.IsAbs(target) || to == ".." || strings.HasPrefix(to, "../") {
		return w.errorf(subject, "is a symlink that leaves the repository (to %s)", render.QuoteName(target))
	}
	return w.errorf(subject, "is a symlink (to %s): nap follows none here", render.QuoteName(target))
}

// readFile reads the regular file p, at most max bytes.
func (t *Tree) readFile(p string, max int64, w where) ([]byte, error) {
	fi, err := t.lstat(p, w)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, w.errorf(p, "is not a regular file")
	}
	if fi.Size() > max {
		return nil, w.errorf(p, "is %d bytes; nap reads at most %d", fi.Size(), max)
	}
	// O_NOFOLLOW: the file checked above is the file read.
	f, err := t.root.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, w.errorf(p, "is more than %d bytes; nap reads at most %d", max, max)
	}
	return b, nil
}

// AppConfig reads the tree's nap.yaml (absent: defaults) onto the
// operator's config.
func (t *Tree) AppConfig(op render.Operator) (*render.Config, error) {
	data, err := t.readFile(AppFile, MaxAppFile, where{fix: "commit nap.yaml itself"})
	if errors.Is(err, fs.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return render.ParseAppConfig(op, AppFile, data)
}

// Image reads the Dockerfile cfg names, checks the build context and the
// ignore files docker will read by name, and returns the Dockerfile's
// model. After it returns nil, `docker build -f DIR/DOCKERFILE DIR/CONTEXT`
// of this tree opens nothing outside it by name.
func (t *Tree) Image(cfg *render.Config) (*dockerfile.Image, error) {
	app := &cfg.App
	cw := t.setting(cfg, "context", "commit the directory itself, or name it with context: in nap.yaml")
	fi, err := t.lstat(app.Context, cw)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, cw.errorf(app.Context, "does not exist")
	} else if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, cw.errorf(app.Context, "is not a directory")
	}
	dw := t.setting(cfg, "dockerfile", "commit the Dockerfile itself, or name it with dockerfile: in nap.yaml")
	data, err := t.readFile(app.Dockerfile, MaxDockerfile, dw)
	if errors.Is(err, fs.ErrNotExist) {
		dw.fix = "add it to the repository, or name another file with dockerfile: in nap.yaml"
		return nil, dw.errorf(app.Dockerfile, "does not exist")
	} else if err != nil {
		return nil, err
	}
	for _, ignore := range []string{path.Join(app.Context, ".dockerignore"), app.Dockerfile + ".dockerignore"} {
		fi, err := t.lstat(ignore, where{fix: "commit the file itself"})
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, errorf(ignore, 0, "is not a regular file: docker reads it by name; commit the file itself")
		}
	}
	return dockerfile.Parse(app.Dockerfile, bytes.NewReader(data), dockerfile.Options{BuildArgs: app.BuildArgs, Stage: app.Stage})
}
