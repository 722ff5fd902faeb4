package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

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
	config := fs.String("config", "", "operator config (default "+defaultConfig+")")
	printOnly := fs.Bool("print", false, "gitolite mode: show the changes, write nothing")
	switch args[0] {
	case "-h", "--help":
		fmt.Fprintln(stderr, hooksUsage)
		return nil
	case "install", "pre-receive":
	default:
		return usageErr("unknown subcommand %q\n%s", args[0], hooksUsage)
	}
	pos, err := parseInterspersed(fs, args[1:])
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
	op, err := loadOperator(*config)
	if err != nil {
		return &exitError{exitInput, err}
	}
	switch hooks.Mode(*mode) {
	case hooks.ModeShell:
		if *home == "" || *gitoliteHome != "" || *printOnly {
			return usageErr("shell mode takes --home DIR (not --gitolite-home or --print)")
		}
		changes, err := hooks.InstallShell(hooks.Home(*home), script)
		for _, c := range changes {
			fmt.Fprintln(stdout, c)
		}
		if err != nil {
			return &exitError{exitEnv, err}
		}
		return limitPushSize(*home, op.Limits.MaxTree, stdout)
	default: // gitolite: HookScript accepted no other mode
		if *gitoliteHome == "" || *home != "" {
			return usageErr("gitolite mode takes --gitolite-home DIR (not --home)")
		}
		if err := installGitolite(*gitoliteHome, script, *printOnly, stdout); err != nil || *printOnly {
			if *printOnly {
				fmt.Fprintf(stdout, "would set receive.maxInputSize = %d in %s\n", op.Limits.MaxTree, filepath.Join(*gitoliteHome, ".gitconfig"))
			}
			return err
		}
		return limitPushSize(*gitoliteHome, op.Limits.MaxTree, stdout)
	}
}

// limitPushSize makes git refuse pushes larger than limits.max_tree.
func limitPushSize(home string, max int64, stdout io.Writer) error {
	git, err := exec.LookPath("git")
	if err != nil {
		return &exitError{exitEnv, err}
	}
	c, err := hooks.LimitPushSize(git, home, max)
	fmt.Fprintln(stdout, c)
	if err != nil {
		return &exitError{exitEnv, err}
	}
	return nil
}

func installGitolite(dir string, script []byte, dryRun bool, stdout io.Writer) error {
	old, _ := os.ReadFile(filepath.Join(dir, ".gitolite.rc"))
	changes, err := hooks.InstallGitolite(dir, script, dryRun)
	if err != nil {
		return &exitError{exitEnv, err}
	}
	if dryRun {
		for _, c := range changes {
			switch {
			case !c.Changed:
				fmt.Fprintf(stdout, "unchanged %s\n", c.Path)
			case strings.HasSuffix(c.Path, ".gitolite.rc"):
				fmt.Fprintf(stdout, "would change %s:\n%s", c.Path, lineChanges(string(old), string(c.Content)))
			default:
				fmt.Fprintf(stdout, "would write %s (mode 0755):\n%s", c.Path, c.Content)
			}
		}
		fmt.Fprintln(stdout, "then run, as the gitolite user: gitolite setup --hooks-only")
		return nil
	}
	for _, c := range changes {
		fmt.Fprintln(stdout, c)
	}
	gitolite, err := exec.LookPath("gitolite")
	if err != nil {
		return &exitError{exitEnv, fmt.Errorf("%v: run gitolite setup --hooks-only as the gitolite user", err)}
	}
	cmd := exec.Command(gitolite, "setup", "--hooks-only")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return &exitError{exitEnv, fmt.Errorf("gitolite setup --hooks-only: %v: %s", err, out)}
	}
	fmt.Fprintln(stdout, "ran gitolite setup --hooks-only: the hook is linked into every repository")
	return nil
}

// lineChanges shows the lines only old has (-) and only new has (+): enough
// for the one-line rc edits install makes.
func lineChanges(old, new string) string {
	count := map[string]int{}
	for _, l := range strings.Split(old, "\n") {
		count[l]++
	}
	var b strings.Builder
	added := map[string]int{}
	for _, l := range strings.Split(new, "\n") {
		if count[l] > 0 {
			count[l]--
			continue
		}
		added[l]++
		fmt.Fprintf(&b, "+%s\n", l)
	}
	for _, l := range strings.Split(old, "\n") {
		if count[l] > 0 {
			count[l]--
			fmt.Fprintf(&b, "-%s\n", l)
		}
	}
	return b.String()
}

// preReceive is what the installed hook runs: git's updates on stdin, the
// repository as the working directory.
func preReceive(mode hooks.Mode, config string, stdout, stderr io.Writer) error {
	gitDir, err := filepath.Abs(os.Getenv("GIT_DIR"))
	if err != nil {
		return &exitError{exitEnv, err}
	}
	updates, err := hooks.ParseUpdates(os.Stdin)
	if err != nil {
		return &exitError{exitInput, err}
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return &exitError{exitEnv, err}
	}
	env := os.Environ()
	r := &hooks.Receiver{GitDir: gitDir, Git: git, Env: env, Stdout: stdout, Stderr: stderr}
	switch mode {
	case hooks.ModeShell:
		r.App = strings.TrimSuffix(filepath.Base(gitDir), ".git")
	case hooks.ModeGitolite:
		repo, user, bin := os.Getenv("GL_REPO"), os.Getenv("GL_USER"), os.Getenv("GL_BINDIR")
		if repo == "" || user == "" || bin == "" {
			return &exitError{exitEnv, errors.New("GL_REPO, GL_USER or GL_BINDIR is not set: this hook runs under gitolite")}
		}
		r.App = repo
		// Upstream installs gitolite into GL_BINDIR; Debian into /usr/bin.
		gitolite := filepath.Join(bin, "gitolite")
		if _, err := os.Stat(gitolite); err != nil {
			if gitolite, err = exec.LookPath("gitolite"); err != nil {
				return &exitError{exitEnv, err}
			}
		}
		r.Allowed = hooks.GitoliteAccess(gitolite, repo, user, git, gitDir, env)
	default:
		return usageErr("--mode: want shell or gitolite, got %q", mode)
	}
	// gitolite-admin and repositories that are not apps never deploy.
	if render.ValidApp(r.App) != nil {
		return nil
	}
	op, err := loadOperator(config)
	if err != nil {
		return &exitError{exitInput, err}
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

// loadOperator reads the operator config: path, or the default file when
// path is empty (missing: all defaults).
func loadOperator(path string) (*render.Operator, error) {
	file := path
	if file == "" {
		file = defaultConfig
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) && path == "" {
		data, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := render.ParseConfig(data, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return &cfg.Operator, nil
}
