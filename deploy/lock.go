package deploy

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
func TryLock(appDir string) (*Lock, error) { return lock(appDir, false) }

// lock takes the app's lock; with wait, for as long as another process
// holds it (a guard).
func lock(appDir string, wait bool) (*Lock, error) {
	if err := os.MkdirAll(appDir, 0o755); err != nil {
		return nil, envErr("lock", "%v", err)
	}
	f, err := os.OpenFile(filepath.Join(appDir, "lock"), os.O_CREATE|os.O_RDWR|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, envErr("lock", "%v", err)
	}
	how := syscall.LOCK_EX | syscall.LOCK_NB
	if wait {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &Error{Kind: KindEnv, Step: "lock", Err: ErrLocked}
		}
		return nil, envErr("lock", "%v", err)
	}
	return &Lock{f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.f.Close() }

// lockWithin takes the app's lock, retrying while another process holds it
// for at most d.
func lockWithin(appDir string, d time.Duration) (*Lock, error) {
	deadline := time.Now().Add(d)
	for {
		l, err := lock(appDir, false)
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			return l, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
