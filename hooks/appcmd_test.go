package hooks

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nap-paas/nap/internal/cli"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		line   string
		argv   []string
		writes bool
	}{
		{"help", []string{"help"}, false},
		{"apps --json", []string{"apps", "--json"}, false},
		{"status hello", []string{"status", "hello"}, false},
		{"logs hello -f -n 20 --process worker", []string{"logs", "hello", "-f", "-n", "20", "--process", "worker"}, false},
		{"restart hello web", []string{"restart", "hello", "web"}, true},
		{"rollback hello 0123456789ab-2", []string{"rollback", "hello", "0123456789ab-2"}, true},
		{"destroy hello --confirm hello", []string{"destroy", "hello", "--confirm", "hello"}, true},
		{"config hello", []string{"config", "hello"}, true},
		{`config:set hello 'GREETING=hi there' "B=\$HOME"`, []string{"config:set", "hello", "GREETING=hi there", "B=$HOME"}, true},
		{"config:set hello SECRET -", []string{"config:set", "hello", "SECRET", "-"}, true},
		{"config:unset hello A B", []string{"config:unset", "hello", "A", "B"}, true},
		{`run hello -- /hello exit 3 'A B'`, []string{"run", "hello", "--", "/hello", "exit", "3", "A B"}, true},
		{`run hello /hello exit 3`, []string{"run", "hello", "/hello", "exit", "3"}, true},
		// One rule of flags, the host's: anywhere before --, -n=5 as -n 5.
		{"logs -f hello -n=5", []string{"logs", "-f", "hello", "-n=5"}, false},
		{"destroy --confirm=hello hello", []string{"destroy", "--confirm=hello", "hello"}, true},
		{"help logs", []string{"help", "logs"}, false},
		{"logs -h", []string{"help", "logs"}, false},
		{"config:set --help hello", []string{"help", "config:set"}, false},
	} {
		c, err := ParseCommand(tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if c.App != "" && c.App != "hello" {
			t.Errorf("%q: APP %q, want hello", tc.line, c.App)
		}
		if diff := cmp.Diff(tc.argv, c.Argv()); diff != "" || c.Writes() != tc.writes {
			t.Errorf("%q: writes %v (-want +got):\n%s", tc.line, c.Writes(), diff)
		}
	}
}

// Hostile and wrong command lines: each refused with a *RequestError that
// says what to do, nothing run.
func TestParseCommandRefuses(t *testing.T) {
	for line, want := range map[string]string{
		"":                                    "interactive shell access is not allowed",
		"sh":                                  `unknown command "sh"`,
		"status":                              "usage: status APP",
		"status Hello":                        "invalid app name",
		"status ../x":                         "invalid app name",
		"status hello; id":                    "';' outside quotes",
		"status hello && id":                  "'&' outside quotes",
		"status hello\nid":                    `'\n' outside quotes`,
		"status hello | nc x 1":               "'|' outside quotes",
		"status hello > /etc/passwd":          "'>' outside quotes",
		"status $(id)":                        "'(' outside quotes",
		"status 'hello":                       "not closed",
		"status hello --json --evil":          "flag provided but not defined: -evil",
		"logs hello -n -5":                    "give a number of lines",
		"logs hello -n 1e9":                   `invalid value "1e9" for flag -n`,
		"logs hello -n 100001":                "give a number of lines",
		"logs hello -n":                       "flag needs an argument: -n",
		"logs hello --process Web":            "invalid process name",
		"logs hello --process build":          "reserved",
		"restart hello web worker":            "usage: restart APP [PROCESS]",
		"rollback hello 'x;y'":                "give a release as status lists it",
		"rollback hello 0123456789ab-1":       "give a release as status lists it",
		"destroy hello":                       "confirm with --confirm hello",
		"destroy hello --confirm other":       "confirm with --confirm hello",
		"config:set hello":                    "usage: config:set APP NAME=VALUE…",
		"config:set hello NOEQUALS":           "give NAME=VALUE",
		"config:set hello NAP_RELEASE=x":      "is set by nap",
		"config:set hello 1A=x":               "invalid name",
		"config:set hello 'A=line\nbreak'":    "line break",
		"config:unset hello":                  "usage: config:unset APP NAME…",
		"config:unset hello 'A B'":            "invalid name",
		"status " + strings.Repeat("a ", 600): "at most 512 are taken",
		strings.Repeat("x", 70000):            "at most 65536 are taken",
		"help me":                             `unknown command "me"`,
		// The host's own flags are no user's: apps --for is the session's.
		"apps --for bob":                "flag provided but not defined: -for",
		"status hello --config /tmp/x":  "flag provided but not defined: -config",
		"logs hello --tool-timeout 1h":  "flag provided but not defined: -tool-timeout",
		"run hello ls -la":              "flag provided but not defined: -la",
		"run hello":                     "usage: run APP [--] CMD…",
		"destroy hello --confirm=other": "confirm with --confirm hello",
		"status -- --json":              "invalid app name",
	} {
		_, err := ParseCommand(line)
		var re *RequestError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60q: %v, want a RequestError with %q", line, err, want)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"logs hello -f", "config:set hello 'A=b c'", "destroy hello --confirm hello", "status a;b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseCommand(line)
		if err != nil {
			return
		}
		// What runs is a known command, a valid app, and words with no
		// line break or NUL in them.
		if AppCommandNamed(c.Name) == nil {
			t.Fatalf("%q ran %q", line, c.Name)
		}
		// The host reads the same words with its flags (a superset) and
		// finds the same APP: access was checked for the app that runs.
		call, err := (&cli.Command{Args: c.Args, Flags: c.Flags()}).Parse(c.Words)
		if c.OnHost() && (err != nil || c.App != "" && call.Args[0] != c.App) {
			t.Fatalf("%q: the host reads %v, %v; ssh read APP %q", line, call, err, c.App)
		}
		for _, w := range c.Argv() {
			if strings.ContainsAny(w, "\n\r\x00") && c.Name != "run" { // run's command reaches the container as argv
				t.Fatalf("%q: word %q", line, w)
			}
		}
	})
}

func TestCommandHelp(t *testing.T) {
	all := CommandHelp("ssh nap@HOST ", nil)
	for _, a := range AppCommands {
		if !strings.Contains(all, "ssh nap@HOST "+a.Usage+"\n    "+a.Summary+"\n") {
			t.Errorf("help lacks %s:\n%s", a.Name, all)
		}
	}
	if got, want := CommandHelp("ssh git@HOST nap ", []string{"restart"}), "ssh git@HOST nap restart APP [PROCESS]\n\nRestart the running instances one at a time.\n"; got != want {
		t.Errorf("help restart = %q, want %q", got, want)
	}
	if got := CommandHelp("", []string{"logs"}); !strings.HasPrefix(got, "logs APP [-f] [-n N] [--process P]\n\nPrints the last N entries") {
		t.Errorf("help logs = %q", got)
	}
}
