package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/nap-paas/nap/internal/atomicfile"
)

// Access is who may push and operate an app in shell mode (DESIGN.md,
// "Access"): the user whose push created it, and the users granted it.
// Admins (keys add --admin) may do anything and are not listed here.
type Access struct {
	Owner  string   `json:"owner"`
	Grants []string `json:"grants,omitempty"` // sorted
}

// Allows reports whether user may push and operate the app.
func (a Access) Allows(user string) bool {
	return user != "" && (a.Owner == user || slices.Contains(a.Grants, user))
}

func (a App) accessPath() string { return filepath.Join(a.Dir, "access.json") }

// Access reads the app's access; ok is false when none is recorded (an app
// that does not exist, or one deployed before nap recorded owners).
func (a App) Access() (acc Access, ok bool, err error) {
	b, err := os.ReadFile(a.accessPath())
	if errors.Is(err, fs.ErrNotExist) {
		return Access{}, false, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &acc)
	}
	if err != nil {
		return Access{}, false, fmt.Errorf("%s: %w", a.accessPath(), err)
	}
	return acc, true, nil
}

// Claim records user as the owner of an app nobody owns yet; of two
// claims at once exactly one wins. It returns whether user is the owner now.
func (a App) Claim(user string) (bool, error) {
	if err := os.MkdirAll(a.Dir, 0o755); err != nil {
		return false, err
	}
	b, _ := json.Marshal(Access{Owner: user})
	// link(2) of a complete file: the record appears whole, or not at all,
	// and never over another's.
	tmp := filepath.Join(a.Dir, ".access.claim-"+user)
	if err := atomicfile.Create(tmp, append(b, '\n'), 0o644); err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	err := os.Link(tmp, a.accessPath())
	if errors.Is(err, fs.ErrExist) {
		acc, _, rerr := a.Access()
		return acc.Owner == user, rerr
	}
	if err != nil {
		return false, err
	}
	return true, atomicfile.SyncDir(a.Dir)
}

// Unclaim removes the record Claim made for user, when the push that made
// it created nothing.
func (a App) Unclaim(user string) error {
	acc, ok, err := a.Access()
	if err != nil || !ok || acc.Owner != user || len(acc.Grants) > 0 {
		return err
	}
	if err := os.Remove(a.accessPath()); err != nil {
		return err
	}
	os.Remove(a.Dir) // when the claim was all there was
	return nil
}

// Grant lets user push and operate the app too (of an app nobody owns,
// user becomes the owner); Revoke takes that back.
// Both hold a lock of their own (not the deploy's: a grant does not wait
// for a build), so grants at once do not lose each other.
func (a App) Grant(user string) error { return a.changeGrants(user, true) }

// Revoke: see Grant. The owner cannot be revoked.
func (a App) Revoke(user string) error { return a.changeGrants(user, false) }

func (a App) changeGrants(user string, add bool) error {
	l, err := Acquire(filepath.Join(a.Dir, ".access"), true)
	if err != nil {
		return err
	}
	defer l.Unlock()
	acc, ok, err := a.Access()
	if err != nil {
		return err
	}
	if !ok && add {
		// an app pushed before owners were recorded: the first grant
		// names its owner
		return writeJSON(a.accessPath(), Access{Owner: user})
	}
	if !ok {
		return fmt.Errorf("%s has no owner recorded: keys grant %s NAME names one", filepath.Base(a.Dir), filepath.Base(a.Dir))
	}
	if !add && acc.Owner == user {
		return fmt.Errorf("%s owns %s: the owner cannot be revoked", user, filepath.Base(a.Dir))
	}
	acc.Grants = slices.DeleteFunc(acc.Grants, func(g string) bool { return g == user })
	if add && acc.Owner != user {
		acc.Grants = append(acc.Grants, user)
		slices.Sort(acc.Grants)
	}
	return writeJSON(a.accessPath(), acc)
}
