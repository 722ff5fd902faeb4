package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const cgroupRoot = "/sys/fs/cgroup"

// hierarchy is one line of /proc/self/cgroup resolved to a directory.
type hierarchy struct {
	mount      string // where the hierarchy is mounted
	dir        string // this process's cgroup in it
	controller string // name the machine mounts it by ("" for the unified one)
}

// ourHierarchies lists this process's cgroups on every mounted hierarchy.
func ourHierarchies() ([]hierarchy, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	var hs []hierarchy
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls, path := parts[1], parts[2]
		mount := filepath.Join(cgroupRoot, "unified")
		name := ""
		if ctrls != "" {
			name = strings.TrimPrefix(ctrls, "name=")
			mount = filepath.Join(cgroupRoot, name)
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(mount, &st); err != nil {
			continue
		}
		const cgroupMagic, cgroup2Magic = 0x27e0eb, 0x63677270
		if st.Type != cgroupMagic && st.Type != cgroup2Magic {
			continue
		}
		hs = append(hs, hierarchy{mount: mount, dir: filepath.Join(mount, path), controller: name})
	}
	if len(hs) == 0 {
		return nil, errors.New("no cgroup hierarchy is mounted under " + cgroupRoot)
	}
	return hs, nil
}

// createCgroups creates a child cgroup named name under this process's own
// cgroup on every hierarchy. It returns the directories created (also on
// error, so they can be removed) and the v1 controllers the machine mounts.
func createCgroups(name string) (dirs, controllers []string, err error) {
	hs, err := ourHierarchies()
	if err != nil {
		return nil, nil, err
	}
	for _, h := range hs {
		d := filepath.Join(h.dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			return dirs, nil, err
		}
		dirs = append(dirs, d)
		if h.controller == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				b, err := os.ReadFile(filepath.Join(h.dir, f))
				if err != nil {
					return dirs, nil, err
				}
				if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
					return dirs, nil, err
				}
			}
		}
		if h.controller != "" {
			controllers = append(controllers, h.controller)
		}
	}
	sort.Strings(controllers)
	return dirs, controllers, nil
}

// removeCgroups removes dirs and everything below them, deepest first,
// waiting up to timeout for the processes in them to be gone.
func removeCgroups(dirs []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var errs []error
	for _, d := range dirs {
		for {
			err := removeTree(d)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %v (processes: %s)", d, err, cgroupProcs(d)))
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return errors.Join(errs...)
}

func removeTree(dir string) error {
	var subdirs []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if e.IsDir() {
			subdirs = append(subdirs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(subdirs) - 1; i >= 0; i-- {
		if err := syscall.Rmdir(subdirs[i]); err != nil && err != syscall.ENOENT {
			return err
		}
	}
	return nil
}

// cgroupProcs lists the pids in dir and below, for error messages.
func cgroupProcs(dir string) string {
	var pids []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && e.Name() == "cgroup.procs" {
			b, _ := os.ReadFile(p)
			pids = append(pids, strings.Fields(string(b))...)
		}
		return nil
	})
	return strings.Join(pids, " ")
}

var staleName = regexp.MustCompile(`^nap-sandbox-([0-9]+)-[0-9]+$`)

// sweepStale removes cgroup directories left by test processes that were
// killed before their cleanup ran (their machines died with them: see
// --kill-child in boot.sh).
func sweepStale() {
	hs, err := ourHierarchies()
	if err != nil {
		return
	}
	for _, h := range hs {
		entries, err := os.ReadDir(h.dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			sub := staleName.FindStringSubmatch(e.Name())
			if sub == nil {
				continue
			}
			pid, _ := strconv.Atoi(sub[1])
			if pid == os.Getpid() || processAlive(pid) {
				continue
			}
			removeTree(filepath.Join(h.dir, e.Name()))
		}
	}
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// leftoverCgroups lists the machine cgroup directories of this process that
// still exist.
func leftoverCgroups() []string {
	hs, err := ourHierarchies()
	if err != nil {
		return nil
	}
	prefix := fmt.Sprintf("nap-sandbox-%d-", os.Getpid())
	var left []string
	for _, h := range hs {
		f, err := os.Open(h.dir)
		if err != nil {
			continue
		}
		names, _ := f.Readdirnames(-1)
		f.Close()
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				left = append(left, filepath.Join(h.dir, n))
			}
		}
	}
	return left
}
