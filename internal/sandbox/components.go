package sandbox

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// component is one part a machine may run: the host's Debian unit files it
// needs, the binaries they start, and how to tell it answers.
type component struct {
	unit     string   // the service the machine's target wants
	units    []string // unit files copied verbatim from the host
	binaries []string
	enabled  func(Options) bool
	ready    func(ctx context.Context, m *Machine) error
}

var components = []component{
	{
		unit:     "docker.service",
		units:    []string{"docker.service", "docker.socket", "containerd.service"},
		binaries: []string{"/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/bin/docker"},
		enabled:  func(o Options) bool { return o.Docker },
		ready: func(ctx context.Context, m *Machine) error {
			return retry(ctx, func() error {
				res, err := m.Exec(ctx, "/usr/bin/docker", "version", "--format", "{{.Server.Version}}")
				if err == nil && res.Code != 0 {
					err = fmt.Errorf("docker version: %s", res)
				}
				return err
			})
		},
	},
	{
		unit:     "docker-registry.service",
		units:    []string{"docker-registry.service"},
		binaries: []string{"/usr/bin/docker-registry"},
		enabled:  func(o Options) bool { return o.Registry },
		ready: func(ctx context.Context, m *Machine) error {
			addr := registryListen(m.opts)
			if host, port, err := net.SplitHostPort(addr); err == nil && (host == "0.0.0.0" || host == "") {
				addr = "127.0.0.1:" + port
			}
			return retry(ctx, func() error { return expectHTTP(m, "http://"+addr+"/v2/", 200) })
		},
	},
	{
		unit:     "etcd.service",
		units:    []string{"etcd.service"},
		binaries: []string{"/usr/bin/etcd"},
		enabled:  func(o Options) bool { return o.Etcd },
		ready: func(ctx context.Context, m *Machine) error {
			return retry(ctx, func() error {
				if err := expectHTTP(m, "http://127.0.0.1:2379/health", 200); err != nil {
					return err
				}
				if m.opts.EtcdV2 {
					return expectHTTP(m, "http://127.0.0.1:2379/v2/keys/", 200)
				}
				return nil
			})
		},
	},
	{
		unit:     "ssh.service",
		units:    []string{"ssh.service"},
		binaries: []string{"/usr/sbin/sshd", "/usr/bin/ssh-keygen"},
		enabled:  func(o Options) bool { return o.SSH },
		ready: func(ctx context.Context, m *Machine) error {
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
		},
	},
	{
		unit:     "nginx.service",
		units:    []string{"nginx.service"},
		binaries: []string{"/usr/sbin/nginx"},
		enabled:  func(o Options) bool { return o.Nginx },
		ready: func(ctx context.Context, m *Machine) error {
			return retry(ctx, func() error {
				_, err := os.Stat(m.Path("/run/nginx.pid"))
				return err
			})
		},
	},
}

// nginxConfig is the machine's /etc/nginx/nginx.conf: Debian's without its
// default site, which would hold the default server of port 80 a router
// wants (README tells operators the same), errors to the journal.
const nginxConfig = `user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr;
include /etc/nginx/modules-enabled/*.conf;
events {
	worker_connections 1024;
}
http {
	access_log off;
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	include /etc/nginx/conf.d/*.conf;
}
`

// enabledComponents are the components opts asks for.
func enabledComponents(opts Options) []component {
	var cs []component
	for _, c := range components {
		if c.enabled(opts) {
			cs = append(cs, c)
		}
	}
	return cs
}

func registryListen(opts Options) string {
	if opts.RegistryListen != "" {
		return opts.RegistryListen
	}
	return "127.0.0.1:5000"
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
