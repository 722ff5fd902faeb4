package naptest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// AppRepo is an app's git repository on the test's side of the machines: a
// work tree and a bare repository beside it, as a deploy on a machine that
// shares the directory reads it (`deploy APP --rev REV --git-dir Bare`).
type AppRepo struct {
	t          testing.TB
	Work, Bare string
}

// NewAppRepo copies the app in src (e.g. ../examples/hello) into dir/work,
// with an empty dir/NAME.git beside it, NAME being src's base name.
func NewAppRepo(t testing.TB, dir, src string) *AppRepo {
	t.Helper()
	r := &AppRepo{t: t, Work: filepath.Join(dir, "work"), Bare: filepath.Join(dir, filepath.Base(src)+".git")}
	if out, err := exec.Command("cp", "-r", src, r.Work).CombinedOutput(); err != nil {
		t.Fatalf("cp -r %s: %v\n%s", src, err, out)
	}
	r.Git(dir, "init", "-q", "--bare", r.Bare)
	r.Git(r.Work, "init", "-q")
	return r
}

// For is the same repository driven by t, a subtest.
func (r *AppRepo) For(t testing.TB) *AppRepo {
	c := *r
	c.t = t
	return &c
}

// Git runs git in dir as a fixed author, fails the test on an error and
// returns the trimmed output.
func (r *AppRepo) Git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (path → content) into the work tree, commits
// everything, pushes it to the bare repository's master and returns the
// commit id.
func (r *AppRepo) Commit(msg string, files map[string]string) string {
	r.t.Helper()
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(r.Work, p), []byte(c), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Git(r.Work, "add", "-A")
	r.Git(r.Work, "commit", "-q", "--allow-empty", "-m", msg)
	rev := r.Git(r.Work, "rev-parse", "HEAD")
	r.Git(r.Work, "push", "-q", "-f", r.Bare, "HEAD:refs/heads/master")
	return rev
}
