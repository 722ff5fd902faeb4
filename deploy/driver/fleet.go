package driver

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Fleet drives a fleet cluster through fleetctl. It never blocks in
// fleetctl (v1.0.0's blocking start insists a unit is active within a few
// seconds, which a build or a slow pull is not): it starts with --no-block
// and the deploy polls list-units itself.
type Fleet struct {
	Fleetctl []string // argv prefix; default ["fleetctl"]
	// Endpoint, Tunnel and Driver are the operator's fleet settings, passed
	// as fleetctl's global flags when set. FLEETCTL_* variables in the
	// environment reach fleetctl unchanged.
	Endpoint, Tunnel, Driver string
	// Timeout bounds each fleetctl command but a followed journal;
	// default 1 minute.
	Timeout time.Duration
}

func (f *Fleet) Name() string { return "fleet" }

// Source: fleet's registry holds the desired units at once; the states are
// what its agents last reported, seconds behind.
func (f *Fleet) Source() (states, held string) {
	return "as fleet's agents report them (fleetctl list-units)", "fleet's registry (fleetctl list-unit-files)"
}

// Poll: fleetctl asks fleet's API, which its engine and agents update
// within seconds; twice a second is plenty.
func (f *Fleet) Poll() time.Duration { return 500 * time.Millisecond }

func (f *Fleet) fleetctl(ctx context.Context, args ...string) (string, error) {
	return runTool(ctx, f.Timeout, "fleetctl", f.argv(), args...)
}

// argv is fleetctl with the operator's global flags.
func (f *Fleet) argv() []string {
	argv := f.Fleetctl
	if len(argv) == 0 {
		argv = []string{"fleetctl"}
	}
	argv = append([]string(nil), argv...)
	if f.Endpoint != "" {
		argv = append(argv, "--endpoint="+f.Endpoint)
	}
	if f.Tunnel != "" {
		argv = append(argv, "--tunnel="+f.Tunnel)
	}
	if f.Driver != "" {
		argv = append(argv, "--driver="+f.Driver)
	}
	return argv
}

// fleetHash is fleet's unit hash: SHA-1 of go-systemd's serialisation of the
// parsed options (unit.UnitFile.Hash), so one list-unit-files call tells
// which units differ.
func fleetHash(b []byte) string {
	c, ok := Canonical(b)
	if !ok {
		return ""
	}
	sum := sha1.Sum(c)
	return hex.EncodeToString(sum[:])
}

// unitHashes is list-unit-files: name → fleet hash.
func (f *Fleet) unitHashes(ctx context.Context) (map[string]string, error) {
	out, err := f.fleetctl(ctx, "list-unit-files", "--no-legend", "--full", "--fields=unit,hash")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if fs := strings.Fields(line); len(fs) == 2 {
			m[fs[0]] = fs[1]
		}
	}
	return m, nil
}

