package deploy

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/nap-paas/nap/deploy/driver"
	"github.com/nap-paas/nap/deploy/store"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/unit"
)

// Rollback makes a stored release current again, without a build: rev, or
// when rev is "" the newest deployed release older than the current one. rev
// may be abbreviated to a unique prefix of at least 7 digits.
func (d *Deployer) Rollback(ctx context.Context, app, rev string) error {
	s, err := d.open(ctx, app)
	if err != nil {
		return err
	}
	defer s.close()
	cur, err := s.st.Current()
	if err != nil {
		return envErr("rollback", "%v", err)
	}
	rels, err := s.st.Releases()
	if err != nil {
		return envErr("rollback", "%v", err)
	}
	target, err := pickRelease(rels, cur, rev)
	if err != nil {
		return err
	}
	if target.Key() == cur {
		d.say("%s is already running %s", app, short(cur))
		return nil
	}
	files, err := s.st.Units(target.Key())
	if err != nil {
		return envErr("rollback", "%v", err)
	}
	d.say("Rolling %s back to %s", app, short(target.Key()))
	if err := s.intend(target.Key()); err != nil {
		return err
	}
	return s.activate(ctx, target, files)
}

func pickRelease(rels []*store.Release, cur, rev string) (*store.Release, error) {
	if rev == "" {
		// The release that was current last before the current one.
		var curRel, prev *store.Release
		for _, r := range rels {
			if r.Key() == cur {
				curRel = r
			}
		}
		for _, r := range rels {
			if r.Key() != cur && r.Status == store.StatusDeployed && (curRel == nil || r.LastCurrent().Before(curRel.LastCurrent())) &&
				(prev == nil || prev.LastCurrent().Before(r.LastCurrent())) {
				prev = r
			}
		}
		if prev == nil {
			return nil, inputErr("rollback", "no earlier deployed release to roll back to")
		}
		return prev, nil
	}
	if len(rev) < 7 {
		return nil, inputErr("rollback", "revision %q is too short: give at least 7 hex digits", rev)
	}
	var found []*store.Release
	for _, r := range rels {
		if r.Key() == rev {
			found = []*store.Release{r} // REV itself, not also its REV-N
			break
		}
		if strings.HasPrefix(r.Key(), rev) {
			found = append(found, r)
		}
	}
	switch {
	case len(found) == 0:
		return nil, inputErr("rollback", "no stored release %q; `nap-render status APP` lists them", rev)
	case len(found) > 1:
		return nil, inputErr("rollback", "revision %q is ambiguous: give more digits", rev)
	case found[0].Status == store.StatusFailed:
		return nil, inputErr("rollback", "release %s failed to start; roll back to one that ran", short(found[0].Key()))
	}
	return found[0], nil
}

// Destroy removes every unit, container (they run with --rm under their
// units), announcement and stored release of the app.
func (d *Deployer) Destroy(ctx context.Context, app string) error {
	s, err := d.open(ctx, app)
	if err != nil {
		return err
	}
	defer s.close()
	names, err := s.names(ctx, func(string) bool { return true })
	if err != nil {
		return err
	}
	d.say("Destroying %s: %d unit(s)", app, len(names))
	if err := s.destroy(ctx, names); err != nil {
		return err
	}
	for _, dir := range []string{render.AppKey(s.cfg.Operator.Discovery.Prefix, app), render.ConfigKeyDir(app)} {
		if err := s.etcd.DeleteDir(ctx, dir); err != nil {
			return envErr("destroy", "%v", err)
		}
	}
	// The app's owner stays recorded (access.json): its repository is
	// still theirs to push again; its config vars go.
	for _, sub := range []string{"current", "releases", "src", "config"} {
		if err := store.RemoveAll(filepath.Join(s.st.Dir, sub)); err != nil {
			return envErr("destroy", "%v", err)
		}
	}
	d.say("Destroyed %s", app)
	return nil
}

