package source

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/render"
)

// TestExportFullDisk: an export that runs out of space leaves no tree under
// the revision's name, and is the machine's failure, not the tree's.
func TestExportFullDisk(t *testing.T) {
	dir, rev := repo(t, map[string]string{"big": strings.Repeat("x", 256<<10)})
	state := t.TempDir()
	if os.Getuid() != 0 {
		sandbox.Unavailable(t, "mounting a tmpfs needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", state).CombinedOutput(); err != nil {
		sandbox.Unavailable(t, "mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", state).Run() })
	dst := filepath.Join(state, "src", rev)
	err := (Repo{GitDir: filepath.Join(dir, ".git")}).Export(context.Background(), rev, dst, render.DefaultOperator().Limits)
	var se *Error
	if err == nil || errors.As(err, &se) {
		t.Fatalf("export onto a full disk = %v; want the machine's error", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("a half-written tree exists under the revision's name")
	}
	if es, _ := os.ReadDir(filepath.Join(state, "src")); len(es) != 0 {
		t.Errorf("leftovers: %v", es)
	}
}
