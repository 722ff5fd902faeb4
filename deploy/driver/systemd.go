package driver

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nap-paas/nap/internal/atomicfile"
	"github.com/nap-paas/nap/unit"
)

const cmdWaitDelay = 2 * time.Second

// Systemd drives one host's systemd: unit files in UnitDir, systemctl to
// reload, enable, start and stop them.
type Systemd struct {
	UnitDir    string
	Systemctl  []string // argv prefix; default ["systemctl"]
	Journalctl []string // argv prefix; default ["journalctl"]
	// Timeout bounds each systemctl and journalctl command but a followed
	// journal; default 1 minute.
	Timeout time.Duration
}

func (s *Systemd) Name() string { return "systemd" }

// Source: systemd answers for itself.
func (s *Systemd) Source() (states, held string) {
	return "as systemd reports them", "the unit directory"
}

// Poll: systemctl answers from systemd at once.
func (s *Systemd) Poll() time.Duration { return 100 * time.Millisecond }

func (s *Systemd) systemctl(ctx context.Context, args ...string) (string, error) {
	argv := s.Systemctl
	if len(argv) == 0 {
		argv = []string{"systemctl"}
	}
	return runTool(ctx, s.Timeout, "systemctl", argv, args...)
}

func (s *Systemd) journalctl() []string {
	if len(s.Journalctl) == 0 {
		return []string{"journalctl"}
	}
	return s.Journalctl
}

// Submit writes each file that differs into UnitDir (temporary file and
// rename), then reloads systemd once.
func (s *Systemd) Submit(ctx context.Context, files []UnitFile) ([]string, error) {
	if err := os.MkdirAll(s.UnitDir, 0o755); err != nil {
		return nil, envErr("submit", "%v", err)
	}
	var wrote []string
	for _, f := range files {
		p := filepath.Join(s.UnitDir, f.Name)
		if old, err := os.ReadFile(p); err == nil && SameUnit(old, f.Data) {
			continue
		}
		if err := atomicfile.Write(p, f.Data, 0o644); err != nil {
			return wrote, envErr("submit", "%v", err)
		}
		wrote = append(wrote, f.Name)
	}
	if len(wrote) > 0 {
		if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
			return wrote, err
		}
	}
	return wrote, nil
}

// Start queues the units' start jobs without waiting.
func (s *Systemd) Start(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	_, err := s.systemctl(ctx, append([]string{"start", "--no-block"}, names...)...)
	return err
}

// Enable enables the units that have an [Install] section: run units come
// back after a reboot, and a sidekick's WantedBy= links it to its run unit,
// so it returns whenever that restarts.
func (s *Systemd) Enable(ctx context.Context, names ...string) error {
	var enable []string
	for _, n := range names {
		if s.hasInstall(n) {
			enable = append(enable, n)
		}
	}
	if len(enable) == 0 {
		return nil
	}
	_, err := s.systemctl(ctx, append([]string{"enable", "--quiet"}, enable...)...)
	return err
}

// hasInstall reports whether the unit's file (or its template's) has an
// [Install] section: `systemctl enable` refuses others.
func (s *Systemd) hasInstall(name string) bool {
	b, err := os.ReadFile(filepath.Join(s.UnitDir, unit.TemplateOf(name)))
	return err == nil && strings.Contains(string(b), "\n[Install]")
}

func (s *Systemd) Stop(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	_, err := s.systemctl(ctx, append([]string{"stop"}, names...)...)
	return err
}

