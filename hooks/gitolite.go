package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/nap-paas/nap/internal/sh"
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
		return access(context.Background(), gitolite, gitDir, env, repo, user, perm, u.Ref)
	}
}

// access asks gitolite whether user may perm (R, W, +) ref of repo:
// `gitolite access -q` exits 1 saying nothing when the rules deny it.
func access(ctx context.Context, gitolite, dir string, env []string, repo, user, perm, ref string) (bool, error) {
	cmd := exec.CommandContext(ctx, gitolite, "access", "-q", repo, user, perm, ref)
	cmd.Dir, cmd.Env = dir, env
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

// GitoliteProgram finds the gitolite program the hook and the command run
// under: upstream installs it into GL_BINDIR, Debian into /usr/bin.
func GitoliteProgram(bindir string) (string, error) {
	gitolite := filepath.Join(bindir, "gitolite")
	if _, err := os.Stat(gitolite); err == nil {
		return gitolite, nil
	}
	return exec.LookPath("gitolite")
}

// GitoliteCommandName is nap's one gitolite command: `ssh git@host nap
// logs APP -f`. One name under gitolite's own (help, info, config … are
// gitolite's), enabled in .gitolite.rc as "nap ua" — unrestricted
// arguments, so gitolite passes quotes on: nap reads SSH_ORIGINAL_COMMAND
// itself, by ParseCommand's rules.
const GitoliteCommandName = "nap"

// GitoliteCommandPath is where the command lives: LOCAL_CODE's commands.
func GitoliteCommandPath(gitoliteHome string) string {
	return filepath.Join(gitoliteHome, "local", "commands", GitoliteCommandName)
}

// GitoliteSession is one `ssh git@host nap …` under gitolite: the app
// commands, with gitolite's rules — for those that change the app
// (Command.Writes) W on its deploy branch, which a push that deploys
// needs too; R on the repository for the others.
type GitoliteSession struct {
	User         string // GL_USER
	DeployBranch string // the operator's deploy_branch
	Command      string // SSH_ORIGINAL_COMMAND: "nap COMMAND …"
	Gitolite     string // the gitolite program
	Runner
}

// Serve checks the command and the user's access, then runs it.
func (g GitoliteSession) Serve(ctx context.Context) error {
	rest, ok := strings.CutPrefix(g.Command, GitoliteCommandName)
	if !ok || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return &RequestError{"nap's commands run as: ssh git@host nap COMMAND (ssh git@host nap help)"}
	}
	c, err := ParseCommand(strings.TrimLeft(rest, " \t"))
	if err != nil {
		return err
	}
	switch c.Name {
	case "help":
		_, err := io.WriteString(g.Stdout, CommandHelp("ssh git@HOST nap ", c.Words))
		return err
	case "apps":
		return &RequestError{"gitolite lists the repositories you may use: ssh git@host info"}
	}
	perm, ref := "R", "any"
	if c.Writes() {
		perm, ref = "W", "refs/heads/"+g.DeployBranch
	}
	switch ok, err := access(ctx, g.Gitolite, "", g.Env, c.App, g.User, perm, ref); {
	case err != nil:
		return err
	case !ok:
		return noAccess(c.App)
	}
	return g.run(ctx, c, g.User, nil)
}

// GitoliteCommandScript is the command gitolite runs for `nap …`: it
// hands over to napRender (with the operator's --config flags).
func GitoliteCommandScript(napRender string, flags []string) []byte {
	words := []string{"exec", sh.Quote(napRender), "gitolite-command"}
	for _, f := range flags {
		words = append(words, sh.Quote(f))
	}
	return []byte("#!/bin/sh\n# nap's commands for gitolite users: ssh git@host nap help.\n" + strings.Join(words, " ") + "\n")
}

var (
	enableList = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^([ \t]*)ENABLE[ \t]*=>[ \t]*\[[ \t]*$`) })
	enabledNap = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?m)^[ \t]*['"]` + GitoliteCommandName + `[ \t]+ua['"][ \t]*,`)
	})
)

// EnableNapCommand returns rc with 'nap ua' in its ENABLE list (named
// name in errors); an rc that has it is returned as is.
func EnableNapCommand(rc []byte, name string) ([]byte, error) {
	if enabledNap().Match(rc) {
		return rc, nil
	}
	m := enableList().FindSubmatchIndex(rc)
	if m == nil {
		return nil, fmt.Errorf("%s: no ENABLE => [ line: add '%s ua', to the ENABLE list by hand", name, GitoliteCommandName)
	}
	indent := string(rc[m[2]:m[3]])
	out := append([]byte{}, rc[:m[1]]...)
	out = append(out, "\n"+indent+"    # nap's commands for app owners: ssh git@host nap help\n"+indent+"    '"+GitoliteCommandName+" ua',"...)
	return append(out, rc[m[1]:]...), nil
}
