package announce

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Flags defines on fs the flags of `nap-render announce register|withdraw`
// (what the discovery units render writes), filling c. The function it
// returns finishes c once fs is parsed.
func (c *Config) Flags(fs *flag.FlagSet) func() error {
	var api, endpoints string
	var ttl int
	fs.StringVar(&c.DockerSocket, "docker-socket", "/var/run/docker.sock", "dockerd's API socket")
	fs.StringVar(&api, "etcd", "v2", "etcd's API: v2 or v3")
	fs.StringVar(&endpoints, "endpoints", "http://127.0.0.1:2379", "etcd client URLs, comma-separated")
	fs.IntVar(&ttl, "ttl", 60, "the key's TTL in seconds (refreshed every TTL/3)")
	fs.StringVar(&c.Key, "key", "", "the key to write")
	fs.StringVar(&c.Container, "container", "", "the instance's container")
	fs.StringVar(&c.Host, "host", "", "the announced host")
	fs.StringVar(&c.HostFrom, "host-from", "", "announce the value of this variable of --env-file instead of --host")
	fs.StringVar(&c.EnvFile, "env-file", "/etc/environment", "the environment file --host-from reads (KEY=VALUE lines)")
	fs.StringVar(&c.Primary, "primary", "", "the container port announced as \"port\"")
	fs.Func("port", "a container port listed in \"ports\" (repeatable)", func(s string) error {
		c.Ports = append(c.Ports, s)
		return nil
	})
	fs.StringVar(&c.Release, "release", "", "the release's revision")
	fs.StringVar(&c.Probe, "probe", "tcp", "what answering means: tcp, health or none")
	return func() error {
		if api != "v2" && api != "v3" {
			return fmt.Errorf("--etcd: want v2 or v3, got %q", api)
		}
		c.V3, c.Endpoints, c.TTL = api == "v3", strings.Split(endpoints, ","), time.Duration(ttl)*time.Second
		return nil
	}
}

// Command is `nap-render announce MODE` with c: "serve" is the host's
// announcer; "register" and "withdraw" an instance with it (register
// starts it as `self announce serve` when it is not running); "" is one
// instance announced by this process. It says on out what it did.
func Command(ctx context.Context, mode string, c Config, self string, out io.Writer) error {
	switch mode {
	case "serve":
		return Serve(ctx, Host{Log: out})
	case "register":
		start := func() error { return StartHost(ctx, self, "announce", "serve") }
		switch err := Register(ctx, Host{}, c, start); {
		case errors.Is(err, ErrStopped):
			fmt.Fprintf(out, "%s: %v\n", c.Key, err)
			return nil
		case err != nil:
			return fmt.Errorf("registering %s: %v", c.Key, err)
		}
		fmt.Fprintf(out, "%s announces %s (its journal: journalctl -u %s)\n", Unit, c.Key, Unit)
	case "withdraw":
		if err := Withdraw(ctx, Host{}, c); err != nil {
			// The stop goes on: the key expires after its TTL.
			fmt.Fprintf(out, "could not delete %s (it expires after its TTL): %v\n", c.Key, err)
			return nil
		}
		fmt.Fprintf(out, "withdrew %s\n", c.Key)
	default:
		c.Log = out
		return Run(ctx, c)
	}
	return nil
}
