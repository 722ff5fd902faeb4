package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/hooks"
	"github.com/nap-paas/nap/internal/cli"
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
		Synopsis: "add NAME KEYFILE [--authorized-keys FILE]",
		Summary:  "keys add NAME KEYFILE: let a user push with an ssh key",
		Help: `Adds KEYFILE (one ssh public key) to the nap user's authorized_keys as
  restrict,command="/path/nap-render shell NAME" KEY NAME
so that the key can do nothing but push and fetch apps. Run it as the nap user.
Idempotent; the file is replaced atomically with mode 0600.`,
		Args: [2]int{3, 3},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			authorized := fs.String("authorized-keys", "", "authorized_keys file (default ~/.ssh/authorized_keys)")
			return func(c *cli.Call) error {
				if c.Args[0] != "add" {
					return usageErr("unknown subcommand %q: want keys add NAME KEYFILE", c.Args[0])
				}
				self, err := selfPath()
				if err != nil {
					return err
				}
				said, err := hooks.AddUser(*authorized, self, c.Args[1], c.Args[2])
				if err == nil {
					fmt.Fprintln(c.Stdout, said)
				}
				return err
			}
		},
	}
	commands["shell"] = &cli.Command{
		Synopsis: "NAME",
		Summary:  "the ssh forced command: serve git push/fetch of apps (reads SSH_ORIGINAL_COMMAND)",
		Help: `The ssh forced command that "nap-render keys add" writes into authorized_keys.
NAME is the pusher. Serves git-receive-pack (push; the first push creates the
app), git-upload-pack and git-upload-archive (fetch) of $HOME/repos/APP.git,
where APP is checked by nap's app-name rule. Anything else is refused.`,
		Args: [2]int{1, 1},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			return func(c *cli.Call) error {
				s := hooks.Session{User: c.Args[0], Command: os.Getenv("SSH_ORIGINAL_COMMAND"), Home: hooks.Home(os.Getenv("HOME")),
					Env: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: c.Stderr}
				err := s.Serve(context.Background())
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
			abs, err := filepath.Abs(*config)
			if err != nil {
				return err
			}
			flags = []string{"--config", abs}
		}
		op, err := deploy.LoadOperator(*config)
		if err != nil {
			return err
		}
		self, err := selfPath()
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
		return envErr(hooks.Install(o, c.Stdout))
	}
}
