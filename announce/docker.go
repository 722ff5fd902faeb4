package announce

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// docker reads one container from dockerd's API on its unix socket: one
// request per look, and an event stream to wait on instead of polling.
type docker struct{ client *http.Client }

func newDocker(socket string) *docker {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &docker{&http.Client{Transport: tr}}
}

// container is what the announcer needs of one.
type container struct {
	Running bool
	Health  string            // "healthy", "starting", … or "" without a HEALTHCHECK
	IP      string            // on docker's default network
	Ports   map[string]string // "8080/tcp" → host port, for the published ones
}

// inspect returns the container, nil when there is none.
func (d *docker) inspect(ctx context.Context, name string) (*container, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://docker/containers/"+url.PathEscape(name)+"/json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("docker inspect %s: HTTP %d: %s", name, resp.StatusCode, short(b))
	}
	var r struct {
		State struct {
			Running, Paused bool
			Health          *struct{ Status string }
		}
		NetworkSettings struct {
			IPAddress string
			Ports     map[string][]struct{ HostPort string }
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("docker inspect %s: %v", name, err)
	}
	// A paused container accepts connections into its backlog but answers
	// none: it is not running for its clients.
	c := &container{Running: r.State.Running && !r.State.Paused, IP: r.NetworkSettings.IPAddress, Ports: map[string]string{}}
	if r.State.Health != nil {
		c.Health = r.State.Health.Status
	}
	for port, bindings := range r.NetworkSettings.Ports {
		if len(bindings) > 0 && bindings[0].HostPort != "" {
			c.Ports[port] = bindings[0].HostPort
		}
	}
	return c, nil
}

// events calls wake with the container's name for every event of the
// container named (every container when name is ""): start, die, health
// status… until ctx ends or the stream breaks (dockerd restarting).
func (d *docker) events(ctx context.Context, name string, wake func(name string)) error {
	f := map[string][]string{"type": {"container"}}
	if name != "" {
		f["container"] = []string{name}
	}
	filters, _ := json.Marshal(f)
	req, err := http.NewRequestWithContext(ctx, "GET", "http://docker/events?filters="+url.QueryEscape(string(filters)), nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("docker events: HTTP %d", resp.StatusCode)
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev struct {
			Action string
			Actor  struct{ Attributes struct{ Name string } }
		}
		if err := dec.Decode(&ev); err != nil {
			return err
		}
		if !strings.HasPrefix(ev.Action, "exec_") { // docker exec by someone: not a change
			wake(ev.Actor.Attributes.Name)
		}
	}
}
