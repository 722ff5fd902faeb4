package main

import (
	"context"
	"fmt"
	"os"

	"github.com/nap-paas/nap/deploy"
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
		Args: [2]int{1, 1},
		Flags: []cli.Flag{opt("mode", "", "shell or gitolite"), opt("home", "", "shell mode: the nap user's home"),
			opt("gitolite-home", "", "gitolite mode: the gitolite user's home"), configFlag,
			opt("print", false, "gitolite mode: show the changes, write nothing")},
		Run: func(c *cli.Call) error {
			op, self, err := operatorAndSelf(c)
			if err != nil {
				return err
			}
			m, flags := hooks.Mode(c.String("mode")), configArgs(c)
			if m != hooks.ModeShell && m != hooks.ModeGitolite {
				return usageErr("--mode: want shell or gitolite, got %q", m)
			}
			switch c.Args[0] {
			case "pre-receive":
				h := hooks.Hook{Mode: m, Operator: op, Runner: hooks.ProcessRunner(self, flags, c.Stdout, c.Stderr)}
				return cli.Exit(exitInput, h.Run(context.Background())) // any error rejects the push
			case "install":
				// A home flag per mode: no home is ever set up for the wrong mode.
				home, other := c.String("home"), c.String("gitolite-home")
				if m == hooks.ModeGitolite {
					home, other = other, home
				}
				if other != "" {
					return usageErr("shell mode takes --home DIR, gitolite mode --gitolite-home DIR (and --print)")
				}
				o := hooks.InstallOptions{Mode: m, Home: home, NapRender: self, Flags: flags, MaxPush: op.Limits.MaxTree, DryRun: c.Bool("print")}
				return hooks.Install(o, c.Stdout)
			}
			return usageErr("unknown subcommand %q: want install or pre-receive", c.Args[0])
		},
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
		Flags: []cli.Flag{opt("authorized-keys", "", "authorized_keys file (default ~/.ssh/authorized_keys)"),
			opt("admin", false, "add: the user may use every app"), configFlag},
		Run: func(c *cli.Call) error {
			op, self, err := operatorAndSelf(c)
			if err != nil {
				return err
			}
			var said string
			switch c.Args[0] {
			case "add":
				l := hooks.Login{User: c.Args[1], Admin: c.Bool("admin"), Config: configPath(c)}
				said, err = hooks.AddUser(c.String("authorized-keys"), self, l, c.Args[2])
			case "grant", "revoke":
				said, err = hooks.Share(op.State, c.Args[1], c.Args[2], c.Args[0] == "grant")
			default:
				return usageErr("unknown subcommand %q: want keys add NAME KEYFILE, keys grant APP NAME or keys revoke APP NAME", c.Args[0])
			}
			if err == nil {
				fmt.Fprintln(c.Stdout, said)
			}
			return err
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
		Args:  [2]int{1, 1},
		Flags: []cli.Flag{opt("admin", false, "the user may use every app"), configFlag},
		Run: func(c *cli.Call) error {
			op, self, err := operatorAndSelf(c)
			if err != nil {
				return err
			}
			s := hooks.Session{User: c.Args[0], Admin: c.Bool("admin"), Command: os.Getenv("SSH_ORIGINAL_COMMAND"), Home: hooks.Home(os.Getenv("HOME")),
				State: op.State, Runner: hooks.ProcessRunner(self, configArgs(c), c.Stdout, c.Stderr)}
			return s.Serve(context.Background())
		},
	}
	commands["gitolite-command"] = &cli.Command{
		Synopsis: "[--config F]",
		Summary:  "gitolite mode: the `nap` gitolite command (ssh git@host nap COMMAND …; reads SSH_ORIGINAL_COMMAND, GL_USER)",
		Args:     [2]int{0, -1}, // gitolite passes the words it split; SSH_ORIGINAL_COMMAND is what counts
		Flags:    []cli.Flag{configFlag},
		Run: func(c *cli.Call) error {
			op, self, err := operatorAndSelf(c)
			if err != nil {
				return err
			}
			gitolite, err := hooks.GitoliteProgram(os.Getenv("GL_BINDIR"))
			if err != nil {
				return err
			}
			g := hooks.GitoliteSession{User: os.Getenv("GL_USER"), DeployBranch: op.DeployBranch, Command: os.Getenv("SSH_ORIGINAL_COMMAND"), Gitolite: gitolite,
				Runner: hooks.ProcessRunner(self, configArgs(c), c.Stdout, c.Stderr)}
			return g.Serve(context.Background())
		},
	}
}

// operatorAndSelf is what the git side's commands start from: the
// operator config, and this binary's path, which hooks, forced commands
// and gitolite's command name.
func operatorAndSelf(c *cli.Call) (op render.Operator, self string, err error) {
	if op, err = deploy.LoadOperator(c.String("config")); err == nil {
		self, err = cli.Executable()
	}
	return op, self, err
}
