package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/unit"
)

// reserved are names that match the app pattern but would collide with what
// a nap host already runs or serves (gitolite's admin repository, nap's own
// state, the host services nap's units depend on).
var reserved = map[string]bool{
	"gitolite-admin": true, "nap": true, "nap-render": true, "git": true, "root": true,
	"docker": true, "etcd": true, "fleet": true, "systemd": true, "sshd": true,
	"registry": true, "testing": true, "hooks": true, "repos": true,
}

// ValidApp reports whether name is a valid app name: ^[a-z][a-z0-9-]{0,62}$
// and not a reserved word. The one validator for app names in nap (hooks use
// it too). Its error says what to do.
func ValidApp(name string) error {
	if len(name) == 0 || len(name) > 63 {
		return fmt.Errorf("invalid app name %s: use 1 to 63 characters, [a-z][a-z0-9-]*", QuoteName(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := 'a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '-')
		if !ok {
			return fmt.Errorf("invalid app name %s: start with a lower-case letter, then use only a-z, 0-9 and '-'", QuoteName(name))
		}
	}
	if reserved[name] {
		return fmt.Errorf("invalid app name %q: it is reserved, choose another", name)
	}
	return nil
}

// ValidRev reports whether rev is a full git object id (40 or 64 lower-case hex).
func ValidRev(rev string) error {
	if len(rev) != 40 && len(rev) != 64 {
		return fmt.Errorf("invalid revision %s: give a full git object id (40 or 64 hex digits)", QuoteName(rev))
	}
	for i := 0; i < len(rev); i++ {
		if c := rev[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("invalid revision %s: give a full git object id (40 or 64 lower-case hex digits)", QuoteName(rev))
		}
	}
	return nil
}

// QuoteName shows a hostile name safely in a message: Go-quoted (so a newline
// cannot fake another line of output) and cut short.
func QuoteName(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "…"
	}
	return strconv.Quote(s)
}

// Names makes every name of one release of an app — unit names, container
// names, etcd keys — and ParseUnit reads unit names back: no other code
// spells or cuts them. With R = Rev[:12] and the release id ID = R, or R-N
// for the N-th release of the same revision with other units (DESIGN.md):
//
//	APP.build.R.service              the build unit (one image per revision)
//	APP.PROC.ID@.service, @N         the run template, instance N
//	APP.PROC.ID.discovery@.service   the discovery template, instance N
//	APP.PROC.ID.N                    instance N's container
//	PREFIX/APP/PROC/ID.N             instance N's key in etcd
//
// App names have no '.', process names are [a-z][a-z0-9]* and neither may
// be "build" or "discovery", so every name parses one way only.
type Names struct {
	App, Rev string // Rev: the full revision (or at least its 12 digits)
	Gen      int    // the release's generation of Rev: 0 or 1 → ID R, N ≥ 2 → R-N
}

// R is the release's short revision, its first 12 digits.
func (n Names) R() string { return ShortRev(n.Rev) }

// ID is the release id, R or R-N.
func (n Names) ID() string { return genSuffix(n.R(), n.Gen) }

// ReleaseKey is the full form of a release id, REV or REV-N: what names a
// release on disk (releases/KEY, current) and in deploy's API.
func ReleaseKey(rev string, gen int) string { return genSuffix(rev, gen) }

// ParseReleaseKey splits a release key (or id) into its revision and
// generation (1 for REV).
func ParseReleaseKey(key string) (rev string, gen int, ok bool) {
	rev, n, found := strings.Cut(key, "-")
	if !found {
		return rev, 1, true
	}
	gen, err := strconv.Atoi(n)
	return rev, gen, err == nil && gen >= 2 && strconv.Itoa(gen) == n
}

// NamesOf are the names of app's release key.
func NamesOf(app, key string) Names {
	rev, gen, _ := ParseReleaseKey(key)
	return Names{App: app, Rev: rev, Gen: gen}
}

func genSuffix(s string, gen int) string {
	if gen < 2 {
		return s
	}
	return s + "-" + strconv.Itoa(gen)
}

// ShortRev is the 12-digit form of rev nap names things with.
func ShortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// UnitPrefix begins every unit name of app: "APP.", what a driver lists by.
func UnitPrefix(app string) string { return app + "." }

// Build is APP.build.R.service.
func (n Names) Build() string { return UnitPrefix(n.App) + "build." + n.R() + ".service" }

// Stem is APP.PROC.ID, the start of proc's unit and container names.
func (n Names) Stem(proc string) string { return UnitPrefix(n.App) + proc + "." + n.ID() }

// RunGlob matches every instance of proc's run template:
// APP.PROC.R@*.service (fleet's Conflicts=).
func (n Names) RunGlob(proc string) string { return n.Stem(proc) + "@*.service" }

// Run is the run template APP.PROC.R@.service.
func (n Names) Run(proc string) string { return n.Stem(proc) + "@.service" }

// RunInstance is APP.PROC.R@N.service.
func (n Names) RunInstance(proc string, i int) string {
	return n.Stem(proc) + "@" + strconv.Itoa(i) + ".service"
}

// Discovery is the discovery template APP.PROC.R.discovery@.service.
func (n Names) Discovery(proc string) string { return n.Stem(proc) + ".discovery@.service" }

// DiscoveryInstance is APP.PROC.R.discovery@N.service.
func (n Names) DiscoveryInstance(proc string, i int) string {
	return n.Stem(proc) + ".discovery@" + strconv.Itoa(i) + ".service"
}

// Container is instance i's container, APP.PROC.R.N.
func (n Names) Container(proc string, i int) string { return n.Stem(proc) + "." + strconv.Itoa(i) }

// In a template's lines the instance is systemd's %i: the same names as
// unit.Text.

// ContainerOf is the container of the instance a template runs as,
// APP.PROC.R.%i.
func (n Names) ContainerOf(proc string) unit.Text {
	return unit.Cat(unit.Lit(n.Stem(proc)+"."), unit.Spec(unit.Instance))
}

// RunOf is the run unit of the instance a template runs as,
// APP.PROC.R@%i.service.
func (n Names) RunOf(proc string) unit.Text {
	return unit.Cat(unit.Lit(n.Stem(proc)+"@"), unit.Spec(unit.Instance), unit.Lit(".service"))
}

// KeyOf is the key of the instance a template runs as, PREFIX/APP/PROC/R.%i.
func (n Names) KeyOf(prefix, proc string) unit.Text {
	return unit.Cat(unit.Lit(n.KeyPrefix(prefix, proc)), unit.Spec(unit.Instance))
}

// KeyPrefix is PREFIX/APP/PROC/R. — an instance's key without its number.
func (n Names) KeyPrefix(prefix, proc string) string {
	return AppKey(prefix, n.App) + "/" + proc + "/" + n.ID() + "."
}

// Key is instance i's key, PREFIX/APP/PROC/R.N.
func (n Names) Key(prefix, proc string, i int) string {
	return n.KeyPrefix(prefix, proc) + strconv.Itoa(i)
}

// KeyName is one instance's key, parsed.
type KeyName struct {
	App, Proc string
	R         string // the release id, R or R-N
	Instance  int
}

// ParseKey reads key as an instance key under prefix, PREFIX/APP/PROC/ID.N,
// validating every part; ok is false for anything else (etcd is shared:
// what it holds is input).
func ParseKey(prefix, key string) (k KeyName, ok bool) {
	rest, ok := strings.CutPrefix(key, strings.TrimRight(prefix, "/")+"/")
	if !ok {
		return k, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return k, false
	}
	id, inst, ok := strings.Cut(parts[2], ".")
	n, err := strconv.Atoi(inst)
	r, _, genOK := ParseReleaseKey(id)
	if !ok || err != nil || n < 1 || strconv.Itoa(n) != inst || !genOK || !validShort(r) ||
		ValidApp(parts[0]) != nil || validProcess(parts[1]) != nil {
		return k, false
	}
	return KeyName{App: parts[0], Proc: parts[1], R: id, Instance: n}, true
}

// ConfigKeyDir is the etcd directory of app's config vars on fleet, one
// key per version (ConfigKey): outside the announcements' prefix, which
// routers read.
func ConfigKeyDir(app string) string { return "/nap/config/" + app }

// ConfigKey is version v of app's config vars in etcd.
func ConfigKey(app string, v int) string { return ConfigKeyDir(app) + "/" + strconv.Itoa(v) }

// AppKey is PREFIX/APP, the directory of every key of app.
func AppKey(prefix, app string) string { return strings.TrimRight(prefix, "/") + "/" + app }

// UnitKind says which of a release's units a name is.
type UnitKind int

const (
	BuildUnit UnitKind = iota + 1
	RunUnit
	DiscoveryUnit
)

// UnitName is one of an app's unit names, parsed.
type UnitName struct {
	App      string
	R        string // the release id: R, or R-N (the build unit: R)
	Kind     UnitKind
	Proc     string // "" for the build unit
	Instance int    // 0 for a template (and the build unit)
}

// Template reports whether the name is a template (APP.PROC.R@.service).
func (u UnitName) Template() bool { return u.Kind != BuildUnit && u.Instance == 0 }

// String is the name again.
func (u UnitName) String() string {
	n := NamesOf(u.App, u.R)
	switch {
	case u.Kind == BuildUnit:
		return n.Build()
	case u.Kind == RunUnit && u.Instance == 0:
		return n.Run(u.Proc)
	case u.Kind == RunUnit:
		return n.RunInstance(u.Proc, u.Instance)
	case u.Instance == 0:
		return n.Discovery(u.Proc)
	}
	return n.DiscoveryInstance(u.Proc, u.Instance)
}

// ParseUnit reads name as one of app's unit names; ok is false for any
// other name (another app's, or not nap's).
func ParseUnit(app, name string) (u UnitName, ok bool) {
	rest, ok := strings.CutPrefix(name, UnitPrefix(app))
	if !ok {
		return u, false
	}
	rest, ok = strings.CutSuffix(rest, ".service")
	if !ok {
		return u, false
	}
	u.App = app
	if r, ok := strings.CutPrefix(rest, "build."); ok {
		u.Kind, u.R = BuildUnit, r
		return u, validShort(r)
	}
	stem, inst, ok := strings.Cut(rest, "@")
	if !ok {
		return u, false
	}
	if inst != "" {
		n, err := strconv.Atoi(inst)
		if err != nil || n < 1 || strconv.Itoa(n) != inst {
			return u, false
		}
		u.Instance = n
	}
	u.Kind = RunUnit
	if s, ok := strings.CutSuffix(stem, ".discovery"); ok {
		u.Kind, stem = DiscoveryUnit, s
	}
	u.Proc, u.R, ok = strings.Cut(stem, ".")
	r, _, genOK := ParseReleaseKey(u.R)
	return u, ok && genOK && validProcess(u.Proc) == nil && validShort(r)
}

// validShort: 12 lower-case hex digits.
func validShort(r string) bool {
	if len(r) != 12 {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// SortProcesses orders process names as nap does everywhere: web first,
// then by name.
func SortProcesses(procs []string) {
	sort.Slice(procs, func(i, j int) bool {
		if (procs[i] == "web") != (procs[j] == "web") {
			return procs[i] == "web"
		}
		return procs[i] < procs[j]
	})
}
