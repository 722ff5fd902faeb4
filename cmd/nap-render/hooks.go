package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/hooks"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/render"
)

func init() {
	commands["hooks"] = &cli.Command{
		Synopsis: "install --mode shell --home DIR | install --mode gitolite --gitolite-home DIR [--print] | pre-receive --mode shell|gitolite",
		Summary:  "hooks install: set up git push to deploy (shell or gitolite mode)",
		Help: `install writes nap's pre-receive hook (and, for gitolite, enables LOCAL_CODE in
.gitolite.rc, then runs gitolite setup --hooks-only), printing what it changed.
--print shows the changes without writing anything. --config is baked into the
hook and passed to nap-render deploy. pre-receive is what git runs.`,
		Args:  [2]int{1, 1},
		Setup: setupHooks,
	}
	commands["keys"] = &cli.Command{
		Synopsis: "add NAME KEYFILE [--admin] [--authorized-keys FILE] | grant APP NAME | revoke APP NAME",
		Summary:  "keys add NAME KEYFILE: let a user push with an ssh key; keys grant|revoke APP NAME: share an app",
		Help: `add puts KEYFILE (one ssh public key) into the nap user's authorized_keys as
  restrict,command="/path/nap-render shell [--admin] NAME" KEY NAME
so that the key can do nothing but push, fetch and run the app commands. An app
belongs to the user whose push created it, and to those it is granted to; an
admin may use every app. Run it as the nap user. Idempotent; the file is
replaced atomically with mode 0600.`,
		Args: [2]int{3, 3},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			authorized := fs.String("authorized-keys", "", "authorized_keys file (default ~/.ssh/authorized_keys)")
			admin := fs.Bool("admin", false, "add: the user may use every app")
			config := fs.String("config", "", "operator config (default "+deploy.DefaultConfig+")")
			return func(c *cli.Call) error {
				var said string
				var err error
				switch c.Args[0] {
				case "add":
					var self string
					if self, err = selfPath(); err == nil {
						said, err = hooks.AddUser(*authorized, self, hooks.Login{User: c.Args[1], Admin: *admin, Config: abs(*config)}, c.Args[2])
					}
				case "grant", "revoke":
					said, err = grant(*config, c.Args[0], c.Args[1], c.Args[2])
				default:
					return usageErr("unknown subcommand %q: want keys add NAME KEYFILE, keys grant APP NAME or keys revoke APP NAME", c.Args[0])
				}
				if err == nil {
					fmt.Fprintln(c.Stdout, said)
				}
				return err
			}
		},
	}
	commands["shell"] = &cli.Command{
		Synopsis: "[--admin] NAME",
		Summary:  "the ssh forced command: git push/fetch of apps, and the app commands (reads SSH_ORIGINAL_COMMAND)",
		Help: `The ssh forced command that "nap-render keys add" writes into authorized_keys.
NAME is the user. Serves git-receive-pack (push; the first push creates the
app and makes NAME its owner), git-upload-pack and git-upload-archive (fetch)
of $HOME/repos/APP.git, and the commands "ssh nap@host help" lists, for the
apps NAME owns or was granted (--admin: every app). SSH_ORIGINAL_COMMAND is
split by shell quoting, never run by a shell. Anything else is refused.`,
		Args: [2]int{1, 1},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			admin := fs.Bool("admin", false, "the user may use every app")
			config := fs.String("config", "", "operator config (default "+deploy.DefaultConfig+")")
			return func(c *cli.Call) error {
				op, self, err := operatorAndSelf(*config)
				if err != nil {
					return err
				}
				s := hooks.Session{User: c.Args[0], Admin: *admin, Command: os.Getenv("SSH_ORIGINAL_COMMAND"), Home: hooks.Home(os.Getenv("HOME")),
					State: op.State, Self: self, Env: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: c.Stderr}
				if *config != "" {
					s.Flags = []string{"--config", *config}
				}
				err = s.Serve(context.Background())
				if ge := (*hooks.ExitError)(nil); errors.As(err, &ge) {
					return cli.Silent(ge.Code) // git said why
				}
				return err
			}
		},
	}
}

