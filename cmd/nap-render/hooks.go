package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/hooks"
	"github.com/nap-paas/nap/render"
)

func init() {
	register("hooks", command{
		summary: "hooks install: set up git push to deploy (shell or gitolite mode)",
		run:     runHooks,
	})
}

const hooksUsage = `usage:
  nap-render hooks install --mode shell --home DIR [--config FILE]
  nap-render hooks install --mode gitolite --gitolite-home DIR [--config FILE] [--print]
  nap-render hooks pre-receive --mode shell|gitolite [--config FILE]   (run by git)

install writes nap's pre-receive hook (and, for gitolite, enables LOCAL_CODE in
.gitolite.rc, then runs gitolite setup --hooks-only), printing what it changed.
--print shows the changes without writing anything. --config is baked into the
hook and passed to nap-render deploy.`

func runHooks(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("want a subcommand\n%s", hooksUsage)
	}
	fs := flag.NewFlagSet("hooks "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, hooksUsage) }
	mode := fs.String("mode", "", "shell or gitolite")
	home := fs.String("home", "", "shell mode: the nap user's home")
	gitoliteHome := fs.String("gitolite-home", "", "gitolite mode: the gitolite user's home")
	config := fs.String("config", "", "operator config (default "+deploy.DefaultConfig+")")
	printOnly := fs.Bool("print", false, "gitolite mode: show the changes, write nothing")
	switch args[0] {
	case "-h", "--help":
		fmt.Fprintln(stderr, hooksUsage)
		return nil
	case "install", "pre-receive":
	default:
		return usageErr("unknown subcommand %q\n%s", args[0], hooksUsage)
	}
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("unexpected argument %q\n%s", pos[0], hooksUsage)
	}
	if *config != "" {
		if *config, err = filepath.Abs(*config); err != nil {
			return &exitError{exitEnv, err}
		}
	}
	if args[0] == "pre-receive" {
		return preReceive(hooks.Mode(*mode), *config, stdout, stderr)
	}
	self, err := selfPath()
	if err != nil {
		return &exitError{exitEnv, err}
	}
	var flags []string
	if *config != "" {
		flags = []string{"--config", *config}
	}
	script, err := hooks.HookScript(self, hooks.Mode(*mode), flags)
	if err != nil {
		return usageErr("%v", err)
	}
	op, err := readOperator(*config)
	if err != nil {
		return err
	}
	o := hooks.InstallOptions{Mode: hooks.Mode(*mode), Home: *home, Hook: script, MaxPush: op.Limits.MaxTree, DryRun: *printOnly}
	switch o.Mode {
	case hooks.ModeShell:
		if *home == "" || *gitoliteHome != "" || *printOnly {
			return usageErr("shell mode takes --home DIR (not --gitolite-home or --print)")
		}
	default: // gitolite: HookScript accepted no other mode
		if *gitoliteHome == "" || *home != "" {
			return usageErr("gitolite mode takes --gitolite-home DIR (not --home)")
		}
		o.Home = *gitoliteHome
	}
	if err := hooks.Install(o, stdout); err != nil {
		return &exitError{exitEnv, err}
	}
	return nil
}

// preReceive is what the installed hook runs: git's updates on stdin, the
// repository as the working directory.
func preReceive(mode hooks.Mode, config string, stdout, stderr io.Writer) error {
	if mode != hooks.ModeShell && mode != hooks.ModeGitolite {
		return usageErr("--mode: want shell or gitolite, got %q", mode)
	}
	updates, err := hooks.ParseUpdates(os.Stdin)
	if err != nil {
		return &exitError{exitInput, err}
	}
	r, err := hooks.HookReceiver(mode, os.Environ(), stdout, stderr)
	if err != nil {
		return &exitError{exitEnv, err}
	}
	// gitolite-admin and repositories that are not apps never deploy.
	if render.ValidApp(r.App) != nil {
		return nil
	}
	op, err := readOperator(config)
	if err != nil {
		return err
	}
	self, err := selfPath()
	if err != nil {
		return &exitError{exitEnv, err}
	}
	r.DeployBranch = op.DeployBranch
	r.Deploy = []string{self, "deploy"}
	r.Current = func() string {
		cur, _ := deploy.NewAppState(op.State, r.App).Current()
		return cur
	}
	if config != "" {
		r.DeployFlags = []string{"--config", config}
	}
	if err := r.Receive(context.Background(), updates); err != nil {
		return &exitError{exitInput, err}
	}
	return nil
}
