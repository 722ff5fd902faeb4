package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/render"
)

// Session is one ssh login through the forced command `nap-render shell
// USER` (shell mode): git's push and fetch of Home/repos/APP.git.
type Session struct {
	User    string
	Command string // SSH_ORIGINAL_COMMAND, never given to a shell
	Home    Home
	Env     []string // git's environment; NAP_USER and NAP_APP are added
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
}

// ExitError is git's exit status: git has told the client why already.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("git exited with status %d", e.Code) }

// Serve serves the session's request: a *RequestError when it is not one
// nap serves, an *ExitError when git failed, or the machine's failure.
func (s Session) Serve(ctx context.Context) error {
	if err := ValidUser(s.User); err != nil {
		return &RequestError{err.Error()}
	}
	req, err := ParseRequest(s.Command)
	if err != nil {
		return err
	}
	if !filepath.IsAbs(string(s.Home)) {
		return fmt.Errorf("HOME %q is not an absolute directory", s.Home)
	}
	gitShell, err := exec.LookPath("git-shell")
	if err != nil {
		return err
	}
	repo, created, err := s.Home.Prepare(req, "")
	if err != nil {
		return err
	}
	arg, err := GitShellCommand(req, repo)
	if err != nil {
		return err
	}
	// git and its hooks inherit the hold: RemoveUnused of a concurrent
	// first push never takes the repository from under this one.
	release, err := HoldRepo(repo)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gitShell, "-c", arg)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.Stdin, s.Stdout, s.Stderr
	cmd.Env = append(s.Env[:len(s.Env):len(s.Env)], "NAP_USER="+s.User, "NAP_APP="+req.App)
	runErr := cmd.Run()
	release()
	if created {
		// This push made the repository: one that moved no ref (rejected,
		// or one that sent nothing) takes it away again.
		if git, err := exec.LookPath("git"); err == nil {
			s.Home.RemoveUnused(req.App, git)
		}
	}
	var exit *exec.ExitError
	if errors.As(runErr, &exit) && exit.ExitCode() > 0 {
		return &ExitError{exit.ExitCode()}
	}
	return runErr
}

// Hook is the pre-receive hook git runs for a push: what nap's hook script
// (HookScript) hands to `nap-render hooks pre-receive`.
type Hook struct {
	Mode     Mode
	Operator render.Operator
	// Deploy is the deploy command before APP --rev REV (e.g.
	// /usr/bin/nap-render deploy); DeployFlags come after it.
	Deploy, DeployFlags []string
	Env                 []string // the hook's environment (GIT_DIR, GL_*, the quarantine)
	Stdin               io.Reader
	Stdout, Stderr      io.Writer
}

// Run reads git's updates and deploys what they ask for. A push to
// gitolite-admin or to a repository that is no app passes untouched.
// Errors are a *RequestError (git's input), a *DeployError (the push is
// rejected) or the machine's.
func (h Hook) Run(ctx context.Context) error {
	updates, err := ParseUpdates(h.Stdin)
	if err != nil {
		return &RequestError{err.Error()}
	}
	r, err := HookReceiver(h.Mode, h.Env, h.Stdout, h.Stderr)
	if err != nil {
		return err
	}
	if render.ValidApp(r.App) != nil {
		return nil
	}
	r.DeployBranch = h.Operator.DeployBranch
	r.Deploy, r.DeployFlags = h.Deploy, h.DeployFlags
	r.Current = func() string {
		cur, _ := store.NewApp(h.Operator.State, r.App).Current()
		return cur
	}
	return r.Receive(ctx, updates)
}

// AddUser authorizes the ssh public key in keyFile for user in the
// authorized_keys file at path (default ~/.ssh/authorized_keys), as
// AuthorizedLine and AddKey do, and says what it did.
func AddUser(path, napRender, user, keyFile string) (string, error) {
	if err := ValidUser(user); err != nil {
		return "", &RequestError{err.Error()}
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return "", &RequestError{err.Error()}
	}
	key, err := ParsePublicKey(data)
	if err != nil {
		return "", &RequestError{fmt.Sprintf("%s: %v", keyFile, err)}
	}
	line, err := AuthorizedLine(napRender, user, key)
	if err != nil {
		return "", err
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		path = filepath.Join(home, ".ssh", "authorized_keys")
	}
	switch res, err := AddKey(path, line, key); {
	case err != nil:
		return "", &RequestError{err.Error()}
	case res == KeyUnchanged:
		return fmt.Sprintf("unchanged %s: %s's key is already there", path, user), nil
	}
	return fmt.Sprintf("wrote %s: added %s's %s key", path, user, key.Type), nil
}
