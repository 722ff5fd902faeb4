package render

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/unit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const discoveryRev = "0123456789abcdef0123456789abcdef01234567"

// discoveryConfig is a parsed operator config for target (v2, TTL 60,
// default endpoints unless the YAML says otherwise).
func discoveryConfig(t testing.TB, operatorYAML string) *Config {
	t.Helper()
	cfg, err := ParseConfig([]byte(operatorYAML), nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return cfg
}

var webSidekick = Sidekick{
	App: "shop", Proc: "web", Rev: discoveryRev, Primary: 8080,
	Ports: []dockerfile.Port{{Start: 8080, End: 8081, Proto: "tcp"}, {Start: 9090, End: 9090, Proto: "udp"}},
}

// Every line of discovery.sh must end where joining with a space keeps its
// meaning: a missing ";" would glue two commands into one.
func TestDiscoveryScriptLinesJoin(t *testing.T) {
	ends := []string{";", " then", " do", "{", " else", " in", "||", "&&"}
	for i, line := range strings.Split(discoverySource, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ok := false
		for _, e := range ends {
			ok = ok || strings.HasSuffix(" "+line, e)
		}
		if !ok {
			t.Errorf("discovery.sh:%d: %q does not end with one of %q", i+1, line, ends)
		}
		if strings.Contains(line, " #") {
			t.Errorf("discovery.sh:%d: a comment after code would swallow the rest of the joined line", i+1)
		}
	}
	if strings.ContainsAny(discoveryScript(), "\n\r") {
		t.Error("the joined script holds a line break")
	}
}

// The script that runs is the joined one: bash must parse it and shellcheck
// must find nothing in it, at every severity.
func TestDiscoveryScriptShellcheck(t *testing.T) {
	for _, tool := range []string{"bash", "shellcheck"} {
		sandbox.Tool(t, tool)
	}
	if out, err := exec.Command("bash", "-n", "-c", discoveryScript()).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	cmd := exec.Command("shellcheck", "--shell=bash", "--severity=style", "-")
	cmd.Stdin = strings.NewReader(discoveryScript() + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shellcheck on the joined script: %v\n%s", err, out)
	}
}

// execArgv returns the ExecStart= of f as systemd splits it.
func execArgv(t *testing.T, f *unit.File) []string {
	t.Helper()
	for _, s := range f.Sections {
		for _, o := range s.Options {
			if s.Name == "Service" && o.Name == "ExecStart" {
				argv, err := unit.SplitExec(o.Value)
				if err != nil {
					t.Fatalf("SplitExec(%q): %v", o.Value, err)
				}
				return argv
			}
		}
	}
	t.Fatalf("%s has no ExecStart=", f.Name)
	return nil
}

func TestDiscoveryUnitArguments(t *testing.T) {
	cfg := discoveryConfig(t, "target: systemd\ndiscovery: {etcd: v3, ttl: 30, host: 10.0.0.7, endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379]}\n")
	argv := execArgv(t, discoveryUnit(cfg, webSidekick))
	want := []string{"/bin/bash", "-c", discoveryScript(), "nap-discovery",
		"/usr/bin/docker", "/usr/bin/etcdctl", "v3", "http://10.0.0.1:2379,http://10.0.0.2:2379", "30",
		"/services/shop/web/0123456789ab.%i", "shop.web.0123456789ab.%i", "10.0.0.7",
		inspectFormat(webSidekick), "8080"}
	if diff := cmp.Diff(want, argv); diff != "" {
		t.Errorf("ExecStart argv (-want +got):\n%s", diff)
	}
}

func TestDiscoveryUnitProbe(t *testing.T) {
	cfg := discoveryConfig(t, "")
	for _, tc := range []struct {
		name string
		s    Sidekick
		want string
	}{
		{"tcp primary", webSidekick, "8080"},
		{"healthcheck wins", Sidekick{App: "a", Proc: "web", Rev: discoveryRev, Primary: 8080, Healthcheck: true,
			Ports: []dockerfile.Port{{Start: 8080, End: 8080, Proto: "tcp"}}}, "health"},
		{"udp primary cannot be probed", Sidekick{App: "a", Proc: "web", Rev: discoveryRev, Primary: 53,
			Ports: []dockerfile.Port{{Start: 53, End: 53, Proto: "udp"}}}, "none"},
		{"tcp and udp on one number", Sidekick{App: "a", Proc: "web", Rev: discoveryRev, Primary: 53,
			Ports: []dockerfile.Port{{Start: 53, End: 53, Proto: "udp"}, {Start: 53, End: 53, Proto: "tcp"}}}, "53"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv := execArgv(t, discoveryUnit(cfg, tc.s))
			if got := argv[len(argv)-1]; got != tc.want {
				t.Errorf("probe = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestInspectFormat(t *testing.T) {
	h := func(p string) string {
		return `{{with index .NetworkSettings.Ports "` + p + `"}}{{with (index . 0).HostPort}}{{.}}{{else}}null{{end}}{{else}}null{{end}}`
	}
	want := `{{.State.Running}}|{{with index .State "Health"}}{{.Status}}{{end}}|{{.NetworkSettings.IPAddress}}|` +
		`"port":` + h("8080/tcp") + `,"ports":{"8080/tcp":` + h("8080/tcp") + `,"8081/tcp":` + h("8081/tcp") +
		`,"9090/udp":` + h("9090/udp") + `},"release":"` + discoveryRev + `"}`
	if got := inspectFormat(webSidekick); got != want {
		t.Errorf("inspectFormat:\n got %s\nwant %s", got, want)
	}
}

// Hostile operator values reach the script as arguments, byte for byte; the
// script text never changes.
func TestDiscoveryUnitHostileValues(t *testing.T) {
	for _, v := range []string{`/a b`, `/x"y'z`, `/$HOME/${x}/$(id)`, `/%i%H%%`, `/;`, "/back\\slash", `/a;b|c&d`, "/tab\tx", "/é✓"} {
		cfg := discoveryConfig(t, "")
		cfg.Operator.Discovery.Prefix = v
		cfg.Operator.Discovery.Host = v + "host"
		cfg.Operator.Docker = v + "/docker"
		f := discoveryUnit(cfg, webSidekick)
		b, err := unit.Marshal(f)
		if err != nil {
			t.Fatalf("prefix %q: Marshal: %v", v, err)
		}
		back, err := unit.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("prefix %q: Read: %v", v, err)
		}
		back.Name = f.Name
		argv := execArgv(t, back)
		if argv[2] != discoveryScript() {
			t.Errorf("prefix %q: the script changed", v)
		}
		if got, want := argv[9], v+"/shop/web/0123456789ab.%i"; got != want {
			t.Errorf("key = %q, want %q", got, want)
		}
		if got, want := argv[11], v+"host"; got != want {
			t.Errorf("host = %q, want %q", got, want)
		}
		if got, want := argv[4], v+"/docker"; got != want {
			t.Errorf("docker = %q, want %q", got, want)
		}
	}
}

// The unit as written: golden files for both targets, every physical line
// under MaxLine, and systemd-analyze verify accepts it next to its run unit.
func TestDiscoveryUnitGolden(t *testing.T) {
	img, err := dockerfile.Parse("Dockerfile", strings.NewReader("FROM scratch\nCOPY app /app\nEXPOSE 8080 8081 9090/udp\nCMD [\"/app\"]\n"), dockerfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"fleet", "systemd"} {
		t.Run(target, func(t *testing.T) {
			cfg := discoveryConfig(t, "target: "+target+"\n")
			files, err := Render(img, cfg, Release{App: "shop", Rev: discoveryRev})
			if err != nil {
				t.Fatal(err)
			}
			var sidekick *unit.File
			for _, f := range files {
				if strings.HasSuffix(f.Name, ".discovery@.service") {
					sidekick = f
				}
			}
			if sidekick == nil {
				t.Fatalf("Render returned no discovery unit among %d files", len(files))
			}
			got, err := unit.Marshal(sidekick)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range bytes.Split(got, []byte("\n")) {
				if len(line) > unit.MaxLine {
					t.Errorf("line %d is %d bytes", i+1, len(line))
				}
			}
			golden := filepath.Join("testdata", "discovery-"+target+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./render -run Discovery -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
			if target == "systemd" {
				sandbox.Verify(t, files...)
			}
		})
	}
}

// Whatever the operator's values hold, the unit either is refused (a line
// break or NUL cannot be written) or reads back as the same script with
// the values as whole arguments.
func FuzzDiscoveryUnit(f *testing.F) {
	for _, s := range []string{"/services", `/a b"c'$d%e\`, "/x\ny", "/%i%%;", "/\x00", "/\xff\xfe", "/ ; rm -rf /"} {
		f.Add(s, s+"host", s+"/docker")
	}
	f.Fuzz(func(t *testing.T, prefix, host, docker string) {
		cfg := discoveryConfig(t, "")
		cfg.Operator.Discovery.Prefix = prefix
		cfg.Operator.Discovery.Host = host
		cfg.Operator.Docker = docker
		u := discoveryUnit(cfg, webSidekick)
		b, err := unit.Marshal(u)
		if err != nil {
			if !strings.ContainsAny(prefix+host+docker, "\r\n\x00") {
				t.Fatalf("Marshal refused values without a line break or NUL: %v", err)
			}
			return
		}
		back, err := unit.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Read: %v\n%s", err, b)
		}
		back.Name = u.Name
		argv := execArgv(t, back)
		want := map[int]string{2: discoveryScript(), 4: docker, 9: strings.TrimRight(prefix, "/") + "/shop/web/0123456789ab.%i", 11: host}
		if host == "%H" {
			want[11] = "%H"
		}
		for i, w := range want {
			if argv[i] != w {
				t.Errorf("argv[%d] = %q, want %q", i, argv[i], w)
			}
		}
	})
}

func BenchmarkDiscoveryUnit(b *testing.B) {
	cfg := discoveryConfig(b, "")
	for i := 0; i < b.N; i++ {
		if _, err := unit.Marshal(discoveryUnit(cfg, webSidekick)); err != nil {
			b.Fatal(err)
		}
	}
}
