package deploy

import (
	"context"
	"strings"
	"testing"
)

// TestFleetDriverSubmitsOnlyChanges: unchanged units (comments aside) are
// never resubmitted; a changed one goes through submit --replace.
func TestFleetDriverSubmitsOnlyChanges(t *testing.T) {
	c := newCluster(t, "1")
	drv := &Fleet{Fleetctl: []string{c.bin}}
	ctx := context.Background()
	// the driver runs fleetctl with this process's environment
	for _, kv := range c.env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "FLEET_STANDIN_") {
			t.Setenv(k, v)
		}
	}
	files := []UnitFile{
		{Name: "a.x.000000000000@.service", Data: []byte("# Generated\n[Service]\nExecStart=/bin/sleep 1000\n")},
		{Name: "a.build.000000000000.service", Data: []byte("[Service]\nType=oneshot\nExecStart=/bin/true\n")},
	}
	wrote, err := drv.Submit(ctx, files)
	if err != nil || len(wrote) != 2 {
		t.Fatalf("first Submit = %v, %v; want both", wrote, err)
	}
	files[0].Data = []byte("# another comment\n[Service]\nExecStart=/bin/sleep 1000\n")
	if wrote, err := drv.Submit(ctx, files); err != nil || len(wrote) != 0 {
		t.Errorf("Submit of unchanged units = %v, %v; want nothing submitted", wrote, err)
	}
	files[1].Data = []byte("[Service]\nType=oneshot\nExecStart=/bin/false\n")
	if wrote, err := drv.Submit(ctx, files); err != nil || len(wrote) != 1 || wrote[0] != files[1].Name {
		t.Errorf("Submit of one changed unit = %v, %v", wrote, err)
	}
	calls := c.calls()
	var submits []string
	for _, call := range calls {
		if strings.HasPrefix(call, "submit") {
			submits = append(submits, call)
		}
	}
	if len(submits) != 2 || !strings.HasPrefix(submits[1], "submit --replace ") {
		t.Errorf("submit calls = %q; want one plain submit, then one --replace", submits)
	}
	held, err := drv.Held(ctx, "a.build.")
	if err != nil || len(held) != 1 || !strings.Contains(string(held[0].Data), "/bin/false") {
		t.Errorf("Held = %v, %v", held, err)
	}
	if err := drv.Start(ctx, "a.x.000000000000@1.service"); err != nil {
		t.Fatal(err)
	}
	sts, err := drv.States(ctx, "a.")
	if err != nil || len(sts) != 1 || sts[0].Active != "active" || sts[0].Name != "a.x.000000000000@1.service" {
		t.Errorf("States = %+v, %v", sts, err)
	}
	if err := drv.Destroy(ctx, "a.x.000000000000@1.service", "a.x.000000000000@.service"); err != nil {
		t.Fatal(err)
	}
	if held, _ := drv.Held(ctx, "a.x."); len(held) != 0 {
		t.Errorf("after Destroy, Held = %v", held)
	}
}

func TestFleetDriverMissingTool(t *testing.T) {
	drv := &Fleet{Fleetctl: []string{"/nonexistent/fleetctl"}}
	_, err := drv.States(context.Background(), "a.")
	if KindOf(err) != KindEnv || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("missing fleetctl: %v (kind %v); want an environment error saying it is not installed", err, KindOf(err))
	}
}
