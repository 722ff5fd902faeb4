package hooks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nap-paas/nap/internal/sandbox"
)

func TestEnableLocalCode(t *testing.T) {
	const head = "%RC = (\n    UMASK => 0077,\n"
	for _, tc := range []struct{ name, in, want, err string }{
		{"commented default", head + "        # LOCAL_CODE                =>  \"$ENV{HOME}/local\",\n);\n",
			head + "        LOCAL_CODE                =>  \"$ENV{HOME}/local\",\n);\n", ""},
		{"already set", head + "    LOCAL_CODE => \"$ENV{HOME}/local\",\n);\n", head + "    LOCAL_CODE => \"$ENV{HOME}/local\",\n);\n", ""},
		{"absent", "%RC = (\n);\n", "%RC = (\n    # nap: hooks in $LOCAL_CODE/hooks/common are linked into every repository\n    LOCAL_CODE => \"$ENV{HOME}/local\",\n);\n", ""},
		{"set elsewhere", head + "    LOCAL_CODE => \"$rc{GL_ADMIN_BASE}/local\",\n);\n", "", "rc:3: LOCAL_CODE is set to \"$rc{GL_ADMIN_BASE}/local\""},
		{"not an rc", "hello\n", "", "not a gitolite rc file"},
	} {
		got, err := EnableLocalCode([]byte(tc.in), "rc")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: got %q, %v\nwant %q", tc.name, got, err, tc.want)
		}
		if again, err := EnableLocalCode(got, "rc"); err != nil || string(again) != string(got) {
			t.Errorf("%s: not idempotent: %q, %v", tc.name, again, err)
		}
	}
}

func TestInstallShellIdempotent(t *testing.T) {
	home := Home(t.TempDir())
	hook, _ := HookScript("/usr/bin/nap-render", ModeShell, nil)
	for i, want := range []bool{true, false} {
		changes, err := InstallShell(home, hook)
		if err != nil || len(changes) != 1 || changes[0].Changed != want || changes[0].Path != home.HookPath() {
			t.Fatalf("install %d: %v, %v", i, changes, err)
		}
	}
	if info, err := os.Stat(home.HookPath()); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("hook: %v, %v", info, err)
	}
}

func TestInstallGitoliteDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	rc := "%RC = (\n        # LOCAL_CODE                =>  \"$ENV{HOME}/local\",\n);\n"
	os.WriteFile(filepath.Join(dir, ".gitolite.rc"), []byte(rc), 0o600)
	hook, _ := HookScript("/usr/bin/nap-render", ModeGitolite, nil)
	changes, err := InstallGitolite(dir, hook, nil, true)
	if err != nil || len(changes) != 2 || !changes[0].Changed || !changes[1].Changed {
		t.Fatalf("dry run: %v, %v", changes, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ".gitolite.rc")); string(got) != rc {
		t.Errorf("dry run changed the rc: %q", got)
	}
	if _, err := os.Stat(GitoliteHookPath(dir)); err == nil {
		t.Errorf("dry run wrote the hook")
	}
	// A refused rc leaves no hook behind either.
	os.WriteFile(filepath.Join(dir, ".gitolite.rc"), []byte("%RC = (\n  LOCAL_CODE => '/x',\n);\n"), 0o600)
	if _, err := InstallGitolite(dir, hook, nil, false); err == nil {
		t.Fatal("InstallGitolite with a foreign LOCAL_CODE: nil error")
	}
	if _, err := os.Stat(GitoliteHookPath(dir)); err == nil {
		t.Errorf("a refused install wrote the hook")
	}
}

// Concurrent first pushes of one app: one complete repository, no leftovers.
func TestPrepareConcurrentFirstPush(t *testing.T) {
	git := sandbox.Tool(t, "git")
	home := Home(t.TempDir())
	hook, _ := HookScript("/usr/bin/nap-render", ModeShell, nil)
	if _, err := InstallShell(home, hook); err != nil {
		t.Fatal(err)
	}
	req := Request{Verb: "git-receive-pack", App: "myapp"}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = home.Prepare(req, git)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(string(home), "repos"))
	if len(entries) != 1 || entries[0].Name() != "myapp.git" {
		t.Errorf("repos holds %v, want only myapp.git", entries)
	}
	if target, err := os.Readlink(filepath.Join(home.RepoDir("myapp"), "hooks", "pre-receive")); err != nil || target != home.HookPath() {
		t.Errorf("hook link = %q, %v", target, err)
	}
	// A fetch of an app that does not exist creates nothing.
	if _, _, err := home.Prepare(Request{Verb: "git-upload-pack", App: "other"}, git); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("fetch of a missing app: %v", err)
	}
	if _, err := os.Stat(home.RepoDir("other")); err == nil {
		t.Errorf("a fetch created a repository")
	}
}

