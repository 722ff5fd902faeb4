package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/deploy/driver"
	"github.com/nap-paas/nap/internal/sandbox"
)

func TestLockIsExclusiveAndNonBlocking(t *testing.T) {
	dir := t.TempDir()
	l, err := TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	// a second process holding nothing must fail at once
	start := time.Now()
	out, err := exec.Command("flock", "-n", filepath.Join(dir, "lock"), "true").CombinedOutput()
	if err == nil {
		t.Errorf("flock -n succeeded while the lock is held: %s", out)
	}
	_, err = TryLock(dir) // flock locks are per open file: a second open conflicts
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second TryLock = %v; want ErrLocked", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("a held lock must fail at once")
	}
	l.Unlock()
	l2, err := TryLock(dir)
	if err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	l2.Unlock()
}

// A prune killed while it removes a release leaves nothing anyone lists
// or rolls back to: what RemoveAll had renamed is a dot-name, skipped by
// Releases and cleared by the next Prune — here, the state a kill -9 leaves
// after the rename and part of the removal.
func TestPruneKilledMidway(t *testing.T) {
	st := NewApp(t.TempDir(), "hello")
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	for _, rev := range []string{a, b} {
		rel := &Release{Revision: rev, Time: time.Now(), Status: StatusDeployed}
		if err := st.WriteRelease(rel, []driver.UnitFile{{Name: "hello.web." + rev[:12] + "@.service", Data: []byte("[Service]\nExecStart=/bin/true\n")}}); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(st.SrcDir(rev), 0o755)
	}
	if err := st.SetCurrent(b); err != nil {
		t.Fatal(err)
	}
	// Killed midway through removing a: renamed, its units gone, its
	// release.json not yet; the same for its tree and for a destroy's.
	gone := filepath.Join(st.Dir, "releases", goneMark+a)
	if err := os.Rename(st.ReleaseDir(a), gone); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(gone, "units"))
	os.Rename(st.SrcDir(a), filepath.Join(st.Dir, "src", goneMark+a))
	os.MkdirAll(filepath.Join(st.Dir, goneMark+"releases", a), 0o755)

	rels, err := st.Releases()
	if err != nil || len(rels) != 1 || rels[0].Revision != b {
		t.Fatalf("Releases after the kill = %v, %v; want only %s", rels, err, b[:12])
	}
	if err := st.Prune(5); err != nil {
		t.Fatal(err)
	}
	for _, leftover := range []string{gone, filepath.Join(st.Dir, "src", goneMark+a), filepath.Join(st.Dir, goneMark+"releases")} {
		if _, err := os.Lstat(leftover); !os.IsNotExist(err) {
			t.Errorf("%s is still there after the next Prune", leftover)
		}
	}
	if _, err := st.Release(b); err != nil {
		t.Errorf("the current release after Prune: %v", err)
	}
	// RemoveAll of a directory that is already gone is done.
	if err := RemoveAll(st.ReleaseDir(a)); err != nil {
		t.Errorf("removeAll of a missing directory: %v", err)
	}
}

