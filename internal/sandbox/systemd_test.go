package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/nap-paas/nap/unit"
)

// argvProgram writes its argv and environment, each NUL-separated, to
// $ARGV_OUT.argv and $ARGV_OUT.env.
const argvProgram = `package main

import (
	"os"
	"strings"
)

func main() {
	out := os.Getenv("ARGV_OUT")
	os.WriteFile(out+".argv", []byte(strings.Join(os.Args, "\x00")), 0o644)
	os.WriteFile(out+".env", []byte(strings.Join(os.Environ(), "\x00")), 0o644)
}
`

// buildArgvProgram compiles argvProgram statically into a directory the
// machine sees.
func buildArgvProgram(t *testing.T, m *Machine) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module argv\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte(argvProgram), 0o644)
	bin := filepath.Join(dir, "argv")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the argv program: %v\n%s", err, out)
	}
	m.Share(t, dir)
	return bin
}

// marshal renders f with unit.Marshal.
func marshal(t *testing.T, f *unit.File) []byte {
	t.Helper()
	b, err := unit.Marshal(f)
	if err != nil {
		t.Fatalf("unit.Marshal: %v", err)
	}
	return b
}

// hostileWords are argv words that systemd would split, expand or reject
// unless unit.Exec quotes them right.
func hostileWords() [][]string {
	long := make([]string, 0, 400)
	for i := 0; i < 400; i++ {
		long = append(long, "word"+strconv.Itoa(i)+"-with-some-length")
	}
	return [][]string{
		{"plain", "words"},
		{"it's", `"double"`, `'single'`, `mixed"'quotes`},
		{"$HOME", "${HOME}", "$$", "$", "a$b", "$1"},
		{"%h", "%%", "100%", "%i%n", "%"},
		{`back\slash`, `trailing\`, `\n`, `\\`, `\x41`, `\`},
		{"tab\there", "\t", "a b", " lead", "trail ", ""},
		{";"}, {"a", ";", "b"}, {";;", "a;b"},
		{"héllo", "世界", "🚀", "\u00a0nbsp"},
		{strings.Repeat("x", 1500)},
		long,
	}
}

// fuzzSeeds reads the string values of unit's fuzz corpus, if present, each
// file's values as one argv.
func fuzzSeeds(t *testing.T) [][]string {
	root := filepath.Join("..", "..", "unit", "testdata", "fuzz")
	var seeds [][]string
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		var words []string
		for _, line := range strings.Split(string(b), "\n")[1:] {
			line = strings.TrimSpace(line)
			for _, prefix := range []string{"string(", "[]byte("} {
				if v, ok := strings.CutPrefix(line, prefix); ok {
					if s, err := strconv.Unquote(strings.TrimSuffix(v, ")")); err == nil {
						words = append(words, s)
					}
				}
			}
		}
		if len(words) > 0 {
			seeds = append(seeds, words)
		}
		return nil
	})
	return seeds
}

// representable reports whether a word can be an argv word at all: a unit
// file is UTF-8 text of lines, and a C string has no NUL.
func representable(words []string) bool {
	for _, w := range words {
		if strings.ContainsAny(w, "\r\n\x00") || !utf8.ValidString(w) {
			return false
		}
	}
	return true
}

// TestSystemd checks on a real systemd what only it can judge: how it
// splits nap's Exec lines and Environment= values, and how sidekick units
// follow their main unit.
func TestSystemd(t *testing.T) {
	m := NewMachine(t, Options{})
	unitDir := filepath.Join(m.Dir(), "fs", "etc", "systemd", "system")
	outDir := filepath.Join(m.Dir(), "fs", "tmp") // the machine's /tmp

	t.Run("exec lines", func(t *testing.T) {
		prog := buildArgvProgram(t, m)
		hostile := hostileWords()
		cases := append(hostile, fuzzSeeds(t)...)
		type check struct {
			name string
			argv []string
			env  map[string]string
		}
		var checks []check
		for i, words := range cases {
			if !representable(words) {
				continue
			}
			name := fmt.Sprintf("nap-argv-%d.service", i)
			argv := append([]string{prog}, words...)
			env := map[string]string{"NAP_V": strings.Join(words, " ")}
			f := unit.NewFile(name)
			f.Section("Unit").AddRaw("Description", "argv case "+strconv.Itoa(i))
			svc := f.Section("Service")
			svc.AddRaw("Type", "oneshot")
			svc.AddRaw("Environment", "ARGV_OUT=/tmp/"+strings.TrimSuffix(name, ".service"))
			svc.AddRaw("Environment", unit.Env("NAP_V", unit.Lit(env["NAP_V"])))
			svc.AddRaw("ExecStart", unit.Exec(argv...))
			if i >= len(hostile) {
				// Fuzz seeds include values unit/ rightly refuses (e.g. a
				// word too long to wrap): only what Marshal writes is
				// systemd's to judge.
				if _, err := unit.Marshal(f); err != nil {
					t.Logf("seed %d not representable in a unit: %v", i, err)
					continue
				}
			}
			if err := os.WriteFile(filepath.Join(unitDir, name), marshal(t, f), 0o644); err != nil {
				t.Fatal(err)
			}
			checks = append(checks, check{name, argv, env})
		}
		// a control proving the comparison sees systemd's rules at work:
		// quotes are consumed, "$$" and "%%" unescaped
		control := unit.NewFile("nap-argv-control.service")
		control.Section("Service").AddRaw("Type", "oneshot").
			AddRaw("Environment", "ARGV_OUT=/tmp/nap-argv-control").
			AddRaw("ExecStart", prog+` "a b" $$HOME %%h`)
		if err := os.WriteFile(filepath.Join(unitDir, control.Name), marshal(t, control), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Systemctl("daemon-reload"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Systemctl("start", control.Name); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(outDir, "nap-argv-control.argv")); string(got) != prog+"\x00a b\x00$HOME\x00%h" {
			t.Fatalf("control unit ran with argv %q", got)
		}
		t.Logf("%d argv cases (%d from unit's fuzz corpus)", len(checks), len(fuzzSeeds(t)))
		for _, c := range checks {
			if _, err := m.Systemctl("start", c.name); err != nil {
				text, _ := os.ReadFile(filepath.Join(unitDir, c.name))
				t.Errorf("%s: %v\n%s\nunit:\n%s", c.name, err, m.Journal(c.name), text)
				continue
			}
			out := filepath.Join(outDir, strings.TrimSuffix(c.name, ".service"))
			gotArgv, err := os.ReadFile(out + ".argv")
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if diff := cmp.Diff(c.argv, strings.Split(string(gotArgv), "\x00")); diff != "" {
				t.Errorf("%s: systemd split ExecStart into another argv (-given +ran):\n%s", c.name, diff)
			}
			gotEnv, _ := os.ReadFile(out + ".env")
			for k, v := range c.env {
				want := []byte(k + "=" + v)
				found := false
				for _, kv := range bytes.Split(gotEnv, []byte{0}) {
					if bytes.Equal(kv, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: Environment=%s did not reach the process byte for byte: want %q in %q", c.name, k, want, gotEnv)
				}
			}
		}
	})

	t.Run("sidekick", func(t *testing.T) {
		files := map[string]string{
			"nap-main@.service": "[Unit]\nDescription=main %i\n[Service]\nExecStart=/bin/sleep infinity\nRestart=on-failure\nRestartSec=1\n",
			"nap-side@.service": "[Unit]\nDescription=sidekick of main %i\nBindsTo=nap-main@%i.service\nAfter=nap-main@%i.service\n" +
				"[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=nap-main@%i.service\n",
		}
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(unitDir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		const main, side = "nap-main@1.service", "nap-side@1.service"
		steps := []struct {
			what       string
			argv       []string
			main, side string
		}{
			{"daemon-reload", []string{"daemon-reload"}, "inactive", "inactive"},
			{"enable the sidekick", []string{"enable", side}, "inactive", "inactive"},
			{"start the main unit: the sidekick starts", []string{"start", main}, "active", "active"},
			{"stop the main unit: the sidekick stops", []string{"stop", main}, "inactive", "inactive"},
			{"start the main unit again: the sidekick comes back", []string{"start", main}, "active", "active"},
		}
		for _, s := range steps {
			if out, err := m.Systemctl(s.argv...); err != nil {
				t.Fatalf("%s: %v %s", s.what, err, out)
			}
			waitState(t, m, s.what, main, s.main)
			waitState(t, m, s.what, side, s.side)
		}
		sidePID, _ := m.Systemctl("show", "-P", "MainPID", side)
		mainPID, _ := m.Systemctl("show", "-P", "MainPID", main)
		// the main unit dies: Restart=on-failure brings it back, and the
		// sidekick with it
		if _, err := m.Systemctl("kill", "--signal=KILL", main); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			newMain, _ := m.Systemctl("show", "-P", "MainPID", main)
			if newMain != mainPID && newMain != "0" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s was not restarted after SIGKILL:\n%s", main, m.Journal(main))
			}
			time.Sleep(100 * time.Millisecond)
		}
		waitState(t, m, "main killed and restarted", main, "active")
		waitState(t, m, "main killed and restarted", side, "active")
		newSidePID, _ := m.Systemctl("show", "-P", "MainPID", side)
		restarts, _ := m.Systemctl("show", "-P", "NRestarts", main)
		t.Logf("observed: after SIGKILL of %s (restarted %s time(s) by Restart=on-failure), %s is active again; its pid went %s → %s (restarted: %v)",
			main, restarts, side, sidePID, newSidePID, sidePID != newSidePID)
	})
}

// waitState waits up to 30 s for unit to be in state (systemctl is-active).
func waitState(t *testing.T, m *Machine, step, unit, state string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := m.Systemctl("is-active", unit)
		if got == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s is %q, want %q\n%s", step, unit, got, state, m.Journal(unit))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
