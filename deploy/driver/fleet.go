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

func (f *Fleet) Stop(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	_, err := f.fleetctl(ctx, append([]string{"stop", "--no-block"}, names...)...)
	return err
}

func (f *Fleet) Destroy(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	_, err := f.fleetctl(ctx, append([]string{"destroy"}, names...)...)
	return err
}

// ResetFailed destroys the units: fleet has no reset-failed, and a unit that
// is destroyed and submitted again runs anew.
// Enable is a no-op: fleet holds what it runs and reschedules it itself.
func (f *Fleet) Enable(ctx context.Context, names ...string) error { return nil }

func (f *Fleet) ResetFailed(ctx context.Context, names ...string) error {
	return f.Destroy(ctx, names...)
}

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
const followPoll = 100 * time.Millisecond

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
	return followTool(ctx, f.argv(), w, "journal", "--lines="+strconv.Itoa(followLines), "-f", name)
}
