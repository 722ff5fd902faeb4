package render

import (
	"bytes"
	"flag"
	"os"
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

// execArgv returns the ExecStart= of f as systemd splits it.
func execArgv(t *testing.T, f *unit.File) []string {
	t.Helper()
	return commandArgv(t, f, "ExecStart")
}

// commandArgv returns f's option name (ExecStart, ExecStop…) as systemd
// splits it.
func commandArgv(t *testing.T, f *unit.File, name string) []string {
	t.Helper()
	for _, s := range f.Sections {
		for _, o := range s.Options {
			if s.Name == "Service" && o.Name == name {
				argv, err := unit.SplitExec(o.Value)
				if err != nil {
					t.Fatalf("SplitExec(%q): %v", o.Value, err)
				}
				return argv
			}
		}
	}
	t.Fatalf("%s has no %s=", f.Name, name)
	return nil
}

// flagValues returns the values argv gives flag.
func flagValues(argv []string, flag string) []string {
	var out []string
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == flag {
			out = append(out, argv[i+1])
		}
	}
	return out
}

func TestDiscoveryUnitArguments(t *testing.T) {
	cfg := discoveryConfig(t, "target: systemd\ndiscovery: {etcd: v3, ttl: 30, host: 10.0.0.7, endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379]}\n")
	u := discoveryUnit(cfg, webSidekick)
	argv := execArgv(t, u)
	want := []string{"/opt/nap/bin/nap-render", "announce", "register",
		"--etcd", "v3", "--endpoints", "http://10.0.0.1:2379,http://10.0.0.2:2379", "--ttl", "30",
		"--key", "/services/shop/web/0123456789ab.%i", "--container", "shop.web.0123456789ab.%i", "--host", "10.0.0.7",
		"--release", discoveryRev, "--probe", "tcp", "--primary", "8080/tcp",
		"--port", "8080/tcp", "--port", "8081/tcp", "--port", "9090/udp"}
	if diff := cmp.Diff(want, argv); diff != "" {
		t.Errorf("ExecStart argv (-want +got):\n%s", diff)
	}
	want = []string{"/opt/nap/bin/nap-render", "announce", "withdraw",
		"--etcd", "v3", "--endpoints", "http://10.0.0.1:2379,http://10.0.0.2:2379",
		"--key", "/services/shop/web/0123456789ab.%i"}
	if diff := cmp.Diff(want, commandArgv(t, u, "ExecStopPost")); diff != "" {
		t.Errorf("ExecStopPost argv (-want +got):\n%s", diff)
	}
}

func TestDiscoveryUnitProbe(t *testing.T) {
	cfg := discoveryConfig(t, "")
	for _, tc := range []struct {
		name           string
		s              Sidekick
		probe, primary string
	}{
		{"tcp primary", webSidekick, "tcp", "8080/tcp"},
		{"healthcheck wins", Sidekick{App: "a", Proc: "web", Rev: discoveryRev, Primary: 8080, Healthcheck: true,
			Ports: []dockerfile.Port{{Start: 8080, End: 8080, Proto: "tcp"}}}, "health", "8080/tcp"},
		{"udp primary cannot be probed", Sidekick{App: "a", Proc: "web", Rev: discoveryRev, Primary: 53,
			Ports: []dockerfile.Port{{Start: 53, End: 53, Proto: "udp"}}}, "none", "53/udp"},
		{"tcp and udp on one number", Sidekick{App: "a", Proc: "web", Rev: discoveryRev, Primary: 53,
			Ports: []dockerfile.Port{{Start: 53, End: 53, Proto: "udp"}, {Start: 53, End: 53, Proto: "tcp"}}}, "tcp", "53/tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv := execArgv(t, discoveryUnit(cfg, tc.s))
			if got := flagValues(argv, "--probe"); len(got) != 1 || got[0] != tc.probe {
				t.Errorf("--probe %q, want %q", got, tc.probe)
			}
			if got := flagValues(argv, "--primary"); len(got) != 1 || got[0] != tc.primary {
				t.Errorf("--primary %q, want %q", got, tc.primary)
			}
		})
	}
}

// Hostile operator values reach the sidekick as whole arguments, byte for
// byte.
func TestDiscoveryUnitHostileValues(t *testing.T) {
	for _, v := range []string{`/a b`, `/x"y'z`, `/$HOME/${x}/$(id)`, `/%i%H%%`, `/;`, "/back\\slash", `/a;b|c&d`, "/tab\tx", "/é✓", "/--probe"} {
		cfg := discoveryConfig(t, "")
		cfg.Operator.Discovery.Prefix = v
		cfg.Operator.Discovery.Host = v + "host"
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
		if got, want := flagValues(argv, "--key"), v+"/shop/web/0123456789ab.%i"; len(got) != 1 || got[0] != want {
			t.Errorf("key = %q, want %q", got, want)
		}
		if got, want := flagValues(argv, "--host"), v+"host"; len(got) != 1 || got[0] != want {
			t.Errorf("host = %q, want %q", got, want)
		}
		if len(argv) != 27 {
			t.Errorf("%d words, want 27: %q", len(argv), argv)
		}
		if got, want := flagValues(commandArgv(t, back, "ExecStopPost"), "--key"), v+"/shop/web/0123456789ab.%i"; len(got) != 1 || got[0] != want {
			t.Errorf("ExecStopPost key = %q, want %q", got, want)
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
		f.Add(s, s+"host", s+"/nap-render")
	}
	f.Fuzz(func(t *testing.T, prefix, host, napRender string) {
		cfg := discoveryConfig(t, "")
		cfg.Operator.Discovery.Prefix = prefix
		cfg.Operator.Discovery.Host = host
		cfg.Operator.NapRender = napRender
		u := discoveryUnit(cfg, webSidekick)
		b, err := unit.Marshal(u)
		if err != nil {
			if !strings.ContainsAny(prefix+host+napRender, "\r\n\x00") && plainPath(napRender) {
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
		if !plainPath(napRender) {
			return // the operator config admits only plain absolute paths
		}
		key := strings.TrimRight(prefix, "/") + "/shop/web/0123456789ab.%i"
		want := map[int]string{0: napRender, 10: key, 14: host}
		for i, w := range want {
			if argv[i] != w {
				t.Errorf("argv[%d] = %q, want %q", i, argv[i], w)
			}
		}
		if stop := commandArgv(t, back, "ExecStopPost"); len(stop) != 9 || stop[0] != napRender || stop[8] != key {
			t.Errorf("ExecStopPost argv %q, want %s … --key %q", stop, napRender, key)
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

// plainPath reports whether p is an absolute path of [A-Za-z0-9/._-], as
// the operator config's validation lets through: an executable unit.Exec
// writes. Anything else it may refuse.
func plainPath(p string) bool {
	if !strings.HasPrefix(p, "/") || p == "/" || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-", r)) {
			return false
		}
	}
	return true
}
