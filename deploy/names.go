package deploy

import (
	"strconv"
	"strings"
)

// Unit names of DESIGN.md ("Units"), for app APP and R = REV[:12]:
// APP.build.R.service, APP.PROC.R@.service, APP.PROC.R.discovery@.service.

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func buildUnit(app, rev string) string { return app + ".build." + short(rev) + ".service" }

func runInstance(app, proc, rev string, i int) string {
	return app + "." + proc + "." + short(rev) + "@" + strconv.Itoa(i) + ".service"
}

func discoveryInstance(app, proc, rev string, i int) string {
	return app + "." + proc + "." + short(rev) + ".discovery@" + strconv.Itoa(i) + ".service"
}

// unitRelease returns R of one of app's unit names, "" for a name that is
// not one of app's.
func unitRelease(app, name string) string {
	rest, ok := strings.CutPrefix(name, app+".")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	r, _, _ := strings.Cut(parts[1], "@")
	if len(r) != 12 {
		return ""
	}
	return r
}

// instances returns the instance unit names of a release: per process, each
// run instance then its discovery instance when hasDiscovery[proc].
func instances(app, rev string, counts map[string]int, hasDiscovery map[string]bool) (run, disc []string) {
	for _, proc := range sortedKeys(counts) {
		for i := 1; i <= counts[proc]; i++ {
			run = append(run, runInstance(app, proc, rev, i))
			if hasDiscovery[proc] {
				disc = append(disc, discoveryInstance(app, proc, rev, i))
			}
		}
	}
	return run, disc
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// web first, then by name, as render orders processes
	sortStrings(keys)
	return keys
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func less(a, b string) bool {
	if a == "web" || b == "web" {
		return a == "web" && b != "web"
	}
	return a < b
}

// discoveryProcs returns which processes of a release have a discovery
// template among files.
func discoveryProcs(app, rev string, files []UnitFile) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		rest, ok := strings.CutPrefix(f.Name, app+".")
		if !ok {
			continue
		}
		if proc, ok := strings.CutSuffix(rest, "."+short(rev)+".discovery@.service"); ok {
			out[proc] = true
		}
	}
	return out
}