// Status is what `status` reports.
type Status struct {
	App       string           `json:"app"`
	Current   string           `json:"current"`
	URL       string           `json:"url,omitempty"` // with a router: where the app answers
	Releases  []*store.Release `json:"releases"`
	Units     []UnitState      `json:"units"`
	UnitsFrom string           `json:"units_from"` // where Units come from (Driver.Source)
	Endpoints []Endpoint       `json:"endpoints"`
}

// Status reads the app's releases, its units' states and its announced
// endpoints. It takes no lock.
func (d *Deployer) Status(ctx context.Context, app string) (*Status, error) {
	cfg, err := d.config()
	if err != nil {
		return nil, err
	}
	st := store.NewApp(cfg.Operator.State, app)
	if _, err := os.Stat(st.Dir); err == nil {
		// What an operation that died left is settled first, and said;
		// an operation running now keeps its lock and is reported as is.
		if s, err := d.open(ctx, app); err == nil {
			s.close()
		} else if KindOf(err) == KindInput {
			return nil, err
		}
	}
	out := &Status{App: app, URL: cfg.Operator.Router.URL(app)}
	if out.Current, err = st.Current(); err != nil {
		return nil, envErr("status", "%v", err)
	}
	if out.Releases, err = st.Releases(); err != nil {
		return nil, envErr("status", "%v", err)
	}
	drv := d.driver(&cfg.Operator)
	out.UnitsFrom, _ = drv.Source()
	if out.Units, err = drv.States(ctx, render.UnitPrefix(app)); err != nil {
		return nil, err
	}
	kv, err := d.etcd(&cfg.Operator).List(ctx, render.AppKey(cfg.Operator.Discovery.Prefix, app))
	if err != nil {
		return nil, envErr("status", "%v", err)
	}
	out.Endpoints = parseEndpoints(kv)
	return out, nil
}

// Plan is what deploy would change in the scheduler.
type Plan struct {
	Diff    string   // unified diff of parsed units, scheduler (---) vs release (+++)
	Held    string   // what the scheduler side is read from (Driver.Source)
	Actions []string // "submit X", "replace X", "destroy X", "start X"
}

// WriteText writes p as `nap-render plan` shows it: the diff, then the
// actions or "nothing to do".
func (p *Plan) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "# --- held by %s, +++ the release\n", p.Held)
	fmt.Fprint(w, p.Diff)
	if !p.Pending() {
		_, err := fmt.Fprintln(w, "nothing to do")
		return err
	}
	_, err := fmt.Fprintln(w, strings.Join(p.Actions, "\n"))
	return err
}

// Pending reports whether anything would change.
func (p *Plan) Pending() bool { return len(p.Actions) > 0 }

