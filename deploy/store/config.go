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
// `current` naming the version the next release uses. A release records
// the version it runs with (Release.Config); a rollback brings its
// version back with its code.

func (a App) configDir() string { return filepath.Join(a.Dir, "config") }

// ConfigFile is version n's file.
func (a App) ConfigFile(n int) string {
	return filepath.Join(a.configDir(), strconv.Itoa(n)+".env")
}

// ConfigVersion is the version the next release uses; 0: no config vars
// were ever set.
func (a App) ConfigVersion() (int, error) {
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

// WriteConfig stores vars as the next version and makes it current: the
// file is complete before `current` names it. The caller holds the app's
// lock.
func (a App) WriteConfig(vars map[string]string) (int, error) {
	cur, err := a.ConfigVersion()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(a.configDir(), 0o700); err != nil {
		return 0, err
	}
	n := cur + 1
	if err := atomicfile.Write(a.ConfigFile(n), render.EnvFile(vars), 0o600); err != nil {
		return 0, err
	}
	return n, atomicfile.Write(filepath.Join(a.configDir(), "current"), []byte(strconv.Itoa(n)+"\n"), 0o600)
}

// pruneConfig removes the versions neither current nor of a kept release.
func (a App) pruneConfig(rels []*Release) {
	keep := map[int]bool{}
	if cur, err := a.ConfigVersion(); err == nil {
		keep[cur] = true
	} else {
		return // unreadable: keep everything
	}
	for _, r := range rels {
		keep[r.Config] = true
	}
	es, _ := os.ReadDir(a.configDir())
	for _, e := range es {
		if n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".env")); err == nil && strings.HasSuffix(e.Name(), ".env") && !keep[n] {
			os.Remove(filepath.Join(a.configDir(), e.Name()))
		}
	}
}
