package hooks

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nap-paas/nap/internal/sandbox"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestHookScript(t *testing.T) {
	shellcheck := sandbox.Tool(t, "shellcheck")
	for _, tc := range []struct {
		golden string
		path   string
		mode   Mode
		flags  []string
	}{
		{"pre-receive-shell", "/usr/local/bin/nap-render", ModeShell, nil},
		{"pre-receive-gitolite", "/opt/nap tools/nap-render", ModeGitolite, []string{"--config", "/etc/nap/it's.yaml"}},
	} {
		got, err := HookScript(tc.path, tc.mode, tc.flags)
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", tc.golden+".golden")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.golden, got, want)
		}
		cmd := exec.Command(shellcheck, "-s", "sh", "-")
		cmd.Stdin = strings.NewReader(string(got))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: shellcheck: %v\n%s", tc.golden, err, out)
		}
		// sh must read the exec line back as exactly these words.
		script := strings.Replace(string(got), "exec ", "printf '<%s>' ", 1)
		out, err := exec.Command("sh", "-c", script).Output()
		want2 := "<" + strings.Join(append([]string{tc.path, "hooks", "pre-receive", "--mode", string(tc.mode)}, tc.flags...), "><") + ">"
		if err != nil || string(out) != want2 {
			t.Errorf("%s: sh reads %q (%v), want %q", tc.golden, out, err, want2)
		}
	}
	for _, bad := range []struct {
		path string
		mode Mode
	}{{"nap-render", ModeShell}, {"/bin/nap-render", "ssh"}} {
		if _, err := HookScript(bad.path, bad.mode, nil); err == nil {
			t.Errorf("HookScript(%q, %q) = nil error", bad.path, bad.mode)
		}
	}
}