// A repository a push created goes away again when no ref came, unless a
// request still holds it or it has a ref.
func TestRemoveUnused(t *testing.T) {
	git := sandbox.Tool(t, "git")
	home := Home(t.TempDir())
	hook, _ := HookScript("/usr/bin/nap-render", ModeShell, nil)
	if _, err := InstallShell(home, hook); err != nil {
		t.Fatal(err)
	}
	req := Request{Verb: "git-receive-pack", App: "squat"}
	dir, created, err := home.Prepare(req, git)
	if err != nil || !created {
		t.Fatalf("Prepare = %v, %v", created, err)
	}
	if _, again, _ := home.Prepare(req, git); again {
		t.Errorf("a second Prepare says it created the repository")
	}
	release, err := HoldRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if removed, err := home.RemoveUnused("squat", git); removed || err != nil {
		t.Errorf("held: RemoveUnused = %v, %v; want it kept", removed, err)
	}
	release()
	if removed, err := home.RemoveUnused("squat", git); !removed || err != nil {
		t.Errorf("RemoveUnused = %v, %v; want it removed", removed, err)
	}
	if es, _ := os.ReadDir(filepath.Join(string(home), "repos")); len(es) != 0 {
		t.Errorf("repos holds %v, want nothing", es)
	}
	// With a ref, it stays.
	dir, _, _ = home.Prepare(req, git)
	out, err := exec.Command(git, "--git-dir="+dir, "hash-object", "-w", "--stdin").Output()
	if err != nil {
		t.Fatal(err)
	}
	blob := strings.TrimSpace(string(out))
	if out, err := exec.Command(git, "--git-dir="+dir, "update-ref", "refs/tags/x", blob).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if removed, err := home.RemoveUnused("squat", git); removed || err != nil {
		t.Errorf("with a ref: RemoveUnused = %v, %v; want it kept", removed, err)
	}
}

func TestLimitPushSize(t *testing.T) {
	git := sandbox.Tool(t, "git")
	home := t.TempDir()
	for i, want := range []bool{true, false} {
		c, err := LimitPushSize(git, home, 512<<20)
		if err != nil || c.Changed != want {
			t.Errorf("call %d: %v, %v; want changed=%v", i+1, c, err, want)
		}
	}
	out, err := exec.Command(git, "config", "--file", filepath.Join(home, ".gitconfig"), "--get", "receive.maxInputSize").Output()
	if err != nil || strings.TrimSpace(string(out)) != "536870912" {
		t.Errorf("receive.maxInputSize = %q, %v", out, err)
	}
}

func TestChangePlan(t *testing.T) {
	rc := Change{Path: "/g/.gitolite.rc", Changed: true, Content: []byte("a\nLOCAL_CODE => \"$rc{GL_ADMIN_BASE}/local\",\nc\n")}
	got := rc.Plan([]byte("a\n# LOCAL_CODE => \"$rc{GL_ADMIN_BASE}/local\",\nc\n"))
	want := "would change /g/.gitolite.rc:\n+LOCAL_CODE => \"$rc{GL_ADMIN_BASE}/local\",\n-# LOCAL_CODE => \"$rc{GL_ADMIN_BASE}/local\",\n"
	if got != want {
		t.Errorf("rc plan\n got %q\nwant %q", got, want)
	}
	hook := Change{Path: "/g/local/hooks/common/pre-receive", Changed: true, Content: []byte("#!/bin/sh\n")}
	if got := hook.Plan(nil); got != "would write /g/local/hooks/common/pre-receive (mode 0755):\n#!/bin/sh\n" {
		t.Errorf("hook plan %q", got)
	}
	if got := (Change{Path: "/x"}).Plan(nil); got != "unchanged /x\n" {
		t.Errorf("unchanged plan %q", got)
	}
}
