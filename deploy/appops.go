package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nap-paas/nap/deploy/driver"
	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/internal/atomicfile"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/source"
)

// Restart restarts the running instances of the app's current release —
// of proc, or of every process — one at a time: an instance's key is
// withdrawn and the drain waited for before it stops, and it is started
// again and waited for as a deploy waits, so with two or more instances
// one always serves. A restart ends a crash-looping instance's backoff too.
func (d *Deployer) Restart(ctx context.Context, app, proc string) error {
	s, err := d.open(ctx, app)
	if err != nil {
		return err
	}
	defer s.close()
	rel, err := runningRelease(s.st, app, "restart")
	if err != nil {
		return err
	}
	cur := rel.Key()
	counts, err := processCounts(app, rel, proc, "restart")
	if err != nil {
		return err
	}
	files, err := s.st.Units(cur)
	if err != nil {
		return envErr("restart", "%v", err)
	}
	disc := discoveryProcs(app, cur, files)
	insts := instances(app, cur, counts, disc)
	// Killed between an instance's stop and its start, the guard (or the
	// next command) starts it again: reconcile of a restart intent.
	if err := s.intendRestart(cur); err != nil {
		return err
	}
	s.settled = false
	for _, in := range insts {
		d.say("Restarting %s", in.run)
		if in.disc != "" {
			if err := s.drv.Stop(ctx, in.disc); err != nil {
				return err
			}
			if err := sleep(ctx, s.cfg.Operator.Drain); err != nil {
				return envErr("drain", "%v", err)
			}
		}
		if err := s.drv.Stop(ctx, in.run); err != nil {
			return err
		}
		if err := s.drv.Start(ctx, in.units()...); err != nil {
			return err
		}
		if err := s.waitUp(ctx, cur, rel.Instances, disc); err != nil {
			return err
		}
		if err := s.waitReported(ctx, in.units()); err != nil {
			return err
		}
	}
	s.settled = true
	d.say("Restarted %s %s", app, short(cur))
	return nil
}

// AppInfo is one line of `apps`.
type AppInfo struct {
	App     string `json:"app"`
	Current string `json:"current"` // "" when nothing is deployed
	URL     string `json:"url,omitempty"`
}

// AppList lists the apps (Apps) with what `apps` shows of each; with
// user, only those the user owns or was granted (store.Access).
func (d *Deployer) AppList(user string) ([]AppInfo, error) {
	cfg, err := d.config()
	if err != nil {
		return nil, err
	}
	names, err := d.Apps()
	if err != nil {
		return nil, err
	}
	out := []AppInfo{}
	for _, app := range names {
		st := store.NewApp(cfg.Operator.State, app)
		acc, recorded, err := st.Access()
		if err != nil || user != "" && !acc.Allows(user) {
			continue
		}
		cur, _ := st.Current()
		if cur == "" && !recorded {
			continue // nothing deployed, nobody owns it
		}
		out = append(out, AppInfo{App: app, Current: cur, URL: cfg.Operator.Router.URL(app)})
	}
	return out, nil
}

// WriteApps writes apps as the table `apps` shows.
func WriteApps(w io.Writer, apps []AppInfo) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "APP\tRELEASE\tURL\n")
	for _, a := range apps {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.App, orDash(short(a.Current)), orDash(a.URL))
	}
	return tw.Flush()
}

// LogOptions are logs' flags.
type LogOptions struct {
	Lines   int    // the last entries shown first
	Follow  bool   // then what comes, until ctx ends
	Process string // "" = every process
}

// Logs writes the journals of every instance of the app's current release
// (of opts.Process), merged in time order, each line prefixed with its
// instance ("web.1 | "). With Follow it returns when ctx ends or a write
// to w fails (the client went away).
func (d *Deployer) Logs(ctx context.Context, app string, opts LogOptions, w io.Writer) error {
	cfg, _, rel, err := d.running(app, "logs")
	if err != nil {
		return err
	}
	counts, err := processCounts(app, rel, opts.Process, "logs")
	if err != nil {
		return err
	}
	run, _ := unitNames(instances(app, rel.Key(), counts, nil))
	return d.driver(&cfg.Operator).Logs(ctx, run, opts.Lines, opts.Follow, func(e driver.Entry) error {
		label := e.Unit
		if u, ok := render.ParseUnit(app, e.Unit); ok {
			label = fmt.Sprintf("%s.%d", u.Proc, u.Instance)
		}
		for _, line := range strings.Split(strings.TrimSuffix(e.Message, "\n"), "\n") {
			if _, err := fmt.Fprintf(w, "%s | %s\n", label, line); err != nil {
				return err
			}
		}
		return nil
	})
}

