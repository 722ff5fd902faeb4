package hooks

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

// TestHostilePush pushes trees made to read outside themselves, or to make
// nap or docker spend without bound, to nap on one machine, the way an app
// owner with a key could. Secrets are planted where root alone, and where
// the nap user, can read them. After every push: the exit code and the
// message, no planted secret anywhere in what the pusher saw, the running
// release still answering, the branch unchanged, and src/ holding nothing
// of the push. At the end, no secret in any image, the journal or nap's
// state.
func TestHostilePush(t *testing.T) {
	if os.Geteuid() != 0 {
		sandbox.Unavailable(t, "simulated machines need root")
	}
	helloBin := naptest.Program(t, naptest.HelloDir)
	catBin := naptest.ProgramOf(t, "cat", catMain)
	const config = machineConfig + "env_dir: /etc/nap/env\nlimits: {max_tree: 32m, max_files: 2000, max_ports: 16}\n# NAPSECRET-config\n"
	h := naptest.Install(t, sandbox.NewMachine(t, sandbox.Full()), naptest.Options{Config: config})
	h.Run("root", "install", "-d", "-m", "0750", "-o", "root", "-g", "nap", "/etc/nap/env")
	h.WriteFile("/etc/nap/env/hello.env", []byte("GREETING=hi\n"), "root", 0o640)
	h.WriteFile("/etc/nap/env/victim.env", []byte("VICTIM_DB_PASSWORD=NAPSECRET-victim\n"), "root", 0o640)
	h.Run("root", "chgrp", "nap", "/etc/nap/env/hello.env", "/etc/nap/env/victim.env")
	h.WriteFile("/etc/nap-root-secret", []byte("NAPSECRET-root\n"), "root", 0o600)
	h.WriteFile(naptest.Home+"/nap-secret", []byte("NAPSECRET-nap\n"), "nap", 0o600)
	h.Run("root", "sh", "-c", "echo '# NAPSECRET-keys' >> "+naptest.Home+"/.ssh/authorized_keys")

	const work = "/home/dev/hello"
	newWork(h, work, helloBin)
	h.WriteFile(work+"/cat", catBin, "dev", 0o755)
	rev1 := h.Commit(work, "cat", nil)
	if code, _ := h.Push(work); code != 0 {
		t.Fatalf("first push: exit %d", code)
	}

	for _, tc := range []struct {
		name  string
		files map[string]string // content; "->T" makes a symlink to T; "" removes
		sh    string            // run in the work tree (as dev) before the commit
		push  []string          // git push arguments (default: the remote and master)
		want  []string          // in the push's output
		build bool              // the build may run (else it must not start)
	}{
		{name: "context a symlink to /etc",
			files: map[string]string{"nap.yaml": "context: ctx\n", "ctx": "->/etc",
				"Dockerfile": "FROM scratch\nCOPY nap-root-secret nap/env/victim.env /leak/\nCOPY hello /hello\nCMD [\"/hello\"]\n"},
			want: []string{`nap.yaml:1: context: ctx is a symlink that leaves the repository (to "/etc")`}},
		{name: "context relative out of the tree",
			files: map[string]string{"nap.yaml": "context: ctx\n", "ctx": "->../../../../../../etc"},
			want:  []string{`nap.yaml:1: context: ctx is a symlink that leaves the repository`}},
		{name: "context under a symlinked parent",
			files: map[string]string{"nap.yaml": "context: up/nap\n", "up": "->/etc"},
			want:  []string{`nap.yaml:1: context: up/nap: up is a symlink that leaves the repository`}},
		{name: "context a dangling symlink",
			files: map[string]string{"nap.yaml": "context: ctx\n", "ctx": "->nowhere"},
			want:  []string{`nap.yaml:1: context: ctx is a symlink (to "nowhere")`}},
		{name: "context a symlink loop",
			files: map[string]string{"nap.yaml": "context: ctx\n", "ctx": "->ctx2", "ctx2": "->ctx"},
			want:  []string{`nap.yaml:1: context: ctx is a symlink (to "ctx2")`}},
		{name: "context a submodule",
			files: map[string]string{"nap.yaml": "context: sub\ndockerfile: sub/Dockerfile\n"},
			sh:    "mkdir sub && git update-index --add --cacheinfo 160000," + rev1 + ",sub",
			want:  []string{"nap.yaml:2: dockerfile: sub/Dockerfile does not exist"}},
		{name: "Dockerfile a symlink to another app's secrets",
			files: map[string]string{"Dockerfile": "->/etc/nap/env/victim.env"},
			want:  []string{`Dockerfile is a symlink that leaves the repository (to "/etc/nap/env/victim.env")`}},
		{name: "Dockerfile a symlink to nap's authorized_keys",
			files: map[string]string{"Dockerfile": "->" + naptest.Home + "/.ssh/authorized_keys"},
			want:  []string{"Dockerfile is a symlink that leaves the repository"}},
		{name: "Dockerfile a symlink to the operator's config",
			files: map[string]string{"Dockerfile": "->../../../../../etc/nap/config.yaml"},
			want:  []string{"Dockerfile is a symlink that leaves the repository"}},
		{name: "Dockerfile a symlink to /dev/zero",
			files: map[string]string{"Dockerfile": "->/dev/zero"},
			want:  []string{"Dockerfile is a symlink that leaves the repository"}},
		{name: "dockerfile: through a symlinked directory",
			files: map[string]string{"nap.yaml": "dockerfile: d/victim.env\n", "d": "->/etc/nap/env"},
			want:  []string{`nap.yaml:1: dockerfile: d/victim.env: d is a symlink that leaves the repository (to "/etc/nap/env")`}},
		{name: "nap.yaml a symlink to a root-only file",
			files: map[string]string{"nap.yaml": "->/etc/nap-root-secret"},
			want:  []string{"nap.yaml is a symlink that leaves the repository"}},
		{name: "nap.yaml a symlink to a file of nap's",
			files: map[string]string{"nap.yaml": "->../../../../../home/nap/nap-secret"},
			want:  []string{"nap.yaml is a symlink that leaves the repository"}},
		{name: ".dockerignore a symlink",
			files: map[string]string{".dockerignore": "->/etc/nap-root-secret"},
			want:  []string{`.dockerignore is a symlink that leaves the repository (to "/etc/nap-root-secret")`}},
		{name: "Dockerfile.dockerignore a symlink",
			files: map[string]string{"Dockerfile.dockerignore": "->/home/nap/nap-secret"},
			want:  []string{"Dockerfile.dockerignore is a symlink that leaves the repository"}},
		{name: "COPY from outside the context",
			files: map[string]string{"Dockerfile": "FROM scratch\nCOPY ../../../../etc/nap-root-secret /x\nCOPY hello /hello\nCMD [\"/hello\"]\n"},
			build: true, want: []string{"deploy of hello failed"}},
		{name: "ADD of a file URL",
			files: map[string]string{"Dockerfile": "FROM scratch\nADD file:///etc/nap-root-secret /x\nCOPY hello /hello\nCMD [\"/hello\"]\n"},
			build: true, want: []string{"deploy of hello failed"}},
		{name: "symlinks inside the context, read by COPY",
			files: map[string]string{"leak": "->/etc/nap-root-secret",
				"Dockerfile": "FROM scratch\nCOPY leak /leak\nCOPY hello /hello\nCMD [\"/hello\"]\n"},
			build: true, want: []string{"deploy of hello failed"}},
		{name: "2,000 ports",
			files: map[string]string{"Dockerfile": "FROM scratch\nCOPY hello /hello\nEXPOSE 8080 20000-20959\nCMD [\"/hello\"]\n"},
			want:  []string{"Dockerfile: the app publishes 961 ports (8080/tcp, 20000-20959/tcp); this host allows 16 per app (limits.max_ports)"}},
		{name: "300 env keys",
			files: map[string]string{"nap.yaml": "env:\n" + manyEnv(300)},
			want:  []string{"nap.yaml:1: env: 300 variables; this host allows 256 per app (limits.max_env)"}},
		{name: "a 10 MB nap.yaml",
			sh:   "yes '# padding' | head -c 10485760 > nap.yaml",
			want: []string{"nap.yaml is 10485760 bytes; nap reads at most 262144"}},
		{name: "a tree over max_tree that packs small",
			sh:   "truncate -s 40M zeros",
			want: []string{"holds more than 32m; this host takes at most 32m (limits.max_tree)"}},
		{name: "a pack over max_tree",
			sh:   "head -c 40000000 /dev/urandom > noise",
			want: []string{"pack exceeds maximum allowed size"}},
		{name: "more files than max_files",
			sh:   "mkdir many && for i in $(seq 2100); do : > many/$i; done",
			want: []string{"holds more than 2000 files; this host takes at most 2000 (limits.max_files)"}},
		{name: "deleting the deploy branch",
			push: []string{naptest.Remote, ":master"},
			want: []string{"deleting refs/heads/master is refused: it names what hello runs; to remove the app, run nap-render destroy hello on the git host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.For(t)
			h.Git(work, "reset", "-q", "--hard", rev1)
			h.Git(work, "clean", "-qfdx")
			for name, content := range tc.files {
				p := work + "/" + name
				h.Run("dev", "rm", "-rf", p)
				if target, ok := strings.CutPrefix(content, "->"); ok {
					h.Run("dev", "ln", "-s", target, p)
				} else if content != "" {
					h.WriteFile(p, []byte(content), "dev", 0o644)
				}
			}
			if tc.sh != "" {
				h.Run("dev", "sh", "-c", "cd "+work+" && "+tc.sh)
			}
			h.Git(work, "add", "-A")
			h.Git(work, "commit", "-q", "--allow-empty", "-m", tc.name)
			args := tc.push
			if args == nil {
				args = []string{naptest.Remote, "master"}
			}
			res := h.Try("dev", naptest.GitEnv, append([]string{"git", "-C", work, "push"}, args...)...)
			out := string(res.Stdout) + string(res.Stderr)
			t.Logf("push: exit %d\n%s", res.Code, naptest.WithoutBuildOutput(out))
			if res.Code == 0 {
				t.Errorf("push accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if strings.Contains(out, "NAPSECRET") {
				t.Errorf("the pusher saw a planted secret")
			}
			if !tc.build && strings.Contains(out, "-----> Building ") {
				t.Errorf("the build ran; the push should have been refused before it")
			}
			if got := h.Master(); got != rev1 {
				t.Errorf("master = %q, want %s", got, rev1)
			}
			if body, err := answer(h); err != nil || !strings.Contains(body, "hello from "+rev1) {
				t.Errorf("the app answered %q, %v; want release %s", body, err, rev1)
			}
			if got := strings.Fields(h.Run("root", "ls", "-A", "/var/lib/nap/hello/src")); len(got) != 1 || got[0] != rev1 {
				t.Errorf("src/ holds %v, want only %s", got, rev1[:12])
			}
		})
	}

	// Symlinks inside the context are docker's to resolve: within the
	// context, so a build that copies and reads them sees no host file.
	t.Run("symlinks inside the context reach no image", func(t *testing.T) {
		h := h.For(t)
		h.Git(work, "reset", "-q", "--hard", rev1)
		for name, target := range map[string]string{"leak": "/etc/nap-root-secret", "env": "/etc/nap/env", "mine": "../../../../home/nap/nap-secret", "root": "/"} {
			h.Run("dev", "ln", "-s", target, work+"/"+name)
		}
		rev := h.Commit(work, "inner symlinks", map[string]string{
			"Dockerfile": "FROM scratch\nCOPY . /ctx/\nRUN [\"/ctx/cat\", \"/ctx/leak\", \"/ctx/env/victim.env\", \"/ctx/mine\", \"/ctx/root/etc/nap-root-secret\"]\nCOPY hello /hello\nEXPOSE 8080\nCMD [\"/hello\"]\n",
		})
		code, out := h.Push(work)
		if code != 0 {
			t.Fatalf("push: exit %d", code)
		}
		if strings.Contains(out, "NAPSECRET") {
			t.Errorf("the pusher saw a planted secret")
		}
		if !strings.Contains(out, "cat: open /ctx/leak: no such file or directory") {
			t.Errorf("the build's RUN did not report reading /ctx/leak")
		}
		if body, err := answer(h); err != nil || !strings.Contains(body, "hello from "+rev) {
			t.Errorf("the app answered %q, %v; want release %s", body, err, rev)
		}
	})

	t.Run("no secret in any image, the journal or nap's state", func(t *testing.T) {
		h := h.For(t)
		for what, cmd := range map[string]string{
			"images":  "docker images -aq | sort -u | xargs docker save | grep -a -c NAPSECRET",
			"journal": "journalctl --no-pager -o cat | grep -a -c NAPSECRET",
			"state":   "grep -r -a -l NAPSECRET /var/lib/nap /etc/systemd/system /home/nap/repos",
		} {
			res := h.Try("root", nil, "sh", "-c", cmd)
			if res.Code != 1 {
				t.Errorf("%s: %s: exit %d (1 = no match), %s", what, cmd, res.Code, res)
			}
		}
	})
}

// catMain prints the files it is given, and what it could not read, and
// succeeds: a RUN step that shows what the build can see.
const catMain = `package main

import (
	"fmt"
	"os"
)

func main() {
	for _, p := range os.Args[1:] {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Println("cat:", err)
			continue
		}
		fmt.Printf("cat: %s: %s\n", p, b)
	}
}
`

func manyEnv(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  V%d: v\n", i)
	}
	return b.String()
}
