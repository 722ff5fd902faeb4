package hooks

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/nap-paas/nap/internal/atomicfile"
)

// Change is one file an install wrote or would write.
type Change struct {
	Path    string
	Changed bool   // false: the file already held exactly this
	Content []byte // the new content
}

func (c Change) String() string {
	if c.Changed {
		return "wrote " + c.Path
	}
	return "unchanged " + c.Path
}

// Plan says what writing c would change, for a dry run: a new or changed
// hook in full, the lines of an edited file (old is what it held) that go
// (-) and come (+).
func (c Change) Plan(old []byte) string {
	switch {
	case !c.Changed:
		return "unchanged " + c.Path + "\n"
	case len(old) == 0:
		return fmt.Sprintf("would write %s (mode 0755):\n%s", c.Path, c.Content)
	}
	return fmt.Sprintf("would change %s:\n%s", c.Path, lineChanges(string(old), string(c.Content)))
}

// lineChanges shows the lines only old has (-) and only new has (+): enough
// for the one-line rc edits install makes.
func lineChanges(old, new string) string {
	count := map[string]int{}
	for _, l := range strings.Split(old, "\n") {
		count[l]++
	}
	var b strings.Builder
	for _, l := range strings.Split(new, "\n") {
		if count[l] > 0 {
			count[l]--
			continue
		}
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

// InstallShell writes nap's pre-receive hook into home (shell mode) and
// makes the repository directory. Repositories link to the hook, so a
// reinstall updates every app at once.
func InstallShell(home Home, hook []byte) ([]Change, error) {
	if !filepath.IsAbs(string(home)) {
		return nil, fmt.Errorf("--home %q is not absolute", string(home))
	}
	if err := os.MkdirAll(filepath.Join(string(home), "repos"), 0o755); err != nil {
		return nil, err
	}
	c, err := writeIfChanged(home.HookPath(), hook, 0o755, false)
	return []Change{c}, err
}

// GitoliteHookPath is where gitolite mode's hook lives: LOCAL_CODE's common
// hooks, which gitolite links into every repository it manages.
func GitoliteHookPath(gitoliteHome string) string {
	return filepath.Join(gitoliteHome, "local", "hooks", "common", "pre-receive")
}

// InstallGitolite writes the hook into gitoliteHome/local/hooks/common and
// the `nap` command (when command is given) into local/commands, and
// enables LOCAL_CODE and the command in gitoliteHome/.gitolite.rc. With
// dryRun nothing is written; the changes are returned all the same. Run
// `gitolite setup --hooks-only` afterwards to link the hook into existing
// repositories.
func InstallGitolite(gitoliteHome string, hook, command []byte, dryRun bool) ([]Change, error) {
	if !filepath.IsAbs(gitoliteHome) {
		return nil, fmt.Errorf("--gitolite-home %q is not absolute", gitoliteHome)
	}
	rcPath := filepath.Join(gitoliteHome, ".gitolite.rc")
	rc, err := os.ReadFile(rcPath)
	if err != nil {
		return nil, fmt.Errorf("%v: is gitolite set up there (gitolite setup -pk ADMIN.pub)?", err)
	}
	newRC, err := EnableLocalCode(rc, rcPath)
	if err == nil && command != nil {
		newRC, err = EnableNapCommand(newRC, rcPath)
	}
	if err != nil {
		return nil, err
	}
	// Check all before writing any: a refusal leaves nothing half-done.
	files := map[string][]byte{GitoliteHookPath(gitoliteHome): hook}
	if command != nil {
		files[GitoliteCommandPath(gitoliteHome)] = command
	}
	var changes []Change
	for _, path := range []string{GitoliteHookPath(gitoliteHome), GitoliteCommandPath(gitoliteHome)} {
		if data, ok := files[path]; ok {
			c, err := writeIfChanged(path, data, 0o755, true)
			if err != nil {
				return nil, err
			}
			changes = append(changes, c)
		}
	}
	rcChange := Change{Path: rcPath, Changed: !bytes.Equal(rc, newRC), Content: newRC}
	changes = append(changes, rcChange)
	if dryRun {
		return changes, nil
	}
	for path, data := range files {
		if _, err := writeIfChanged(path, data, 0o755, false); err != nil {
			return nil, err
		}
	}
	if rcChange.Changed {
		info, err := os.Stat(rcPath)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(rcPath, newRC, info.Mode().Perm()); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// The .gitolite.rc patterns are compiled on first use: every nap-render
// process (each push runs two) would otherwise pay for them at start-up.
var (
	localCodeSet = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?m)^[ \t]*LOCAL_CODE[ \t]*=>[ \t]*(.*?)[ \t]*,?[ \t]*$`)
	})
	localCodeCommented = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?m)^([ \t]*)#[ \t]*LOCAL_CODE([ \t]*=>[ \t]*)"\$ENV\{HOME\}/local",[ \t]*$`)
	})
	rcStart = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^%RC = \($`) })
)

const localCodeValue = `"$ENV{HOME}/local"`

// EnableLocalCode returns rc (the text of .gitolite.rc, named name in
// errors) with LOCAL_CODE => "$ENV{HOME}/local" enabled: the commented
// default line uncommented, or a line added at the top of %RC. An rc that
// already sets it is returned as is; one that sets LOCAL_CODE elsewhere is an
// error, as nap's hook would not be found there.
func EnableLocalCode(rc []byte, name string) ([]byte, error) {
	if m := localCodeSet().FindSubmatchIndex(rc); m != nil {
		if string(rc[m[2]:m[3]]) == localCodeValue {
			return rc, nil
		}
		line := bytes.Count(rc[:m[0]], []byte("\n")) + 1
		return nil, fmt.Errorf("%s:%d: LOCAL_CODE is set to %s: set it to %s, or put nap's hook into that directory's hooks/common/pre-receive by hand", name, line, rc[m[2]:m[3]], localCodeValue)
	}
	if m := localCodeCommented().FindSubmatchIndex(rc); m != nil {
		out := append([]byte{}, rc[:m[0]]...)
		out = append(out, rc[m[2]:m[3]]...)
		out = append(out, "LOCAL_CODE"...)
		out = append(out, rc[m[4]:m[5]]...)
		out = append(out, localCodeValue+","...)
		return append(out, rc[m[1]:]...), nil
	}
	if m := rcStart().FindIndex(rc); m != nil {
		out := append([]byte{}, rc[:m[1]]...)
		out = append(out, "\n    # nap: hooks in $LOCAL_CODE/hooks/common are linked into every repository\n    LOCAL_CODE => "+localCodeValue+","...)
		return append(out, rc[m[1]:]...), nil
	}
	return nil, fmt.Errorf("%s: no %%RC = ( line: not a gitolite rc file", name)
}

// writeIfChanged writes data to path atomically unless path already holds
// exactly that (content and mode); check only reports.
func writeIfChanged(path string, data []byte, mode os.FileMode, check bool) (Change, error) {
	c := Change{Path: path, Changed: true, Content: data}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		if info, err := os.Stat(path); err == nil && info.Mode().Perm() == mode {
			c.Changed = false
		}
	}
	if check || !c.Changed {
		return c, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return c, err
	}
	return c, atomicfile.Write(path, data, mode)
}

// LimitPushSize sets receive.maxInputSize in the git user's ~/.gitconfig
// (home) to max bytes, so that git itself refuses a pack larger than the
// operator's limits.max_tree before it is stored, for every repository of
// that user, in shell and gitolite mode alike. git is the git binary.
func LimitPushSize(git, home string, max int64) (Change, error) {
	path := filepath.Join(home, ".gitconfig")
	want := strconv.FormatInt(max, 10)
	c := Change{Path: path + " (receive.maxInputSize = " + want + ")", Content: []byte(want)}
	out, _ := exec.Command(git, "config", "--file", path, "--get", "receive.maxInputSize").Output()
	if strings.TrimSpace(string(out)) == want {
		return c, nil
	}
	c.Changed = true
	if out, err := exec.Command(git, "config", "--file", path, "receive.maxInputSize", want).CombinedOutput(); err != nil {
		return c, fmt.Errorf("git config --file %s receive.maxInputSize %s: %v: %s", path, want, err, out)
	}
	return c, nil
}

// InstallOptions are what an install is given.
type InstallOptions struct {
	Mode Mode
	// Home is the nap user's home (shell mode) or the gitolite user's
	// (gitolite mode).
	Home string
	// NapRender is the absolute path the hook and gitolite's command run;
	// Flags (e.g. --config FILE) are passed on to it.
	NapRender string
	Flags     []string
	// MaxPush is the largest push git accepts (receive.maxInputSize): the
	// operator's limits.max_tree.
	MaxPush int64
	// DryRun (gitolite mode) writes nothing and says what would change.
	DryRun bool
}

// Install sets a host up so that pushes deploy — the hook, in gitolite
// mode LOCAL_CODE in .gitolite.rc, the `nap` command and the hook linked
// into every repository, and git's push size limit — saying on w what it
// changed, a line each.
func Install(o InstallOptions, w io.Writer) error {
	if o.Home == "" || o.DryRun && o.Mode != ModeGitolite {
		return &RequestError{"give the home to set up; only gitolite mode has a dry run"}
	}
	hook, err := HookScript(o.NapRender, o.Mode, o.Flags)
	if err != nil {
		return &RequestError{err.Error()}
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return err
	}
	switch o.Mode {
	case ModeShell:
		changes, err := InstallShell(Home(o.Home), hook)
		for _, c := range changes {
			fmt.Fprintln(w, c)
		}
		if err != nil {
			return err
		}
	case ModeGitolite:
		old, _ := os.ReadFile(filepath.Join(o.Home, ".gitolite.rc"))
		changes, err := InstallGitolite(o.Home, hook, GitoliteCommandScript(o.NapRender, o.Flags), o.DryRun)
		if err != nil {
			return err
		}
		for _, c := range changes {
			switch {
			case !o.DryRun:
				fmt.Fprintln(w, c)
			case strings.HasSuffix(c.Path, ".gitolite.rc"):
				fmt.Fprint(w, c.Plan(old))
			default:
				fmt.Fprint(w, c.Plan(nil))
			}
		}
		if o.DryRun {
			fmt.Fprintln(w, "then run, as the gitolite user: gitolite setup --hooks-only")
			fmt.Fprintf(w, "would set receive.maxInputSize = %d in %s\n", o.MaxPush, filepath.Join(o.Home, ".gitconfig"))
			return nil
		}
		if err := SetupGitolite(o.Home); err != nil {
			return err
		}
		fmt.Fprintln(w, "ran gitolite setup --hooks-only: the hook is linked into every repository")
	}
	c, err := LimitPushSize(git, o.Home, o.MaxPush)
	fmt.Fprintln(w, c)
	return err
}
