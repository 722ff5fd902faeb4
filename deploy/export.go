package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ExportTree writes the tree of commit rev from the repository gitDir into
// dst (replacing it), through `git archive | tar -x` into a temporary
// directory renamed into place. git runs with env unchanged: inside a
// pre-receive hook the pushed objects are quarantined and visible only
// through the hook's GIT_OBJECT_DIRECTORY and GIT_ALTERNATE_OBJECT_DIRECTORIES.
func ExportTree(gitDir, rev, dst string, env []string) error {
	if gitDir != "" {
		abs, err := filepath.Abs(gitDir)
		if err != nil {
			return envErr("export", "%v", err)
		}
		gitDir = abs
	}
	git := func(args ...string) *exec.Cmd {
		if gitDir != "" {
			args = append([]string{"--git-dir=" + gitDir}, args...)
		}
		c := exec.Command("git", args...)
		c.Env = env
		return c
	}
	if _, err := exec.LookPath("git"); err != nil {
		return envErr("export", "git is not installed: %v", err)
	}
	var stderr bytes.Buffer
	check := git("cat-file", "-e", rev+"^{commit}")
	check.Stderr = &stderr
	if err := check.Run(); err != nil {
		repo := gitDir
		if repo == "" {
			repo = "the repository"
		}
		return inputErr("export", "revision %s is not a commit of %s: %s", rev, repo, strings.TrimSpace(stderr.String()))
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return envErr("export", "%v", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return envErr("export", "%v", err)
	}
	defer os.RemoveAll(tmp)
	archive := git("archive", "--format=tar", rev)
	untar := exec.Command("tar", "-x", "--no-same-owner", "-C", tmp)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return envErr("export", "%v", err)
	}
	untar.Stdin = pipe
	var archErr, tarErr bytes.Buffer
	archive.Stderr, untar.Stderr = &archErr, &tarErr
	if err := untar.Start(); err != nil {
		return envErr("export", "tar: %v", err)
	}
	aerr := archive.Run()
	terr := untar.Wait()
	if aerr != nil {
		return envErr("export", "git archive %s: %v: %s", rev, aerr, strings.TrimSpace(archErr.String()))
	}
	if terr != nil {
		return envErr("export", "tar: %v: %s", terr, strings.TrimSpace(tarErr.String()))
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return envErr("export", "%v", err)
	}
	if err := os.RemoveAll(dst); err != nil {
		return envErr("export", "%v", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return envErr("export", "%v", err)
	}
	return nil
}
