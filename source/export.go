package source

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/render"
)

// Repo is a git repository trees are exported from.
type Repo struct {
	// GitDir is the repository; "" lets git find it ($GIT_DIR, or the
	// current directory).
	GitDir string
	// Env is git's environment; nil: this process's. Inside a pre-receive
	// hook the pushed objects are quarantined and visible only through the
	// hook's GIT_OBJECT_DIRECTORY and GIT_ALTERNATE_OBJECT_DIRECTORIES.
	Env []string
}

func (r Repo) git(ctx context.Context, args ...string) *exec.Cmd {
	if r.GitDir != "" {
		args = append([]string{"--git-dir=" + r.GitDir}, args...)
	}
	c := exec.CommandContext(ctx, "git", args...)
	c.Env = r.Env
	if c.Env == nil {
		c.Env = os.Environ()
	}
	return c
}

// Export writes the tree of commit rev into dst, replacing it, or nothing.
// The tree's size and file count are summed from git's index of it and held
// to lim (MaxTree, MaxFiles) before a byte is written; then its files are
// written through an os.Root of a temporary directory, which is renamed
// into place.
func (r Repo) Export(ctx context.Context, rev, dst string, lim render.Limits) error {
	if r.GitDir != "" {
		abs, err := filepath.Abs(r.GitDir)
		if err != nil {
			return err
		}
		r.GitDir = abs
	}
	if _, err := exec.LookPath("git"); err != nil {
		return fmt.Errorf("git is not installed: %v", err)
	}
	var stderr bytes.Buffer
	check := r.git(ctx, "cat-file", "-e", rev+"^{commit}")
	check.Stderr = &stderr
	if err := check.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		repo := r.GitDir
		if repo == "" {
			repo = "the repository"
		}
		return errorf("", 0, "revision %s is not a commit of %s: %s", rev, repo, strings.TrimSpace(stderr.String()))
	}
	if err := r.measure(ctx, rev, lim); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := r.extract(ctx, rev, tmp, lim); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// measure sums the blobs of rev's tree (files and symlinks; a submodule is
// exported empty) from `git ls-tree -r -l`, and refuses a tree over lim.
func (r Repo) measure(ctx context.Context, rev string, lim render.Limits) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ls := r.git(ctx, "ls-tree", "-r", "-l", "-z", "--full-tree", rev)
	var stderr bytes.Buffer
	ls.Stderr = &stderr
	out, err := ls.StdoutPipe()
	if err != nil {
		return err
	}
	if err := ls.Start(); err != nil {
		return err
	}
	var size int64
	files := 0
	over := error(nil)
	s := bufio.NewScanner(out)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	s.Split(splitNUL)
	for s.Scan() {
		// MODE SP TYPE SP OID SP+ SIZE TAB PATH
		meta, _, ok := strings.Cut(s.Text(), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			continue
		}
		if f[1] != "blob" {
			continue
		}
		n, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			continue
		}
		files++
		size += n
		if lim.MaxFiles > 0 && files > lim.MaxFiles {
			over = errorf("", 0, "the tree of %.12s holds more than %d files; this host takes at most %d (limits.max_files): keep generated files and dependencies out of the repository", rev, lim.MaxFiles, lim.MaxFiles)
			break
		}
		if lim.MaxTree > 0 && size > lim.MaxTree {
			over = errorf("", 0, "the tree of %.12s holds more than %s; this host takes at most %s (limits.max_tree): keep build outputs and large data out of the repository", rev, render.FormatSize(lim.MaxTree), render.FormatSize(lim.MaxTree))
			break
		}
	}
	if over != nil {
		cancel()
		ls.Wait()
		return over
	}
	if err := s.Err(); err != nil {
		ls.Wait()
		return fmt.Errorf("git ls-tree %s: %v", rev, err)
	}
	if err := ls.Wait(); err != nil {
		return fmt.Errorf("git ls-tree %s: %v: %s", rev, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// extract writes `git archive` of rev into dir through an os.Root: no entry
// can land outside dir, whatever its name or the symlinks before it. It
// stops at lim.MaxTree bytes even if git's index of the tree said less.
func (r Repo) extract(ctx context.Context, rev, dir string, lim render.Limits) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	archive := r.git(ctx, "archive", "--format=tar", rev)
	var stderr bytes.Buffer
	archive.Stderr = &stderr
	out, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	if err := archive.Start(); err != nil {
		return err
	}
	werr := writeTar(root, out, lim)
	if werr != nil {
		io.Copy(io.Discard, out)
	}
	aerr := archive.Wait()
	if werr != nil {
		return werr
	}
	if aerr != nil {
		return fmt.Errorf("git archive %s: %v: %s", rev, aerr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func writeTar(root *os.Root, r io.Reader, lim render.Limits) error {
	tr := tar.NewReader(r)
	budget := lim.MaxTree
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading git archive: %v", err)
		}
		name := path.Clean(h.Name)
		if h.Typeflag == tar.TypeXGlobalHeader || name == "." {
			continue
		}
		if !filepath.IsLocal(name) {
			return fmt.Errorf("git archive holds %s, which is not a path inside the tree", render.QuoteName(h.Name))
		}
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := root.Symlink(h.Linkname, name); err != nil {
				return err
			}
		case tar.TypeReg:
			if lim.MaxTree > 0 {
				if budget -= h.Size; budget < 0 {
					return errorf("", 0, "the tree holds more than %s; this host takes at most %s (limits.max_tree)", render.FormatSize(lim.MaxTree), render.FormatSize(lim.MaxTree))
				}
			}
			mode := os.FileMode(0o644)
			if h.Mode&0o100 != 0 {
				mode = 0o755
			}
			// O_EXCL: never write through anything already there.
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("git archive holds %s of tar type %q, which a git tree cannot hold", render.QuoteName(h.Name), h.Typeflag)
		}
	}
}
