package store

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Lock is an app's lock, STATE/APP/lock.
type Lock struct{ f *os.File }

// TryLock takes the app's lock without waiting: when another process holds
// it, it fails at once with ErrLocked (as dokku's `flock -n`). The lock dies
// with its process, so a deploy killed midway never blocks the next one.
func TryLock(appDir string) (*Lock, error) { return Acquire(appDir, false) }

// ErrLocked: another process holds the app's lock.
var ErrLocked = errors.New("another deploy, rollback or destroy of this app is running; try again when it has finished")

// Acquire takes the app's lock; with wait, for as long as another process
// holds it (a guard).
func Acquire(appDir string, wait bool) (*Lock, error) {
	if err := os.MkdirAll(appDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(appDir, "lock"), os.O_CREATE|os.O_RDWR|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX | syscall.LOCK_NB
	if wait {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, err
	}
	return &Lock{f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.f.Close() }

// AcquireWithin takes the app's lock, retrying while another process holds it
// for at most d.
func AcquireWithin(appDir string, d time.Duration) (*Lock, error) {
	deadline := time.Now().Add(d)
	for {
		l, err := Acquire(appDir, false)
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			return l, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