// Destroy disables and stops instances, removes files and reloads.
func (s *Systemd) Destroy(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	var run, enabled []string
	templates := map[string]bool{}
	for _, n := range names {
		if unit.IsTemplate(n) {
			templates[n] = true
		} else {
			run = append(run, n)
			if s.hasInstall(n) {
				enabled = append(enabled, n)
			}
		}
	}
	// Instances enabled whose units are not loaded now (stopped, or never
	// started) are named by nobody, yet their links must go: systemd
	// removes them (the directories are root's), while the templates are
	// still there to read.
	for _, n := range s.wantsOf(templates) {
		if !slices.Contains(enabled, n) {
			enabled = append(enabled, n)
		}
	}
	if len(enabled) > 0 {
		if _, err := s.systemctl(ctx, append([]string{"disable", "--quiet"}, enabled...)...); err != nil {
			return err
		}
	}
	if err := s.Stop(ctx, run...); err != nil {
		return err
	}
	removed := false
	for _, n := range names {
		if err := os.Remove(filepath.Join(s.UnitDir, n)); err == nil {
			removed = true
		} else if !errors.Is(err, os.ErrNotExist) {
			return envErr("destroy", "%v", err)
		}
	}
	if err := s.unlinkWants(templates); err != nil {
		return err
	}
	if removed {
		if _, err := s.systemctl(ctx, "daemon-reload"); err != nil {
			return err
		}
	}
	s.ResetFailed(ctx, run...)
	return nil
}

// wantsOf lists the instances of templates that have enable links in
// UnitDir.
func (s *Systemd) wantsOf(templates map[string]bool) []string {
	var out []string
	dirs, _ := filepath.Glob(filepath.Join(s.UnitDir, "*.wants"))
	for _, d := range dirs {
		es, _ := os.ReadDir(d)
		for _, e := range es {
			if templates[unit.TemplateOf(e.Name())] && !slices.Contains(out, e.Name()) {
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out
}

// unlinkWants removes the enable links of instances of the templates that
// no caller named: instances enabled whose start then failed were never
// loaded, so nothing lists them to disable, yet their links would outlive
// the templates ("X@1.service.wants/" left in UnitDir).
func (s *Systemd) unlinkWants(templates map[string]bool) error {
	if len(templates) == 0 {
		return nil
	}
	dirs, _ := filepath.Glob(filepath.Join(s.UnitDir, "*.wants"))
	for _, d := range dirs {
		es, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		left := len(es)
		for _, e := range es {
			if templates[unit.TemplateOf(e.Name())] {
				if err := os.Remove(filepath.Join(d, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
					return envErr("destroy", "%v", err)
				}
				left--
			}
		}
		if left == 0 && templates[unit.TemplateOf(strings.TrimSuffix(filepath.Base(d), ".wants"))] {
			os.Remove(d)
		}
	}
	return nil
}

func (s *Systemd) ResetFailed(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	_, err := s.systemctl(ctx, append([]string{"reset-failed"}, names...)...)
	return err
}

// States lists loaded units by a glob on prefix.
func (s *Systemd) States(ctx context.Context, prefix string) ([]UnitState, error) {
	out, err := s.systemctl(ctx, "list-units", "--all", "--plain", "--no-legend", "--full", "--no-pager", prefix+"*")
	if err != nil {
		return nil, err
	}
	var states []UnitState
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		states = append(states, UnitState{Name: f[0], Load: f[1], Active: f[2], Sub: f[3]})
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Name < states[j].Name })
	return states, nil
}

func (s *Systemd) List(ctx context.Context, prefix string) ([]string, error) {
	held, err := s.Held(ctx, prefix)
	var names []string
	for _, h := range held {
		names = append(names, h.Name)
	}
	return names, err
}

func (s *Systemd) Held(ctx context.Context, prefix string) ([]UnitFile, error) {
	es, err := os.ReadDir(s.UnitDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, envErr("held", "%v", err)
	}
	var out []UnitFile
	for _, e := range es {
		if e.IsDir() || !strings.HasPrefix(e.Name(), prefix) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.UnitDir, e.Name()))
		if err != nil {
			return nil, envErr("held", "%v", err)
		}
		out = append(out, UnitFile{e.Name(), b})
	}
	return out, nil
}

func (s *Systemd) Journal(ctx context.Context, name string, n int) (string, error) {
	return runTool(ctx, s.Timeout, "journal", s.journalctl(), "--no-pager", "-o", "cat", "-n", strconv.Itoa(n), "-u", name)
}

func (s *Systemd) Follow(ctx context.Context, name string, w io.Writer) error {
	since := "@" + strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	return followTool(ctx, s.journalctl(), w, "--no-pager", "-o", "cat", "-f", "--since", since, "-u", name)
}
