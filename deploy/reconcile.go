package deploy

import (
	"context"
	"errors"
	"os"

	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/render"
)

// Reconcile finishes or undoes what a deploy or rollback of app left when
// it died (DESIGN.md "Crash consistency"). With wait it first waits for the
// app's lock — the guard a deploy starts does, and so gets the lock the
// moment the deploy's process is gone; without, it fails at once when an
// operation holds the lock. Every deploy, rollback, destroy and status
// reconciles first, and so does `nap-render reconcile` at boot.
func (d *Deployer) Reconcile(ctx context.Context, app string, wait bool) error {
	s, err := d.openLock(ctx, app, wait)
	if err != nil {
		return err
	}
	s.close()
	return nil
}

// reconcile runs under the app's lock. It never changes `current`, which
// is what decides: the release the intent names is current — the switch
// happened, so the previous release is retired — or it is not, and it is
// stopped and forgotten, the previous release never having stopped serving.
func (s *session) reconcile(ctx context.Context) error {
	in, err := s.st.Intent()
	if err != nil {
		return envErr("reconcile", "%v", err)
	}
	if in == nil {
		return nil
	}
	cur, err := s.st.Current()
	if err != nil {
		return envErr("reconcile", "%v", err)
	}
	if in.Release == cur {
		if in.Previous != "" && in.Previous != cur {
			names, err := s.names(ctx, func(r string) bool { return r == short(in.Previous) })
			if err != nil {
				return during("reconcile", err)
			}
			if len(names) > 0 {
				s.d.say("An interrupted deploy had switched %s to %s: retiring %s", s.app, short(cur), short(in.Previous))
				if err := s.destroy(ctx, names); err != nil {
					return during("reconcile", err)
				}
			}
		}
		if rel, err := s.st.Release(cur); err == nil && rel.Status != store.StatusDeployed {
			s.st.SetStatus(cur, store.StatusDeployed)
		}
		if in.Restart {
			if err := s.restartRest(ctx, cur); err != nil {
				return during("reconcile", err)
			}
		}
	} else {
		n, err := s.stopRelease(ctx, in.Release)
		if err != nil {
			return during("reconcile", err)
		}
		if n > 0 {
			s.d.say("Stopping %s, which an interrupted deploy left unfinished; %s keeps running", short(in.Release), orNone(cur))
		}
		if rel, err := s.st.Release(in.Release); err == nil && rel.Status == store.StatusPending {
			s.st.SetStatus(in.Release, store.StatusFailed)
		}
	}
	s.st.RemoveOrphanSources()
	if err := s.st.ClearIntent(); err != nil {
		return envErr("reconcile", "%v", err)
	}
	return nil
}

// restartRest starts every instance of cur that an interrupted restart
// may have left stopped (a start of a running unit changes nothing).
func (s *session) restartRest(ctx context.Context, cur string) error {
	rel, err := s.st.Release(cur)
	if err != nil {
		return err
	}
	files, err := s.st.Units(cur)
	if err != nil {
		return err
	}
	run, disc := unitNames(instances(s.app, cur, rel.Instances, discoveryProcs(s.app, cur, files)))
	s.d.say("Starting the instances of %s an interrupted restart may have left stopped", short(cur))
	return s.drv.Start(ctx, append(run, disc...)...)
}

// ReconcileAll reconciles apps, or every app with state on this host when
// apps is empty (what runs at boot), going on past a failure.
func (d *Deployer) ReconcileAll(ctx context.Context, apps []string, wait bool) error {
	if len(apps) == 0 {
		var err error
		if apps, err = d.Apps(); err != nil {
			return err
		}
	}
	for _, app := range apps {
		if err := render.ValidApp(app); err != nil {
			return &Error{Kind: KindInput, Step: "app", Err: err}
		}
	}
	var all error
	for _, app := range apps {
		all = errors.Join(all, d.Reconcile(ctx, app, wait))
	}
	return all
}

// Apps lists the apps that have state on this host.
func (d *Deployer) Apps() ([]string, error) {
	cfg, err := d.config()
	if err != nil {
		return nil, err
	}
	es, err := os.ReadDir(cfg.Operator.State)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, envErr("apps", "%v", err)
	}
	var apps []string
	for _, e := range es {
		if e.IsDir() && render.ValidApp(e.Name()) == nil {
			apps = append(apps, e.Name())
		}
	}
	return apps, nil
}
