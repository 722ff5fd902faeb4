package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// FleetOptions are one machine's fleetd settings.
type FleetOptions struct {
	// EtcdServers is where fleet keeps its registry (etcd's v2 API);
	// default this machine's etcd.
	EtcdServers []string
	// Metadata is FLEET_METADATA, e.g. "role=builder,disk=ssd".
	Metadata string
	// PublicIP is the machine's address in fleet (and COREOS_PUBLIC_IPV4
	// in /etc/environment, as on CoreOS); default the machine's IP.
	PublicIP string
	// AgentTTL is FLEET_AGENT_TTL: how long the cluster waits for a lost
	// machine before it reschedules its units; default fleet's 30s.
	AgentTTL time.Duration
	// SocketGroup may use fleet's API socket besides root (fleetctl's
	// default endpoint, unix:///var/run/fleet.sock).
	SocketGroup string
}

// fleetSocket is fleet's socket unit as its packaging ships it: fleetd
// v1.0.0 serves its API only on a socket systemd hands it.
const fleetSocket = `[Unit]
Description=fleet daemon API socket

[Socket]
ListenStream=/var/run/fleet.sock
SocketMode=0660
`

// StartFleet runs fleetd (from PATH on the host: make deps installs
// v1.0.0) on m, socket-activated, with the system D-Bus it drives systemd
// through, and waits until fleet lists m among the cluster's machines.
func (m *Machine) StartFleet(t testing.TB, o FleetOptions) {
	t.Helper()
	fleetd, err := exec.LookPath("fleetd")
	if err != nil {
		Unavailable(t, "fleetd is not installed (make deps installs it from ../shared/tools/fleet): %v", err)
	}
	if _, err := exec.LookPath("fleetctl"); err != nil {
		Unavailable(t, "fleetctl is not installed: %v", err)
	}
	if len(o.EtcdServers) == 0 {
		o.EtcdServers = []string{"http://127.0.0.1:2379"}
	}
	if o.PublicIP == "" {
		o.PublicIP = m.IP
	}
	env := []string{
		"FLEET_ETCD_SERVERS=" + strings.Join(o.EtcdServers, ","),
		"FLEET_PUBLIC_IP=" + o.PublicIP,
	}
	if o.Metadata != "" {
		env = append(env, "FLEET_METADATA="+o.Metadata)
	}
	if o.AgentTTL > 0 {
		env = append(env, "FLEET_AGENT_TTL="+o.AgentTTL.String())
	}
	var service strings.Builder
	service.WriteString("[Unit]\nDescription=fleet daemon\nRequires=fleet.socket dbus.socket\nAfter=fleet.socket dbus.socket etcd.service\n\n[Service]\n")
	for _, e := range env {
		fmt.Fprintf(&service, "Environment=%s\n", e)
	}
	fmt.Fprintf(&service, "ExecStart=%s\nRestart=always\nRestartSec=1s\n", fleetd)
	files := map[string]string{
		"/etc/environment":                  fmt.Sprintf("COREOS_PUBLIC_IPV4=%s\n", o.PublicIP),
		"/etc/systemd/system/fleet.socket":  fleetSocket + socketGroup(o.SocketGroup),
		"/etc/systemd/system/fleet.service": service.String(),
	}
	for _, u := range []string{"dbus.socket", "dbus.service"} {
		b, err := os.ReadFile("/lib/systemd/system/" + u)
		if err != nil {
			Unavailable(t, "unit %s: %v", u, err)
		}
		files["/etc/systemd/system/"+u] = string(b)
	}
	for p, data := range files {
		if err := m.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"daemon-reload"}, {"start", "dbus.socket", "fleet.socket", "fleet.service"}} {
		if out, err := m.Systemctl(args...); err != nil {
			t.Fatalf("systemctl %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	id := strings.TrimSpace(m.readFile("fs/etc/machine-id"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = retry(ctx, func() error {
		res, err := m.Exec(ctx, "fleetctl", "list-machines", "--no-legend", "--full", "--fields=machine")
		if err == nil && !strings.Contains(string(res.Stdout), id) {
			err = fmt.Errorf("fleetctl list-machines: %s", res)
		}
		return err
	})
	if err != nil {
		t.Fatalf("fleet on %s did not come up: %v\n%s", m.Name, err, m.Journal("fleet.service"))
	}
}

func socketGroup(g string) string {
	if g == "" {
		return ""
	}
	return "SocketGroup=" + g + "\n"
}