func TestReleasesCurrentAndPrune(t *testing.T) {
	st := NewApp(t.TempDir(), "hello")
	revs := []string{strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, rev := range revs {
		rel := &Release{Revision: rev, Time: base.Add(time.Duration(i) * time.Minute), Status: StatusPending}
		if err := st.WriteRelease(rel, []driver.UnitFile{{Name: "hello.web." + rev[:12] + "@.service", Data: []byte("[Service]\nExecStart=/bin/true\n")}}); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(st.SrcDir(rev), 0o755)
	}
	orphan := strings.Repeat("e", 40) // a push killed before it became a release
	os.MkdirAll(st.SrcDir(orphan), 0o755)
	if cur, err := st.Current(); cur != "" || err != nil {
		t.Errorf("Current before any switch = %q, %v", cur, err)
	}
	if err := st.SetCurrent(revs[0]); err != nil {
		t.Fatal(err)
	}
	if err := st.SetStatus(revs[0], StatusDeployed); err != nil {
		t.Fatal(err)
	}
	if cur, _ := st.Current(); cur != revs[0] {
		t.Errorf("Current = %q", cur)
	}
	target, _ := os.Readlink(filepath.Join(st.Dir, "current"))
	if target != "releases/"+revs[0] {
		t.Errorf("current -> %q; want a relative link releases/REV", target)
	}
	rel, err := st.Release(revs[0])
	if err != nil || rel.Status != StatusDeployed || len(rel.Units) != 1 {
		t.Errorf("Release = %+v, %v", rel, err)
	}
	files, err := st.Units(revs[1])
	if err != nil || len(files) != 1 {
		t.Errorf("Units = %v, %v", files, err)
	}
	// keep 1: current (a) stays, and the newest other (c); b goes
	if err := st.Prune(1); err != nil {
		t.Fatal(err)
	}
	rels, _ := st.Releases()
	var got []string
	for _, r := range rels {
		got = append(got, r.Revision[:1])
	}
	if strings.Join(got, "") != "ac" {
		t.Errorf("after Prune(1) releases = %v; want a (current) and c (newest)", got)
	}
	if _, err := os.Stat(st.SrcDir(revs[1])); !os.IsNotExist(err) {
		t.Errorf("src of a pruned release is still there")
	}
	if _, err := os.Stat(st.SrcDir(orphan)); !os.IsNotExist(err) {
		t.Errorf("src of a push that never became a release is still there")
	}
	if _, err := os.Stat(st.SrcDir(revs[2])); err != nil {
		t.Errorf("src of a kept release: %v", err)
	}
}

// TestWriteReleaseFullDisk: on a full disk nothing half-written appears
// under the release's name.
func TestWriteReleaseFullDisk(t *testing.T) {
	dir := t.TempDir()
	tmpfs(t, dir)
	st := NewApp(dir, "hello")
	rev := strings.Repeat("d", 40)
	big := []byte("[Service]\nExecStart=/bin/true\n" + strings.Repeat("# padding\n", 20000))
	err := st.WriteRelease(&Release{Revision: rev, Status: StatusPending}, []driver.UnitFile{{Name: "x.service", Data: big}})
	if err == nil {
		t.Fatal("WriteRelease on a full disk succeeded")
	}
	if _, err := os.Stat(st.ReleaseDir(rev)); !os.IsNotExist(err) {
		t.Errorf("a half-written release exists: %v", err)
	}
	es, _ := os.ReadDir(filepath.Join(st.Dir, "releases"))
	if len(es) != 0 {
		t.Errorf("leftovers in releases/: %v", es)
	}
}

// tmpfs mounts a tiny tmpfs over dir (a full disk), or reports it
// Unavailable: under make test a skipped full-disk test is a failure.
func tmpfs(t *testing.T, dir string) {
	t.Helper()
	if os.Getuid() != 0 {
		sandbox.Unavailable(t, "mounting a tmpfs needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		sandbox.Unavailable(t, "mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
}

// A release made current again counts as recent: Prune keeps it over one
// first deployed after it.
func TestPruneKeepsWhatWasCurrentLast(t *testing.T) {
	st := NewApp(t.TempDir(), "hello")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var keys []string
	for i, r := range []struct {
		rev string
		gen int
	}{{strings.Repeat("a", 40), 1}, {strings.Repeat("a", 40), 2}, {strings.Repeat("b", 40), 1}} {
		rel := &Release{Revision: r.rev, Gen: r.gen, Time: base.Add(time.Duration(i) * time.Minute), Status: StatusPending}
		if err := st.WriteRelease(rel, []driver.UnitFile{{Name: "x.service", Data: []byte("[Service]\nExecStart=/bin/true\n")}}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rel.Key())
	}
	// a, then a-2, then a again (now), then b current
	st.SetStatus(keys[0], StatusDeployed)
	st.SetCurrent(keys[2])
	if err := st.Prune(1); err != nil {
		t.Fatal(err)
	}
	rels, _ := st.Releases()
	var got []string
	for _, r := range rels {
		got = append(got, r.Key()[39:])
	}
	if strings.Join(got, " ") != "a b" {
		t.Errorf("after Prune(1): %q; want a (current last but one) and b (current)", got)
	}
}
