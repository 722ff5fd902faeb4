package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/etcd"
	"github.com/nap-paas/nap/registry"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/source"
	"github.com/nap-paas/nap/unit"
)

// Deployer deploys, rolls back, destroys, reports and plans apps with one
// operator config.
type Deployer struct {
	// Operator is the operator config (LoadOperator, or
	// render.DefaultOperator for all defaults).
	Operator render.Operator
	// Driver runs units; nil: the config's target (fleetctl or systemctl
	// from PATH).
	Driver Driver
	// Out receives the progress lines ("-----> …") and build output.
	Out io.Writer
	// Guard is a command (argv; the app's name is appended) that a deploy
	// or rollback starts detached before it changes anything, to wait for
	// the app's lock and reconcile: `nap-render reconcile --wait`. With
	// none, what a killed deploy left is reconciled by the next command.
	Guard []string
	// Env is git's environment (nil: this process's, which inside a
	// pre-receive hook holds the quarantine variables git needs).
	Env []string
	// MachineID pins the build unit on fleet; default /etc/machine-id.
	MachineID string
	// Registry reads built images' configs; nil: the config's registry.
	Registry *registry.Client
	// Etcd reads announcements; nil: the config's discovery endpoints.
	Etcd *etcd.Client
	// StartTimeout bounds the wait for a release's instances (default 2m);
	// Grace is how long an instance without ports must stay active (default
	// 3s); Poll is the polling interval (default the driver's); ToolTimeout bounds
	// each fleetctl/systemctl call (default 1m).
	StartTimeout, Grace, Poll, ToolTimeout time.Duration
}

func (d *Deployer) out() io.Writer {
	if d.Out == nil {
		return io.Discard
	}
	return d.Out
}

func (d *Deployer) say(format string, a ...any) { Say(d.out(), format, a...) }

// Say writes one progress line, "-----> " and the message: the one way
// every step of a push (deploy's and the hook's) is shown.
func Say(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "-----> "+format+"\n", a...)
}

