package main

import (
	"context"
	"fmt"
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
		summary: "announce register|withdraw --key K --container C …, announce serve: the host's discovery (run by the discovery units)",
		run:     runAnnounce,
	})
}

const announceUsage = `announce register --etcd v2|v3 --endpoints URL[,URL…] --ttl SECONDS --key KEY --container NAME --host HOST --primary PORT/PROTO [--port PORT/PROTO]… --release REV --probe tcp|health|none
announce withdraw --etcd v2|v3 --endpoints URL[,URL…] --key KEY
announce serve
announce --key KEY … (the flags of register: one instance in this process, as units rendered before the host announcer run it)`

func runAnnounce(args []string, stdout, stderr io.Writer) error {
	mode := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	// One thread: an announcer waits almost always, and an idle second P
	// only spins at every wake-up (measured, BENCHMARKS.md).
	runtime.GOMAXPROCS(1)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	switch mode {
	case "serve":
		if len(args) > 0 {
			return usageErr("announce serve takes no arguments")
		}
		if err := announce.Serve(ctx, announce.Host{Log: stdout}); err != nil {
			return &exitError{exitEnv, err}
		}
		return nil
	case "register", "withdraw", "":
	default:
		return usageErr("announce: unknown mode %q; usage:\n%s", mode, announceUsage)
	}
	c, err := announceFlags(args, mode, stderr)
	if err != nil {
		return err
	}
	switch mode {
	case "register":
		exe, err := os.Executable()
		if err != nil {
			return &exitError{exitEnv, err}
		}
		start := func() error { return announce.StartHost(ctx, exe, "announce", "serve") }
		err = announce.Register(ctx, announce.Host{}, c, start)
		if ctx.Err() != nil {
			// Stopped while starting (systemd stops a unit whenever it
			// must): undo, and end cleanly, so the unit is inactive, not
			// failed, and nothing stays registered.
			announce.Withdraw(context.Background(), announce.Host{}, c)
			fmt.Fprintf(stdout, "stopped while registering %s: withdrawn\n", c.Key)
			return nil
		}
		if err != nil {
			return &exitError{exitEnv, fmt.Errorf("registering %s: %v", c.Key, err)}
		}
		fmt.Fprintf(stdout, "%s announces %s (its journal: journalctl -u %s)\n", announce.Unit, c.Key, announce.Unit)
	case "withdraw":
		if err := announce.Withdraw(ctx, announce.Host{}, c); err != nil {
			// The stop goes on: the key expires after its TTL.
			fmt.Fprintf(stdout, "could not delete %s (it expires after its TTL): %v\n", c.Key, err)
			return nil
		}
		fmt.Fprintf(stdout, "withdrew %s\n", c.Key)
	default:
		c.Log = stdout
		if err := announce.Run(ctx, c); err != nil {
			return usageErr("%v", err)
		}
	}
	return nil
}

// announceFlags parses the flags of register, withdraw and the
// one-instance announcer.
func announceFlags(args []string, mode string, stderr io.Writer) (announce.Config, error) {
	fs := newFlagSet("announce", announceUsage, stderr)
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
	pos, err := parseFlags(fs, args)
	if err != nil {
		return c, err
	}
	if len(pos) > 0 {
		return c, usageErr("unexpected argument %q", pos[0])
	}
	if api != "v2" && api != "v3" {
		return c, usageErr("--etcd: want v2 or v3, got %q", api)
	}
	if c.Probe != "tcp" && c.Probe != "health" && c.Probe != "none" {
		return c, usageErr("--probe: want tcp, health or none, got %q", c.Probe)
	}
	if c.Key == "" || (c.Container == "" && mode != "withdraw") {
		return c, usageErr("--key and --container are required")
	}
	c.V3, c.Endpoints, c.TTL, c.Ports = api == "v3", strings.Split(endpoints, ","), time.Duration(ttl)*time.Second, ports
	return c, nil
}

// repeated is a flag given any number of times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }
