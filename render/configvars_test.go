package render

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A release with config vars: its run unit names their file (after the
// operator's env_dir file, so they win) and drops nap.yaml's env of the
// same names (docker's -e would win); no value is in any unit.
func TestRenderConfigVars(t *testing.T) {
	cfg := mustConfig(t, "target: systemd\nenv_dir: /etc/nap/env\n", "env: {GREETING: hello, LEVEL: debug}\n")
	rel := Release{App: "hello", Rev: testRev, Gen: 2, ConfigFile: "/var/lib/nap/hello/config/3.env", ConfigKeys: []string{"GREETING", "SECRET"}}
	files, err := Render(parseImage(t, helloDockerfile), cfg, rel)
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Join(values(files[1], "Service", "ExecStart"), "")
	for _, want := range []string{"-e LEVEL=debug --env-file /etc/nap/env/hello.env --env-file /var/lib/nap/hello/config/3.env "} {
		if !strings.Contains(start, want) {
			t.Errorf("ExecStart lacks %q:\n%s", want, start)
		}
	}
	if strings.Contains(start, "GREETING") {
		t.Errorf("nap.yaml's GREETING is still passed with -e, over the config var:\n%s", start)
	}
	for name, bad := range map[string]Release{
		"relative file": {ConfigFile: "config/3.env"},
		"file newline":  {ConfigFile: "/x\nExecStartPre=/bin/sh"},
		"key":           {ConfigFile: "/x.env", ConfigKeys: []string{"A B"}},
		"keys, no file": {ConfigKeys: []string{"A"}},
	} {
		bad.App, bad.Rev = "hello", testRev
		if _, err := Render(parseImage(t, helloDockerfile), cfg, bad); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}

func TestConfigVars(t *testing.T) {
	vars := map[string]string{"B": "two words", "A": "x=y", "EMPTY": "", "Q": `"quoted" $HOME`}
	b := EnvFile(vars)
	if string(b) != "A=x=y\nB=two words\nEMPTY=\nQ=\"quoted\" $HOME\n" {
		t.Errorf("EnvFile = %q", b)
	}
	back, err := ParseEnvFile(b)
	if err != nil || !cmp.Equal(back, vars) {
		t.Errorf("ParseEnvFile = %v, %v", back, err)
	}
	lim := DefaultOperator().Limits
	for name, tc := range map[string]struct {
		vars, env map[string]string
		max       int
		want      string
	}{
		"newline":  {map[string]string{"A": "a\nB=b"}, nil, 0, "line break"},
		"NUL":      {map[string]string{"A": "a\x00"}, nil, 0, "line break or NUL"},
		"NAP_":     {map[string]string{"NAP_APP": "x"}, nil, 0, "is set by nap"},
		"name":     {map[string]string{"A-B": "x"}, nil, 0, "invalid name"},
		"too long": {map[string]string{"A": strings.Repeat("x", MaxConfigValue+1)}, nil, 0, "bytes at most"},
		"max_env":  {map[string]string{"A": "1", "B": "2"}, map[string]string{"C": "3", "A": "0"}, 2, "3 variables; this host allows 2"},
		"64 KiB":   {map[string]string{"A": strings.Repeat("x", 30000), "B": strings.Repeat("x", 30000)}, map[string]string{"C": strings.Repeat("x", 10000)}, 0, "KiB in all"},
	} {
		l := lim
		if tc.max > 0 {
			l.MaxEnv = tc.max
		}
		if err := CheckConfigVars(tc.vars, tc.env, l); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// On fleet the run unit fetches the vars from etcd onto its machine before
// docker starts, and removes them when it stops; it names the key only.
func TestRenderConfigVarsFleet(t *testing.T) {
	cfg := mustConfig(t, "target: fleet\ndiscovery: {etcd: v3, endpoints: [\"http://f1:2379\"]}\n", "")
	rel := Release{App: "hello", Rev: testRev, Gen: 2, ConfigKey: ConfigKey("hello", 3), ConfigKeys: []string{"SECRET"}}
	files, err := Render(parseImage(t, helloDockerfile), cfg, rel)
	if err != nil {
		t.Fatal(err)
	}
	run := files[1]
	pre := values(run, "Service", "ExecStartPre")
	if want := "/opt/nap/bin/nap-render config-fetch --etcd v3 --endpoints http://f1:2379 --key /nap/config/hello/3 --out /run/nap/%n.env"; len(pre) != 3 || pre[2] != want {
		t.Errorf("ExecStartPre = %q, want the fetch last:\n%s", pre, want)
	}
	if start := strings.Join(values(run, "Service", "ExecStart"), ""); !strings.Contains(start, "--env-file /run/nap/%n.env ") {
		t.Errorf("ExecStart does not read the fetched file:\n%s", start)
	}
	if post := values(run, "Service", "ExecStopPost"); len(post) != 1 || post[0] != "-/bin/rm -f /run/nap/%n.env" {
		t.Errorf("ExecStopPost = %q", post)
	}
	for name, bad := range map[string]Release{
		"both":      {ConfigFile: "/x.env", ConfigKey: "/nap/config/hello/1"},
		"key":       {ConfigKey: "/nap/config/hello/1\nExecStartPre=/bin/sh"},
		"key blank": {ConfigKey: "/nap/config/a b"},
	} {
		bad.App, bad.Rev = "hello", testRev
		if _, err := Render(parseImage(t, helloDockerfile), cfg, bad); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}
