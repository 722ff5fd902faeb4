package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	Release  string `json:"release"`
	Previous string `json:"previous"` // "" when the app had no current release
	// Restart: the operation restarts Release's instances one at a time
	// (Release is current); killed, it may leave one stopped.
	Restart bool      `json:"restart,omitempty"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// IntentPath is STATE/APP/deploying.
func (a App) IntentPath() string { return filepath.Join(a.Dir, "deploying") }

// WriteIntent records in before its release starts.
func (a App) WriteIntent(in Intent) error {
	if err := writeJSON(a.IntentPath(), in); err != nil {
		return err
	}
	return atomicfile.SyncDir(a.Dir)
}

// Intent returns the recorded intent, nil when there is none.
func (a App) Intent() (*Intent, error) {
	b, err := os.ReadFile(a.IntentPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var in Intent
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("%s: %v", a.IntentPath(), err)
	}
	return &in, nil
}

// ClearIntent removes the intent once its operation has ended.
func (a App) ClearIntent() error {
	if err := os.Remove(a.IntentPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(a.Dir)
}

// Interrupted reports whether an intent is left by a process that is gone:
// whoever holds the app's lock then is reconciling, not deploying.
func (a App) Interrupted() bool {
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
