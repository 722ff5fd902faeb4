package deploy

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/nap-paas/nap/deploy/driver"
	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/render"
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
	cur, err := s.st.Current()
	if err != nil {
		return envErr("read current", "%v", err)
	}
	if cur == "" {
		return inputErr("restart", "%s has no release running: push it first", app)
	}
	rel, err := s.st.Release(cur)
	if err != nil {
		return envErr("restart", "%v", err)
	}
	files, err := s.st.Units(cur)
	if err != nil {
		return envErr("restart", "%v", err)
	}
	counts := rel.Instances
	if proc != "" {
		if _, ok := counts[proc]; !ok {
			return inputErr("restart", "%s has no process %q: its processes are %v", app, proc, processes(counts))
		}
		counts = map[string]int{proc: counts[proc]}
	}
	disc := discoveryProcs(app, cur, files)
	n := relNames(app, cur)
	for _, p := range processes(counts) {
		for i := 1; i <= counts[p]; i++ {
			run, units := n.RunInstance(p, i), []string{n.RunInstance(p, i)}
			d.say("Restarting %s", run)
			if disc[p] {
				dn := n.DiscoveryInstance(p, i)
				units = append(units, dn)
				if err := s.drv.Stop(ctx, dn); err != nil {
					return err
				}
				if err := sleep(ctx, s.cfg.Operator.Drain); err != nil {
					return envErr("drain", "%v", err)
				}
			}
			if err := s.drv.Stop(ctx, run); err != nil {
				return err
			}
			if err := s.drv.Start(ctx, units...); err != nil {
				return err
			}
			if err := s.waitUp(ctx, cur, rel.Instances, disc); err != nil {
				return err
			}
		}
	}
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
	if err := render.ValidApp(app); err != nil {
		return &Error{Kind: KindInput, Step: "app", Err: err}
	}
	cfg, err := d.config()
	if err != nil {
		return err
	}
	st := store.NewApp(cfg.Operator.State, app)
	cur, err := st.Current()
	if err != nil {
		return envErr("logs", "%v", err)
	}
	if cur == "" {
		return inputErr("logs", "%s has no release running: push it first", app)
	}
	rel, err := st.Release(cur)
	if err != nil {
		return envErr("logs", "%v", err)
	}
	counts := rel.Instances
	if opts.Process != "" {
		if _, ok := counts[opts.Process]; !ok {
			return inputErr("logs", "%s has no process %q: its processes are %v", app, opts.Process, processes(counts))
		}
		counts = map[string]int{opts.Process: counts[opts.Process]}
	}
	run, _ := instances(app, cur, counts, nil)
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
