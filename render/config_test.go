package render

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Operator: DefaultOperator(),
		App: App{Dockerfile: "Dockerfile", Context: ".",
			Processes: map[string]Process{"web": {Instances: 1}}},
	}
	if diff := cmp.Diff(want, cfg, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestParseConfigFull(t *testing.T) {
	op := `registry: registry.example.com:5000/nap
registry_insecure: true
target: systemd
docker: /usr/local/bin/docker
etcdctl: /opt/etcd/etcdctl
nap_render: /usr/local/bin/nap-render
state: /srv/nap
unit_dir: /run/systemd/system
deploy_branch: main
keep_releases: 3
build_timeout: 1h30m
drain: 500ms
env_dir: /etc/nap/env
discovery: {etcd: v3, prefix: /apps/prod, ttl: 30, host: 10.0.0.7, endpoints: ["http://10.0.0.1:2379", "https://[::1]:2379/"]}
fleet: {endpoint: "http://10.0.0.1:49153", tunnel: "core@10.0.0.1", driver: API}
builder: {machine_id: 0123456789abcdef0123456789abcdef}
machines: {allowed_metadata: [disk=ssd, region=eu]}
limits: {max_instances: 4, max_memory: 1g, max_ports: 10, max_env: 20, max_processes: 3, max_tree: 64m, max_files: 5000}
router: {domain: apps.example.com, http: 8080, https: 8443, tls_cert: /etc/ssl/apps.pem, tls_key: /etc/ssl/apps.key, nginx: /usr/local/sbin/nginx, conf: /etc/nginx/nap.conf}
`
	app := `# comment
instances: 2
dockerfile: ./docker/Dockerfile.prod
context: docker/
stage: runtime
build_args: {VERSION: 1.20, EMPTY: }
env: {LOG_LEVEL: debug, PORT: "9000", QUOTED: "it's 100% \"$HOME\""}
memory: 256M
cpu_shares: 512
machine: {metadata: [region=eu, disk=ssd]}
processes:
  web: {ports: [8080, 53]}
  worker: {command: ["/app", "-worker"], instances: 3}
`
	cfg, err := ParseConfig([]byte(op), []byte(app))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Operator: Operator{
			Registry: "registry.example.com:5000/nap", RegistryInsecure: true, Target: TargetSystemd,
			Docker: "/usr/local/bin/docker", Etcdctl: "/opt/etcd/etcdctl", NapRender: "/usr/local/bin/nap-render", State: "/srv/nap",
			UnitDir: "/run/systemd/system", DeployBranch: "main", KeepReleases: 3,
			BuildTimeout: 90 * time.Minute, Drain: 500 * time.Millisecond, EnvDir: "/etc/nap/env",
			Discovery: Discovery{Etcd: "v3", Prefix: "/apps/prod", TTL: 30, Host: "10.0.0.7", EnvFile: "/etc/environment",
				Endpoints: []string{"http://10.0.0.1:2379", "https://[::1]:2379/"}},
			Fleet:    Fleet{Endpoint: "http://10.0.0.1:49153", Tunnel: "core@10.0.0.1", Driver: "API"},
			Builder:  Builder{MachineID: "0123456789abcdef0123456789abcdef"},
			Machines: Machines{AllowedMetadata: []string{"disk=ssd", "region=eu"}},
			Limits: Limits{MaxInstances: 4, MaxMemory: 1 << 30, MaxPorts: 10, MaxEnv: 20, MaxProcesses: 3,
				MaxTree: 64 << 20, MaxFiles: 5000},
			Router: Router{Domain: "apps.example.com", HTTP: 8080, HTTPS: 8443, TLSCert: "/etc/ssl/apps.pem", TLSKey: "/etc/ssl/apps.key",
				Nginx: "/usr/local/sbin/nginx", Conf: "/etc/nginx/nap.conf"},
		},
		App: App{
			Dockerfile: "docker/Dockerfile.prod", Context: "docker", Stage: "runtime",
			BuildArgs: map[string]string{"VERSION": "1.20", "EMPTY": ""},
			Env:       map[string]string{"LOG_LEVEL": "debug", "PORT": "9000", "QUOTED": `it's 100% "$HOME"`},
			Memory:    256 << 20, CPUShares: 512,
			Metadata: []string{"disk=ssd", "region=eu"},
			Processes: map[string]Process{
				"web":    {Instances: 2, Ports: []int{8080, 53}},
				"worker": {Command: []string{"/app", "-worker"}, Instances: 3},
			},
		},
	}
	if diff := cmp.Diff(want, cfg, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

// TestParseConfigErrors: every rejection is a *ConfigError naming the file
// and line, with a message that says what to do.
func TestParseConfigErrors(t *testing.T) {
	const opOK = "machines: {allowed_metadata: [disk=ssd]}\nlimits: {max_instances: 5, max_memory: 512m}\n"
	for _, tc := range []struct {
		name, op, app, want string
	}{
		{"unknown app field", "", "instances: 1\ndockerfile: Dockerfile\n\n\n\n\ninstnces: 2\n", `nap.yaml:7: unknown field "instnces"`},
		{"operator field in app", "", "env: {A: b}\n\nregistry: evil.example.com\n", `nap.yaml:3: "registry" is set by the operator: remove it from nap.yaml`},
		{"operator field discovery", "", "discovery: {etcd: v3}\n", `nap.yaml:1: "discovery" is set by the operator`},
		{"unknown operator field", "registry: a\nregistri: b\n", "", `config.yaml:2: unknown field "registri"`},
		{"unknown nested", "discovery:\n  ttl: 10\n  tll: 3\n", "", `config.yaml:3: unknown field "tll" in discovery`},
		{"unknown process field", "", "processes:\n  web:\n    portz: [1]\n", `nap.yaml:3: unknown field "portz" in processes.web`},
		{"both instances", opOK, "instances: 2\nprocesses:\n  web: {instances: 3}\n", `nap.yaml:1: "instances" and processes.web.instances are both set: keep one`},
		{"instances over limit", opOK, "instances: 6\n", "nap.yaml:1: instances: 6 is out of range: use 1 to 5"},
		{"instances zero", "", "processes: {worker: {instances: 0}}\n", "nap.yaml:1: processes.worker.instances: 0 is out of range"},
		{"instances text", "", "instances: two\n", `nap.yaml:1: instances: want a whole number, got "two"`},
		{"duplicate key", "", "env: {A: b}\nenv: {C: d}\n", `nap.yaml:2: "env" is set twice (first on line 1): keep one`},
		{"bad yaml", "", "env: {A: b\n", "nap.yaml:"},
		{"not a mapping", "", "- a\n- b\n", "nap.yaml:1: want a mapping of fields"},
		{"second document", "", "instances: 1\n---\ninstances: 2\n", "nap.yaml:2: a second YAML document"},
		{"alias", "", "env: &e {A: b}\nbuild_args: *e\n", "nap.yaml:2: build_args: want a mapping (key: value), got an alias"},
		{"merge key", "", "processes:\n  web: &w {instances: 1}\n  worker:\n    <<: *w\n", `nap.yaml:4: unknown field "<<" in processes.worker`},
		{"env newline", "", "env:\n  A: \"x\\nExecStartPre=/bin/sh\"\n", "nap.yaml:2: env.A: a value cannot hold a line break or NUL"},
		{"env NUL", "", "env: {A: \"x\\0y\"}\n", "nap.yaml:1: env.A: a value cannot hold a line break"},
		{"env bad name", "", "env:\n  1A: b\n", `nap.yaml:2: env: invalid name "1A"`},
		{"env name with =", "", "env: {\"A=B\": c}\n", `nap.yaml:1: env: invalid name "A=B"`},
		{"env NAP_", "", "env: {NAP_RELEASE: x}\n", `nap.yaml:1: env: "NAP_RELEASE" is set by nap`},
		{"env too long", "", "env: {A: " + strings.Repeat("x", 1025) + "}\n", "nap.yaml:1: env.A: a value may be 1024 bytes at most, this one is 1025"},
		{"build arg newline", "", "build_args: {V: \"1\\r2\"}\n", "nap.yaml:1: build_args.V: a value cannot hold a line break"},
		{"env over max_env", "limits: {max_env: 2}\n", "env:\n  A: 1\n  B: 2\n  C: 3\n", "nap.yaml:1: env: 3 variables; this host allows 2 per app (limits.max_env)"},
		{"env over 64 KiB", "", "env:\n" + manyVars(70, 1000), "nap.yaml:1: env: 68 KiB in all; this host allows 64 KiB per app"},
		{"build_args over max_env", "limits: {max_env: 1}\n", "build_args: {A: 1, B: 2}\n", "nap.yaml:1: build_args: 2 variables; this host allows 1 per app (limits.max_env)"},
		{"processes over max_processes", "limits: {max_processes: 2}\n", "processes:\n  a: {}\n  b: {}\n  c: {}\n", "nap.yaml:2: processes: 3 processes; this host allows 2 per app (limits.max_processes)"},
		{"max_ports zero", "limits: {max_ports: 0}\n", "", "config.yaml:1: limits.max_ports: 0 is out of range: use 1 to 65535"},
		{"max_tree bad", "limits: {max_tree: lots}\n", "", `config.yaml:1: limits.max_tree: invalid size "lots"`},
		{"router domain", "router:\n  domain: \"apps.example.com; include /etc/shadow\"\n", "", `config.yaml:2: router.domain: "apps.example.com; include /etc/shadow": use a lower-case DNS name`},
		{"router domain upper", "router: {domain: Apps.Example.com}\n", "", `config.yaml:1: router.domain: "Apps.Example.com": use a lower-case DNS name`},
		{"router cert quote", "router:\n  domain: a.example\n  https: 443\n  tls_cert: '/etc/ssl/a\"b.pem'\n  tls_key: /k\n", "", `config.yaml:4: router.tls_cert: "/etc/ssl/a\"b.pem": use letters, digits and / . _ - + @ only`},
		{"router cert without key", "router:\n  domain: a.example\n  https: 443\n  tls_cert: /c.pem\n", "", "config.yaml:2: router: TLS needs https (a port), tls_cert and tls_key together"},
		{"router https without cert", "router: {domain: a.example, https: 443}\n", "", "config.yaml:1: router: TLS needs https"},
		{"router same ports", "router: {domain: a.example, http: 443, https: 443, tls_cert: /c, tls_key: /k}\n", "", "config.yaml:1: router: http and https are both port 443"},
		{"router port", "router: {http: 0}\n", "", "config.yaml:1: router.http: 0 is out of range: use 1 to 65535"},
		{"router conf relative", "router: {conf: nap.conf}\n", "", "config.yaml:1: router.conf:"},
		{"router unknown", "router: {domian: a.example}\n", "", `config.yaml:1: unknown field "domian" in router`},
		{"router in nap.yaml", "", "router: {domain: evil.example}\n", `nap.yaml:1: "router" is set by the operator`},
		{"nap_render relative", "nap_render: bin/nap-render\n", "", `config.yaml:1: nap_render:`},
		{"nap_render in nap.yaml", "", "nap_render: /tmp/evil\n", `nap.yaml:1: "nap_render" is set by the operator`},
		{"dockerfile absolute", "", "dockerfile: /etc/passwd\n", `nap.yaml:1: dockerfile: "/etc/passwd" is absolute`},
		{"dockerfile escapes", "", "dockerfile: a/../../x\n", `nap.yaml:1: dockerfile: "a/../../x" leaves the repository`},
		{"context escapes", "", "context: ..\n", `nap.yaml:1: context: ".." leaves the repository`},
		{"dockerfile dot", "", "dockerfile: .\n", "is the repository itself"},
		{"bad stage", "", "stage: \"a b\"\n", `nap.yaml:1: stage: invalid stage name "a b"`},
		{"memory bad", "", "memory: 2x\n", `nap.yaml:1: memory: invalid size "2x"`},
		{"memory small", "", "memory: 1m\n", "nap.yaml:1: memory: below docker's minimum of 6m"},
		{"memory over limit", opOK, "memory: 1g\n", "nap.yaml:1: memory: more than this host allows (limits.max_memory = 512m)"},
		{"cpu shares", "", "cpu_shares: 1\n", "nap.yaml:1: cpu_shares: 1 is out of range: use 2 to 262144"},
		{"metadata not allowed", opOK, "machine: {metadata: [disk=hdd]}\n", `nap.yaml:1: machine.metadata: "disk=hdd" is not allowed: use one of [disk=ssd]`},
		{"metadata none allowed", "", "machine:\n  metadata:\n    - disk=ssd\n", `nap.yaml:3: machine.metadata: "disk=ssd" is not allowed: this host allows no machine metadata`},
		{"metadata malformed", opOK, "machine: {metadata: [disk]}\n", `invalid metadata "disk": use key=value`},
		{"process name", "", "processes:\n  Web2: {}\n", `nap.yaml:2: processes: invalid process name "Web2"`},
		{"process name long", "", "processes: {abcdefghijklmnopq: {}}\n", "invalid process name"},
		{"process build", "", "processes: {build: {command: [x]}}\n", `nap.yaml:1: processes: process name "build" is reserved`},
		{"process dot", "", "processes: {\"a.b\": {}}\n", "invalid process name"},
		{"port range", "", "processes:\n  web:\n    ports: [8080, 70000]\n", "nap.yaml:3: processes.web.ports: 70000 is out of range: use 1 to 65535"},
		{"port text", "", "processes: {web: {ports: [\"8080/udp\"]}}\n", `processes.web.ports: want a whole number, got "8080/udp"`},
		{"port twice", "", "processes: {web: {ports: [80, 80]}}\n", "processes.web.ports: 80 is listed twice"},
		{"ports scalar", "", "processes: {web: {ports: 80}}\n", "processes.web.ports: want a list of container ports"},
		{"empty command", "", "processes: {worker: {command: []}}\n", "processes.worker.command: give at least the program"},
		{"command newline", "", "processes: {worker: {command: [\"a\\nb\"]}}\n", "processes.worker.command: a value cannot hold a line break"},
		{"registry bad", "registry: \"evil host\"\n", "", `config.yaml:1: registry: invalid registry "evil host"`},
		{"registry upper path", "registry: r.example.com/Nap\n", "", "invalid registry"},
		{"registry port", "registry: r:99999\n", "", "invalid registry"},
		{"target", "target: k8s\n", "", `config.yaml:1: target: "k8s": use fleet or systemd`},
		{"docker relative", "docker: docker\n", "", `config.yaml:1: docker: "docker": give an absolute, clean path`},
		{"state unclean", "state: /var/lib/../nap\n", "", "config.yaml:1: state:"},
		{"env_dir newline", "env_dir: \"/a\\n/b\"\n", "", "config.yaml:1: env_dir: a value cannot hold a line break"},
		{"branch", "deploy_branch: -x\n", "", `config.yaml:1: deploy_branch: invalid branch name "-x"`},
		{"branch dots", "deploy_branch: a..b\n", "", "invalid branch name"},
		{"keep releases", "keep_releases: 0\n", "", "config.yaml:1: keep_releases: 0 is out of range"},
		{"build timeout", "build_timeout: 20\n", "", `config.yaml:1: build_timeout: invalid duration "20": use e.g. 20m`},
		{"drain negative", "drain: -1s\n", "", "config.yaml:1: drain: invalid duration"},
		{"etcd version", "discovery: {etcd: v4}\n", "", `config.yaml:1: discovery.etcd: "v4": use v2 or v3`},
		{"prefix", "discovery: {prefix: services}\n", "", `discovery.prefix: invalid key prefix "services"`},
		{"prefix dotdot", "discovery: {prefix: /a/../b}\n", "", "invalid key prefix"},
		{"ttl", "discovery: {ttl: 1}\n", "", "discovery.ttl: 1 is out of range: use 3 to 86400"},
		{"host specifier", "discovery: {host: \"%m\"}\n", "", `discovery.host: "%m": use %H`},
		{"host shell", "discovery: {host: \"$(reboot)\"}\n", "", "discovery.host:"},
		{"host zone", "discovery: {host: \"fe80::1%eth0\"}\n", "", "discovery.host:"},
		{"endpoints empty", "discovery: {endpoints: []}\n", "", "discovery.endpoints: list at least one"},
		{"endpoint scheme", "discovery:\n  endpoints:\n    - http://a:2379\n    - ftp://b\n", "", `config.yaml:4: discovery.endpoints: invalid etcd endpoint "ftp://b"`},
		{"endpoint path", "discovery: {endpoints: [\"http://a:2379/v2/keys\"]}\n", "", "invalid etcd endpoint"},
		{"fleet driver", "fleet: {driver: ssh}\n", "", `fleet.driver: "ssh": fleetctl's --driver is API or etcd`},
		{"host variable name", "discovery: {host: \"${1X}\"}\n", "", "discovery.host: ${1X}: use a variable name"},
		{"host variable with a blank", "discovery: {host: \"${A B}\"}\n", "", "discovery.host: ${A B}: use a variable name"},
		{"host half a variable", "discovery: {host: \"${A\"}\n", "", "use %H (the host's name), ${NAME}"},
		{"env_file relative", "discovery: {env_file: etc/environment}\n", "", "discovery.env_file:"},
		{"registry_insecure not a bool", "registry_insecure: \"yes please\"\n", "", `registry_insecure: want true or false`},
		{"fleet driver in lower case", "fleet: {driver: api}\n", "", `fleet.driver: "api": fleetctl's --driver is API or etcd`},
		{"fleet endpoint blank", "fleet: {endpoint: \"a b\"}\n", "", "fleet.endpoint:"},
		{"machine id", "builder: {machine_id: xyz}\n", "", `builder.machine_id: invalid machine id "xyz"`},
		{"allowed metadata", "machines: {allowed_metadata: [\"a=b c\"]}\n", "", "machines.allowed_metadata: invalid metadata"},
		{"max memory", "limits: {max_memory: 1k}\n", "", "limits.max_memory: below docker's minimum"},
		{"unknown limits", "limits: {max_cpu: 1}\n", "", `unknown field "max_cpu" in limits`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.op), []byte(tc.app))
			if err == nil {
				t.Fatalf("ParseConfig = %+v, want an error containing %q", cfg, tc.want)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is %T, want *ConfigError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n  %s\nwant it to contain:\n  %s", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error holds a line break: %q", err)
			}
		})
	}
}

