// Package render turns a Dockerfile model, the operator's config, the app's
// nap.yaml and a release into that release's systemd units. It does no I/O:
// callers read the files and write the units.
package render

import "time"

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
}

// Operator is /etc/nap/config.yaml: trusted, but validated.
type Operator struct {
	Registry     string        // host[:port][/path]; default "127.0.0.1:5000"
	Target       Target        // default fleet
	Docker       string        // absolute; default /usr/bin/docker
	Etcdctl      string        // absolute; default /usr/bin/etcdctl
	State        string        // absolute; default /var/lib/nap
	UnitDir      string        // absolute; default /etc/systemd/system
	DeployBranch string        // default master
	KeepReleases int           // default 5
	BuildTimeout time.Duration // default 20m
	Drain        time.Duration // default 2s
	EnvDir       string        // absolute or ""
	Discovery    Discovery
	Fleet        Fleet
	Builder      Builder
	Machines     Machines
	Limits       Limits
}

// Discovery configures the sidekick's announcements.
type Discovery struct {
	Etcd      string   // "v2" (default) or "v3"
	Prefix    string   // default /services
	TTL       int      // seconds; default 60
	Host      string   // "%H" (default) or a literal host name or IP
	Endpoints []string // default [http://127.0.0.1:2379]
}

// Fleet is passed to fleetctl.
type Fleet struct{ Endpoint, Tunnel, Driver string }

// Builder pins the build unit on fleet.
type Builder struct{ MachineID string }

// Machines limits what apps may ask of the scheduler.
type Machines struct{ AllowedMetadata []string }

// Limits bound what an app may ask for.
type Limits struct {
	MaxInstances int   // default 20
	MaxMemory    int64 // bytes; default 2g
}

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
	Line int
	Msg  string
}

func (e *ConfigError) Error() string { panic("not implemented") }

// ParseConfig parses and validates both layers. operatorYAML may be nil (all
// defaults). Errors are *ConfigError.
func ParseConfig(operatorYAML, appYAML []byte) (*Config, error) { panic("not implemented") }