// Config returns the app's config vars, the version the next release uses.
func (d *Deployer) Config(app string) (map[string]string, error) {
	_, st, err := d.appStore(app)
	if err != nil {
		return nil, err
	}
	v, err := st.ConfigVersion()
	if err != nil {
		return nil, envErr("config", "%v", err)
	}
	vars, err := st.ConfigVars(v)
	if err != nil {
		return nil, envErr("config", "%v", err)
	}
	return vars, nil
}

// SetConfig sets and unsets config vars of app as a new version, then
// deploys the running revision with it: a release of its own (R-N),
// switched to blue/green as a push is, so a rollback brings the earlier
// vars back with the earlier release. Without a running release the vars
// wait for the next push. No value is ever printed.
func (d *Deployer) SetConfig(ctx context.Context, app string, set map[string]string, unset []string) error {
	for k, v := range set {
		if err := render.CheckConfigVar(k, v); err != nil {
			return inputErr("config", "%v", err)
		}
	}
	for _, k := range unset {
		if err := render.CheckConfigVar(k, ""); err != nil {
			return inputErr("config", "%v", err)
		}
	}
	s, err := d.open(ctx, app)
	if err != nil {
		return err
	}
	rev, version, changed, err := s.setConfig(set, unset)
	s.close()
	switch {
	case err != nil:
		return err
	case len(changed) == 0:
		d.say("Config of %s unchanged", app)
		return nil
	case rev == "":
		d.say("%s has no release running: the next push runs with them", app)
		return nil
	}
	return d.deploy(ctx, app, "", rev, version)
}

// SetConfigArgs is SetConfig of config:set's words (render.ParseConfigArgs):
// NAME=VALUE…, or NAME - with the value read from stdin, one trailing
// newline dropped.
func (d *Deployer) SetConfigArgs(ctx context.Context, app string, args []string, stdin io.Reader) error {
	set, stdinName, err := render.ParseConfigArgs(args)
	if err != nil {
		return inputErr("config", "%v", err)
	}
	if stdinName != "" {
		b, err := io.ReadAll(io.LimitReader(stdin, render.MaxConfigValue+2))
		if err != nil {
			return envErr("config", "reading %s from stdin: %v", stdinName, err)
		}
		set[stdinName] = strings.TrimSuffix(string(b), "\n")
	}
	return d.SetConfig(ctx, app, set, nil)
}

