package hooks

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GitoliteAccess returns an Allowed function that asks gitolite whether user
// may make an update, with the access gitolite's own update hook will require
// afterwards: W for a fast-forward or a new branch, + for a rewind. It runs
// before gitolite's per-ref check (pre-receive comes first), so without it a
// push that gitolite then refuses could still deploy.
//
// gitolite's update code assumes 40-hex SHA-1 ids: gitolite mode supports
// SHA-1 repositories only.
func GitoliteAccess(gitolite, repo, user, git, gitDir string, env []string) func(Update) (bool, error) {
	return func(u Update) (bool, error) {
		if len(u.New) != 40 {
			return false, fmt.Errorf("gitolite mode supports SHA-1 repositories only (got a %d-hex id)", len(u.New))
		}
		perm := "W"
		if !u.Created() {
			cmd := exec.Command(git, "merge-base", u.Old, u.New)
			cmd.Dir, cmd.Env = gitDir, env
			out, err := cmd.Output()
			if strings.TrimSpace(string(out)) != u.Old {
				perm = "+"
			}
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				return false, fmt.Errorf("git merge-base: %v", err)
			}
		}
		cmd := exec.Command(gitolite, "access", "-q", repo, user, perm, u.Ref)
		cmd.Dir, cmd.Env = gitDir, env
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return true, nil
		case errors.As(err, &exit) && exit.ExitCode() == 1 && len(out) == 0:
			return false, nil
		}
		return false, fmt.Errorf("gitolite access: %v: %s", err, strings.TrimSpace(string(out)))
	}
}

// SetupGitolite runs `gitolite setup --hooks-only` as gitoliteHome's user
// would: it links the hook InstallGitolite wrote into every repository.
func SetupGitolite(gitoliteHome string) error {
	gitolite, err := exec.LookPath("gitolite")
	if err != nil {
		return fmt.Errorf("%v: run gitolite setup --hooks-only as the gitolite user", err)
	}
	cmd := exec.Command(gitolite, "setup", "--hooks-only")
	cmd.Env = append(os.Environ(), "HOME="+gitoliteHome)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gitolite setup --hooks-only: %v: %s", err, out)
	}
	return nil
}

// gitoliteCommand finds the gitolite command the hook runs under: upstream
// installs it into GL_BINDIR, Debian into /usr/bin.
func gitoliteCommand(bindir string) (string, error) {
	gitolite := filepath.Join(bindir, "gitolite")
	if _, err := os.Stat(gitolite); err == nil {
		return gitolite, nil
	}
	return exec.LookPath("gitolite")
}
