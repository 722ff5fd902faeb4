package source

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nap-paas/nap/render"
)

const marker = "PLANTED-SECRET-7f3a"

// repo makes a git repository in a new directory with files (content, or
// "->TARGET" for a symlink) committed, and returns it and the commit.
func repo(t *testing.T, files map[string]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "master")
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "--allow-empty", "-m", "x")
	return dir, git(t, dir, "rev-parse", "HEAD")
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", append([]string{"-C", dir}, args...)...)
	c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// secrets plants files outside every tree, readable by this test, and
// returns their directory: what a hostile tree would point at.
func secrets(t *testing.T) string {
	dir := t.TempDir()
	for _, name := range []string{"secret", "Dockerfile", "nap.yaml", ".dockerignore"} {
		content := marker + "\n"
		if name == "Dockerfile" {
			content = "FROM scratch\nLABEL x=" + marker + "\nCMD [\"/x\"]\n"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// load exports rev of dir and reads it as a deploy does.
func load(t *testing.T, dir, rev string, lim render.Limits) error {
	dst := filepath.Join(t.TempDir(), "src", rev)
	if err := (Repo{GitDir: filepath.Join(dir, ".git")}).Export(context.Background(), rev, dst, lim); err != nil {
		return err
	}
	tree, err := Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	op := render.DefaultOperator()
	cfg, err := tree.AppConfig(op)
	if err != nil {
		return err
	}
	_, err = tree.Image(cfg)
	return err
}

const okDockerfile = "FROM scratch\nCOPY . /app\nCMD [\"/app/x\"]\n"

func TestHostileTrees(t *testing.T) {
	s := secrets(t)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // the whole message; "" = accepted
	}{
		{"plain", map[string]string{"Dockerfile": okDockerfile}, ""},
		{"Dockerfile absolute symlink", map[string]string{"Dockerfile": "->" + s + "/Dockerfile"},
			`Dockerfile is a symlink that leaves the repository (to "` + s + `/Dockerfile"): commit the Dockerfile itself, or name it with dockerfile: in nap.yaml`},
		{"Dockerfile relative symlink out", map[string]string{"Dockerfile": "->../../../../../../../../.." + s + "/Dockerfile"},
			`Dockerfile is a symlink that leaves the repository (to "../../../../../../../../..` + s + `/Dockerfile")`},
		{"Dockerfile symlink inside", map[string]string{"Dockerfile": "->docker/Dockerfile", "docker/Dockerfile": okDockerfile},
			`Dockerfile is a symlink (to "docker/Dockerfile"): nap follows none here: commit the Dockerfile itself, or name it with dockerfile: in nap.yaml`},
		{"Dockerfile dangling", map[string]string{"Dockerfile": "->nowhere"}, `Dockerfile is a symlink (to "nowhere")`},
		{"Dockerfile loop", map[string]string{"Dockerfile": "->a", "a": "->b", "b": "->a"}, `Dockerfile is a symlink (to "a")`},
		{"Dockerfile missing", map[string]string{"x": "y"},
			"Dockerfile does not exist: add it to the repository, or name another file with dockerfile: in nap.yaml"},
		{"Dockerfile a directory", map[string]string{"Dockerfile/x": "y"}, "Dockerfile is not a regular file"},
		{"nap.yaml symlink", map[string]string{"nap.yaml": "->" + s + "/nap.yaml", "Dockerfile": okDockerfile},
			`nap.yaml is a symlink that leaves the repository (to "` + s + `/nap.yaml"): commit nap.yaml itself`},
		{"nap.yaml symlink to /proc", map[string]string{"nap.yaml": "->/proc/self/environ", "Dockerfile": okDockerfile},
			`nap.yaml is a symlink that leaves the repository (to "/proc/self/environ")`},
		{"nap.yaml too large", map[string]string{"nap.yaml": "# " + strings.Repeat("x", MaxAppFile), "Dockerfile": okDockerfile},
			"nap.yaml is 262146 bytes; nap reads at most 262144: commit nap.yaml itself"},
		{"dockerfile: through a symlinked directory", map[string]string{"nap.yaml": "dockerfile: d/secret\n", "d": "->" + s},
			`nap.yaml:1: dockerfile: d/secret: d is a symlink that leaves the repository (to "` + s + `")`},
		{"context a symlink", map[string]string{"nap.yaml": "\ncontext: ctx\n", "ctx": "->" + s, "Dockerfile": okDockerfile},
			`nap.yaml:2: context: ctx is a symlink that leaves the repository (to "` + s + `"): commit the directory itself, or name it with context: in nap.yaml`},
		{"context under a symlinked parent", map[string]string{"nap.yaml": "context: a/b\n", "a": "->" + filepath.Dir(s), "Dockerfile": okDockerfile},
			`nap.yaml:1: context: a/b: a is a symlink that leaves the repository`},
		{"context symlink to root", map[string]string{"nap.yaml": "context: ctx\n", "ctx": "->/", "Dockerfile": okDockerfile},
			`nap.yaml:1: context: ctx is a symlink that leaves the repository (to "/")`},
		{"context symlink to the repository", map[string]string{"nap.yaml": "context: ctx\n", "ctx": "->.", "Dockerfile": okDockerfile},
			`nap.yaml:1: context: ctx is a symlink (to "."): nap follows none here`},
		{"context a file", map[string]string{"nap.yaml": "context: Dockerfile\n", "Dockerfile": okDockerfile},
			"nap.yaml:1: context: Dockerfile is not a directory"},
		{"context missing", map[string]string{"nap.yaml": "context: app\n", "Dockerfile": okDockerfile},
			"nap.yaml:1: context: app does not exist"},
		{"path through a file", map[string]string{"nap.yaml": "dockerfile: x/Dockerfile\n", "x": "y"},
			"nap.yaml:1: dockerfile: x/Dockerfile cannot be read: x is not a directory"},
		{".dockerignore symlink", map[string]string{".dockerignore": "->" + s + "/.dockerignore", "Dockerfile": okDockerfile},
			`.dockerignore is a symlink that leaves the repository (to "` + s + `/.dockerignore"): commit the file itself`},
		{".dockerignore of the context", map[string]string{"nap.yaml": "context: app\n", "app/.dockerignore": "->/dev/zero", "Dockerfile": okDockerfile},
			`app/.dockerignore is a symlink that leaves the repository (to "/dev/zero")`},
		{"Dockerfile.dockerignore symlink", map[string]string{"Dockerfile.dockerignore": "->" + s + "/secret", "Dockerfile": okDockerfile},
			`Dockerfile.dockerignore is a symlink that leaves the repository`},
		{".dockerignore a directory", map[string]string{".dockerignore/x": "y", "Dockerfile": okDockerfile},
			".dockerignore: is not a regular file: docker reads it by name; commit the file itself"},
		// Inside the context, symlinks are docker's: it resolves them
		// within the context (the machine tests prove no content leaves).
		{"symlink inside the context", map[string]string{"leak": "->" + s + "/secret", "etc": "->/etc", "Dockerfile": okDockerfile}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, rev := repo(t, tc.files)
			err := load(t, dir, rev, render.DefaultOperator().Limits)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var se *Error
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %s", err, tc.want)
			}
			if !errors.As(err, &se) {
				t.Errorf("err is %T, want *source.Error", err)
			}
			if strings.Contains(err.Error(), marker) {
				t.Errorf("the message shows a planted secret: %v", err)
			}
		})
	}
}

