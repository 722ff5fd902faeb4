package store

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Config versions: each write a new 0600 file made current; Prune keeps
// the current version and those of kept releases.
func TestConfigVersions(t *testing.T) {
	a := NewApp(t.TempDir(), "shop")
	if v, err := a.ConfigVersion(); v != 0 || err != nil {
		t.Fatalf("no config yet: %d %v", v, err)
	}
	for i, vars := range []map[string]string{{"A": "1"}, {"A": "2", "B": "x y"}, {}} {
		v, err := a.WriteConfig(vars)
		if err != nil || v != i+1 {
			t.Fatalf("write %d: %d %v", i, v, err)
		}
		got, err := a.ConfigVars(v)
		if err != nil || !cmp.Equal(got, vars) {
			t.Errorf("version %d: %v %v, want %v", v, got, err, vars)
		}
		if st, _ := os.Stat(a.ConfigFile(v)); st.Mode().Perm() != 0o600 {
			t.Errorf("version %d has mode %v", v, st.Mode().Perm())
		}
	}
	if v, _ := a.ConfigVersion(); v != 3 {
		t.Errorf("current %d, want 3", v)
	}
	a.pruneConfig([]*Release{{Config: 1}})
	for v, want := range map[int]bool{1: true, 2: false, 3: true} {
		if _, err := os.Stat(a.ConfigFile(v)); (err == nil) != want {
			t.Errorf("after prune, version %d there: %v, want %v", v, err == nil, want)
		}
	}
}

// The version the next release uses is the running release's: a version
// written by a config:set whose deploy never switched (failed or killed)
// is not what the app has, and numbers are not reused.
func TestConfigVersionIsTheRunningRelease(t *testing.T) {
	a := NewApp(t.TempDir(), "shop")
	for _, vars := range []map[string]string{{"A": "1"}, {"A": "2"}} {
		if _, err := a.WriteConfig(vars); err != nil {
			t.Fatal(err)
		}
	}
	rev := "0123456789abcdef0123456789abcdef01234567"
	if err := a.WriteRelease(&Release{Revision: rev, Config: 1, Status: StatusDeployed}, nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.ConfigVersion(); v != 2 {
		t.Errorf("no release running: version %d, want the last written, 2", v)
	}
	if err := a.SetCurrent(rev); err != nil {
		t.Fatal(err)
	}
	if v, err := a.ConfigVersion(); v != 1 || err != nil {
		t.Errorf("release with version 1 running: %d %v, want 1", v, err)
	}
	if v, err := a.WriteConfig(map[string]string{"A": "3"}); v != 3 || err != nil {
		t.Errorf("the next version: %d %v, want 3 (2 is on disk)", v, err)
	}
}