func setupHooks(fs *flag.FlagSet) func(*cli.Call) error {
	mode := fs.String("mode", "", "shell or gitolite")
	home := fs.String("home", "", "shell mode: the nap user's home")
	gitoliteHome := fs.String("gitolite-home", "", "gitolite mode: the gitolite user's home")
	config := fs.String("config", "", "operator config (default "+deploy.DefaultConfig+")")
	printOnly := fs.Bool("print", false, "gitolite mode: show the changes, write nothing")
	return func(c *cli.Call) error {
		var flags []string
		if *config != "" {
			flags = []string{"--config", abs(*config)}
		}
		op, self, err := operatorAndSelf(*config)
		if err != nil {
			return err
		}
		m := hooks.Mode(*mode)
		if m != hooks.ModeShell && m != hooks.ModeGitolite {
			return usageErr("--mode: want shell or gitolite, got %q", *mode)
		}
		switch c.Args[0] {
		case "pre-receive":
			h := hooks.Hook{Mode: m, Operator: op, Deploy: []string{self, "deploy"}, DeployFlags: flags,
				Env: os.Environ(), Stdin: os.Stdin, Stdout: c.Stdout, Stderr: c.Stderr}
			return cli.Exit(exitInput, h.Run(context.Background())) // any error rejects the push
		case "install":
		default:
			return usageErr("unknown subcommand %q: want install or pre-receive", c.Args[0])
		}
		// A home flag per mode: no home is ever set up for the wrong mode.
		dir, other, dry := *home, *gitoliteHome, *printOnly && m == hooks.ModeShell
		if m == hooks.ModeGitolite {
			dir, other = other, dir
		}
		if dir == "" || other != "" || dry {
			return usageErr("shell mode takes --home DIR, gitolite mode --gitolite-home DIR (and --print)")
		}
		o := hooks.InstallOptions{Mode: m, Home: dir, MaxPush: op.Limits.MaxTree, DryRun: *printOnly}
		if o.Hook, err = hooks.HookScript(self, m, flags); err != nil {
			return err
		}
		if m == hooks.ModeGitolite {
			o.Command = hooks.GitoliteCommandScript(self, flags)
		}
		return envErr(hooks.Install(o, c.Stdout))
	}
}

func init() {
	commands["gitolite-command"] = &cli.Command{
		Synopsis: "[--config F]",
		Summary:  "gitolite mode: the `nap` gitolite command (ssh git@host nap COMMAND …; reads SSH_ORIGINAL_COMMAND, GL_USER)",
		Args:     [2]int{0, -1}, // gitolite passes the words it split; SSH_ORIGINAL_COMMAND is what counts
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			config := fs.String("config", "", "operator config (default "+deploy.DefaultConfig+")")
			return func(c *cli.Call) error {
				op, self, err := operatorAndSelf(*config)
				if err != nil {
					return err
				}
				gitolite, err := hooks.GitoliteProgram(os.Getenv("GL_BINDIR"))
				if err != nil {
					return err
				}
				g := hooks.GitoliteSession{User: os.Getenv("GL_USER"), DeployBranch: op.DeployBranch, Command: os.Getenv("SSH_ORIGINAL_COMMAND"), Gitolite: gitolite,
					Self: self, Env: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: c.Stderr}
				if *config != "" {
					g.Flags = []string{"--config", *config}
				}
				err = g.Serve(context.Background())
				if ge := (*hooks.ExitError)(nil); errors.As(err, &ge) {
					return cli.Silent(ge.Code)
				}
				return err
			}
		},
	}
}

// grant runs keys grant|revoke APP USER.
func grant(config, verb, app, user string) (string, error) {
	if err := render.ValidApp(app); err != nil {
		return "", usageErr("%v", err)
	}
	if err := hooks.ValidUser(user); err != nil {
		return "", usageErr("%v", err)
	}
	op, err := deploy.LoadOperator(config)
	if err != nil {
		return "", err
	}
	st := store.NewApp(op.State, app)
	if verb == "grant" {
		return fmt.Sprintf("%s may use %s", user, app), st.Grant(user)
	}
	return fmt.Sprintf("%s may no longer use %s (unless an admin)", user, app), st.Revoke(user)
}

// abs is path made absolute, for the hook and the forced command, which run
// elsewhere ("" stays "": the default).
func abs(path string) string {
	if path == "" {
		return ""
	}
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}

// operatorAndSelf is what the git side's commands start from: the
// operator config, and this binary's path, which hooks, forced commands
// and gitolite's command name.
func operatorAndSelf(config string) (render.Operator, string, error) {
	op, err := deploy.LoadOperator(config)
	if err != nil {
		return op, "", err
	}
	self, err := selfPath()
	return op, self, err
}