// Submit submits new units, and differing ones with --replace (without it
// fleetctl keeps the old unit and only warns: fleet#614). Unchanged units are
// never resubmitted.
func (f *Fleet) Submit(ctx context.Context, files []UnitFile) ([]string, error) {
	held, err := f.unitHashes(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nap-fleet-")
	if err != nil {
		return nil, envErr("submit", "%v", err)
	}
	defer os.RemoveAll(dir)
	var fresh, changed, wrote []string
	for _, u := range files {
		h, ok := held[u.Name]
		if ok && h == fleetHash(u.Data) {
			continue
		}
		p := filepath.Join(dir, u.Name)
		if err := os.WriteFile(p, u.Data, 0o644); err != nil {
			return nil, envErr("submit", "%v", err)
		}
		if ok {
			changed = append(changed, p)
		} else {
			fresh = append(fresh, p)
		}
		wrote = append(wrote, u.Name)
	}
	if len(fresh) > 0 {
		if _, err := f.fleetctl(ctx, append([]string{"submit"}, fresh...)...); err != nil {
			return nil, err
		}
	}
	if len(changed) > 0 {
		if _, err := f.fleetctl(ctx, append([]string{"submit", "--replace"}, changed...)...); err != nil {
			return nil, err
		}
	}
	return wrote, nil
}

func (f *Fleet) Start(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	_, err := f.fleetctl(ctx, append([]string{"start", "--no-block"}, names...)...)
	return err
}

// Stop stops the units and returns once fleet's agents report none of
// them running. fleetctl v1.0.0 refuses to stop a unit that was never
// started (exit 1, and it stops nothing after it), so only units fleet
// has launched are named to it.
func (f *Fleet) Stop(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	states, err := f.reported(ctx)
	if err != nil {
		return err
	}
	var running []string
	for _, n := range names {
		if st, ok := states[n]; ok && st.Active != "inactive" && st.Active != "failed" {
			running = append(running, n)
		}
	}
	if len(running) == 0 {
		return nil
	}
	if _, err := f.fleetctl(ctx, append([]string{"stop", "--no-block"}, running...)...); err != nil {
		return err
	}
	return f.await(ctx, "stop", running, func(st UnitState, ok bool) bool {
		return !ok || st.Active == "inactive" || st.Active == "failed"
	})
}

// Destroy removes the units from fleet's registry and returns once its
// agents have stopped them and report them no more: fleet acts
// asynchronously (the engine every 2 s, each agent every 5 s), and a
// release that still runs after its destroy returned would still answer,
// and still be listed.
func (f *Fleet) Destroy(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	if _, err := f.fleetctl(ctx, append([]string{"destroy"}, names...)...); err != nil {
		return err
	}
	return f.await(ctx, "destroy", names, func(_ UnitState, ok bool) bool { return !ok })
}

// Settle bounds how long a stop or destroy waits for fleet's agents to
// report it done: two agent periods and an engine period, with room.
const Settle = 30 * time.Second

// await polls the agents' reported states until done holds for every unit
// of names (ok: the unit is reported at all), for at most Settle.
func (f *Fleet) await(ctx context.Context, op string, names []string, done func(st UnitState, ok bool) bool) error {
	deadline := time.Now().Add(Settle)
	for {
		states, err := f.reported(ctx)
		if err != nil {
			return err
		}
		var pending []string
		for _, n := range names {
			if st, ok := states[n]; !done(st, ok) {
				pending = append(pending, n+" ("+st.Active+")")
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return envErr("fleetctl", "after %s, fleet's agents still report %s (fleetctl list-units)", op, strings.Join(pending, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// reported is list-units by name: the states fleet's agents report.
func (f *Fleet) reported(ctx context.Context) (map[string]UnitState, error) {
	states, err := f.States(ctx, "")
	if err != nil {
		return nil, err
	}
	m := make(map[string]UnitState, len(states))
	for _, st := range states {
		m[st.Name] = st
	}
	return m, nil
}

// ResetFailed destroys the units: fleet has no reset-failed, and a unit that
// is destroyed and submitted again runs anew.
// Enable is a no-op: fleet holds what it runs and reschedules it itself.
func (f *Fleet) Enable(ctx context.Context, names ...string) error { return nil }

func (f *Fleet) ResetFailed(ctx context.Context, names ...string) error {
	return f.Destroy(ctx, names...)
}

// States are the states fleet's agents report (list-units), which lag
// behind its registry (list-unit-files) by up to an agent period; Stop
// and Destroy wait for them to agree.
func (f *Fleet) States(ctx context.Context, prefix string) ([]UnitState, error) {
	out, err := f.fleetctl(ctx, "list-units", "--no-legend", "--full", "--fields=unit,machine,load,active,sub")
	if err != nil {
		return nil, err
	}
	var states []UnitState
	for _, line := range strings.Split(out, "\n") {
		fs := strings.Fields(line)
		if len(fs) < 5 || !strings.HasPrefix(fs[0], prefix) {
			continue
		}
		states = append(states, UnitState{Name: fs[0], Machine: fs[1], Load: fs[2], Active: fs[3], Sub: fs[4]})
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Name < states[j].Name })
	return states, nil
}

func (f *Fleet) List(ctx context.Context, prefix string) ([]string, error) {
	held, err := f.unitHashes(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range held {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Held cats each unit: one fleetctl call per unit.
func (f *Fleet) Held(ctx context.Context, prefix string) ([]UnitFile, error) {
	names, err := f.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []UnitFile
	for _, n := range names {
		b, err := f.fleetctl(ctx, "cat", n)
		if err != nil {
			return nil, err
		}
		out = append(out, UnitFile{n, []byte(b)})
	}
	return out, nil
}

func (f *Fleet) Journal(ctx context.Context, name string, n int) (string, error) {
	return f.fleetctl(ctx, "journal", "--lines="+strconv.Itoa(n), name)
}

// followLines is how far back Follow starts: fleetctl journal has no
// --since and starts with the last 10 lines by default, so a build that ran
// faster than the follower attached would show only its end. The build unit
// is new for every revision, so its journal is this build's output (plus a
// failed earlier build of the same revision, which is worth seeing).
const followLines = 100000

// followPoll is how often Follow looks for the unit's first journal entry.
const followPoll = 500 * time.Millisecond

// Follow waits for the unit's first journal entry, then follows its journal
// from the start. Following at once is not enough: journalctl -n N -f
// (what fleetctl journal -f runs on the unit's machine) started while the
// unit has no entry yet shows only what comes after its first wake-up —
// often just systemd's "Finished" line of a fast build — whatever N is.
// Measured on this machine's systemd: 10 of 10 follows started before the
// unit's start showed 1 line of 22; 10 of 10 started after its first entry
// showed all 22.
func (f *Fleet) Follow(ctx context.Context, name string, w io.Writer) error {
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		// an error is "not yet": fleet may not have scheduled the unit
		if out, err := f.fleetctl(ctx, "journal", "--lines=1", name); err == nil && strings.TrimSpace(out) != "" {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
	// fleetctl v1.0.0 knows --follow, not -f (an unknown flag prints its
	// usage on stdout and exits 0); --output=cat gives the build's own
	// lines, as the pusher should see them, without journalctl's prefix.
	return followTool(ctx, f.argv(), w, "journal", "--lines="+strconv.Itoa(followLines), "--output=cat", "--follow", name)
}
