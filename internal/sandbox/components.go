package sandbox

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// component is a unit the machine runs and how to tell it answers.
type component struct {
	unit  string
	ready func(ctx context.Context, m *Machine) error
}

func (m *Machine) components() []component {
	var cs []component
	if m.opts.Docker {
		cs = append(cs, component{"docker.service", func(ctx context.Context, m *Machine) error {
			return retry(ctx, func() error {
				res, err := m.Exec(ctx, "/usr/bin/docker", "version", "--format", "{{.Server.Version}}")
				if err != nil {
					return err
				}
				if res.Code != 0 {
					return fmt.Errorf("docker version: %s", res)
				}
				return nil
			})
		}})
	}
	if m.opts.Registry {
		cs = append(cs, component{"docker-registry.service", func(ctx context.Context, m *Machine) error {
			return retry(ctx, func() error { return expectHTTP(m, "http://127.0.0.1:5000/v2/", 200) })
		}})
	}
	if m.opts.Etcd {
		cs = append(cs, component{"etcd.service", func(ctx context.Context, m *Machine) error {
			return retry(ctx, func() error {
				if err := expectHTTP(m, "http://127.0.0.1:2379/health", 200); err != nil {
					return err
				}
				if m.opts.EtcdV2 {
					return expectHTTP(m, "http://127.0.0.1:2379/v2/keys/", 200)
				}
				return nil
			})
		}})
	}
	if m.opts.SSH {
		cs = append(cs, component{"ssh.service", func(ctx context.Context, m *Machine) error {
			return retry(ctx, func() error {
				conn, err := m.DialContext(ctx, "tcp", "127.0.0.1:22")
				if err != nil {
					return err
				}
				defer conn.Close()
				conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 64)
				n, err := conn.Read(buf)
				if !strings.HasPrefix(string(buf[:n]), "SSH-2.0-") {
					return fmt.Errorf("port 22 greets with %q (%v)", buf[:n], err)
				}
				return nil
			})
		}})
	}
	return cs
}

func expectHTTP(m *Machine, url string, code int) error {
	got, body, err := m.HTTPGet(url)
	if err != nil {
		return err
	}
	if got != code {
		return fmt.Errorf("GET %s: %d %s", url, got, body)
	}
	return nil
}

// retry calls f until it succeeds or ctx ends, returning f's last error.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}
