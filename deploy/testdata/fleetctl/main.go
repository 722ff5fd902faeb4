// Command fleetctl is a test stand-in for fleetctl v1.0.0: fleet cannot be
// installed here, so nap's fleet driver is tested against this program. It
// follows what fleet's documentation (Documentation/using-the-client.md,
// Documentation/unit-files-and-scheduling.md) and source (fleetctl/*.go at
// v1.0.0) describe; each behaviour below cites where it comes from.
//
// The "cluster" is K machines (FLEET_STANDIN_MACHINES, default 1) whose ids,
// public IPs and metadata are fixed by the environment; the registry is a JSON
// file in FLEET_STANDIN_STATE. There is no daemon: the "engine" schedules and
// the "agent" reconciles synchronously inside each call. When
// FLEET_STANDIN_SYSTEMCTL is set (an argv prefix such as
// "nsenter -t PID -m -p systemctl"), the agent runs every scheduled unit for
// real on that one systemd, writing unit files to FLEET_STANDIN_UNIT_DIR, so
// containers run and sidekicks announce. That directory is the agent's own
// (like fleet's /run/fleet/units): it removes every unit there that it did not
// schedule, so never point it at /etc/systemd/system. Otherwise units become active at
// once (or failed, for units matching the glob FLEET_STANDIN_FAIL).
// FLEET_STANDIN_LOG, when set, gets one line per call: the arguments.
package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	sdunit "github.com/coreos/go-systemd/v22/unit"
)

// Job states of fleet's job package (job/job.go).
const (
	inactive = "inactive"
	loaded   = "loaded"
	launched = "launched"
)

type option struct{ Section, Name, Value string }

type unitRec struct {
	Name         string
	Options      []option
	DesiredState string
	MachineID    string // "" = not scheduled
}

type registry struct {
	Units map[string]*unitRec
}

type machine struct {
	ID, PublicIP string
	Metadata     map[string][]string
}

var (
	stdout = tabwriter.NewWriter(os.Stdout, 0, 8, 1, '\t', 0) // fleetctl.go: out = tabwriter.NewWriter(os.Stdout, 0, 8, 1, '\t', 0)
	reg    *registry
	stateF string
)

// parse parses flags anywhere among the arguments, as fleetctl v1.0.0's
// cobra commands do, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			stderr("%v", err)
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func stderr(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if p := os.Getenv("FLEET_STANDIN_LOG"); p != "" {
		if f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, strings.Join(args, " "))
			f.Close()
		}
	}
	// Global flags of fleetctl.go; FLEETCTL_<FLAG> env fills unset ones
	// (getFlagsFromEnv). They select the cluster; the stand-in has one.
	global := flag.NewFlagSet("fleetctl", flag.ContinueOnError)
	for _, name := range []string{"endpoint", "tunnel", "driver", "etcd-key-prefix", "ca-file", "cert-file", "key-file", "known-hosts-file", "ssh-username", "request-timeout", "ssh-timeout"} {
		global.String(name, "", "")
	}
	for _, name := range []string{"debug", "strict-host-key-checking", "version"} {
		global.Bool(name, false, "")
	}
	if err := global.Parse(args); err != nil {
		return 2
	}
	args = global.Args()
	if len(args) == 0 {
		stderr("usage: fleetctl [global options] <command> [command options] [arguments...]")
		return 2
	}
	dir := os.Getenv("FLEET_STANDIN_STATE")
	if dir == "" {
		// fleetctl.go main: "Unable to initialize client: ..." and exit 1.
		stderr("Unable to initialize client: FLEET_STANDIN_STATE is not set")
		return 1
	}
	unlock, err := lockDir(dir)
	if err != nil {
		stderr("Unable to initialize client: %v", err)
		return 1
	}
	defer unlock()
	stateF = filepath.Join(dir, "registry.json")
	if reg, err = loadRegistry(stateF); err != nil {
		stderr("Unable to initialize client: %v", err)
		return 1
	}
	cmd, rest := args[0], args[1:]
	// fleet's engine and agents run all the time; here they catch up at
	// every call, so list-units shows what they would have done by now.
	if cmd != "journal" && cmd != "version" {
		schedule()
		reconcile()
	}
	var code int
	switch cmd {
	case "submit":
		code = runSubmit(rest)
	case "load":
		code = runLoadOrStart(rest, loaded)
	case "start":
		code = runLoadOrStart(rest, launched)
	case "stop":
		code = runStop(rest)
	case "unload":
		code = runUnload(rest)
	case "destroy":
		code = runDestroy(rest)
	case "cat":
		code = runCat(rest)
	case "list-unit-files":
		code = runListUnitFiles(rest)
	case "list-units":
		code = runListUnits(rest)
	case "journal":
		unlock()
		return runJournal(rest) // may follow for long: let other calls run
	case "list-machines":
		code = runListMachines(rest)
	case "version":
		fmt.Println("fleetctl version 1.0.0")
	default:
		// fleetctl.go main: unknown subcommand, exit 2.
		fmt.Printf("fleetctl: unknown subcommand: %q\nRun 'fleetctl help' for usage.\n", cmd)
		return 2
	}
	stdout.Flush()
	if err := saveRegistry(stateF, reg); err != nil {
		stderr("Error saving registry: %v", err)
		return 1
	}
	return code
}

