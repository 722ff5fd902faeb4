package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/render"
)

// Session is one ssh login through the forced command `nap-render shell
// [--admin] USER` (shell mode): git's push and fetch of Home/repos/APP.git,
// or one of the app owners' commands (ParseCommand), each for the apps
// USER may use (Access).
type Session struct {
	User    string
	Admin   bool   // the key was added with keys add --admin: every app
	Command string // SSH_ORIGINAL_COMMAND, never given to a shell
	Home    Home
	State   string // the operator's state directory: who owns which app
	Runner
}

// Runner is what runs a session's git and app commands: nap-render with
// its flags, the session's environment and streams.
type Runner struct {
	Self   string   // nap-render, which runs the commands
	Flags  []string // its flags for every command (--config F)
	Env    []string // the session's environment; NAP_USER and NAP_APP are added
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// ProcessRunner is the Runner of this process: its environment and
// stdin, self with flags.
func ProcessRunner(self string, flags []string, stdout, stderr io.Writer) Runner {
	return Runner{Self: self, Flags: flags, Env: os.Environ(), Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}
}

// noAccess is the one answer to a user who may not use an app, whether it
// exists or not: nothing about other users' apps leaks.
func noAccess(app string) error {
	return &RequestError{fmt.Sprintf("no access to %s: its owner (the first to push it) or an admin can grant it: nap-render keys grant %s USER", app, app)}
}

// may reports whether the session's user may use app; for a push of an
// app nobody owns yet, it records the user as its owner (claimed).
func (s Session) may(app string, push bool) (claimed bool, err error) {
	if s.Admin {
		return false, nil
	}
	st := store.NewApp(s.State, app)
	acc, recorded, err := st.Access()
	switch {
	case err != nil:
		return false, err
	case recorded && acc.Allows(s.User):
		return false, nil
	case recorded || !push:
		return false, noAccess(app)
	}
	// Nobody owns it: a new app, unless it was deployed before owners were
	// recorded (its repository or releases are there), which only an admin
	// may hand out.
	if _, err := os.Stat(s.Home.RepoDir(app)); err == nil {
		return false, noAccess(app)
	}
	if cur, _ := st.Current(); cur != "" {
		return false, noAccess(app)
	}
	won, err := st.Claim(s.User)
	if err == nil && !won {
		err = noAccess(app)
	}
	return won, err
}

// Serve serves the session's request: a *RequestError when it is not one
// nap serves, a cli.Silent exit code when git or the command failed (it
// said why), or the machine's failure.
func (s Session) Serve(ctx context.Context) error {
	if err := ValidUser(s.User); err != nil {
		return &RequestError{err.Error()}
	}
	if !filepath.IsAbs(string(s.Home)) || !filepath.IsAbs(s.State) {
		return fmt.Errorf("HOME %q and the state directory %q must be absolute", s.Home, s.State)
	}
	if !IsGitRequest(s.Command) {
		return s.serveCommand(ctx)
	}
	req, err := ParseRequest(s.Command)
	if err != nil {
		return err
	}
	claimed, err := s.may(req.App, req.Push())
	if err != nil {
		return err
	}
	gitShell, err := exec.LookPath("git-shell")
	if err != nil {
		return err
	}
	repo, created, err := s.Home.Prepare(req, "")
	if err != nil {
		if claimed {
			store.NewApp(s.State, req.App).Unclaim(s.User)
		}
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
	cmd.Env = append(slices.Clip(s.Env), "NAP_USER="+s.User, "NAP_APP="+req.App)
	runErr := cmd.Run()
	release()
	if created {
		// This push made the repository: one that moved no ref (rejected,
		// or one that sent nothing) takes it away again.
		if git, err := exec.LookPath("git"); err == nil {
			if removed, _ := s.Home.RemoveUnused(req.App, git); removed && claimed {
				store.NewApp(s.State, req.App).Unclaim(s.User)
			}
		}
	}
	return exitOf(runErr)
}

// serveCommand runs one of the app owners' commands as nap-render on the
// host, its streams the session's.
func (s Session) serveCommand(ctx context.Context) error {
	c, err := ParseCommand(s.Command)
	if err != nil {
		return err
	}
	if c.Name == "help" {
		_, err := io.WriteString(s.Stdout, CommandHelp("ssh nap@HOST ", c.Words))
		return err
	}
	if c.App != "" {
		if _, err := s.may(c.App, false); err != nil {
			return err
		}
	}
	var extra []string
	if c.Name == "apps" && !s.Admin {
		extra = []string{"--for", s.User}
	}
	return s.run(ctx, c, s.User, extra)
}

// run runs c as `SELF NAME FLAGS… EXTRA… WORDS…` for user with the
// session's streams: the host's own command, each word checked.
func (r Runner) run(ctx context.Context, c Command, user string, extra []string) error {
	cmd := exec.CommandContext(ctx, r.Self, slices.Concat([]string{c.Name}, r.Flags, extra, c.Words)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r.Stdin, r.Stdout, r.Stderr
	cmd.Env = append(slices.Clip(r.Env), "NAP_USER="+user)
	return exitOf(cmd.Run())
}

// exitOf is the end of a program that speaks to the client itself (git, a
// nap-render command): its exit code, with nothing more to say.
func exitOf(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() > 0 {
		return cli.Silent(exit.ExitCode())
	}
	return err
}

// Hook is the pre-receive hook git runs for a push: what nap's hook script
// (HookScript) hands to `nap-render hooks pre-receive`.
type Hook struct {
	Mode     Mode
	Operator render.Operator
	// Runner's Self runs the deploys (SELF deploy FLAGS… APP --rev REV);
	// its Env is the hook's (GIT_DIR, GL_*, the quarantine).
	Runner
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
	r.Deploy, r.DeployFlags = []string{h.Self, "deploy"}, h.Flags
	r.Current = func() string {
		cur, _ := store.NewApp(h.Operator.State, r.App).Current()
		return cur
	}
	return r.Receive(ctx, updates)
}

// AddUser authorizes the ssh public key in keyFile for l in the
// authorized_keys file at path (default ~/.ssh/authorized_keys), as
// AuthorizedLine and AddKey do, and says what it did.
func AddUser(path, napRender string, l Login, keyFile string) (string, error) {
	user := l.User
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
	line, err := AuthorizedLine(napRender, l, key)
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
	what := ""
	if l.Admin {
		what = " (an admin)"
	}
	return fmt.Sprintf("wrote %s: added %s's %s key%s", path, user, key.Type, what), nil
}
