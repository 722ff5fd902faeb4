package source

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nap-paas/nap/render"
)

// FuzzTree: whatever nap.yaml names and wherever a symlink of the tree
// points, reading the tree never panics, never shows a byte of a file
// outside it, and a Dockerfile it accepts is the one inside the tree.
//
//	go test -run '^$' -fuzz FuzzTree -fuzztime 5m -parallel 1 ./source
func FuzzTree(f *testing.F) {
	for _, seed := range [][3]string{
		{"Dockerfile", ".", "../secret/Dockerfile"},
		{"d/Dockerfile", "d", "/"},
		{"link/Dockerfile", "link", "../secret"},
		{"Dockerfile", "link/x", "."},
		{"link", ".", "Dockerfile.real"},
		{"x/../Dockerfile", "./", "link"},
		{"Dockerfile", "link", "/proc/self/root"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, dockerfile, context, target string) {
		dir := t.TempDir()
		outside := filepath.Join(dir, "secret")
		tree := filepath.Join(dir, "tree")
		for _, d := range []string{outside, filepath.Join(tree, "d")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		write := func(p, s string) {
			if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(filepath.Join(outside, "Dockerfile"), "FROM scratch\nLABEL x="+marker+"\nCMD [\"/x\"]\n")
		write(filepath.Join(outside, "nap.yaml"), marker+"\n")
		const inside = "FROM scratch\nLABEL x=inside\nCMD [\"/x\"]\n"
		write(filepath.Join(tree, "Dockerfile"), inside)
		write(filepath.Join(tree, "Dockerfile.real"), inside)
		write(filepath.Join(tree, "d", "Dockerfile"), inside)
		if target == "" || strings.ContainsRune(target, 0) {
			return
		}
		if err := os.Symlink(target, filepath.Join(tree, "link")); err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(tree, "nap.yaml"), "dockerfile: "+strconv.Quote(dockerfile)+"\ncontext: "+strconv.Quote(context)+"\n")
		tr, err := Open(tree)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		cfg, err := tr.AppConfig(render.DefaultOperator())
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("nap.yaml error shows a planted secret: %v", err)
			}
			return
		}
		img, err := tr.Image(cfg)
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("error shows a planted secret: %v", err)
			}
			return
		}
		if img.Labels["x"] != "inside" {
			t.Fatalf("dockerfile %q context %q link -> %q: read a Dockerfile with label %q", dockerfile, context, target, img.Labels["x"])
		}
		// Accepted: no symlink on either path.
		for _, p := range []string{cfg.App.Dockerfile, cfg.App.Context} {
			for q := p; q != "." && q != "/"; q = filepath.Dir(q) {
				if fi, err := os.Lstat(filepath.Join(tree, q)); err == nil && fi.Mode()&os.ModeSymlink != 0 {
					t.Fatalf("accepted %q, which goes through the symlink %s", p, q)
				}
			}
		}
	})
}
