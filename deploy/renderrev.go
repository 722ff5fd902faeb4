package deploy

import (
	"context"
	"os"
	"time"

	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/render"
)

// RenderRev renders commit rev of the repository gitDir without touching the
// app's state: the tree is exported to a temporary directory. When the
// registry already holds the built image, its config counts (as in a
// deploy). It returns the files and the instance count of each process.
func (d *Deployer) RenderRev(ctx context.Context, app, gitDir, rev string) ([]UnitFile, map[string]int, error) {
	if err := render.ValidApp(app); err != nil {
		return nil, nil, &Error{Kind: KindInput, Step: "app", Err: err}
	}
	if err := render.ValidRev(rev); err != nil {
		return nil, nil, &Error{Kind: KindInput, Step: "revision", Err: err}
	}
	cfg, err := d.config()
	if err != nil {
		return nil, nil, err
	}
	tmp, err := os.MkdirTemp("", "nap-render-")
	if err != nil {
		return nil, nil, envErr("export", "%v", err)
	}
	defer os.RemoveAll(tmp)
	s := &session{d: d, app: app, cfg: cfg, st: store.App{Dir: tmp}, configApp: store.NewApp(cfg.Operator.State, app)}
	if err := s.export(ctx, gitDir, rev); err != nil {
		return nil, nil, err
	}
	var built *dockerfile.Image
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if config, _, err := d.registry(&cfg.Operator).ImageConfig(rctx, app, rev); err == nil {
		built, _ = dockerfile.FromConfig(config)
	}
	files, rr, err := s.render(rev, built)
	if err != nil {
		return nil, nil, err
	}
	return files, rr.instances, nil
}

// Plan compares what the scheduler holds of the app with release rev (""
// = the current release) without changing anything.
func (d *Deployer) Plan(ctx context.Context, app, gitDir, rev string) (*Plan, error) {
	if err := render.ValidApp(app); err != nil {
		return nil, &Error{Kind: KindInput, Step: "app", Err: err}
	}
	if rev == "" {
		cfg, err := d.config()
		if err != nil {
			return nil, err
		}
		st := store.NewApp(cfg.Operator.State, app)
		cur, err := st.Current()
		if err != nil {
			return nil, envErr("plan", "%v", err)
		}
		if cur == "" {
			return nil, inputErr("plan", "%s has no current release; give --rev", app)
		}
		rel, err := st.Release(cur)
		if err != nil {
			return nil, envErr("plan", "%v", err)
		}
		files, err := st.Units(cur)
		if err != nil {
			return nil, envErr("plan", "%v", err)
		}
		return d.PlanUnits(ctx, app, cur, files, rel.Instances)
	}
	files, counts, err := d.RenderRev(ctx, app, gitDir, rev)
	if err != nil {
		return nil, err
	}
	return d.PlanUnits(ctx, app, rev, files, counts)
}
