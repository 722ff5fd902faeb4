package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/nap-paas/nap/etcd"
	"github.com/nap-paas/nap/internal/atomicfile"
	"github.com/nap-paas/nap/render"
)

// Router keeps the nginx of this host serving what etcd announces.
type Router struct {
	Config render.Router
	Etcd   *etcd.Client
	Prefix string // the announcements' prefix (discovery.prefix)
	// Debounce gathers the changes of this long into one reload; default
	// 100 ms.
	Debounce time.Duration
	// Log gets one line per event: a reload, a refused configuration, an
	// entry of etcd skipped. Nil: discarded.
	Log io.Writer

	seen map[string]bool // apps that had instances: a 503 names them once they have none
}

// nginxTimeout bounds one call of nginx (a test or a reload signal).
const nginxTimeout = 10 * time.Second

// Run follows etcd until ctx ends. The first table is installed and
// nginx reloaded even when the file already holds it (a router killed
// between writing and reloading left it unloaded); afterwards only a
// changed configuration is. A configuration nginx refuses is reported and
// the running one stays.
func (r *Router) Run(ctx context.Context) error {
	if _, err := Nginx(r.Config, nil, nil); err != nil {
		return err
	}
	first := true
	err := Follow(ctx, r.Etcd, r.Prefix, r.debounce(), func(t Table, problems []string) {
		r.report(problems)
		if _, err := r.install(ctx, t, first); err != nil {
			r.logf("%v", err)
			return
		}
		first = false
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Once installs what etcd announces now and returns: an error when etcd
// does not answer or nginx refuses the configuration.
func (r *Router) Once(ctx context.Context) error {
	kv, err := r.Etcd.List(ctx, r.Prefix)
	if err != nil {
		return err
	}
	t, problems := FromKeys(r.Prefix, kv)
	r.report(problems)
	_, err = r.install(ctx, t, true)
	return err
}

func (r *Router) debounce() time.Duration {
	if r.Debounce > 0 {
		return r.Debounce
	}
	return 100 * time.Millisecond
}

func (r *Router) report(problems []string) {
	for _, p := range problems {
		r.logf("skipped %s", p)
	}
}

func (r *Router) logf(format string, a ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, "router: "+format+"\n", a...)
	}
}

// install writes the configuration of t and has nginx load it, unless the
// file holds it already (and !force).
func (r *Router) install(ctx context.Context, t Table, force bool) (bool, error) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	for app := range t {
		r.seen[app] = true
	}
	known := make([]string, 0, len(r.seen))
	for app := range r.seen {
		known = append(known, app)
	}
	conf, err := Nginx(r.Config, t, known)
	if err != nil {
		return false, err
	}
	changed, err := r.apply(ctx, conf, force)
	if changed && err == nil {
		n := 0
		for _, ups := range t {
			n += len(ups)
		}
		r.logf("nginx reloaded: %d apps, %d instances", len(t), n)
	}
	return changed, err
}

// apply puts conf at Config.Conf and reloads nginx. nginx tests it twice:
// alone first, so that what lands in the directory nginx reads is never
// broken in itself; then in place, with the rest of nginx's
// configuration. Refused either time, the file keeps what it held and
// nginx is not reloaded.
func (r *Router) apply(ctx context.Context, conf []byte, force bool) (bool, error) {
	path := r.Config.Conf
	old, err := os.ReadFile(path)
	had := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if had && bytes.Equal(old, conf) && !force {
		return false, nil
	}
	if err := r.testAlone(ctx, conf); err != nil {
		return false, err
	}
	if err := atomicfile.Write(path, conf, 0o644); err != nil {
		return false, err
	}
	if err := r.nginx(ctx, "-t", "-q"); err != nil {
		if had {
			err = errors.Join(err, atomicfile.Write(path, old, 0o644))
		} else {
			err = errors.Join(err, os.Remove(path))
		}
		return false, fmt.Errorf("nginx refused the configuration with the rest of its own; %s keeps what it held and nginx runs on: %w", path, err)
	}
	if err := r.nginx(ctx, "-s", "reload"); err != nil {
		return false, fmt.Errorf("%s is in place, but nginx did not reload (is nginx running?): %w", path, err)
	}
	return true, nil
}

// testAlone has nginx test conf inside an http block of its own.
func (r *Router) testAlone(ctx context.Context, conf []byte) error {
	dir, err := os.MkdirTemp("", "nap-router-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	main := fmt.Sprintf("pid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n\tinclude %s/nap.conf;\n}\n", dir, dir)
	if err := os.WriteFile(filepath.Join(dir, "nap.conf"), conf, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		return err
	}
	if err := r.nginx(ctx, "-t", "-q", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")); err != nil {
		return fmt.Errorf("nginx refused the configuration; nothing was written and nginx runs on: %w", err)
	}
	return nil
}

func (r *Router) nginx(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, nginxTimeout)
	defer cancel()
	// -e: nginx opens its compiled-in error log before reading -c.
	out, err := exec.CommandContext(ctx, r.Config.Nginx, append([]string{"-e", "stderr"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", r.Config.Nginx, strings.Join(args, " "), err, strings.Join(strings.Fields(string(out)), " "))
	}
	return nil
}
