package deploy

import "github.com/nap-paas/nap/render"

// Every unit name and key is made and read back by render.Names and
// render.ParseUnit; these are the deploy-side shorthands.

// A release is named by its key, REV or REV-N (render.ReleaseKey): short
// is its id (R or R-N), relNames its names, revOf its git revision.

func short(key string) string { return render.NamesOf("", key).ID() }

func relNames(app, key string) render.Names { return render.NamesOf(app, key) }

func revOf(key string) string { return render.NamesOf("", key).Rev }

// unitRelease returns the release id (R or R-N) of one of app's unit
// names, "" for a name that is not one of app's.
func unitRelease(app, name string) string {
	if u, ok := render.ParseUnit(app, name); ok {
		return u.R
	}
	return ""
}

// isInstance reports whether name is an instance (not a template) of one of
// app's units of kind.
func isInstance(app, name string, kind render.UnitKind) bool {
	u, ok := render.ParseUnit(app, name)
	return ok && u.Kind == kind && !u.Template()
}

// isBuild reports whether name is one of app's build units.
func isBuild(app, name string) bool {
	u, ok := render.ParseUnit(app, name)
	return ok && u.Kind == render.BuildUnit
}

// instance is one instance of a release: its run unit and, when its
// process publishes ports, its discovery unit.
type instance struct{ run, disc string }

func (in instance) units() []string {
	if in.disc == "" {
		return []string{in.run}
	}
	return []string{in.run, in.disc}
}

// instances returns the instances of a release, per process in nap's
// order, with a discovery unit when hasDiscovery[proc].
func instances(app, rev string, counts map[string]int, hasDiscovery map[string]bool) []instance {
	n := relNames(app, rev)
	var out []instance
	for _, proc := range processes(counts) {
		for i := 1; i <= counts[proc]; i++ {
			in := instance{run: n.RunInstance(proc, i)}
			if hasDiscovery[proc] {
				in.disc = n.DiscoveryInstance(proc, i)
			}
			out = append(out, in)
		}
	}
	return out
}

// unitNames are the run units of insts, and their discovery units.
func unitNames(insts []instance) (run, disc []string) {
	for _, in := range insts {
		run = append(run, in.run)
		if in.disc != "" {
			disc = append(disc, in.disc)
		}
	}
	return run, disc
}

// processes lists the processes of counts in nap's order.
func processes[V any](counts map[string]V) []string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	render.SortProcesses(keys)
	return keys
}

// discoveryProcs returns which processes of a release have a discovery
// template among files.
func discoveryProcs(app, rev string, files []UnitFile) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		if u, ok := render.ParseUnit(app, f.Name); ok && u.Kind == render.DiscoveryUnit && u.Template() && u.R == short(rev) {
			out[u.Proc] = true
		}
	}
	return out
}
