// Package store is nap's state on disk, DESIGN.md's STATE/APP: the
// sources, releases (units and release.json), current, the intent of a
// deploy under way and the app's lock. Every write is atomic and synced.
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nap-paas/nap/deploy/driver"
	"github.com/nap-paas/nap/internal/atomicfile"
	"github.com/nap-paas/nap/render"
)

// Release statuses in release.json.
const (
	StatusPending  = "pending"  // units written, not (yet) serving
	StatusFailed   = "failed"   // a step before the switch failed
	StatusDeployed = "deployed" // it was current at some point
)

// Release is releases/REV/release.json.
type Release struct {
	Revision string `json:"revision"`
	// Gen is the release's generation of Revision (render.Release.Gen):
	// 0 or 1 for the first, N ≥ 2 when the same revision was released
	// again with other units.
	Gen int `json:"gen,omitempty"`
	// Switched is when the release last became current (SetStatus
	// deployed): what "the release before this one" means for a rollback,
	// since a release made current again keeps its Time.
	Switched    time.Time         `json:"switched,omitempty"`
	Time        time.Time         `json:"time"`
	ImageDigest string            `json:"image_digest,omitempty"`
	Units       map[string]string `json:"units"`     // unit name → sha256 of its bytes
	Instances   map[string]int    `json:"instances"` // process → instance count
	Status      string            `json:"status"`
	// Config is the version of the config vars it runs with (0: none);
	// the values stay in STATE/APP/config.
	Config int `json:"config,omitempty"`
}

// LastCurrent is when the release last became current, or was written
// when it never did (or was recorded before Switched was). A release is
// written before it is switched to, so this is also when it was last used.
func (r *Release) LastCurrent() time.Time {
	if r.Switched.IsZero() {
		return r.Time
	}
	return r.Switched
}

// Key names the release on disk (releases/KEY, current) and in deploy:
// REV, or REV-N (render.ReleaseKey).
func (r *Release) Key() string { return render.ReleaseKey(r.Revision, r.Gen) }

// App is STATE/APP.
type App struct{ Dir string }

// NewApp returns the state directory of app under state.
func NewApp(state, app string) App { return App{filepath.Join(state, app)} }

func (a App) SrcDir(rev string) string     { return filepath.Join(a.Dir, "src", rev) }
func (a App) ReleaseDir(rev string) string { return filepath.Join(a.Dir, "releases", rev) }
func (a App) UnitsDir(rev string) string   { return filepath.Join(a.ReleaseDir(rev), "units") }

