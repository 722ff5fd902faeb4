package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/nap-paas/nap/announce"
)

func init() {
	register("announce", command{
		summary: "announce --key K --container C …: the discovery sidekick of one instance (run by its discovery unit)",
		run:     runAnnounce,
	})
}

func runAnnounce(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("announce", "announce --etcd v2|v3 --endpoints URL[,URL…] --ttl SECONDS --key KEY --container NAME --host HOST --primary PORT/PROTO [--port PORT/PROTO]… --release REV --probe tcp|health|none", stderr)
	var c announce.Config
	var api, endpoints string
	var ttl int
	var ports repeated
	fs.StringVar(&c.DockerSocket, "docker-socket", "/var/run/docker.sock", "dockerd's API socket")
	fs.StringVar(&api, "etcd", "v2", "etcd's API: v2 or v3")
	fs.StringVar(&endpoints, "endpoints", "http://127.0.0.1:2379", "etcd client URLs, comma-separated")
	fs.IntVar(&ttl, "ttl", 60, "the key's TTL in seconds (refreshed every TTL/3)")
	fs.StringVar(&c.Key, "key", "", "the key to write")
	fs.StringVar(&c.Container, "container", "", "the instance's container")
	fs.StringVar(&c.Host, "host", "", "the announced host")
	fs.StringVar(&c.Primary, "primary", "", "the container port announced as \"port\"")
	fs.Var(&ports, "port", "a container port listed in \"ports\" (repeatable)")
	fs.StringVar(&c.Release, "release", "", "the release's revision")
	fs.StringVar(&c.Probe, "probe", "tcp", "what answering means: tcp, health or none")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("unexpected argument %q", pos[0])
	}
	if api != "v2" && api != "v3" {
		return usageErr("--etcd: want v2 or v3, got %q", api)
	}
	if c.Probe != "tcp" && c.Probe != "health" && c.Probe != "none" {
		return usageErr("--probe: want tcp, health or none, got %q", c.Probe)
	}
	if c.Key == "" || c.Container == "" {
		return usageErr("--key and --container are required")
	}
	c.V3, c.Endpoints, c.TTL, c.Ports, c.Log = api == "v3", strings.Split(endpoints, ","), time.Duration(ttl)*time.Second, ports, stdout
	// One thread runs it: a sidekick waits almost always, and an idle
	// second P only spins at every wake-up (measured, BENCHMARKS.md).
	runtime.GOMAXPROCS(1)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := announce.Run(ctx, c); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

// repeated is a flag given any number of times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }
