package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cmd is a command to run on a machine.
type Cmd struct {
	Argv  []string
	User  string    // run as this user of the machine (default root), with its groups and HOME
	Env   []string  // added to (and overriding) PATH, HOME, USER, LOGNAME, LANG
	Dir   string    // working directory inside the machine (default the user's home)
	Stdin io.Reader // default empty
	// Stdout and Stderr, if set, receive the output as it comes, in
	// addition to Result.
	Stdout, Stderr io.Writer

	unbufferedStdout bool // stdout goes to Stdout only, not into Result
}

// Result is what a command did.
type Result struct {
	Stdout, Stderr []byte
	Code           int // exit status; -1 if killed by a signal
}

// String shows a result in test messages.
func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// ExitError is returned by the helpers that treat a non-zero exit as an
// error (Systemctl); Exec and Run never return it.
type ExitError struct {
	Argv   []string
	Result Result
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s: exit %d: %s", strings.Join(e.Argv, " "), e.Result.Code, bytes.TrimSpace(append(e.Result.Stderr, e.Result.Stdout...)))
}

// PATH inside: Debian's docker client (/usr/bin) before /usr/local/bin.
const machinePATH = "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bin"

// Exec runs argv as root on the machine, in all its namespaces (and so
// killed with it), and returns its output and exit status. err is set only
// when the command could not be run (a non-zero exit is Result.Code).
func (m *Machine) Exec(ctx context.Context, argv ...string) (Result, error) {
	return m.Run(ctx, Cmd{Argv: argv})
}

// Run runs c on the machine; see Exec.
func (m *Machine) Run(ctx context.Context, c Cmd) (Result, error) {
	if len(c.Argv) == 0 {
		return Result{}, errors.New("sandbox: Run: empty argv")
	}
	user := c.User
	if user == "" {
		user = "root"
	}
	u, err := lookupUser(m.Path("/etc"), user)
	if err != nil {
		return Result{}, fmt.Errorf("sandbox: %s: %w", m.Name, err)
	}
	dir := c.Dir
	if dir == "" {
		dir = u.Home
		// system users' homes often do not exist (/nonexistent)
		if _, err := os.Stat(m.Path(dir)); err != nil {
			dir = "/"
		}
	}
	args := []string{"-t", strconv.Itoa(m.pid), "-m", "-u", "-i", "-n", "-p", "-C", "--",
		"/usr/bin/setpriv", "--reuid=" + strconv.Itoa(u.UID), "--regid=" + strconv.Itoa(u.GID), "--init-groups", "--",
		"/usr/bin/env", "--chdir=" + dir, "--"}
	args = append(args, c.Argv...)
	cmd := exec.CommandContext(ctx, "/usr/bin/nsenter", args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append([]string{
		"PATH=" + machinePATH,
		"HOME=" + u.Home,
		"USER=" + u.Name,
		"LOGNAME=" + u.Name,
		"LANG=C.UTF-8",
	}, c.Env...)
	cmd.Stdin = c.Stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdout != nil {
		cmd.Stdout = io.MultiWriter(&stdout, c.Stdout)
		if c.unbufferedStdout {
			cmd.Stdout = c.Stdout
		}
	}
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, c.Stderr)
	}
	err = cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
		if ctx.Err() != nil {
			return res, fmt.Errorf("sandbox: %s: %s: %w", m.Name, strings.Join(c.Argv, " "), ctx.Err())
		}
	default:
		return res, fmt.Errorf("sandbox: %s: %s: %w", m.Name, strings.Join(c.Argv, " "), err)
	}
	return res, nil
}

// Systemctl runs systemctl on the machine and returns its standard output,
// trimmed; a non-zero exit is an *ExitError holding the output.
func (m *Machine) Systemctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append([]string{"systemctl"}, args...)
	res, err := m.Exec(ctx, argv...)
	if err != nil {
		return "", err
	}
	out := strings.TrimSpace(string(res.Stdout))
	if res.Code != 0 {
		return out, &ExitError{Argv: argv, Result: res}
	}
	return out, nil
}

// Journal returns the machine's journal of unit (all of it, short format),
// or a line saying why it cannot.
func (m *Machine) Journal(unit string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := m.Exec(ctx, "journalctl", "--no-pager", "-o", "short-precise", "-u", unit)
	if err != nil {
		return fmt.Sprintf("(no journal: %v)", err)
	}
	return string(res.Stdout) + string(res.Stderr)
}

// Share makes host directories below /tmp (hidden by the machine's private
// /tmp) visible inside at their own path, e.g. a subtest's t.TempDir()
// holding binaries it built. Directories elsewhere are visible already.
func (m *Machine) Share(t testing.TB, dirs ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, d := range dirs {
		rel, ok := strings.CutPrefix(filepath.Clean(d), "/tmp/")
		if !ok {
			continue
		}
		for _, argv := range [][]string{
			{"mkdir", "-p", "--", "/tmp/" + rel},
			{"mount", "-n", "--bind", "--", "/run/nap-sandbox/host-tmp/" + rel, "/tmp/" + rel},
		} {
			res, err := m.Exec(ctx, argv...)
			if err == nil && res.Code != 0 {
				err = &ExitError{Argv: argv, Result: res}
			}
			if err != nil {
				t.Fatalf("sandbox: sharing %s with %s: %v", d, m.Name, err)
			}
		}
	}
}
