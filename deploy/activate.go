package deploy

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/render"
)

// activate starts a release's run and discovery units beside the running
// release, waits until it serves, switches `current`, and retires the old
// release. Before the switch, any failure stops the new release and leaves
// `current` as it was.
func (s *session) activate(ctx context.Context, rel *store.Release, files []UnitFile) error {
	rev := rel.Key()
	s.settled = false
	cur, err := s.st.Current()
	if err != nil {
		return envErr("read current", "%v", err)
	}
	if err := s.cleanStale(ctx, rev, cur); err != nil {
		return during("clean up", err)
	}
	var templates []UnitFile
	for _, f := range files {
		if f.Name != relNames(s.app, rev).Build() {
			templates = append(templates, f)
		}
	}
	disc := discoveryProcs(s.app, rev, files)
	run, dsc := unitNames(instances(s.app, rev, rel.Instances, disc))
	wrote, err := s.drv.Submit(ctx, templates)
	if err != nil {
		return s.abort(ctx, rev, cur, during("submit", err))
	}
	all := append(append([]string(nil), run...), dsc...)
	if cur == rev && len(wrote) > 0 {
		// The current release's units were gone from the scheduler (they
		// are its stored ones: changed units make a release of their own).
		s.d.say("%s's units were missing from %s; submitted them again", short(rev), s.drv.Name())
	}
	if err := s.publishConfig(ctx, rel.Config); err != nil {
		return s.abort(ctx, rev, cur, err)
	}
	s.d.say("Starting %s: %d instance(s)", short(rev), len(run))
	if err := s.drv.Start(ctx, all...); err != nil {
		return s.abort(ctx, rev, cur, during("start", err))
	}
	if err := s.waitUp(ctx, rev, rel.Instances, disc); err != nil {
		return s.abort(ctx, rev, cur, during("wait", err))
	}
	// Enabled (for boot) only now: a crash before the switch must not
	// bring this release back at the next boot. A crash between here and
	// the switch brings both back; the boot's reconcile stops this one.
	err = s.drv.Enable(ctx, all...)
	if err != nil {
		return s.abort(ctx, rev, cur, during("enable", err))
	}
	if err := s.st.SetCurrent(rev); err != nil {
		return s.abort(ctx, rev, cur, envErr("switch", "%v", err))
	}
	// From here on the new release serves and the push must be accepted:
	// what fails is reported and finished by reconcile (the guard, or the
	// next command), never a reason to reject.
	s.d.say("Switched %s to %s", s.app, short(rev))
	if err := s.st.SetStatus(rev, store.StatusDeployed); err != nil {
		s.d.say("Could not record %s as deployed (%v); the next command on %s does", short(rev), err, s.app)
		return nil
	}
	if cur != "" && cur != rev {
		if err := s.retire(ctx, cur); err != nil {
			s.d.say("Retiring %s failed (%v); it is finished in the background", short(cur), err)
			return nil
		}
	}
	s.settled = true
	if err := s.st.Prune(s.cfg.Operator.KeepReleases); err != nil {
		s.d.say("Could not remove old releases (%v); the next deploy does", err)
	}
	s.printEndpoints(ctx, rev)
	return nil
}

// abort undoes a release that failed before the switch: its instances are
// stopped and forgotten (unless it is the current one), it is marked failed.
func (s *session) abort(ctx context.Context, rev, cur string, cause error) error {
	ctx = context.WithoutCancel(ctx)
	if rev != cur {
		s.d.say("Stopping %s; %s keeps running", short(rev), orNone(cur))
		if _, err := s.stopRelease(ctx, rev); err != nil {
			// the cause stays the error; what is left is not lost: the
			// guard, or the next command, removes it
			s.d.say("Could not stop everything of %s (%v); it is removed in the background", short(rev), err)
			return cause
		}
		s.st.SetStatus(rev, store.StatusFailed)
	}
	s.settled = true
	return cause
}

// stopRelease stops and forgets rev's run and discovery units (its
// discovery units withdraw their keys first); its build unit stays, so the same
// revision is not built again. It returns how many units it destroyed.
func (s *session) stopRelease(ctx context.Context, rev string) (int, error) {
	names, err := s.names(ctx, func(r string) bool { return r == short(rev) })
	if err != nil {
		return 0, err
	}
	var stop []string
	for _, n := range names {
		if n != relNames(s.app, rev).Build() {
			stop = append(stop, n)
		}
	}
	if len(stop) == 0 {
		return 0, nil
	}
	return len(stop), s.destroy(ctx, stop)
}

func orNone(rev string) string {
	if rev == "" {
		return "nothing"
	}
	return short(rev)
}

