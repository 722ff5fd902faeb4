package sandbox

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMachineBoots(t *testing.T) {
	m := NewMachine(t, Full())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := m.Exec(ctx, "hostname")
	if err != nil || strings.TrimSpace(string(res.Stdout)) != m.Name {
		t.Fatalf("hostname: %v %v", res, err)
	}
	for _, u := range []string{"docker.service", "docker-registry.service", "etcd.service", "ssh.service"} {
		if out, err := m.Systemctl("is-active", u); err != nil || out != "active" {
			t.Errorf("%s: %q %v", u, out, err)
		}
	}
}
