package hooks

import (
	"strings"
	"testing"

	"github.com/nap-paas/nap/render"
)

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		in, verb, app, err string
	}{
		{in: "git-receive-pack 'myapp'", verb: "git-receive-pack", app: "myapp"},
		{in: "git-receive-pack '/myapp.git'", verb: "git-receive-pack", app: "myapp"},
		{in: "git-upload-pack 'myapp.git'", verb: "git-upload-pack", app: "myapp"},
		{in: "git-upload-archive '/my-app2'", verb: "git-upload-archive", app: "my-app2"},
		{in: "", err: "interactive shell access is not allowed"},
		{in: "sh", err: "command not allowed"},
		{in: "rm -rf /", err: "command not allowed"},
		{in: "git receive-pack 'myapp'", err: "command not allowed"},
		{in: "git-receive-pack", err: "command not allowed"},
		{in: "git-receive-pack myapp", err: "bad repository argument"},
		{in: "git-receive-pack 'myapp' 'other'", err: "bad repository argument"},
		{in: "git-receive-pack 'my'\\''app'", err: "bad repository argument"},
		{in: "git-receive-pack 'myapp'; id", err: "bad repository argument"},
		{in: "git-receive-pack ''", err: "invalid app name"},
		{in: "git-receive-pack 'my\napp'", err: "invalid app name"},
		{in: "git-receive-pack '../myapp'", err: "invalid app name"},
		{in: "git-receive-pack '..'", err: "invalid app name"},
		{in: "git-receive-pack 'a/b'", err: "invalid app name"},
		{in: "git-receive-pack '//myapp'", err: "invalid app name"},
		{in: "git-receive-pack 'MyApp'", err: "invalid app name"},
		{in: "git-receive-pack 'myapp.git.git'", err: "invalid app name"},
		{in: "git-receive-pack '~/myapp'", err: "invalid app name"},
		{in: "git-receive-pack '" + strings.Repeat("a", 64) + "'", err: "invalid app name"},
		{in: "git-receive-pack 'gitolite-admin'", err: "reserved"},
		{in: "git-receive-pack 'nap'", err: "reserved"},
	} {
		req, err := ParseRequest(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRequest(%q) = %+v, %v; want error containing %q", tc.in, req, err, tc.err)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("ParseRequest(%q): the message spans lines: %q", tc.in, err)
			}
			continue
		}
		if err != nil || req.Verb != tc.verb || req.App != tc.app {
			t.Errorf("ParseRequest(%q) = %+v, %v; want %s %s", tc.in, req, err, tc.verb, tc.app)
		}
	}
}

// FuzzParseRequest: whatever a client sends, an accepted request names a
// known verb and a valid app, and the message of a refusal is one line.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"git-receive-pack 'myapp'", "git-upload-pack '/a.git'", "", "git-receive-pack 'a\nb'", "git-upload-archive 'x'\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, err := ParseRequest(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line message %q", err)
			}
			return
		}
		if render.ValidApp(req.App) != nil {
			t.Fatalf("accepted invalid app %q", req.App)
		}
		ok := false
		for _, v := range Verbs {
			ok = ok || v == req.Verb
		}
		if !ok {
			t.Fatalf("accepted verb %q", req.Verb)
		}
		arg, err := GitShellCommand(req, Home("/srv/nap").RepoDir(req.App))
		if err != nil || arg != req.Verb+" '/srv/nap/repos/"+req.App+".git'" {
			t.Fatalf("GitShellCommand = %q, %v", arg, err)
		}
	})
}

func TestGitShellCommandRefusesPathsNeedingQuotes(t *testing.T) {
	req := Request{Verb: "git-receive-pack", App: "myapp"}
	for _, home := range []string{"/home/it's", "/home/a b", "/home/x!y"} {
		if arg, err := GitShellCommand(req, Home(home).RepoDir("myapp")); err == nil {
			t.Errorf("home %q: got %q, want an error", home, arg)
		}
	}
}
