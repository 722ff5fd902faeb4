package hooks

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/nap-paas/nap/internal/sh"
)

// Home is the nap user's home directory in shell mode (absolute). Apps live
// in HOME/repos/APP.git, nap's pre-receive hook in HOME/hooks/pre-receive;
// every repository links to that one hook, so reinstalling nap updates all.
type Home string

// RepoDir is where app's bare repository lives.
func (h Home) RepoDir(app string) string { return filepath.Join(string(h), "repos", app+".git") }

// HookPath is nap's installed pre-receive hook.
func (h Home) HookPath() string { return filepath.Join(string(h), "hooks", "pre-receive") }

// Prepare returns the absolute repository directory for req, and whether
// this request created it. A push creates the repository on first use
// (RemoveUnused removes it again if the push moved no ref); a fetch of an
// app that does not exist is refused. Creation is all-or-nothing: the repository is made under a
// temporary name and renamed into place, so two concurrent first pushes see
// one complete repository and neither sees a half-made one. git is the git
// binary that creates it; "" looks git up on PATH only then, so that pushes
// to an existing app pay for no lookup.
func (h Home) Prepare(req Request, git string) (dir string, created bool, err error) {
	if !filepath.IsAbs(string(h)) {
		return "", false, fmt.Errorf("home %q is not absolute", string(h))
	}
	dir = h.RepoDir(req.App)
	if _, err := os.Stat(dir); err == nil {
		if req.Push() {
			return dir, false, h.linkHook(dir)
		}
		return dir, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	if !req.Push() {
		return "", false, &RequestError{fmt.Sprintf("app %q does not exist: push to create it (git push nap@host:%s master)", req.App, req.App)}
	}
	if _, err := os.Stat(h.HookPath()); err != nil {
		return "", false, fmt.Errorf("nap's hook is not installed (%v): run nap-render hooks install --mode shell --home %s", err, sh.Quote(string(h)))
	}
	root := filepath.Dir(dir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", false, err
	}
	// The leading dot keeps the temporary name from ever being an app name.
	tmp, err := os.MkdirTemp(root, ".new-"+req.App+"-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(tmp)
	if git == "" {
		if git, err = exec.LookPath("git"); err != nil {
			return "", false, err
		}
	}
	// --template= : no sample hooks; nap's hook is the only one.
	out, err := exec.Command(git, "init", "--quiet", "--bare", "--template=", "--initial-branch=master", tmp).CombinedOutput()
	if err != nil {
		return "", false, fmt.Errorf("git init: %v: %s", err, out)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", false, err
	}
	if err := h.linkHook(tmp); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another push created it first: use theirs.
		if _, statErr := os.Stat(dir); statErr == nil {
			return dir, false, nil
		}
		return "", false, err
	}
	return dir, true, nil
}

// linkHook points repo's pre-receive at nap's hook, repairing a missing link
// so that no push to an app is ever accepted without it.
func (h Home) linkHook(repo string) error {
	link := filepath.Join(repo, "hooks", "pre-receive")
	if target, err := os.Readlink(link); err == nil && target == h.HookPath() {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	tmp := link + ".nap-tmp"
	os.Remove(tmp)
	if err := os.Symlink(h.HookPath(), tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

// GitShellCommand is the argument for git-shell -c that serves req from repo.
// git-shell reads the path as one single-quoted word; paths that would need
// escaping there are refused rather than escaped a second way.
func GitShellCommand(req Request, repo string) (string, error) {
	if sh.Quote(repo) != repo {
		return "", fmt.Errorf("repository path %q holds characters git-shell would need quoted: use a home directory made of [A-Za-z0-9._/-]", repo)
	}
	return req.Verb + " '" + repo + "'", nil
}

// HoldRepo takes a shared lock on the repository dir for as long as this
// process, and every process it execs or starts, runs: the descriptor is
// left open across exec on purpose, so git-shell and git-receive-pack hold
// it too. RemoveUnused never removes a repository a request holds.
func HoldRepo(dir string) (release func(), err error) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0) // no O_CLOEXEC
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(fd, syscall.LOCK_SH); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return func() { syscall.Close(fd) }, nil
}

// RemoveUnused removes app's repository when it holds no ref and no other
// request holds it: a first push that moved no ref (rejected, deleted,
// or a connection that sent nothing) leaves no app behind. It reports
// whether it removed the repository.
func (h Home) RemoveUnused(app, git string) (bool, error) {
	dir := h.RepoDir(app)
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer syscall.Close(fd)
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false, nil // another push is on its way in
	}
	out, err := exec.Command(git, "--git-dir="+dir, "for-each-ref", "--count=1", "--format=%(refname)").Output()
	if err != nil || len(out) > 0 {
		return false, err
	}
	// Renamed first: a request arriving now finds no repository, never a
	// half-removed one.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".gone-"+app+"-")
	if err != nil {
		return false, err
	}
	if err := os.Rename(dir, filepath.Join(tmp, "repo")); err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, os.RemoveAll(tmp)
}
