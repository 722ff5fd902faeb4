// Package render turns a Dockerfile model, the operator's config, the app's
// nap.yaml and a release into that release's systemd units. It does no I/O:
// callers read the files and write the units.
package render

import (
	"fmt"
	"time"

	"github.com/nap-paas/nap/etcd"
)

// Target is where units run.
type Target string

const (
	TargetFleet   Target = "fleet"
	TargetSystemd Target = "systemd"
)

// Config is both configuration layers after parsing and validation.
type Config struct {
	Operator Operator
	App      App

	// where remembers the nap.yaml line of values Render checks against the
	// image (listed ports), so its errors can name file:line too.
	appFile string
	where   map[string]int
}

// Operator is /etc/nap/config.yaml: trusted, but validated.
type Operator struct {
	Registry string // host[:port][/path]; default "127.0.0.1:5000"
	// RegistryInsecure: the registry speaks plain HTTP, as dockerd's
	// insecure-registries allow (a loopback registry always may).
	RegistryInsecure bool
	Target           Target        // default fleet
	Docker           string        // absolute; default /usr/bin/docker
	Etcdctl          string        // absolute; default /usr/bin/etcdctl
	NapRender        string        // absolute: nap-render on every host, which announces its instances; default /opt/nap/bin/nap-render
	State            string        // absolute; default /var/lib/nap
	UnitDir          string        // absolute; default /etc/systemd/system
	DeployBranch     string        // default master
	KeepReleases     int           // default 5
	BuildTimeout     time.Duration // default 20m
	Drain            time.Duration // default 2s
	EnvDir           string        // absolute or ""
	Discovery        Discovery
	Fleet            Fleet
	Builder          Builder
	Machines         Machines
	Limits           Limits
	Router           Router
}

// Discovery configures the announcements in etcd.
type Discovery struct {
	Etcd      string   // "v2" (default) or "v3"
	Prefix    string   // default /services
	TTL       int      // seconds; default 60
	Host      string   // "%H" (default), "${NAME}" of EnvFile, or a literal host name or IP
	EnvFile   string   // where ${NAME} is read on the instance's machine; default /etc/environment
	Endpoints []string // default [http://127.0.0.1:2379]
}

// Fleet is passed to fleetctl.
type Fleet struct{ Endpoint, Tunnel, Driver string }

// Builder pins the build unit on fleet.
type Builder struct{ MachineID string }

// Machines limits what apps may ask of the scheduler.
type Machines struct{ AllowedMetadata []string }

// Limits bound what an app may ask for; every one is checked before the
// build, on what the pushed tree declares.
type Limits struct {
	MaxInstances int   // instances of one process; default 20
	MaxMemory    int64 // bytes per container; default 2g
	MaxPorts     int   // published ports per app, a range counting each port; default 64
	MaxEnv       int   // env keys per app, and build_args keys; default 256 (and MaxEnvBytes in all)
	MaxProcesses int   // processes per app; default 16
	MaxTree      int64 // bytes of the pushed tree's files; default 512m
	MaxFiles     int   // files (and symlinks) in the pushed tree; default 100000
}

// MaxEnvBytes bounds an app's environment (and its build_args) as docker
// receives it, NAME=VALUE lines together.
const MaxEnvBytes = 64 << 10

// App is the app's nap.yaml: untrusted.
type App struct {
	Dockerfile string            // path inside the repository; default Dockerfile
	Context    string            // path inside the repository; default "."
	Stage      string            // build target stage; "" = the last
	BuildArgs  map[string]string // --build-arg
	Env        map[string]string // -e
	Memory     int64             // bytes; 0 = unlimited
	CPUShares  int               // 0 = docker's default
	Metadata   []string          // k=v, within Machines.AllowedMetadata
	Processes  map[string]Process
}

// Process is one kind of container of the app. "web" always exists.
type Process struct {
	Command   []string // nil = the image's CMD
	Instances int      // default 1
	Ports     []int    // container ports to publish (web: nil = every EXPOSEd port)
}

