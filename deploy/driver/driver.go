// Package driver runs a release's units: on a fleet cluster through
// fleetctl, or on one systemd host through systemctl and journalctl. Each
// driver bounds its own commands (Timeout), and every failure is an
// *Error naming the command: the environment's fault, never the app's.
package driver

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	sdunit "github.com/coreos/go-systemd/v22/unit"
)

// UnitState is what the scheduler reports of one loaded unit.
// UnitFile is one rendered unit: its name and bytes.
type UnitFile struct {
	Name string
	Data []byte
}

type UnitState struct {
	Name              string
	Load, Active, Sub string
	Machine           string // fleet: the machine legend; systemd: ""
}

// Driver runs units: fleetctl on a fleet cluster, systemctl on one host.
// Names are full unit names; instances ("p@1.service") of a template held
// by Submit can be started.
type Driver interface {
	// Name is "fleet" or "systemd".
	Name() string
	// Source says where States and List read: what status and plan show.
	Source() (states, held string)
	// Poll is how often a wait on the units asks States: each ask is a
	// process (systemctl, fleetctl), and fleet's agents report state
	// changes no faster than they act on them.
	Poll() time.Duration
	// Submit makes the scheduler hold files. A held unit whose parsed
	// options equal the file's is left alone (fleet re-serialises units, so
	// bytes never compare); one that differs is replaced. It returns the
	// names it wrote.
	Submit(ctx context.Context, files []UnitFile) ([]string, error)
	// Start asks the units to run and returns without waiting for them.
	// It does not make them start at boot: that is Enable's, at the switch.
	Start(ctx context.Context, names ...string) error
	// Enable makes the units come back after a reboot (and a sidekick with
	// its run unit). fleet reschedules what it holds by itself: a no-op.
	Enable(ctx context.Context, names ...string) error
	// Stop stops the units; they stay held.
	Stop(ctx context.Context, names ...string) error
	// Destroy stops the units and forgets them (templates included).
	Destroy(ctx context.Context, names ...string) error
	// ResetFailed forgets a failed state, so the same unit can run again.
	ResetFailed(ctx context.Context, names ...string) error
	// States reports the loaded units whose names start with prefix.
	States(ctx context.Context, prefix string) ([]UnitState, error)
	// List returns the names of the unit files held whose names start
	// with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Held returns the unit files held whose names start with prefix, as
	// the scheduler gives them back, sorted by name.
	Held(ctx context.Context, prefix string) ([]UnitFile, error)
	// Journal returns the last n lines the unit logged.
	Journal(ctx context.Context, name string, n int) (string, error)
	// Follow copies what the unit logs to w until ctx ends.
	Follow(ctx context.Context, name string, w io.Writer) error
	// Logs calls emit with the last n journal entries of the units,
	// merged in time order, then, with follow, with what they log until
	// ctx ends or emit fails (its error is returned).
	Logs(ctx context.Context, names []string, n int, follow bool, emit func(Entry) error) error
}

// SameUnit reports whether two unit files hold the same options in the same
// order, as go-systemd's reader (and fleet) parse them: comments, blank
// lines and continuations do not count.
func SameUnit(a, b []byte) bool {
	ca, okA := Canonical(a)
	cb, okB := Canonical(b)
	if !okA || !okB {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca, cb)
}

// Canonical is b as go-systemd (and so fleet) parses and writes it
// again: comments, blank lines and continuations gone, options in order.
// ok is false when b does not parse. SameUnit, plan's diff and fleet's
// hash all compare this form.
func Canonical(b []byte) (c []byte, ok bool) {
	opts, err := sdunit.Deserialize(bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	c, err = io.ReadAll(sdunit.Serialize(opts))
	return c, err == nil
}

// runTool runs argv with extra arguments, returning stdout; a missing tool,
// a failure and a timeout are KindEnv errors naming the command.
func runTool(ctx context.Context, timeout time.Duration, step string, argv []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(timeout, defaultTimeout))
	defer cancel()
	if len(argv) == 0 {
		return "", envErr(step, "no command configured")
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return "", envErr(step, "%s is not installed (%v)", argv[0], err)
	}
	cmd := exec.CommandContext(ctx, argv[0], append(append([]string(nil), argv[1:]...), args...)...)
	cmd.WaitDelay = cmdWaitDelay
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), envErr(step, "%s %s: timed out (%v)", argv[0], strings.Join(args, " "), ctx.Err())
	}
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return out.String(), envErr(step, "%s %s: %s", argv[0], strings.Join(args, " "), msg)
		}
		return out.String(), envErr(step, "%s %s: %v %s", argv[0], strings.Join(args, " "), err, msg)
	}
	return out.String(), nil
}

func followTool(ctx context.Context, argv []string, w io.Writer, args ...string) error {
	if len(argv) == 0 {
		return fmt.Errorf("no command configured")
	}
	cmd := exec.CommandContext(ctx, argv[0], append(append([]string(nil), argv[1:]...), args...)...)
	cmd.WaitDelay = cmdWaitDelay
	cmd.Stdout = w
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Error is a command of a driver that failed: Step names it (systemctl,
// fleetctl, journal, submit, destroy …). It is always the environment's
// failure, never the app's.
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func envErr(step string, format string, a ...any) *Error {
	return &Error{Step: step, Err: fmt.Errorf(format, a...)}
}

// defaultTimeout bounds a command when the driver's Timeout is not set.
const defaultTimeout = time.Minute