func TestParseConfigFilesNamesFiles(t *testing.T) {
	_, err := ParseConfigFiles("/etc/nap/config.yaml", nil, "apps/x/nap.yaml", []byte("\nfoo: 1\n"))
	if err == nil || err.Error() != `apps/x/nap.yaml:2: unknown field "foo"` {
		t.Errorf("got %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"512": 512, "4k": 4096, "256m": 256 << 20, "256MB": 256 << 20, "2g": 2 << 30, "2Gb": 2 << 30} {
		if got, ok := parseSize(s); !ok || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "m", "-1m", "+1m", "0", "1.5g", "1t", "99999999999g", "1 m"} {
		if got, ok := parseSize(s); ok {
			t.Errorf("parseSize(%q) = %d, want a rejection", s, got)
		}
	}
	for b, want := range map[int64]string{2 << 30: "2g", 256 << 20: "256m", 4096: "4k", 1000: "1000"} {
		if got := FormatSize(b); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", b, got, want)
		}
	}
}

func TestApply(t *testing.T) {
	cfg, _ := ParseConfig(nil, []byte("build_args: {A: nap}\n"))
	if err := cfg.Apply(Overrides{Target: "systemd", Stage: "build", BuildArgs: map[string]string{"B": "cli"}}); err != nil {
		t.Fatal(err)
	}
	if cfg.Operator.Target != TargetSystemd || cfg.App.Stage != "build" || cfg.App.BuildArgs["A"] != "nap" || cfg.App.BuildArgs["B"] != "cli" {
		t.Errorf("Apply: %+v", cfg)
	}
	for _, o := range []Overrides{{Target: "k8s"}, {Stage: "a b"}, {BuildArgs: map[string]string{"A B": "x"}}, {BuildArgs: map[string]string{"A": "x\ny"}}} {
		if err := cfg.Apply(o); err == nil {
			t.Errorf("Apply(%+v) = nil, want an error", o)
		}
	}
}

// manyVars is n env lines "  Vi: xxx…" with values of size bytes.
func manyVars(n, size int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  V%d: %s\n", i, strings.Repeat("x", size))
	}
	return b.String()
}
