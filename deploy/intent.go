package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nap-paas/nap/internal/atomicfile"
)

// Intent is STATE/APP/deploying: the release a deploy or rollback is making
// current, and the one that was current. It is written (synced, with its
// directory) before anything of the release is started, and removed only
// once the operation has ended either way, so an operation that died —
// kill -9, a power cut — leaves it behind for reconcile.
type Intent struct {
	Release  string    `json:"release"`
	Previous string    `json:"previous"` // "" when the app had no current release
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
}

func (a AppState) intentPath() string { return filepath.Join(a.Dir, "deploying") }

// WriteIntent records in before its release starts.
func (a AppState) WriteIntent(in Intent) error {
	if err := writeJSON(a.intentPath(), in); err != nil {
		return err
	}
	return atomicfile.SyncDir(a.Dir)
}

// Intent returns the recorded intent, nil when there is none.
func (a AppState) Intent() (*Intent, error) {
	b, err := os.ReadFile(a.intentPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var in Intent
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("%s: %v", a.intentPath(), err)
	}
	return &in, nil
}

// ClearIntent removes the intent once its operation has ended.
func (a AppState) ClearIntent() error {
	if err := os.Remove(a.intentPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(a.Dir)
}

// startGuard starts argv + app detached from this process (its own
// session, no terminal, no inherited output): a process that waits for the
// app's lock and reconciles, so that whatever kills this deploy, what it
// left is undone within moments of its death (the lock dies with it).
func startGuard(argv []string, app string) {
	if len(argv) == 0 {
		return
	}
	// The guard outlives the push: it must not keep what this process
	// inherited — the ssh side's shared lock on the repository, by which a
	// rejected first push's repository is removed once nothing holds it.
	closeInheritedOnExec()
	cmd := exec.Command(argv[0], append(append([]string(nil), argv[1:]...), app)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // nil Stdin/Stdout/Stderr: /dev/null
	if cmd.Start() == nil {
		cmd.Process.Release()
	}
}

// closeInheritedOnExec keeps every descriptor but 0–2 from the programs
// this process starts (Go's own are close-on-exec already; these came from
// the parent).
func closeInheritedOnExec() {
	es, _ := os.ReadDir("/proc/self/fd")
	for _, e := range es {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

// interrupted reports whether an intent is left by a process that is gone:
// whoever holds the app's lock then is reconciling, not deploying.
func (a AppState) interrupted() bool {
	in, err := a.Intent()
	if err != nil || in == nil || in.PID <= 0 {
		return false
	}
	if syscall.Kill(in.PID, 0) == syscall.ESRCH {
		return true
	}
	// A zombie its parent has not reaped yet is gone too.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(in.PID) + "/stat")
	if i := bytes.LastIndexByte(b, ')'); err == nil && i >= 0 && i+2 < len(b) {
		return b[i+2] == 'Z'
	}
	return false
}
