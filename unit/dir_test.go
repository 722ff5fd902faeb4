package unit

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "units")
	a := NewFile("a.service")
	a.Section("Service").Add("ExecStart", Lit("/bin/true"))
	b := NewFile("b@.service")
	b.Section("Unit").Add("Description", Lit("b"))
	if err := WriteDir(dir, []*File{a, b}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "a.service"))
	if want, _ := Marshal(a); err != nil || string(got) != string(want) {
		t.Errorf("a.service = %q, %v; want %q", got, err, want)
	}
	// The same set again: nothing is rewritten.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "a.service"), old, old)
	if err := WriteDir(dir, []*File{a, b}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "a.service")); !st.ModTime().Equal(old) {
		t.Errorf("an unchanged set was rewritten")
	}
	// A smaller set replaces the directory as a whole.
	if err := WriteDir(dir, []*File{b}); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 || es[0].Name() != "b@.service" {
		t.Errorf("after a smaller set: %v", es)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".units.*")); len(leftovers) != 0 {
		t.Errorf("left behind: %v", leftovers)
	}
	// A directory with anything else in it is not replaced.
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "main.go"), []byte("package main\n"), 0o644)
	if err := WriteDir(work, []*File{a}); !errors.Is(err, ErrNotUnitDir) {
		t.Errorf("WriteDir over a work tree = %v, want ErrNotUnitDir", err)
	}
	if _, err := os.Stat(filepath.Join(work, "main.go")); err != nil {
		t.Errorf("the work tree lost main.go: %v", err)
	}
}
