package hooks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/render"
)

// Update is one line of a pre-receive hook's input: a ref moving from Old to
// New. Ids are full object ids, 40 (SHA-1) or 64 (SHA-256) hex digits.
type Update struct{ Old, New, Ref string }

// Deleted reports whether the update deletes the ref (New is all zeros).
func (u Update) Deleted() bool { return strings.Trim(u.New, "0") == "" }

// Created reports whether the update creates the ref (Old is all zeros).
func (u Update) Created() bool { return strings.Trim(u.Old, "0") == "" }

// ParseUpdates reads the hook's stdin: "OLD NEW REF" lines.
func ParseUpdates(r io.Reader) ([]Update, error) {
	var updates []Update
	s := bufio.NewScanner(r)
	for n := 1; s.Scan(); n++ {
		f := strings.Split(s.Text(), " ")
		if len(f) != 3 || render.ValidRev(f[0]) != nil || render.ValidRev(f[1]) != nil || len(f[0]) != len(f[1]) || !strings.HasPrefix(f[2], "refs/") {
			return nil, fmt.Errorf("pre-receive input line %d: want OLD NEW REF, got %s", n, render.QuoteName(s.Text()))
		}
		updates = append(updates, Update{Old: f[0], New: f[1], Ref: f[2]})
	}
	return updates, s.Err()
}

// Receiver decides, for one push to one repository, what to deploy, and runs
// the deploy command for it. A non-nil error from Receive rejects the push.
type Receiver struct {
	App          string // the repository's app; not a valid app name: nothing is ever deployed
	GitDir       string // absolute
	DeployBranch string // operator deploy_branch, e.g. "master"
	Git          string // git binary
	// Deploy is the command before APP --rev NEW (e.g. /usr/bin/nap-render
	// deploy); DeployFlags come after (e.g. --config FILE).
	Deploy, DeployFlags []string
	// Env is the deploy's environment: the hook's own, so that the pushed
	// objects still in quarantine are visible. GIT_DIR is set absolute.
	Env []string
	// Allowed, if set, says whether the pusher may make update; a denied
	// update is not deployed (gitolite then refuses the ref itself).
	Allowed func(Update) (bool, error)
	// Current, if set, returns the revision the app serves ("" when none).
	// A deploy that ended in error — killed, say — after it had switched
	// to the pushed revision must not reject the push: the branch then
	// names what runs. A current release the branch does not name (a ref
	// update that failed after the hook accepted) is said before a deploy.
	Current        func() string
	Stdout, Stderr io.Writer
}

// Receive handles the updates of one push.
func (r *Receiver) Receive(ctx context.Context, updates []Update) error {
	if render.ValidApp(r.App) != nil {
		return nil
	}
	branch := "refs/heads/" + r.DeployBranch
	for _, u := range updates {
		switch {
		case u.Ref != branch:
			deploy.Say(r.Stdout, "%s: accepted, not deployed (%s deploys from %s)", u.Ref, r.App, r.DeployBranch)
			continue
		case u.Deleted():
			// git would delete the branch and leave its release running,
			// named by nothing: refuse, and say how an app is removed.
			return fmt.Errorf("deleting %s is refused: it names what %s runs; to remove the app, run nap-render destroy %s on the git host", u.Ref, r.App, r.App)
		}
		if r.Allowed != nil {
			ok, err := r.Allowed(u)
			if err != nil {
				return err
			}
			if !ok {
				deploy.Say(r.Stdout, "%s: you may not write it: nothing deployed", u.Ref)
				continue
			}
		}
		if err := r.checkCurrent(u); err != nil {
			return err
		}
		if r.Current != nil {
			if cur := r.Current(); cur != "" && cur != u.Old {
				deploy.Say(r.Stdout, "%s serves %.12s, which %s does not name (a rollback, or a push whose ref update failed after its deploy); this push replaces it", r.App, cur, u.Ref)
			}
		}
		if err := r.deploy(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// checkCurrent refuses a deploy when the branch no longer points where the
// pusher saw it: git would refuse the ref update after the deploy ran, and
// what runs would then differ from the branch.
func (r *Receiver) checkCurrent(u Update) error {
	cmd := exec.Command(r.Git, "rev-parse", "--verify", "--quiet", u.Ref)
	cmd.Dir, cmd.Env = r.GitDir, r.env()
	out, err := cmd.Output()
	current := strings.TrimSpace(string(out))
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		current = strings.Repeat("0", len(u.Old))
	} else if err != nil {
		return fmt.Errorf("git rev-parse %s: %v", u.Ref, err)
	}
	if current != u.Old {
		return fmt.Errorf("%s moved while you pushed (now %.12s): fetch, merge and push again", u.Ref, current)
	}
	return nil
}

func (r *Receiver) deploy(ctx context.Context, u Update) error {
	if len(r.Deploy) == 0 {
		return errors.New("no deploy command configured")
	}
	args := append(append(append([]string{}, r.Deploy[1:]...), r.App, "--rev", u.New), r.DeployFlags...)
	cmd := exec.CommandContext(ctx, r.Deploy[0], args...)
	cmd.Dir, cmd.Env = r.GitDir, r.env()
	cmd.Stdout, cmd.Stderr = r.Stdout, r.Stderr
	if err := cmd.Run(); err != nil {
		if r.Current != nil && r.Current() == u.New {
			deploy.Say(r.Stdout, "%s serves %.12s, but its deploy ended early (%v): push accepted; what is left is finished in the background", r.App, u.New, err)
			return nil
		}
		return &DeployError{App: r.App, Ref: u.Ref, Old: u.Old, Err: err}
	}
	return nil
}

func (r *Receiver) env() []string {
	env := make([]string, 0, len(r.Env)+1)
	for _, kv := range r.Env {
		if !strings.HasPrefix(kv, "GIT_DIR=") {
			env = append(env, kv)
		}
	}
	return append(env, "GIT_DIR="+r.GitDir)
}

// DeployError is a failed deploy: the push is rejected and Ref stays at Old.
type DeployError struct {
	App, Ref, Old string
	Err           error
}

func (e *DeployError) Error() string {
	where := fmt.Sprintf("%s still points at %.12s", e.Ref, e.Old)
	if strings.Trim(e.Old, "0") == "" {
		where = e.Ref + " was not created"
	}
	return fmt.Sprintf("deploy of %s failed (%v): push rejected, %s", e.App, e.Err, where)
}

func (e *DeployError) Unwrap() error { return e.Err }

// HookReceiver is the Receiver of the pre-receive hook git is running now,
// from its environment: the repository (GIT_DIR, the working directory
// git gives the hook), and the app — its directory's name in shell mode,
// GL_REPO with gitolite's access check in gitolite mode. The caller sets
// what deploys (Deploy, DeployBranch, Current).
func HookReceiver(mode Mode, env []string, stdout, stderr io.Writer) (*Receiver, error) {
	get := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], name+"="); ok {
				return v
			}
		}
		return ""
	}
	gitDir, err := filepath.Abs(get("GIT_DIR"))
	if err != nil {
		return nil, err
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, err
	}
	r := &Receiver{GitDir: gitDir, Git: git, Env: env, Stdout: stdout, Stderr: stderr}
	switch mode {
	case ModeShell:
		r.App = strings.TrimSuffix(filepath.Base(gitDir), ".git")
	case ModeGitolite:
		repo, user, bin := get("GL_REPO"), get("GL_USER"), get("GL_BINDIR")
		if repo == "" || user == "" || bin == "" {
			return nil, errors.New("GL_REPO, GL_USER or GL_BINDIR is not set: this hook runs under gitolite")
		}
		gitolite, err := GitoliteProgram(bin)
		if err != nil {
			return nil, err
		}
		r.App = repo
		r.Allowed = GitoliteAccess(gitolite, repo, user, git, gitDir, env)
	default:
		return nil, fmt.Errorf("mode %q: want shell or gitolite", mode)
	}
	return r, nil
}
