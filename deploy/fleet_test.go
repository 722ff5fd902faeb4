package deploy

import (
	"context"
	"strings"
	"testing"
)

func TestFleetDriverMissingTool(t *testing.T) {
	drv := &Fleet{Fleetctl: []string{"/nonexistent/fleetctl"}}
	_, err := drv.States(context.Background(), "a.")
	if KindOf(err) != KindEnv || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("missing fleetctl: %v (kind %v); want an environment error saying it is not installed", err, KindOf(err))
	}
}