// lockDir serialises calls: fleet's registry is etcd, which is consistent.
func lockDir(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

func loadRegistry(p string) (*registry, error) {
	r := &registry{Units: map[string]*unitRec{}}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	return r, json.Unmarshal(b, r)
}

func saveRegistry(p string, r *registry) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// machines returns the cluster: FLEET_STANDIN_MACHINES machines; machine 1's
// id is this host's /etc/machine-id (so a builder pinned to "this machine"
// schedules), FLEET_STANDIN_MACHINE_IDS (comma separated) overrides ids, and
// FLEET_STANDIN_METADATA ("1:disk=ssd,region=eu;2:disk=hdd") sets metadata.
func machines() []machine {
	k, _ := strconv.Atoi(os.Getenv("FLEET_STANDIN_MACHINES"))
	if k < 1 {
		k = 1
	}
	ids := strings.Split(os.Getenv("FLEET_STANDIN_MACHINE_IDS"), ",")
	meta := map[int]map[string][]string{}
	for _, part := range strings.Split(os.Getenv("FLEET_STANDIN_METADATA"), ";") {
		n, kvs, ok := strings.Cut(part, ":")
		i, err := strconv.Atoi(n)
		if !ok || err != nil {
			continue
		}
		m := map[string][]string{}
		for _, kv := range strings.Split(kvs, ",") {
			if key, v, ok := strings.Cut(kv, "="); ok {
				m[key] = append(m[key], v)
			}
		}
		meta[i] = m
	}
	ms := make([]machine, k)
	for i := range ms {
		id := ""
		if i < len(ids) && ids[i] != "" {
			id = ids[i]
		} else if i == 0 {
			if b, err := os.ReadFile("/etc/machine-id"); err == nil {
				id = strings.TrimSpace(string(b))
			}
		}
		if id == "" {
			sum := md5.Sum([]byte("fleet-standin-machine-" + strconv.Itoa(i+1)))
			id = hex.EncodeToString(sum[:])
		}
		ms[i] = machine{ID: id, PublicIP: "10.0.0." + strconv.Itoa(i+1), Metadata: meta[i+1]}
	}
	return ms
}

func machineByID(id string) *machine {
	for _, m := range machines() {
		if m.ID == id {
			return &m
		}
	}
	return nil
}

// legend is machineFullLegend of fleetctl.go: "ID.../IP", the full id with --full.
func legend(id string, full bool) string {
	if id == "" {
		return "-"
	}
	l := id
	if !full && len(id) > 8 {
		l = id[:8] + "..."
	}
	if m := machineByID(id); m != nil {
		l += "/" + m.PublicIP
	}
	return l
}

// unitNameMangle of fleetctl.go: the base name, ".service" added when the
// name has no known unit type.
func unitNameMangle(arg string) string {
	name := path.Base(arg)
	for _, t := range []string{".service", ".socket", ".device", ".mount", ".automount", ".timer", ".path"} {
		if strings.HasSuffix(name, t) {
			return name
		}
	}
	return name + ".service"
}

// nameInfo splits "p@i.service" (unit/unit.go NewUnitNameInfo).
func nameInfo(name string) (prefix, instance, template string, isInstance, isTemplate bool) {
	at := strings.Index(name, "@")
	if at < 0 {
		return name, "", "", false, false
	}
	dot := strings.LastIndex(name, ".")
	prefix, instance = name[:at], name[at+1:dot]
	template = prefix + "@" + name[dot:]
	return prefix, instance, template, instance != "", instance == ""
}

func parseUnitFile(file string) ([]option, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	opts, err := sdunit.Deserialize(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out := make([]option, len(opts))
	for i, o := range opts {
		out[i] = option{o.Section, o.Name, o.Value}
	}
	return out, nil
}

// serialize is what fleet stores and `cat` prints: go-systemd's Serialize of
// the parsed options, so comments and continuations are gone.
func serialize(opts []option) string {
	sd := make([]*sdunit.UnitOption, len(opts))
	for i, o := range opts {
		sd[i] = &sdunit.UnitOption{Section: o.Section, Name: o.Name, Value: o.Value}
	}
	b, _ := io.ReadAll(sdunit.Serialize(sd))
	return string(b)
}

// hash is unit.UnitFile.Hash: SHA-1 of the serialised file.
func hash(opts []option) string {
	sum := sha1.Sum([]byte(serialize(opts)))
	return hex.EncodeToString(sum[:])
}

func sameOptions(a, b []option) bool { return hash(a) == hash(b) }

// lazyCreateUnits of fleetctl.go: a unit already in the registry is kept
// (warning when the local file differs, unless replace); else the local file;
// else, for an instance, the template from the registry or from disk.
func lazyCreateUnits(args []string, replace bool) error {
	for _, arg := range args {
		name := unitNameMangle(arg)
		if u := reg.Units[name]; u != nil {
			if _, err := os.Stat(arg); err == nil {
				opts, err := parseUnitFile(arg)
				if err == nil && !sameOptions(opts, u.Options) {
					if replace {
						// submit/load/start --replace (fleet#614, v0.13):
						// the unit is replaced; the agent restarts it.
						u.Options = opts
						u.MachineID = ""
						continue
					}
					fmt.Fprintf(os.Stderr, "WARNING: Unit %s in registry differs from local unit file %s\n", name, arg)
				}
			}
			continue
		}
		if _, err := os.Stat(arg); err == nil {
			opts, err := parseUnitFile(arg)
			if err != nil {
				return fmt.Errorf("failed getting Unit(%s) from file: %v", name, err)
			}
			reg.Units[name] = &unitRec{Name: name, Options: opts, DesiredState: inactive}
			continue
		}
		_, _, tmplName, isInstance, _ := nameInfo(name)
		if !isInstance {
			return fmt.Errorf("unable to find Unit(%s) in Registry or on filesystem", name)
		}
		var opts []option
		if t := reg.Units[tmplName]; t != nil {
			opts = t.Options
		} else {
			file := filepath.Join(filepath.Dir(arg), tmplName)
			if _, err := os.Stat(file); err != nil {
				return fmt.Errorf("unable to find Unit(%s) or template Unit(%s) in Registry or on filesystem", name, tmplName)
			}
			var err error
			if opts, err = parseUnitFile(file); err != nil {
				return fmt.Errorf("failed getting template Unit(%s) from file: %v", tmplName, err)
			}
		}
		reg.Units[name] = &unitRec{Name: name, Options: opts, DesiredState: inactive}
	}
	return nil
}

func runSubmit(args []string) int {
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	replace := fs.Bool("replace", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) == 0 {
		stderr("One unit file must be provided.")
		return 1
	}
	if err := lazyCreateUnits(pos, *replace); err != nil {
		stderr("Error creating units: %v", err)
		return 1
	}
	return 0
}

// runLoadOrStart is runLoadUnits/runStartUnit of load.go/start.go. In v1.0.0
// blocking waits until the agent reports the state AND, for start, systemd
// reports the unit active (tryWaitForUnitStates with
// assertSystemdActiveState): a oneshot or a slow start fails it. A template
// cannot be loaded or started.
func runLoadOrStart(args []string, target string) int {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	noBlock := fs.Bool("no-block", false, "")
	attempts := fs.Int("block-attempts", 0, "")
	replace := fs.Bool("replace", false, "")
	fs.Bool("sign", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	for _, a := range pos {
		if _, _, _, _, isTmpl := nameInfo(unitNameMangle(a)); isTmpl {
			verb := "start"
			if target == loaded {
				verb = "load"
			}
			stderr("Unable to %s unit template %s: use an instance name, e.g. %s", verb, unitNameMangle(a), strings.Replace(unitNameMangle(a), "@.", "@1.", 1))
			return 1
		}
	}
	if err := lazyCreateUnits(pos, *replace); err != nil {
		stderr("Error creating units: %v", err)
		return 1
	}
	var names []string
	for _, a := range pos {
		name := unitNameMangle(a)
		names = append(names, name)
		reg.Units[name].DesiredState = target
	}
	schedule()
	reconcile()
	if *noBlock {
		return 0
	}
	return waitFor(names, target, *attempts)
}

// waitFor polls every 500 ms (checkUnitState), forever when attempts < 1.
func waitFor(names []string, target string, attempts int) int {
	pending := append([]string(nil), names...)
	for attempt := 0; attempts < 1 || attempt < attempts; attempt++ {
		var still []string
		for _, name := range pending {
			u := reg.Units[name]
			if u == nil || u.MachineID == "" || !reached(u, target) {
				still = append(still, name)
				continue
			}
			fmt.Fprintf(stdout, "Unit %s %s on %s\n", name, target, legend(u.MachineID, false))
		}
		pending = still
		if len(pending) == 0 {
			return 0
		}
		time.Sleep(500 * time.Millisecond)
		schedule()
		reconcile()
	}
	for _, name := range pending {
		stderr("Error waiting for unit states, timed out waiting for unit %s to report state %s", name, target)
	}
	return 1
}

func reached(u *unitRec, target string) bool {
	active, _, _ := systemdState(u)
	switch target {
	case launched:
		return active == "active"
	case loaded:
		return active != "" && active != "activating"
	}
	return true
}

func runStop(args []string) int {
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	fs.Bool("no-block", false, "")
	fs.Int("block-attempts", 0, "")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	for _, a := range pos {
		name := unitNameMangle(a)
		u := reg.Units[name]
		if u == nil {
			stderr("Error retrieving unit %s from registry: unable to find unit %s", name, name)
			return 1
		}
		if u.DesiredState == launched {
			u.DesiredState = loaded
		}
	}
	reconcile()
	for _, a := range pos {
		fmt.Fprintf(stdout, "Unit %s loaded on %s\n", unitNameMangle(a), legend(reg.Units[unitNameMangle(a)].MachineID, false))
	}
	return 0
}

func runUnload(args []string) int {
	fs := flag.NewFlagSet("unload", flag.ContinueOnError)
	fs.Bool("no-block", false, "")
	fs.Int("block-attempts", 0, "")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	for _, a := range pos {
		if u := reg.Units[unitNameMangle(a)]; u != nil {
			u.DesiredState = inactive
			u.MachineID = ""
		}
	}
	reconcile()
	for _, a := range pos {
		fmt.Fprintf(stdout, "Unit %s inactive\n", unitNameMangle(a))
	}
	return 0
}

// runDestroy: destroy.go prints "Destroyed NAME" per unit; a unit that does
// not exist is not an error.
func runDestroy(args []string) int {
	for _, a := range args {
		name := unitNameMangle(a)
		if u := reg.Units[name]; u != nil {
			u.DesiredState = inactive
			u.MachineID = ""
			reconcile()
			delete(reg.Units, name)
			fmt.Fprintf(stdout, "Destroyed %s\n", name)
		}
	}
	return 0
}

func runCat(args []string) int {
	if len(args) != 1 {
		stderr("One unit file must be provided")
		return 1
	}
	name := unitNameMangle(args[0])
	u := reg.Units[name]
	if u == nil {
		stderr("Unit %s not found", name)
		return 1
	}
	fmt.Fprint(stdout, serialize(u.Options))
	return 0
}

func sortedUnits() []*unitRec {
	us := make([]*unitRec, 0, len(reg.Units))
	for _, u := range reg.Units {
		us = append(us, u)
	}
	sort.Slice(us, func(i, j int) bool { return us[i].Name < us[j].Name })
	return us
}

// columns implements the --no-legend/--full/--fields output of
// list_units.go and list_unit_files.go: tab-separated, a legend upper-cased.
func columns(name string, args []string, def string, fields map[string]func(*unitRec, bool) string, rows []*unitRec) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	full := fs.Bool("full", false, "")
	fs.BoolVar(full, "l", false, "")
	noLegend := fs.Bool("no-legend", false, "")
	spec := fs.String("fields", def, "")
	_, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if *spec == "" {
		stderr("Must define output format")
		return 1
	}
	cols := strings.Split(*spec, ",")
	for _, c := range cols {
		if fields[c] == nil {
			stderr("Invalid key in output format: %q", c)
			return 1
		}
	}
	if !*noLegend {
		fmt.Fprintln(stdout, strings.ToUpper(strings.Join(cols, "\t")))
	}
	for _, u := range rows {
		var f []string
		for _, c := range cols {
			f = append(f, fields[c](u, *full))
		}
		fmt.Fprintln(stdout, strings.Join(f, "\t"))
	}
	return 0
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runListUnitFiles(args []string) int {
	target := func(u *unitRec, full bool) string { return legend(u.MachineID, full) }
	fields := map[string]func(*unitRec, bool) string{
		"unit":   func(u *unitRec, _ bool) string { return u.Name },
		"global": func(u *unitRec, _ bool) string { return "false" },
		"dstate": func(u *unitRec, _ bool) string { return dash(u.DesiredState) },
		"state": func(u *unitRec, _ bool) string {
			if u.MachineID == "" {
				return "inactive"
			}
			return u.DesiredState
		},
		"target":   target,
		"tmachine": target,
		"hash": func(u *unitRec, full bool) string {
			if full {
				return hash(u.Options)
			}
			return hash(u.Options)[:7]
		},
		"desc": func(u *unitRec, _ bool) string {
			for _, o := range u.Options {
				if o.Section == "Unit" && o.Name == "Description" {
					return o.Value
				}
			}
			return "-"
		},
	}
	return columns("list-unit-files", args, "unit,hash,dstate,state,target", fields, sortedUnits())
}

// runListUnits lists units scheduled to a machine and loaded there, with
// systemd's states as the agent reports them (list_units.go).
func runListUnits(args []string) int {
	var rows []*unitRec
	for _, u := range sortedUnits() {
		if u.MachineID != "" && u.DesiredState != inactive {
			rows = append(rows, u)
		}
	}
	fields := map[string]func(*unitRec, bool) string{
		"unit":    func(u *unitRec, _ bool) string { return u.Name },
		"machine": func(u *unitRec, full bool) string { return legend(u.MachineID, full) },
		"load":    func(u *unitRec, _ bool) string { _, _, l := systemdState(u); return dash(l) },
		"active":  func(u *unitRec, _ bool) string { a, _, _ := systemdState(u); return dash(a) },
		"sub":     func(u *unitRec, _ bool) string { _, s, _ := systemdState(u); return dash(s) },
		"hash": func(u *unitRec, full bool) string {
			if full {
				return hash(u.Options)
			}
			return hash(u.Options)[:7]
		},
	}
	return columns("list-units", args, "unit,machine,active,sub", fields, rows)
}

func runListMachines(args []string) int {
	fs := flag.NewFlagSet("list-machines", flag.ContinueOnError)
	full := fs.Bool("full", false, "")
	fs.BoolVar(full, "l", false, "")
	noLegend := fs.Bool("no-legend", false, "")
	_, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if !*noLegend {
		fmt.Fprintln(stdout, "MACHINE\tIP\tMETADATA")
	}
	for _, m := range machines() {
		id := m.ID
		if !*full {
			id = id[:8] + "..."
		}
		var kv []string
		for k, vs := range m.Metadata {
			for _, v := range vs {
				kv = append(kv, k+"="+v)
			}
		}
		sort.Strings(kv)
		md := strings.Join(kv, ",")
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", id, m.PublicIP, dash(md))
	}
	return 0
}

// xfleet returns the unit's [X-Fleet] options with %n %N %p %i replaced, as
// fleet's job.Unit.Requirements does (unit-files-and-scheduling.md).
func xfleet(u *unitRec) map[string][]string {
	prefix, instance, _, _, _ := nameInfo(u.Name)
	r := strings.NewReplacer("%n", u.Name, "%N", strings.TrimSuffix(u.Name, path.Ext(u.Name)), "%p", prefix, "%i", instance)
	out := map[string][]string{}
	for _, o := range u.Options {
		if o.Section == "X-Fleet" {
			out[o.Name] = append(out[o.Name], r.Replace(o.Value))
		}
	}
	return out
}

// schedule places every unit that should be loaded but has no machine, the
// way fleet's engine does: among the machines that satisfy MachineID,
// MachineOf, MachineMetadata and Conflicts, the one with the fewest units.
// A unit no machine can take stays unscheduled. It repeats until nothing
// moves, as the engine's reconcile loop does: a sidekick sorted before its
// main unit is placed once the main unit is.
func schedule() {
	for scheduleOnce() {
	}
}

func scheduleOnce() (moved bool) {
	for _, u := range sortedUnits() {
		if u.DesiredState == inactive || u.MachineID != "" {
			continue
		}
		req := xfleet(u)
		var best *machine
		bestLoad := 0
		for _, m := range machines() {
			m := m
			if !fits(u, req, m) {
				continue
			}
			load := 0
			for _, o := range reg.Units {
				if o.MachineID == m.ID {
					load++
				}
			}
			if best == nil || load < bestLoad {
				best, bestLoad = &m, load
			}
		}
		if best != nil {
			u.MachineID = best.ID
			moved = true
		}
	}
	return moved
}

func fits(u *unitRec, req map[string][]string, m machine) bool {
	for _, id := range req["MachineID"] {
		if id != m.ID {
			return false
		}
	}
	for _, other := range req["MachineOf"] {
		o := reg.Units[other]
		if o == nil || o.MachineID != m.ID {
			return false
		}
	}
	for _, md := range req["MachineMetadata"] {
		ok := false
		for _, kv := range strings.Fields(md) {
			k, v, _ := strings.Cut(kv, "=")
			for _, have := range m.Metadata[k] {
				ok = ok || have == v
			}
		}
		if !ok {
			return false
		}
	}
	for _, o := range reg.Units {
		if o == u || o.MachineID != m.ID {
			continue
		}
		for _, pat := range req["Conflicts"] {
			if ok, _ := path.Match(pat, o.Name); ok {
				return false
			}
		}
		for _, pat := range xfleet(o)["Conflicts"] {
			if ok, _ := path.Match(pat, u.Name); ok {
				return false
			}
		}
	}
	return true
}

// systemdState is what the agent reports for u: (active, sub, load).
func systemdState(u *unitRec) (string, string, string) {
	if u.MachineID == "" || u.DesiredState == inactive {
		return "", "", ""
	}
	sc := systemctlArgv()
	if len(sc) == 0 {
		if u.DesiredState == loaded {
			return "inactive", "dead", "loaded"
		}
		if pat := os.Getenv("FLEET_STANDIN_FAIL"); pat != "" {
			if ok, _ := path.Match(pat, u.Name); ok {
				return "failed", "failed", "loaded"
			}
		}
		return "active", "running", "loaded"
	}
	out, err := exec.Command(sc[0], append(sc[1:], "show", "-p", "ActiveState", "-p", "SubState", "-p", "LoadState", u.Name)...).Output()
	if err != nil {
		return "", "", ""
	}
	var a, s, l string
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "ActiveState":
			a = v
		case "SubState":
			s = v
		case "LoadState":
			l = v
		}
	}
	return a, s, l
}

func systemctlArgv() []string { return strings.Fields(os.Getenv("FLEET_STANDIN_SYSTEMCTL")) }

// reconcile is the agent: a loaded unit's file is written (and enabled when
// it has [Install], as fleet's agent does), a launched one started, others
// stopped and removed. Without FLEET_STANDIN_SYSTEMCTL it does nothing: the
// states are simulated by systemdState.
func reconcile() {
	sc := systemctlArgv()
	dir := os.Getenv("FLEET_STANDIN_UNIT_DIR")
	if len(sc) == 0 || dir == "" {
		return
	}
	systemctl := func(args ...string) { exec.Command(sc[0], append(sc[1:], args...)...).Run() }
	// Only what it wrote: the directory is systemd's too (nap's host
	// announcer writes its unit there), and fleet's agent touches only
	// the units it knows.
	written := map[string]bool{}
	for _, e := range readDirNames(dir) {
		if b, err := os.ReadFile(filepath.Join(dir, e)); err == nil && strings.HasPrefix(string(b), standinMark) {
			written[e] = true
		}
	}
	var start, stop, remove []string
	changed := false
	for _, u := range sortedUnits() {
		file := filepath.Join(dir, u.Name)
		want := u.MachineID != "" && u.DesiredState != inactive
		if !want {
			if written[u.Name] {
				stop = append(stop, u.Name)
				remove = append(remove, u.Name)
			}
			continue
		}
		content := standinMark + serialize(u.Options)
		if old, err := os.ReadFile(file); err != nil || string(old) != content {
			os.WriteFile(file, []byte(content), 0o644)
			changed = true
			_, instance, _, _, _ := nameInfo(u.Name)
			for _, o := range u.Options {
				if o.Section == "Install" && o.Name == "WantedBy" {
					for _, w := range strings.Fields(strings.ReplaceAll(o.Value, "%i", instance)) {
						os.MkdirAll(filepath.Join(dir, w+".wants"), 0o755)
						os.Symlink(file, filepath.Join(dir, w+".wants", u.Name))
					}
				}
			}
		}
		if u.DesiredState == launched {
			start = append(start, u.Name)
		} else {
			stop = append(stop, u.Name)
		}
	}
	for name := range written {
		if strings.HasSuffix(name, ".wants") {
			continue
		}
		if _, ok := reg.Units[name]; !ok {
			stop = append(stop, name)
			remove = append(remove, name)
		}
	}
	if len(stop) > 0 {
		systemctl(append([]string{"stop"}, stop...)...)
	}
	for _, name := range remove {
		os.Remove(filepath.Join(dir, name))
		links, _ := filepath.Glob(filepath.Join(dir, "*.wants", name))
		for _, l := range links {
			os.Remove(l)
			os.Remove(filepath.Dir(l)) // the .wants directory, once empty
		}
		changed = true
	}
	if changed {
		systemctl("daemon-reload")
	}
	if len(start) > 0 {
		systemctl(append([]string{"start", "--no-block"}, start...)...)
	}
}

// standinMark begins every unit file the stand-in's agent writes.
const standinMark = "# written by the fleet stand-in\n"

func readDirNames(dir string) []string {
	es, _ := os.ReadDir(dir)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// runJournal is journal.go: journalctl on the unit's machine; here the one
// real systemd, through FLEET_STANDIN_JOURNALCTL (an argv prefix).
func runJournal(args []string) int {
	fs := flag.NewFlagSet("journal", flag.ContinueOnError)
	lines := fs.Int("lines", 10, "")
	follow := fs.Bool("follow", false, "")
	fs.BoolVar(follow, "f", false, "")
	fs.Bool("sudo", false, "")
	fs.String("output", "short", "")
	pos, err := parse(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		stderr("One unit file must be provided.")
		return 1
	}
	name := unitNameMangle(pos[0])
	u := reg.Units[name]
	if u == nil {
		stderr("Unit %s does not exist.", name)
		return 1
	}
	jc := strings.Fields(os.Getenv("FLEET_STANDIN_JOURNALCTL"))
	if len(jc) == 0 {
		return 0
	}
	jargs := append(jc[1:], "--no-pager", "-o", "cat", "-u", name, "-n", strconv.Itoa(*lines))
	if *follow {
		jargs = append(jargs, "-f")
	}
	c := exec.Command(jc[0], jargs...)
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	if err := c.Run(); err != nil {
		return 1
	}
	return 0
}
