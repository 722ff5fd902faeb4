package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/internal/atomicfile"
	"github.com/nap-paas/nap/render"
)

// Config vars live in STATE/APP/config: one file per version, N.env
// (0600, docker's env-file format, never changed once written), and
// `current` naming the last version written. A release records the
// version it runs with (Release.Config), and the app's config is the
// running release's (ConfigVersion): a rollback brings its version back
// with its code, and a version whose deploy never switched is no one's.

func (a App) configDir() string { return filepath.Join(a.Dir, "config") }

// ConfigFile is version n's file.
func (a App) ConfigFile(n int) string {
	return filepath.Join(a.configDir(), strconv.Itoa(n)+".env")
}

// ConfigVersion is the version of the config vars the next release uses:
// the running release's — so a config:set or rollback whose deploy did not
// switch (failed, or killed) leaves nothing half-way —, or with no release
// running the last version written (config:set before the first push);
// 0: none.
func (a App) ConfigVersion() (int, error) {
	cur, err := a.Current()
	if err != nil || cur == "" {
		return a.writtenConfig(err)
	}
	rel, err := a.Release(cur)
	if err != nil {
		return 0, err
	}
	return rel.Config, nil
}

// writtenConfig is the last version written (`current`); 0: none.
func (a App) writtenConfig(err error) (int, error) {
	if err != nil {
		return 0, err
	}
	b, err := os.ReadFile(filepath.Join(a.configDir(), "current"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s/current: not a version", a.configDir())
	}
	return n, nil
}

// ConfigVars reads version n (0: none).
func (a App) ConfigVars(n int) (map[string]string, error) {
	if n == 0 {
		return map[string]string{}, nil
	}
	b, err := os.ReadFile(a.ConfigFile(n))
	if err != nil {
		return nil, err
	}
	vars, err := render.ParseEnvFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", a.ConfigFile(n), err)
	}
	return vars, nil
}

// WriteConfig stores vars as a new version (numbers are not reused while
// a version is on disk) and names it in `current`: the file is complete
// before `current` names it. The caller holds the app's lock.
func (a App) WriteConfig(vars map[string]string) (int, error) {
	n, err := a.writtenConfig(nil)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(a.configDir(), 0o700); err != nil {
		return 0, err
	}
	for _, v := range a.configFiles() {
		n = max(n, v)
	}
	n++
	if err := atomicfile.Write(a.ConfigFile(n), render.EnvFile(vars), 0o600); err != nil {
		return 0, err
	}
	return n, atomicfile.Write(filepath.Join(a.configDir(), "current"), []byte(strconv.Itoa(n)+"\n"), 0o600)
}

// pruneConfig removes the versions neither current nor of a kept release.
func (a App) pruneConfig(rels []*Release) {
	keep := map[int]bool{}
	written, err := a.writtenConfig(nil)
	if err != nil {
		return // unreadable: keep everything
	}
	keep[written] = true
	for _, r := range rels {
		keep[r.Config] = true
	}
	for _, n := range a.configFiles() {
		if !keep[n] {
			os.Remove(a.ConfigFile(n))
		}
	}
}

// configFiles are the versions on disk.
func (a App) configFiles() []int {
	es, _ := os.ReadDir(a.configDir())
	var out []int
	for _, e := range es {
		if n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".env")); err == nil && n > 0 && strings.HasSuffix(e.Name(), ".env") {
			out = append(out, n)
		}
	}
	return out
}