// PlanUnits compares what the scheduler holds of the app with the release
// rev's units (files), without changing anything.
func (d *Deployer) PlanUnits(ctx context.Context, app, rev string, files []UnitFile, counts map[string]int) (*Plan, error) {
	cfg, err := d.config()
	if err != nil {
		return nil, err
	}
	drv := d.driver(&cfg.Operator)
	held, err := drv.Held(ctx, render.UnitPrefix(app))
	if err != nil {
		return nil, err
	}
	states, err := drv.States(ctx, render.UnitPrefix(app))
	if err != nil {
		return nil, err
	}
	heldBy := map[string][]byte{}
	for _, h := range held {
		heldBy[h.Name] = h.Data
	}
	want := map[string]bool{}
	_, heldFrom := drv.Source()
	p := &Plan{Held: heldFrom}
	var diff strings.Builder
	for _, f := range files {
		if f.Name == relNames(app, rev).Build() {
			continue // built once per revision; never part of a plan
		}
		want[f.Name] = true
		old, ok := heldBy[f.Name]
		switch {
		case !ok:
			p.Actions = append(p.Actions, "submit "+f.Name)
			diff.WriteString(unifiedDiff("/dev/null", "b/"+f.Name, "", canonical(f.Data)))
		case !SameUnit(old, f.Data):
			p.Actions = append(p.Actions, "replace "+f.Name)
			diff.WriteString(unifiedDiff("a/"+f.Name, "b/"+f.Name, canonical(old), canonical(f.Data)))
		}
	}
	for _, h := range held {
		if !want[h.Name] && unitRelease(app, h.Name) != "" && !isBuild(app, h.Name) {
			if !unit.IsTemplate(h.Name) && want[unit.TemplateOf(h.Name)] {
				continue
			}
			p.Actions = append(p.Actions, "destroy "+h.Name)
			if unit.IsTemplate(h.Name) {
				// an instance is a copy of its template: its diff is noise
				diff.WriteString(unifiedDiff("a/"+h.Name, "/dev/null", canonical(h.Data), ""))
			}
		}
	}
	active := map[string]bool{}
	for _, st := range states {
		if st.Active == "active" || st.Active == "activating" {
			active[st.Name] = true
		}
	}
	run, dsc := unitNames(instances(app, rev, counts, discoveryProcs(app, rev, files)))
	for _, n := range append(run, dsc...) {
		if !active[n] {
			p.Actions = append(p.Actions, "start "+n)
		}
	}
	for _, st := range states {
		if !unit.IsTemplate(st.Name) && unitRelease(app, st.Name) != short(rev) && !isBuild(app, st.Name) && active[st.Name] {
			p.Actions = append(p.Actions, "stop "+st.Name)
		}
	}
	sort.SliceStable(p.Actions, func(i, j int) bool { return actionRank(p.Actions[i]) < actionRank(p.Actions[j]) })
	p.Diff = diff.String()
	return p, nil
}

func actionRank(a string) int {
	for i, verb := range []string{"submit ", "replace ", "start ", "stop ", "destroy "} {
		if strings.HasPrefix(a, verb) {
			return i
		}
	}
	return 9
}

// canonical is a unit as fleet holds it: its parsed options re-serialised.
func canonical(b []byte) string {
	if c, ok := driver.Canonical(b); ok {
		return string(c)
	}
	return string(b)
}

// unifiedDiff is a line diff of a and b in unified format, whole-file hunk
// context (units are short).
func unifiedDiff(nameA, nameB, a, b string) string {
	la, lb := splitLines(a), splitLines(b)
	// longest common subsequence table
	n, m := len(la), len(lb)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if la[i] == lb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var body strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && la[i] == lb[j]:
			body.WriteString(" " + la[i] + "\n")
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			body.WriteString("-" + la[i] + "\n")
			i++
		default:
			body.WriteString("+" + lb[j] + "\n")
			j++
		}
	}
	startA, startB := 1, 1
	if n == 0 {
		startA = 0
	}
	if m == 0 {
		startB = 0
	}
	return fmt.Sprintf("--- %s\n+++ %s\n@@ -%d,%d +%d,%d @@\n%s", nameA, nameB, startA, n, startB, m, body.String())
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// WriteText writes s as the tables `nap-render status` shows: releases
// newest first, units, endpoints.
func (s *Status) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "app\t%s\ncurrent\t%s\n", s.App, orDash(s.Current))
	if s.URL != "" {
		fmt.Fprintf(tw, "url\t%s\n", s.URL)
	}
	fmt.Fprintf(tw, "\nRELEASE\tTIME\tSTATUS\n")
	for i := len(s.Releases) - 1; i >= 0; i-- {
		r := s.Releases[i]
		mark := ""
		if r.Key() == s.Current {
			mark = " (current)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\n", r.Key(), r.Time.Format("2006-01-02 15:04:05Z"), r.Status, mark)
	}
	fmt.Fprintf(tw, "\nUNITS %s\nUNIT\tACTIVE\tSUB\tMACHINE\n", s.UnitsFrom)
	for _, u := range s.Units {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Active, u.Sub, orDash(u.Machine))
	}
	fmt.Fprintf(tw, "\nENDPOINT\tADDRESS\n")
	for _, e := range s.Endpoints {
		fmt.Fprintf(tw, "%s\t%s\n", e.Key, e.Addr)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