// names returns the app's units (held or loaded) whose release matches.
func (s *session) names(ctx context.Context, match func(r string) bool) ([]string, error) {
	held, err := s.drv.List(ctx, render.UnitPrefix(s.app))
	if err != nil {
		return nil, err
	}
	states, err := s.drv.States(ctx, render.UnitPrefix(s.app))
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, h := range held {
		if r := unitRelease(s.app, h); r != "" && match(r) {
			set[h] = true
		}
	}
	for _, st := range states {
		if r := unitRelease(s.app, st.Name); r != "" && match(r) {
			set[st.Name] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// destroy stops discovery instances first (their TERM trap deletes the
// keys), then destroys everything named.
func (s *session) destroy(ctx context.Context, names []string) error {
	var disc []string
	for _, n := range names {
		if isInstance(s.app, n, render.DiscoveryUnit) {
			disc = append(disc, n)
		}
	}
	if err := s.drv.Stop(ctx, disc...); err != nil {
		return err
	}
	return s.drv.Destroy(ctx, names...)
}

// cleanStale destroys units of releases that are neither current nor being
// deployed: what a deploy killed midway left running.
func (s *session) cleanStale(ctx context.Context, rev, cur string) error {
	names, err := s.names(ctx, func(r string) bool { return r != short(rev) && r != short(cur) })
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	s.d.say("Removing %d unit(s) a deploy left behind", len(names))
	return s.destroy(ctx, names)
}

// retire stops the old release's discovery units, waits the drain time while
// it still answers requests in flight, then destroys all its units.
func (s *session) retire(ctx context.Context, old string) error {
	names, err := s.names(ctx, func(r string) bool { return r == short(old) })
	if err != nil {
		return err
	}
	var disc, rest []string
	for _, n := range names {
		if isInstance(s.app, n, render.DiscoveryUnit) {
			disc = append(disc, n)
		} else {
			rest = append(rest, n)
		}
	}
	s.d.say("Retiring %s", short(old))
	err = s.drv.Stop(ctx, disc...)
	if err != nil {
		return err
	}
	if err := sleep(ctx, s.cfg.Operator.Drain); err != nil {
		return envErr("drain", "%v", err)
	}
	return s.drv.Destroy(ctx, append(disc, rest...)...)
}

// key is the announcement key of one instance.
func (s *session) key(proc, rev string, i int) string {
	return relNames(s.app, rev).Key(s.cfg.Operator.Discovery.Prefix, proc, i)
}

// waitUp waits until every instance of a process with ports is announced
// for rev, and every other instance has been active for the grace period.
// An instance that fails or restarts fails the wait at once.
func (s *session) waitUp(ctx context.Context, rev string, counts map[string]int, disc map[string]bool) error {
	timeout := orDefault(s.d.StartTimeout, 2*time.Minute)
	grace := orDefault(s.d.Grace, 3*time.Second)
	deadline := time.Now().Add(timeout)
	activeSince := map[string]time.Time{}
	for {
		states, err := func() ([]UnitState, error) {
			return s.drv.States(ctx, render.UnitPrefix(s.app))
		}()
		if err != nil {
			return err
		}
		byName := map[string]UnitState{}
		for _, st := range states {
			byName[st.Name] = st
		}
		var kv map[string]string
		if len(disc) > 0 {
			ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
			kv, err = s.etcd.List(ectx, render.AppKey(s.cfg.Operator.Discovery.Prefix, s.app))
			cancel()
			if err != nil {
				return envErr("announce", "%v", err)
			}
		}
		pending := ""
		for _, proc := range processes(counts) {
			for i := 1; i <= counts[proc]; i++ {
				name := relNames(s.app, rev).RunInstance(proc, i)
				st := byName[name]
				if st.Active == "failed" || st.Sub == "auto-restart" {
					return s.unitFailed(ctx, name, "exited while starting")
				}
				if disc[proc] {
					dn := relNames(s.app, rev).DiscoveryInstance(proc, i)
					if ds := byName[dn]; ds.Active == "failed" {
						return s.unitFailed(ctx, dn, "failed")
					}
					if !announced(kv[s.key(proc, rev, i)], revOf(rev)) && pending == "" {
						pending = name + " (not announced in etcd yet)"
					}
					continue
				}
				if st.Active != "active" {
					delete(activeSince, name)
					if pending == "" {
						pending = name + " (" + orNotLoaded(st.Active) + ")"
					}
					continue
				}
				if _, ok := activeSince[name]; !ok {
					activeSince[name] = time.Now()
				}
				if time.Since(activeSince[name]) < grace && pending == "" {
					pending = name + " (active for less than " + grace.String() + ")"
				}
			}
		}
		if pending == "" {
			return nil
		}
		if time.Now().After(deadline) {
			e := envErr("start", "%s: not up within %v: %s", short(rev), timeout, pending)
			name, _, _ := strings.Cut(pending, " ")
			e.Journal, _ = s.journal(ctx, name)
			return e
		}
		if err := sleep(ctx, s.poll()); err != nil {
			return envErr("start", "%v", err)
		}
	}
}

func orNotLoaded(s string) string {
	if s == "" {
		return "not loaded"
	}
	return s
}

func announced(v, rev string) bool {
	if v == "" {
		return false
	}
	eps := parseEndpoints(map[string]string{"k": v})
	return len(eps) == 1 && (eps[0].Rev == rev || eps[0].Rev == "")
}

func (s *session) journal(ctx context.Context, name string) (string, error) {
	tctx := context.WithoutCancel(ctx)
	return s.drv.Journal(tctx, name, 20)
}

func (s *session) unitFailed(ctx context.Context, name, what string) error {
	e := inputErr("start", "%s %s; the running release is untouched", name, what)
	e.Journal, _ = s.journal(ctx, name)
	return e
}

// printEndpoints ends a deploy: the release's instances as announced,
// then, with a router, the app's address.
func (s *session) printEndpoints(ctx context.Context, rev string) {
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if kv, err := s.etcd.List(ectx, render.AppKey(s.cfg.Operator.Discovery.Prefix, s.app)); err == nil {
		for _, ep := range parseEndpoints(kv) {
			if ep.Rev == revOf(rev) {
				s.d.say("%s %s", strings.TrimPrefix(ep.Key, s.cfg.Operator.Discovery.Prefix+"/"), ep.Addr)
			}
		}
	}
	if u := s.cfg.Operator.Router.URL(s.app); u != "" {
		s.d.say("%s", u)
	}
}
