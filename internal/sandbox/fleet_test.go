package sandbox

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The real fleetd and fleetctl v1.0.0 on a machine: fleet lists the
// machine, and a submitted unit runs through it.
func TestFleet(t *testing.T) {
	m := NewMachine(t, Options{EtcdV2: true})
	m.StartFleet(t, FleetOptions{Metadata: "role=test"})
	if err := m.WriteFile("/tmp/hi.service", []byte("[Service]\nExecStart=/bin/sleep 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if res, err := m.Exec(ctx, "fleetctl", "start", "--no-block", "/tmp/hi.service"); err != nil || res.Code != 0 {
		t.Fatalf("fleetctl start: %v %s", err, res)
	}
	for {
		res, _ := m.Exec(ctx, "fleetctl", "list-units", "--no-legend", "--fields=unit,active")
		if strings.Contains(string(res.Stdout), "hi.service\tactive") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("hi.service never active under fleet: %s\n%s", res, m.Journal("fleet.service"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out, _ := m.Systemctl("is-active", "hi.service"); out != "active" {
		t.Errorf("systemd says hi.service is %q", out)
	}
}