func TestSubmoduleContext(t *testing.T) {
	dir, _ := repo(t, map[string]string{"nap.yaml": "context: sub\ndockerfile: sub/Dockerfile\n"})
	head := git(t, dir, "rev-parse", "HEAD")
	git(t, dir, "update-index", "--add", "--cacheinfo", "160000,"+head+",sub")
	git(t, dir, "commit", "-q", "-m", "submodule")
	err := load(t, dir, git(t, dir, "rev-parse", "HEAD"), render.DefaultOperator().Limits)
	if err == nil || err.Error() != "nap.yaml:2: dockerfile: sub/Dockerfile does not exist: add it to the repository, or name another file with dockerfile: in nap.yaml" {
		t.Errorf("err = %v: a submodule is exported empty, its files are not the tree's", err)
	}
}

func TestExportLimits(t *testing.T) {
	dir, rev := repo(t, map[string]string{"Dockerfile": okDockerfile, "a": strings.Repeat("a", 3000), "b": "b"})
	for _, tc := range []struct {
		lim  render.Limits
		want string
	}{
		{render.Limits{MaxFiles: 2}, "the tree of " + rev[:12] + " holds more than 2 files; this host takes at most 2 (limits.max_files)"},
		{render.Limits{MaxTree: 2 << 10}, "the tree of " + rev[:12] + " holds more than 2k; this host takes at most 2k (limits.max_tree)"},
		{render.Limits{MaxTree: 4 << 10, MaxFiles: 3}, ""},
	} {
		dst := filepath.Join(t.TempDir(), "src", rev)
		err := (Repo{GitDir: filepath.Join(dir, ".git")}).Export(context.Background(), rev, dst, tc.lim)
		var se *Error
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.lim, err)
			}
			continue
		}
		if err == nil || !errors.As(err, &se) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %s", tc.lim, err, tc.want)
		}
		if _, err := os.Lstat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%+v: %s was written (%v)", tc.lim, dst, err)
		}
		if es, _ := os.ReadDir(filepath.Dir(dst)); len(es) != 0 {
			t.Errorf("%+v: left %v behind", tc.lim, es)
		}
	}
}

// TestExportWritesTheTree: files, modes and symlinks as committed, and a
// second export replaces the first.
func TestExportWritesTheTree(t *testing.T) {
	dir, rev := repo(t, map[string]string{"Dockerfile": okDockerfile, "a/b/c": "c", "link": "->/etc/passwd"})
	git(t, dir, "update-index", "--chmod=+x", "a/b/c")
	git(t, dir, "commit", "-q", "-m", "x")
	rev2 := git(t, dir, "rev-parse", "HEAD")
	dst := filepath.Join(t.TempDir(), "src", "x")
	r := Repo{GitDir: filepath.Join(dir, ".git")}
	if err := r.Export(context.Background(), rev, dst, render.Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "stale"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Export(context.Background(), rev2, dst, render.Limits{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "a/b/c")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("a/b/c: %v %v, want mode 0755", fi, err)
	}
	if target, err := os.Readlink(filepath.Join(dst, "link")); err != nil || target != "/etc/passwd" {
		t.Errorf("link: %q %v: want the symlink as committed", target, err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "stale")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale file kept: %v", err)
	}
	err := r.Export(context.Background(), strings.Repeat("0", 40), dst, render.Limits{})
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "is not a commit of") {
		t.Errorf("zero revision: %v", err)
	}
}
