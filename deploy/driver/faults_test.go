package driver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestToolFaults: a missing, failing or hanging systemctl/fleetctl is an
// environment error (exit 3) that names the command.
func TestToolFaults(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "failing")
	hanging := filepath.Join(dir, "hanging")
	os.WriteFile(failing, []byte("#!/bin/sh\necho 'Failed to start x.service: Unit x.service not found.' >&2\nexit 5\n"), 0o755)
	os.WriteFile(hanging, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755)
	for _, tc := range []struct {
		name string
		drv  Driver
		want string
	}{
		{"systemctl missing", &Systemd{UnitDir: dir, Systemctl: []string{"/nonexistent/systemctl"}}, "/nonexistent/systemctl is not installed"},
		{"fleetctl missing", &Fleet{Fleetctl: []string{"/nonexistent/fleetctl"}}, "/nonexistent/fleetctl is not installed"},
		{"systemctl failing", &Systemd{UnitDir: dir, Systemctl: []string{failing}}, "Unit x.service not found"},
		{"fleetctl failing", &Fleet{Fleetctl: []string{failing}}, "Unit x.service not found"},
		{"systemctl hanging", &Systemd{UnitDir: dir, Systemctl: []string{hanging}}, "timed out"},
		{"fleetctl hanging", &Fleet{Fleetctl: []string{hanging}}, "timed out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tc.drv.Start(ctx, "x.service")
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start = %v; want a driver error containing %q", err, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v: a hanging tool must be cut off at the timeout", d)
			}
		})
	}
}
