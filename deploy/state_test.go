package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nap-paas/nap/deploy/store"
)

func TestUnifiedDiffAndCanonical(t *testing.T) {
	a := canonical([]byte("# c\n[Service]\nExecStart=/bin/a\nRestart=no\n"))
	b := canonical([]byte("[Service]\nExecStart=/bin/b\nRestart=no\n"))
	got := unifiedDiff("a/x.service", "b/x.service", a, b)
	want := "--- a/x.service\n+++ b/x.service\n@@ -1,3 +1,3 @@\n [Service]\n-ExecStart=/bin/a\n+ExecStart=/bin/b\n Restart=no\n"
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if !SameUnit([]byte("# x\n[Service]\nExecStart=/bin/a\n"), []byte("[Service]\n\nExecStart=/bin/a\n")) {
		t.Errorf("SameUnit must ignore comments and blank lines")
	}
	if SameUnit([]byte("[Service]\nExecStart=/bin/a\n"), []byte("[Service]\nExecStart=/bin/b\n")) {
		t.Errorf("SameUnit of different values")
	}
}

func TestUnitRelease(t *testing.T) {
	for name, want := range map[string]string{
		"hello.build.0123456789ab.service":           "0123456789ab",
		"hello.web.0123456789ab@.service":            "0123456789ab",
		"hello.web.0123456789ab@3.service":           "0123456789ab",
		"hello.web.0123456789ab.discovery@3.service": "0123456789ab",
		"hello-two.web.0123456789ab@3.service":       "",
		"hello.service":                              "",
		"hello.web.short@1.service":                  "",
	} {
		if got := unitRelease("hello", name); got != want {
			t.Errorf("unitRelease(%q) = %q, want %q", name, got, want)
		}
	}
}

// gitIn returns a function running git in a directory as a test author,
// failing the test on an error.
func gitIn(t *testing.T) func(dir string, args ...string) string {
	return func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

// The guard inherits nothing but 0–2: a descriptor this process got from
// its parent (here, one opened without close-on-exec) is not passed on.
func TestCloseInheritedOnExec(t *testing.T) {
	fd, err := syscall.Open(filepath.Join(t.TempDir(), "held"), syscall.O_CREAT|syscall.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	child := func() string {
		out, err := exec.Command("sh", "-c", "ls /proc/$$/fd").Output()
		if err != nil {
			t.Fatal(err)
		}
		return " " + strings.Join(strings.Fields(string(out)), " ") + " "
	}
	name := " " + strconv.Itoa(fd) + " "
	if !strings.Contains(child(), name) {
		t.Fatalf("descriptor %d is not inherited to begin with: the test proves nothing", fd)
	}
	closeInheritedOnExec()
	if got := child(); strings.Contains(got, name) {
		t.Errorf("a child still holds descriptor %d: %s", fd, got)
	}
}

// The guard starts before the intent is written: a deploy killed between
// the two must not leave an intent with no guard to reconcile it. Shown
// with a write that fails: the guard has started all the same.
func TestGuardStartsBeforeTheIntent(t *testing.T) {
	dir := t.TempDir()
	st := store.NewApp(dir, "shop")
	// the intent cannot be written: its path is a directory that holds a file
	if err := os.MkdirAll(filepath.Join(st.IntentPath(), "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	started := filepath.Join(dir, "started")
	s := &session{d: &Deployer{Guard: []string{"sh", "-c", `echo "$1" > "$0"`, started}}, app: "shop", st: st}
	if err := s.intend("0123456789abcdef0123456789abcdef01234567"); err == nil {
		t.Fatal("the intent was written into a directory")
	}
	for i := 0; ; i++ {
		if b, err := os.ReadFile(started); err == nil && string(b) == "shop\n" {
			break
		}
		if i == 500 {
			t.Fatal("no guard started before the intent's write")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