// unitHash is the hash recorded in release.json.
func unitHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// WriteRelease writes releases/REV (units and release.json) into a temporary
// directory, then moves it into place, so a crash or a full disk never leaves
// a half-written release under its real name.
func (a App) WriteRelease(rel *Release, files []driver.UnitFile) error {
	rels := filepath.Join(a.Dir, "releases")
	if err := os.MkdirAll(rels, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(rels, "."+rel.Key()+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Mkdir(filepath.Join(tmp, "units"), 0o755); err != nil {
		return err
	}
	rel.Units = map[string]string{}
	for _, f := range files {
		if err := atomicfile.Create(filepath.Join(tmp, "units", f.Name), f.Data, 0o644); err != nil {
			return err
		}
		rel.Units[f.Name] = unitHash(f.Data)
	}
	if err := writeJSON(filepath.Join(tmp, "release.json"), rel); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	// Synced before the publishing rename: a power cut after it cannot
	// leave a release whose files are empty.
	if err := atomicfile.SyncDir(filepath.Join(tmp, "units")); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return err
	}
	dst := a.ReleaseDir(rel.Key())
	old := ""
	if _, err := os.Lstat(dst); err == nil {
		old = filepath.Join(rels, "."+rel.Key()+".old-"+strconv.Itoa(os.Getpid()))
		if err := os.Rename(dst, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		if old != "" {
			os.Rename(old, dst)
		}
		return err
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// SetStatus rewrites release.json of rev with status (and digest when set).
func (a App) SetStatus(rev, status string) error {
	rel, err := a.Release(rev)
	if err != nil {
		return err
	}
	rel.Status = status
	if status == StatusDeployed {
		rel.Switched = time.Now().UTC()
	}
	return writeJSON(filepath.Join(a.ReleaseDir(rev), "release.json"), rel)
}

// Release reads releases/REV/release.json.
func (a App) Release(rev string) (*Release, error) {
	b, err := os.ReadFile(filepath.Join(a.ReleaseDir(rev), "release.json"))
	if err != nil {
		return nil, err
	}
	var rel Release
	if err := json.Unmarshal(b, &rel); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(a.ReleaseDir(rev), "release.json"), err)
	}
	return &rel, nil
}

// Units reads the unit files of a stored release, sorted by name.
func (a App) Units(rev string) ([]driver.UnitFile, error) {
	es, err := os.ReadDir(a.UnitsDir(rev))
	if err != nil {
		return nil, err
	}
	var out []driver.UnitFile
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(a.UnitsDir(rev), e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, driver.UnitFile{Name: e.Name(), Data: b})
	}
	return out, nil
}

// Current returns the revision `current` points to, "" when none.
func (a App) Current() (string, error) {
	target, err := os.Readlink(filepath.Join(a.Dir, "current"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return filepath.Base(target), nil
}

// SetCurrent points `current` at releases/REV: a new symlink renamed over
// the old one, so readers see either the old or the new release.
func (a App) SetCurrent(rev string) error {
	tmp := filepath.Join(a.Dir, ".current.tmp-"+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(filepath.Join("releases", rev), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(a.Dir, "current")); err != nil {
		os.Remove(tmp)
		return err
	}
	return atomicfile.SyncDir(a.Dir)
}

// Releases returns the stored releases, oldest first.
func (a App) Releases() ([]*Release, error) {
	es, err := os.ReadDir(filepath.Join(a.Dir, "releases"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Release
	for _, e := range es {
		if strings.HasPrefix(e.Name(), ".") || !e.IsDir() {
			continue
		}
		rel, err := a.Release(e.Name())
		if err != nil {
			continue // a release without release.json was never complete
		}
		out = append(out, rel)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Key() < out[j].Key()
	})
	return out, nil
}

// Prune keeps the current release and the keep others deployed or made
// current last, and removes the rest with their source trees, and
// leftovers of interrupted writes.
func (a App) Prune(keep int) error {
	rels, err := a.Releases()
	if err != nil {
		return err
	}
	cur, err := a.Current()
	if err != nil {
		return err
	}
	// The most recently used stay: deployed or made current last.
	sort.SliceStable(rels, func(i, j int) bool { return rels[i].LastCurrent().Before(rels[j].LastCurrent()) })
	kept := 0
	for i := len(rels) - 1; i >= 0; i-- {
		key := rels[i].Key()
		if key == cur {
			continue
		}
		if kept < keep {
			kept++
			continue
		}
		if err := RemoveAll(a.ReleaseDir(key)); err != nil {
			return err
		}
	}
	for _, sub := range []string{"", "releases", "src"} {
		es, _ := os.ReadDir(filepath.Join(a.Dir, sub))
		for _, e := range es {
			if strings.HasPrefix(e.Name(), ".") && (sub != "" || strings.HasPrefix(e.Name(), goneMark)) {
				os.RemoveAll(filepath.Join(a.Dir, sub, e.Name()))
			}
		}
	}
	// The trees of the removed releases go, as does one whose push never
	// became a release (its deploy was killed before it could remove it);
	// so do the config versions no release runs with.
	a.RemoveOrphanSources()
	if rels, err := a.Releases(); err == nil {
		a.pruneConfig(rels)
	}
	return nil
}

// RemoveOrphanSources removes the exported trees of revisions no stored
// release is of: pushes that never became one, and pruned releases.
func (a App) RemoveOrphanSources() {
	rels, err := a.Releases()
	if err != nil {
		return
	}
	used := map[string]bool{}
	for _, r := range rels {
		used[r.Revision] = true
	}
	es, _ := os.ReadDir(filepath.Join(a.Dir, "src"))
	for _, e := range es {
		dir := filepath.Join(a.Dir, "src", e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			os.RemoveAll(dir) // an export killed midway, or a removal
		} else if !used[e.Name()] {
			RemoveAll(dir)
		}
	}
}

// goneMark begins the name a directory is renamed to before it is removed.
const goneMark = ".gone-"

// removeAll removes dir in a way a crash cannot leave half-done where
// anyone looks: it is renamed to a dot-name first (which Releases skips and
// Prune clears), then removed. A release half-removed under its own name
// could otherwise be listed, and rolled back to, without its units.
func RemoveAll(dir string) error {
	gone := filepath.Join(filepath.Dir(dir), goneMark+filepath.Base(dir))
	if err := os.RemoveAll(gone); err != nil {
		return err
	}
	if err := os.Rename(dir, gone); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return os.RemoveAll(gone)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o644)
}
