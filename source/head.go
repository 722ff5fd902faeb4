package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nap-paas/nap/render"
)

// ErrNoHead: dir is not in a git work tree, or the work tree has no commit
// yet. The error wrapping it says what to do.
var ErrNoHead = errors.New("no HEAD commit")

// HeadRev is HEAD of the git work tree holding dir. It reads the repository
// files itself when it can (starting git costs more than all of rendering),
// and asks git otherwise: GIT_DIR and friends set, an unborn or unusual
// HEAD, and for the messages when dir is not in a work tree. Errors wrap
// ErrNoHead (the user's), exec.ErrNotFound (no git) or git's failure.
func HeadRev(dir string) (string, error) {
	if os.Getenv("GIT_DIR") == "" && os.Getenv("GIT_WORK_TREE") == "" && os.Getenv("GIT_COMMON_DIR") == "" {
		if rev, ok := readHead(dir); ok {
			return rev, nil
		}
	}
	return gitHeadRev(dir)
}

// readHead finds the .git of the work tree holding dir and resolves HEAD
// through a loose or packed ref. ok is false whenever git could disagree.
func readHead(dir string) (rev string, ok bool) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		dot := filepath.Join(d, ".git")
		if st, err := os.Lstat(dot); err == nil {
			switch {
			case st.IsDir():
				return resolveHead(dot)
			case st.Mode().IsRegular(): // a linked work tree or submodule: "gitdir: PATH"
				b, err := os.ReadFile(dot)
				if err != nil {
					return "", false
				}
				gd, found := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
				if !found {
					return "", false
				}
				if !filepath.IsAbs(gd) {
					gd = filepath.Join(d, gd)
				}
				return resolveHead(gd)
			}
			return "", false
		}
		if filepath.Base(d) == ".git" { // inside a repository's own files: not a work tree
			return "", false
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

func resolveHead(gitDir string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return "", false
	}
	head := strings.TrimSpace(string(b))
	ref, symbolic := strings.CutPrefix(head, "ref: ")
	if !symbolic {
		return head, render.ValidRev(head) == nil
	}
	if !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
		return "", false
	}
	common := gitDir
	if c, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		common = strings.TrimSpace(string(c))
		if !filepath.IsAbs(common) {
			common = filepath.Join(gitDir, common)
		}
	}
	if b, err := os.ReadFile(filepath.Join(common, filepath.FromSlash(ref))); err == nil {
		rev := strings.TrimSpace(string(b))
		return rev, render.ValidRev(rev) == nil
	}
	packed, err := os.ReadFile(filepath.Join(common, "packed-refs"))
	if err != nil {
		return "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(packed))
	for sc.Scan() {
		if rev, name, ok := strings.Cut(sc.Text(), " "); ok && name == ref {
			return rev, render.ValidRev(rev) == nil
		}
	}
	return "", false
}

// gitHeadRev asks git.
func gitHeadRev(dir string) (string, error) {
	cmd := exec.Command("git", "-C", dir, "rev-parse", "--is-inside-work-tree", "--verify", "-q", "HEAD")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if errors.Is(err, exec.ErrNotFound) {
		return "", fmt.Errorf("git is not installed: give --rev SHA (%w)", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 || lines[0] != "true" {
		return "", fmt.Errorf("%s is not in a git work tree: give --rev SHA (%w)", dir, ErrNoHead)
	}
	if err != nil || len(lines) != 2 {
		return "", fmt.Errorf("%s: the git work tree has no commit yet: commit, or give --rev SHA (%w)", dir, ErrNoHead)
	}
	if err := render.ValidRev(lines[1]); err != nil {
		return "", fmt.Errorf("git rev-parse HEAD: %v", err)
	}
	return lines[1], nil
}

// WorkTree returns the repository and HEAD of the git work tree holding
// dir: what `nap-render deploy APPDIR` exports. Errors wrap ErrNoHead when
// dir is no work tree with a commit.
func WorkTree(dir string) (gitDir, rev string, err error) {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--absolute-git-dir", "--verify", "-q", "HEAD").Output()
	if errors.Is(err, exec.ErrNotFound) {
		return "", "", fmt.Errorf("git is not installed (%w)", err)
	}
	lines := strings.Fields(string(out))
	if err != nil || len(lines) != 2 {
		return "", "", fmt.Errorf("%s is not a git work tree with a commit: give APP --rev REV (%w)", dir, ErrNoHead)
	}
	if err := render.ValidRev(lines[1]); err != nil {
		return "", "", fmt.Errorf("git rev-parse HEAD: %v", err)
	}
	return lines[0], lines[1], nil
}
