// Package deploy runs nap releases: it exports a revision from the app's
// bare repository, renders and builds it, starts the new release beside the
// running one (blue/green), switches `current` once every instance answers,
// and retires the old release. It also rolls back, destroys, reports status
// and plans. Units run through a Driver: fleetctl (a fleet cluster) or
// systemctl (one plain systemd host).
//
// State on disk follows DESIGN.md: STATE/APP/{src/REV, releases/REV/units,
// releases/REV/release.json, current, lock}.
package deploy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nap-paas/nap/deploy/driver"
	"github.com/nap-paas/nap/deploy/store"
)

// Kind says whose fault a failure is; the CLI maps it to an exit code.
type Kind int

const (
	// KindInput: the pushed input is wrong or its build failed (exit 1).
	KindInput Kind = iota + 1
	// KindEnv: a tool is missing, failing or timing out, or the app is
	// locked by another deploy (exit 3).
	KindEnv
)

// Error is a failed step of a deploy, rollback or destroy.
type Error struct {
	Kind Kind
	Step string // "lock", "export", "render", "build", "start", "switch", …
	Err  error
	// Journal is the last lines the failing unit logged, when known.
	Journal string
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Step != "" {
		msg = e.Step + ": " + msg
	}
	if e.Journal != "" {
		msg += "\nlast journal lines:\n" + strings.TrimRight(e.Journal, "\n")
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ErrLocked is returned (inside an *Error of KindEnv) when another deploy,
// rollback or destroy of the app holds its lock.
var ErrLocked = store.ErrLocked

func envErr(step string, format string, a ...any) *Error {
	return &Error{Kind: KindEnv, Step: step, Err: fmt.Errorf(format, a...)}
}

func inputErr(step string, format string, a ...any) *Error {
	return &Error{Kind: KindInput, Step: step, Err: fmt.Errorf(format, a...)}
}

// KindOf returns the Kind of err, KindEnv when err carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindEnv
}

// during puts a tool's failure under the deploy step it broke ("start:
// systemctl start …: …"), so a message says both what nap was doing and
// which command failed. Other errors pass unchanged.
func during(step string, err error) error {
	var e *driver.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Step {
	case "systemctl", "fleetctl", "journal":
		return &Error{Kind: KindEnv, Step: step, Err: e.Err}
	}
	return err
}