// ConfigError is an error in one of the YAML files, with its line.
type ConfigError struct {
	File string // "config.yaml" or "nap.yaml" (as the caller names them)
	Line int    // 0 when the error is about the whole file
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// The names ParseConfig gives the two files in its errors.
const (
	OperatorFile = "config.yaml"
	AppFile      = "nap.yaml"
)

// DefaultOperator returns the operator config used when there is no file,
// and the base every operator file is read onto.
func DefaultOperator() Operator {
	return Operator{
		Registry:     "127.0.0.1:5000",
		Target:       TargetFleet,
		Docker:       "/usr/bin/docker",
		Etcdctl:      "/usr/bin/etcdctl",
		NapRender:    "/opt/nap/bin/nap-render",
		State:        "/var/lib/nap",
		UnitDir:      "/etc/systemd/system",
		DeployBranch: "master",
		KeepReleases: 5,
		BuildTimeout: 20 * time.Minute,
		Drain:        2 * time.Second,
		Discovery: Discovery{
			Etcd:      "v2",
			Prefix:    "/services",
			TTL:       60,
			Host:      "%H",
			EnvFile:   "/etc/environment",
			Endpoints: []string{"http://127.0.0.1:2379"},
		},
		Limits: Limits{MaxInstances: 20, MaxMemory: 2 << 30, MaxPorts: 64, MaxEnv: 256,
			MaxProcesses: 16, MaxTree: 512 << 20, MaxFiles: 100000},
		Router: Router{HTTP: 80, Nginx: "/usr/sbin/nginx", Conf: "/etc/nginx/conf.d/nap.conf"},
	}
}

// ParseConfig parses and validates both layers. operatorYAML may be nil (all
// defaults), and so may appYAML. Errors are *ConfigError naming OperatorFile
// or AppFile.
func ParseConfig(operatorYAML, appYAML []byte) (*Config, error) {
	return ParseConfigFiles(OperatorFile, operatorYAML, AppFile, appYAML)
}

// ParseConfigFiles is ParseConfig with the names the files are given in
// errors (the paths a user knows them by).
func ParseConfigFiles(operatorName string, operatorYAML []byte, appName string, appYAML []byte) (*Config, error) {
	cfg := &Config{Operator: DefaultOperator(), appFile: appName, where: map[string]int{}}
	if err := parseOperator(operatorName, operatorYAML, &cfg.Operator); err != nil {
		return nil, err
	}
	if err := parseApp(appName, appYAML, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Where returns the file and line at which nap.yaml set field
// ("dockerfile", "context", "processes.web.instances"); line 0 when the
// value is a default.
func (c *Config) Where(field string) (file string, line int) {
	file = c.appFile
	if file == "" {
		file = AppFile
	}
	return file, c.where[field]
}

// ParseAppConfig parses the app's nap.yaml (nil: none), named appName in
// errors, onto an operator config parsed before.
func ParseAppConfig(op Operator, appName string, appYAML []byte) (*Config, error) {
	cfg := &Config{Operator: op, appFile: appName, where: map[string]int{}}
	if err := parseApp(appName, appYAML, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// ParseOperator parses the operator config (nil: all defaults), named
// file in errors.
func ParseOperator(file string, data []byte) (Operator, error) {
	op := DefaultOperator()
	err := parseOperator(file, data, &op)
	return op, err
}

// Overrides are the command line's settings that win over both files.
type Overrides struct {
	Target    Target            // "" = keep
	Stage     string            // "" = keep
	BuildArgs map[string]string // merged over nap.yaml's build_args
}

// Apply validates o and applies it to c.
func (c *Config) Apply(o Overrides) error {
	if o.Target != "" {
		if o.Target != TargetFleet && o.Target != TargetSystemd {
			return fmt.Errorf("invalid target %s: use fleet or systemd", QuoteName(string(o.Target)))
		}
		c.Operator.Target = o.Target
	}
	if o.Stage != "" {
		if err := validStage(o.Stage); err != nil {
			return err
		}
		c.App.Stage = o.Stage
	}
	for k, v := range o.BuildArgs {
		if err := validEnvName(k); err != nil {
			return fmt.Errorf("build arg: %v", err)
		}
		if err := validValue(v); err != nil {
			return fmt.Errorf("build arg %s: %v", k, err)
		}
		if c.App.BuildArgs == nil {
			c.App.BuildArgs = map[string]string{}
		}
		c.App.BuildArgs[k] = v
	}
	return nil
}

// Client is the etcd client of these settings.
func (d Discovery) Client() *etcd.Client {
	return &etcd.Client{Endpoints: d.Endpoints, V3: d.Etcd == "v3"}
}