func orDefault(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// config is the operator config with no app config yet (the app's
// nap.yaml is read from the exported tree).
func (d *Deployer) config() (*render.Config, error) {
	cfg, err := render.ParseAppConfig(d.Operator, render.AppFile, nil)
	if err != nil {
		return nil, &Error{Kind: KindInput, Step: "config", Err: err}
	}
	return cfg, nil
}

func (d *Deployer) driver(op *render.Operator) Driver {
	if d.Driver != nil {
		return d.Driver
	}
	if op.Target == render.TargetSystemd {
		return &Systemd{UnitDir: op.UnitDir, Timeout: d.ToolTimeout}
	}
	return &Fleet{Endpoint: op.Fleet.Endpoint, Tunnel: op.Fleet.Tunnel, Driver: op.Fleet.Driver, Timeout: d.ToolTimeout}
}

// etcdTimeout bounds each request to an etcd endpoint.
const etcdTimeout = 10 * time.Second

func (d *Deployer) etcd(op *render.Operator) *etcd.Client {
	if d.Etcd != nil {
		return d.Etcd
	}
	c := op.Discovery.Client()
	c.Timeout = etcdTimeout
	return c
}

func (d *Deployer) registry(op *render.Operator) *registry.Client {
	if d.Registry != nil {
		return d.Registry
	}
	c := &registry.Client{Host: op.Registry}
	if op.RegistryInsecure {
		c.Scheme = "http"
	}
	return c
}

func (d *Deployer) machineID() string {
	if d.MachineID != "" {
		return d.MachineID
	}
	b, _ := os.ReadFile("/etc/machine-id")
	return strings.TrimSpace(string(b))
}

// session is one locked operation on one app.
type session struct {
	d     *Deployer
	app   string
	cfg   *render.Config
	st    store.App
	drv   Driver
	etcd  *etcd.Client
	lock  *store.Lock
	start time.Time
	// intent: this session recorded an Intent; settled: nothing of it is
	// left to finish or undo, so close removes it.
	intent, settled bool
	// configApp is where the config vars are read when st is not the
	// app's own store (RenderRev's temporary export); configVersion is
	// the version the last render used.
	configApp     store.App
	configVersion int
	// pinnedConfig is the config version this deploy releases (config:set's
	// new one); 0: the app's (store.ConfigVersion).
	pinnedConfig int
}

// open takes the app's lock (failing at once when another operation holds
// it) and reconciles what an operation that died left.
func (d *Deployer) open(ctx context.Context, app string) (*session, error) {
	return d.openLock(ctx, app, false)
}

// appStore checks app's name and returns the config and the app's store.
func (d *Deployer) appStore(app string) (*render.Config, store.App, error) {
	if err := render.ValidApp(app); err != nil {
		return nil, store.App{}, &Error{Kind: KindInput, Step: "app", Err: err}
	}
	cfg, err := d.config()
	if err != nil {
		return nil, store.App{}, err
	}
	return cfg, store.NewApp(cfg.Operator.State, app), nil
}

func (d *Deployer) openLock(ctx context.Context, app string, wait bool) (*session, error) {
	cfg, st, err := d.appStore(app)
	if err != nil {
		return nil, err
	}
	l, err := store.Acquire(st.Dir, wait)
	if errors.Is(err, ErrLocked) && st.Interrupted() {
		// The holder is the guard of a deploy that died, cleaning up:
		// wait for it rather than refuse.
		d.say("Waiting for the clean-up of an interrupted deploy of %s", app)
		l, err = store.AcquireWithin(st.Dir, time.Minute)
	}
	if err != nil {
		return nil, &Error{Kind: KindEnv, Step: "lock", Err: err}
	}
	s := &session{d: d, app: app, cfg: cfg, st: st, drv: d.driver(&cfg.Operator), etcd: d.etcd(&cfg.Operator), lock: l, start: time.Now()}
	if err := s.reconcile(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// close ends the session. The intent it recorded is removed only when the
// operation left nothing to finish or undo; otherwise the guard, or the
// next command, reconciles.
func (s *session) close() {
	if s.intent && s.settled {
		if err := s.st.ClearIntent(); err != nil {
			s.d.say("Could not remove %s (%v); the next command on %s clears it", s.st.IntentPath(), err, s.app)
		}
	}
	s.lock.Unlock()
}

// intend records that this operation makes rev current (DESIGN.md "Crash
// consistency"), then starts the guard that reconciles if it dies.
func (s *session) intend(rev string) error {
	cur, err := s.st.Current()
	if err != nil {
		return envErr("read current", "%v", err)
	}
	return s.record(store.Intent{Release: rev, Previous: cur})
}

// intendRestart records that this operation restarts the instances of
// cur, the current release.
func (s *session) intendRestart(cur string) error {
	return s.record(store.Intent{Release: cur, Previous: cur, Restart: true})
}

// record writes the intent. The guard starts first: killed between the
// two, the guard finds no intent and nothing to do; the other way round a
// kill there left an intent with no guard, until the next command.
func (s *session) record(in store.Intent) error {
	if !s.intent {
		startGuard(s.d.Guard, s.app)
	}
	in.PID, in.Started = os.Getpid(), time.Now().UTC()
	if err := s.st.WriteIntent(in); err != nil {
		return envErr("record the deploy", "%v", err)
	}
	s.intent, s.settled = true, true
	return nil
}

// DeployWorkTree deploys HEAD of the git work tree at dir as the app named
// after dir: a developer's `nap-render deploy` in their checkout.
func (d *Deployer) DeployWorkTree(ctx context.Context, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	gitDir, rev, err := source.WorkTree(abs)
	if err != nil {
		return err
	}
	return d.Deploy(ctx, filepath.Base(abs), gitDir, rev)
}

// Deploy deploys commit rev of the app's repository gitDir: DESIGN.md's
// "Deploy (blue/green)". A failure before the switch leaves `current` and
// the running release untouched.
func (d *Deployer) Deploy(ctx context.Context, app, gitDir, rev string) error {
	return d.deploy(ctx, app, gitDir, rev, 0)
}

// deploy is Deploy releasing config version config (0: the app's).
func (d *Deployer) deploy(ctx context.Context, app, gitDir, rev string, config int) error {
	if err := render.ValidRev(rev); err != nil {
		return &Error{Kind: KindInput, Step: "revision", Err: err}
	}
	s, err := d.open(ctx, app)
	if err != nil {
		return err
	}
	defer s.close()
	s.pinnedConfig = config

	d.say("Deploying %s %s", app, short(rev))
	if err := s.intend(rev); err != nil {
		return err
	}
	released := false
	defer func() {
		// A push that did not become a release leaves no tree behind; one
		// that did keeps it until Prune removes the release.
		if !released {
			s.st.RemoveOrphanSources()
		}
	}()
	if err := s.export(ctx, gitDir, rev); err != nil {
		return err
	}
	files, rendered, err := s.render(rev, nil)
	if err != nil {
		return err
	}
	if err := s.build(ctx, rev, files); err != nil {
		return during("build", err)
	}
	digest, built, err := s.inspectImage(ctx, rev)
	if err != nil {
		return err
	}
	key, again, rendered, err := s.releaseOf(rev, built)
	if err != nil {
		return err
	}
	if key == rev && !sameFiles(files, again) {
		s.d.say("The built image's settings changed the units; using them")
	}
	files = again
	if key != rev {
		// What a crash from here on leaves is the new release's.
		if err := s.intend(key); err != nil {
			return err
		}
	}
	_, gen, _ := render.ParseReleaseKey(key)
	rel := &store.Release{Revision: rev, Gen: gen, Time: time.Now().UTC(), ImageDigest: digest, Instances: rendered.instances,
		Status: store.StatusPending, Config: s.configVersion}
	if old, err := s.st.Release(key); err == nil && old.Status == store.StatusDeployed {
		rel.Time = old.Time // a redeploy of a release keeps its place in history
	}
	cur, _ := s.st.Current()
	if stored, err := s.st.Units(key); cur == key && err == nil && sameFiles(stored, files) {
		// Rewriting the current release would briefly remove what
		// `current` points to; its units are the same.
		if r, err := s.st.Release(key); err == nil {
			rel = r
		}
	} else if err := s.st.WriteRelease(rel, files); err != nil {
		return envErr("write release", "%s: %v", s.st.ReleaseDir(key), err)
	}
	released = true
	if err := s.activate(ctx, rel, files); err != nil {
		return err
	}
	return nil
}

// export writes the tree of rev into STATE/APP/src/REV, within the
// operator's limits.
func (s *session) export(ctx context.Context, gitDir, rev string) error {
	if _, err := os.Stat(s.st.SrcDir(rev)); err == nil {
		return nil // exported by an earlier deploy of rev: a tree is made whole, then renamed into place
	}
	repo := source.Repo{GitDir: gitDir, Env: s.d.Env}
	if err := repo.Export(ctx, rev, s.st.SrcDir(rev), s.cfg.Operator.Limits); err != nil {
		return treeErr("export", err)
	}
	return nil
}

// treeErr classifies what reading the pushed tree returned: the tree's
// fault is the pusher's to fix; anything else is the machine's.
func treeErr(step string, err error) error {
	if source.IsTreeFault(err) {
		return &Error{Kind: KindInput, Step: step, Err: err}
	}
	return &Error{Kind: KindEnv, Step: step, Err: err}
}

// renderResult is what deploy needs of a render besides the files.
type renderResult struct {
	img       *dockerfile.Image
	instances map[string]int
}

// render renders the exported tree of rev (built: the image's config, or nil).
// render renders release key (REV or REV-N) from the exported tree of its
// revision.
func (s *session) render(key string, built *dockerfile.Image) ([]UnitFile, *renderResult, error) {
	n := relNames(s.app, key)
	tree, err := source.Open(s.st.SrcDir(n.Rev))
	if err != nil {
		return nil, nil, envErr("render", "%v", err)
	}
	defer tree.Close()
	cfg, err := tree.AppConfig(s.cfg.Operator)
	if err != nil {
		return nil, nil, treeErr("render", err)
	}
	s.cfg = cfg
	img, err := tree.Image(cfg)
	if err != nil {
		return nil, nil, treeErr("render", err)
	}
	rel := render.Release{App: s.app, Rev: n.Rev, Gen: n.Gen, MachineID: s.d.machineID(), Built: built}
	if err := s.withConfig(&rel); err != nil {
		return nil, nil, err
	}
	units, err := render.RenderUnits(img, cfg, rel)
	if err != nil {
		return nil, nil, &Error{Kind: KindInput, Step: "render", Err: err}
	}
	var files []UnitFile
	for _, u := range units.Files() {
		b, err := unit.Marshal(u)
		if err != nil {
			return nil, nil, &Error{Kind: KindInput, Step: "render", Err: err}
		}
		files = append(files, UnitFile{Name: u.Name, Data: b})
	}
	return files, &renderResult{img: img, instances: units.Instances()}, nil
}

// withConfig adds the app's current config vars to rel: the file of their
// version and their names.
func (s *session) withConfig(rel *render.Release) error {
	st := s.st
	if s.configApp.Dir != "" {
		st = s.configApp
	}
	v := s.pinnedConfig
	if v == 0 {
		var err error
		if v, err = st.ConfigVersion(); err != nil {
			return envErr("config", "%v", err)
		}
	}
	s.configVersion = v
	if v == 0 {
		return nil
	}
	file, keys, err := configRef(st, v)
	if err != nil {
		return envErr("config", "%v", err)
	}
	rel.ConfigFile, rel.ConfigKeys = file, keys
	if s.cfg.Operator.Target == render.TargetFleet {
		// fleet's machines do not share this disk: the units fetch the
		// version from etcd (publishConfig puts it there)
		rel.ConfigFile, rel.ConfigKey = "", render.ConfigKey(s.app, v)
	}
	return nil
}

// publishConfig puts config version v into etcd for fleet's machines
// (idempotent; a no-op on systemd, whose units read the file here), and
// deletes the versions no stored release runs with.
func (s *session) publishConfig(ctx context.Context, v int) error {
	if s.cfg.Operator.Target != render.TargetFleet {
		return nil
	}
	if v > 0 {
		b, err := os.ReadFile(s.st.ConfigFile(v))
		if err != nil {
			return envErr("config", "%v", err)
		}
		if err := s.etcd.Set(ctx, render.ConfigKey(s.app, v), string(b)); err != nil {
			return envErr("config", "%v", err)
		}
	}
	kv, err := s.etcd.List(ctx, render.ConfigKeyDir(s.app))
	if err != nil || len(kv) == 0 {
		return nil // old versions wait for the next deploy
	}
	rels, err := s.st.Releases()
	if err != nil {
		return nil // old versions wait for the next deploy
	}
	keep := map[string]bool{render.ConfigKey(s.app, v): true}
	for _, r := range rels {
		keep[render.ConfigKey(s.app, r.Config)] = true
	}
	for k := range kv {
		if !keep[k] {
			s.etcd.Key(k, 0).Delete(ctx) // one left is deleted at the next deploy
		}
	}
	return nil
}

// configRef is what a release's units name of config version v: its file
// and its variables' names.
func configRef(st store.App, v int) (file string, keys []string, err error) {
	vars, err := st.ConfigVars(v)
	if err != nil {
		return "", nil, err
	}
	return st.ConfigFile(v), slices.Sorted(maps.Keys(vars)), nil
}

// build runs the build unit unless it already succeeded for this revision
// (RemainAfterExit keeps it active), streaming its output.
func (s *session) build(ctx context.Context, rev string, files []UnitFile) error {
	name := relNames(s.app, rev).Build()
	var file *UnitFile
	for i := range files {
		if files[i].Name == name {
			file = &files[i]
		}
	}
	if file == nil {
		return inputErr("build", "render produced no build unit %s", name)
	}
	st, err := s.state(ctx, name)
	if err != nil {
		return err
	}
	if st.Active == "active" && s.held(ctx, *file) {
		s.d.say("%s was built before; not building again", short(rev))
		return nil
	}
	if st.Active != "" {
		// loaded but not active: a failed or interrupted build of this
		// revision must not block a new one (fleet would not start a unit
		// it already holds as launched)
		s.drv.ResetFailed(ctx, name)
	}
	if _, err := s.drv.Submit(ctx, []UnitFile{*file}); err != nil {
		return err
	}
	s.d.say("Building %s (%s)", short(rev), name)
	f := startFollow(ctx, s.drv, name, s.d.out())
	finish := func() { f.finish(ctx, s.drv) }
	if err := s.drv.Start(ctx, name); err != nil {
		finish()
		return err
	}
	timeout := s.cfg.Operator.BuildTimeout + time.Minute
	deadline := time.Now().Add(timeout)
	for {
		st, err := s.state(ctx, name)
		if err != nil {
			finish()
			return err
		}
		switch {
		case st.Active == "active":
			finish()
			s.d.say("Built %s", short(rev))
			return nil
		case st.Active == "failed":
			finish()
			e := &Error{Kind: KindInput, Step: "build", Err: fmt.Errorf("%s failed; fix the build and push again", name)}
			e.Journal, _ = s.drv.Journal(ctx, name, 20)
			if why := s.buildEnvCause(ctx, e.Journal); why != "" {
				e.Kind, e.Err = KindEnv, fmt.Errorf("%s failed: %s; the app is not at fault: push again once that is fixed", name, why)
			}
			rctx := context.WithoutCancel(ctx)
			s.drv.ResetFailed(rctx, name)
			return e
		}
		if time.Now().After(deadline) {
			finish()
			rctx := context.WithoutCancel(ctx)
			s.drv.Stop(rctx, name)
			s.drv.ResetFailed(rctx, name)
			return envErr("build", "%s did not finish within %v", name, timeout)
		}
		if err := f.wait(ctx, s.poll()); err != nil {
			finish()
			return envErr("build", "%v", err)
		}
	}
}

// buildEnvCause says why a failed build is the machine's failure, not the
// app's: docker's data disk full, dockerd gone, or the registry the image
// is pushed to not answering. "" when none is known.
func (s *session) buildEnvCause(ctx context.Context, journal string) string {
	switch {
	case strings.Contains(journal, "no space left on device"):
		return "the build machine's disk is full (no space left on device)"
	case strings.Contains(journal, "Cannot connect to the Docker daemon"):
		return "dockerd does not answer"
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.d.registry(&s.cfg.Operator).Ping(pctx); err != nil {
		return fmt.Sprintf("the registry %s does not answer (%v)", s.cfg.Operator.Registry, err)
	}
	return ""
}

func (s *session) poll() time.Duration { return orDefault(s.d.Poll, s.drv.Poll()) }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// held reports whether the driver holds f unchanged.
func (s *session) held(ctx context.Context, f UnitFile) bool {
	hs, err := s.drv.Held(ctx, f.Name)
	if err != nil {
		return false
	}
	for _, h := range hs {
		if h.Name == f.Name {
			return SameUnit(h.Data, f.Data)
		}
	}
	return false
}

func (s *session) state(ctx context.Context, name string) (UnitState, error) {
	sts, err := s.drv.States(ctx, name)
	if err != nil {
		return UnitState{}, err
	}
	for _, st := range sts {
		if st.Name == name {
			return st, nil
		}
	}
	return UnitState{Name: name}, nil
}

// inspectImage reads the built image's config from the registry and, when
// settings inherited from its base change the units, re-renders.
func (s *session) inspectImage(ctx context.Context, rev string) (string, *dockerfile.Image, error) {
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	config, digest, err := s.d.registry(&s.cfg.Operator).ImageConfig(rctx, s.app, rev)
	if err != nil {
		return "", nil, envErr("inspect image", "reading %s/%s:%s from the registry: %v", s.cfg.Operator.Registry, s.app, rev, err)
	}
	built, err := dockerfile.FromConfig(config)
	if err != nil {
		return "", nil, envErr("inspect image", "config of %s:%s: %v", s.app, rev, err)
	}
	return digest, built, nil
}

// maxGen bounds the releases of one revision with different units.
const maxGen = 1000

// releaseOf picks the release of rev that the units rendered now make: the
// stored release of rev holding exactly them, else a new generation R-N.
// Units of one revision change when the operator's config does; as a
// release of their own they start beside the running ones and the switch
// stays blue/green (replacing units in place would not reach fleet's
// instances, which keep the copy they were started from).
func (s *session) releaseOf(rev string, built *dockerfile.Image) (string, []UnitFile, *renderResult, error) {
	for gen := 1; gen <= maxGen; gen++ {
		key := render.ReleaseKey(rev, gen)
		files, rr, err := s.render(key, built)
		if err != nil {
			return "", nil, nil, err
		}
		stored, err := s.st.Units(key)
		if errors.Is(err, fs.ErrNotExist) || err == nil && sameFiles(stored, files) {
			if gen > 1 && err != nil {
				s.d.say("The units of %s changed since it was released; releasing them as %s", short(rev), short(key))
			}
			return key, files, rr, nil
		}
		if err != nil {
			return "", nil, nil, envErr("render", "%v", err)
		}
	}
	return "", nil, nil, envErr("render", "%s was released with %d different unit sets; remove old releases", short(rev), maxGen)
}

// sameFiles reports whether a and b hold the same files, in any order.
func sameFiles(a, b []UnitFile) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string][]byte, len(a))
	for _, f := range a {
		m[f.Name] = f.Data
	}
	for _, f := range b {
		if d, ok := m[f.Name]; !ok || !bytes.Equal(d, f.Data) {
			return false
		}
	}
	return true
}