// setConfig writes the new version under the session's lock and returns
// the running release's revision, the version and the names that changed.
func (s *session) setConfig(set map[string]string, unset []string) (rev string, version int, changed []string, err error) {
	v, err := s.st.ConfigVersion()
	if err != nil {
		return "", 0, nil, envErr("config", "%v", err)
	}
	vars, err := s.st.ConfigVars(v)
	if err != nil {
		return "", 0, nil, envErr("config", "%v", err)
	}
	for k, val := range set {
		if old, ok := vars[k]; !ok || old != val {
			vars[k] = val
			changed = append(changed, k)
		}
	}
	for _, k := range unset {
		if _, ok := vars[k]; ok {
			delete(vars, k)
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return "", 0, nil, nil
	}
	sort.Strings(changed)
	cur, err := s.st.Current()
	if err != nil {
		return "", 0, nil, envErr("config", "%v", err)
	}
	var appEnv map[string]string
	if cur != "" {
		rel, err := s.st.Release(cur)
		if err != nil {
			return "", 0, nil, envErr("config", "%v", err)
		}
		rev = rel.Revision
		if tree, err := source.Open(s.st.SrcDir(rev)); err == nil {
			if cfg, err := tree.AppConfig(s.cfg.Operator); err == nil {
				appEnv = cfg.App.Env
			}
			tree.Close()
		}
	}
	if err := render.CheckConfigVars(vars, appEnv, s.cfg.Operator.Limits); err != nil {
		return "", 0, nil, inputErr("config", "%v", err)
	}
	n, err := s.st.WriteConfig(vars)
	if err != nil {
		return "", 0, nil, envErr("config", "%v", err)
	}
	s.d.say("Config of %s: %s changed (version %d)", s.app, strings.Join(changed, ", "), n)
	return rev, n, changed, nil
}

// Run runs cmd in a one-off container of the app's running release on
// this host — its image, the web process's environment with the release's
// config vars, its memory and CPU limits (render.OneOff) — with stdin,
// stdout and stderr as streams (no terminal), and returns the command's
// exit code. The container is removed when it exits, and when ctx ends
// first.
func (d *Deployer) Run(ctx context.Context, app string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cfg, st, rel, err := d.running(app, "run")
	if err != nil {
		return 0, err
	}
	tree, err := source.Open(st.SrcDir(rel.Revision))
	if err != nil {
		return 0, envErr("run", "%v", err)
	}
	appCfg, err := tree.AppConfig(cfg.Operator)
	var img *dockerfile.Image
	if err == nil {
		img, err = tree.Image(appCfg)
	}
	tree.Close()
	if err != nil {
		return 0, treeErr("run", err)
	}
	rr := render.Release{App: app, Rev: rel.Revision, Gen: rel.Gen}
	if rel.Config > 0 {
		if rr.ConfigFile, rr.ConfigKeys, err = configRef(st, rel.Config); err != nil {
			return 0, envErr("run", "%v", err)
		}
	}
	var id [4]byte
	rand.Read(id[:])
	name := render.UnitPrefix(app) + "run." + hex.EncodeToString(id[:])
	argv, err := render.OneOff(img, appCfg, rr, name, cmd)
	if err != nil {
		return 0, inputErr("run", "%v", err)
	}
	c := exec.CommandContext(ctx, cfg.Operator.Docker, argv...)
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	c.Cancel = func() error {
		// the docker client going away leaves the container running
		exec.Command(cfg.Operator.Docker, "rm", "-f", name).Run()
		return c.Process.Kill()
	}
	err = c.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() >= 0 {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, envErr("run", "%s: %v", cfg.Operator.Docker, err)
	}
	return 0, nil
}

// running reads the app's running release for an operation on it (step):
// an input error when app is not a valid name or runs nothing.
func (d *Deployer) running(app, step string) (*render.Config, store.App, *store.Release, error) {
	cfg, st, err := d.appStore(app)
	if err != nil {
		return nil, store.App{}, nil, err
	}
	rel, err := runningRelease(st, app, step)
	return cfg, st, rel, err
}

func runningRelease(st store.App, app, step string) (*store.Release, error) {
	cur, err := st.Current()
	if err != nil {
		return nil, envErr(step, "%v", err)
	}
	if cur == "" {
		return nil, inputErr("", "%s has no release running: push it first", app) // the command names itself
	}
	rel, err := st.Release(cur)
	if err != nil {
		return nil, envErr(step, "%v", err)
	}
	return rel, nil
}

// processCounts are rel's instance counts, of proc alone when it is set.
func processCounts(app string, rel *store.Release, proc, step string) (map[string]int, error) {
	if proc == "" {
		return rel.Instances, nil
	}
	n, ok := rel.Instances[proc]
	if !ok {
		return nil, inputErr(step, "%s has no process %q: its processes are %v", app, proc, processes(rel.Instances))
	}
	return map[string]int{proc: n}, nil
}

// reportTimeout bounds how long the scheduler may take to report units
// active that run already (fleet's agents report on their own schedule).
const reportTimeout = 30 * time.Second

// waitReported returns once the driver reports every unit of names
// active: what status and plan read then agrees with what runs.
func (s *session) waitReported(ctx context.Context, names []string) error {
	deadline := time.Now().Add(reportTimeout)
	for {
		states, err := s.drv.States(ctx, render.UnitPrefix(s.app))
		if err != nil {
			return err
		}
		active := map[string]bool{}
		for _, st := range states {
			active[st.Name] = st.Active == "active"
		}
		missing := ""
		for _, n := range names {
			if !active[n] && missing == "" {
				missing = n
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return envErr("restart", "%s runs, but %s does not report it active after %v", missing, s.drv.Name(), reportTimeout)
		}
		if err := sleep(ctx, s.poll()); err != nil {
			return envErr("restart", "%v", err)
		}
	}
}

// FetchConfig writes the config vars at key in d's etcd to out (0600,
// its directory 0700), within a minute: what a fleet run unit does on its
// machine before docker starts (render's config-fetch ExecStartPre).
func FetchConfig(ctx context.Context, d render.Discovery, key, out string) error {
	if key == "" || !filepath.IsAbs(out) || (d.Etcd != "v2" && d.Etcd != "v3") {
		return inputErr("config-fetch", "give etcd's API (v2 or v3), the key and an absolute file")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	value, err := d.Client().Get(ctx, key)
	if err != nil {
		return fmt.Errorf("config vars %s: %w", key, err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(out, []byte(value), 0o600)
}
