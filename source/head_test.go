package source

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestReadHeadMatchesGit: reading HEAD without starting git gives what git
// says, in each layout a work tree can have, or defers to git.
func TestReadHeadMatchesGit(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	os.MkdirAll(filepath.Join(repo, "sub", "dir"), 0o755)
	os.WriteFile(filepath.Join(repo, "sub", "dir", "f"), []byte("1"), 0o644)
	git(t, root, "init", "-q", "-b", "main", repo)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "one")
	check := func(name, dir string) {
		t.Helper()
		want := git(t, dir, "rev-parse", "HEAD")
		got, ok := readHead(dir)
		if !ok || got != want {
			t.Errorf("%s: readHead = %q, %v; git says %q", name, got, ok, want)
		}
	}
	check("loose ref", repo)
	check("subdirectory", filepath.Join(repo, "sub", "dir"))
	git(t, repo, "pack-refs", "--all")
	check("packed ref", repo)
	git(t, repo, "commit", "-q", "--allow-empty", "-m", "two")
	check("loose ref over a packed one", repo)
	wt := filepath.Join(root, "wt")
	git(t, repo, "worktree", "add", "-q", "-b", "other", wt)
	git(t, wt, "commit", "-q", "--allow-empty", "-m", "three")
	check("linked work tree", wt)
	git(t, repo, "checkout", "-q", "--detach", "HEAD~1")
	check("detached HEAD", repo)
	if rev, ok := readHead(filepath.Join(repo, ".git")); ok {
		t.Errorf("inside .git: readHead = %q, want a deferral to git", rev)
	}
	if rev, ok := readHead(t.TempDir()); ok {
		t.Errorf("outside git: readHead = %q", rev)
	}
}

func TestWorkTree(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	os.MkdirAll(repo, 0o755)
	git(t, root, "init", "-q", repo)
	if _, _, err := WorkTree(repo); !errors.Is(err, ErrNoHead) {
		t.Errorf("no commit yet: %v, want ErrNoHead", err)
	}
	git(t, repo, "commit", "-q", "--allow-empty", "-m", "one")
	gitDir, rev, err := WorkTree(repo)
	if err != nil || gitDir != filepath.Join(repo, ".git") || rev != git(t, repo, "rev-parse", "HEAD") {
		t.Errorf("WorkTree = %q, %q, %v", gitDir, rev, err)
	}
	if _, _, err := WorkTree(t.TempDir()); !errors.Is(err, ErrNoHead) {
		t.Errorf("outside git: %v, want ErrNoHead", err)
	}
}
