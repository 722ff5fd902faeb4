package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/nap-paas/nap/hooks"
)

func init() {
	register("shell", command{
		summary: "the ssh forced command: serve git push/fetch of apps (reads SSH_ORIGINAL_COMMAND)",
		run:     runShell,
	})
}

const shellUsage = `usage: nap-render shell NAME

The ssh forced command that "nap-render keys add" writes into authorized_keys.
NAME is the pusher. Serves git-receive-pack (push; the first push creates the
app), git-upload-pack and git-upload-archive (fetch) of $HOME/repos/APP.git,
where APP is checked by nap's app-name rule. Anything else is refused.`

func runShell(args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stderr, shellUsage)
		return nil
	}
	if len(args) != 1 {
		return usageErr("want one argument, the user name\n%s", shellUsage)
	}
	user := args[0]
	if err := hooks.ValidUser(user); err != nil {
		return usageErr("%v", err)
	}
	req, err := hooks.ParseRequest(os.Getenv("SSH_ORIGINAL_COMMAND"))
	if err != nil {
		return &exitError{exitInput, err}
	}
	home := os.Getenv("HOME")
	if !filepath.IsAbs(home) {
		return &exitError{exitEnv, fmt.Errorf("HOME %q is not an absolute directory", home)}
	}
	gitShell, err := exec.LookPath("git-shell")
	if err != nil {
		return &exitError{exitEnv, err}
	}
	h := hooks.Home(home)
	repo, created, err := h.Prepare(req, "")
	var reqErr *hooks.RequestError
	if errors.As(err, &reqErr) {
		return &exitError{exitInput, err}
	} else if err != nil {
		return &exitError{exitEnv, err}
	}
	arg, err := hooks.GitShellCommand(req, repo)
	if err != nil {
		return &exitError{exitEnv, err}
	}
	env := append(os.Environ(), "NAP_USER="+user, "NAP_APP="+req.App)
	release, err := hooks.HoldRepo(repo)
	if err != nil {
		return &exitError{exitEnv, err}
	}
	if !created {
		// git-shell inherits the hold and keeps it until git is done.
		return &exitError{exitEnv, syscall.Exec(gitShell, []string{"git-shell", "-c", arg}, env)}
	}
	// This push made the repository: once git is done, a push that moved
	// no ref (rejected, or one that sent nothing) takes it away again.
	cmd := exec.Command(gitShell, "-c", arg)
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = os.Stdin, os.Stdout, stderr, env
	runErr := cmd.Run()
	release()
	if git, err := exec.LookPath("git"); err == nil {
		h.RemoveUnused(req.App, git)
	}
	var exit *exec.ExitError
	if errors.As(runErr, &exit) {
		return &exitError{exit.ExitCode(), errors.New("")}
	} else if runErr != nil {
		return &exitError{exitEnv, runErr}
	}
	return nil
}
