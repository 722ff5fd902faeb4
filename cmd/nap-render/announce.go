package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/nap-paas/nap/announce"
	"github.com/nap-paas/nap/internal/cli"
)

func init() {
	commands["announce"] = &cli.Command{
		Synopsis: "register|withdraw|serve [flags]",
		Summary:  "announce register|withdraw --key K --container C …, announce serve: the host's discovery (run by the discovery units)",
		Help: `announce register --etcd v2|v3 --endpoints URL[,URL…] --ttl SECONDS --key KEY --container NAME --host HOST --primary PORT/PROTO [--port PORT/PROTO]… --release REV --probe tcp|health|none
announce withdraw --etcd v2|v3 --endpoints URL[,URL…] --key KEY
announce serve
announce --key KEY … (the flags of register: one instance in this process, as units rendered before the host announcer run it)`,
		Args:  [2]int{0, 1},
		Setup: setupAnnounce,
	}
}

func setupAnnounce(fs *flag.FlagSet) func(*cli.Call) error {
	var c announce.Config
	finish := c.Flags(fs)
	return func(cl *cli.Call) error {
		mode := append(cl.Args, "")[0]
		// One thread: an announcer waits almost always, and an idle second P
		// only spins at every wake-up (measured, BENCHMARKS.md).
		runtime.GOMAXPROCS(1)
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		switch {
		case mode == "serve":
			return envErr(announce.Serve(ctx, announce.Host{Log: cl.Stdout}))
		case mode != "register" && mode != "withdraw" && mode != "":
			return usageErr("unknown mode %q: want register, withdraw or serve", mode)
		}
		err := finish()
		if err == nil && (mode != "withdraw" || c.Key == "") {
			err = c.Check()
		}
		if err != nil {
			return usageErr("%v", err)
		}
		switch mode {
		case "register":
			exe, _ := os.Executable() // the path systemd started: the unit's ExecStart
			start := func() error { return announce.StartHost(ctx, exe, "announce", "serve") }
			switch err := announce.Register(ctx, announce.Host{}, c, start); {
			case errors.Is(err, announce.ErrStopped):
				fmt.Fprintf(cl.Stdout, "%s: %v\n", c.Key, err)
				return nil
			case err != nil:
				return envErr(fmt.Errorf("registering %s: %v", c.Key, err))
			}
			fmt.Fprintf(cl.Stdout, "%s announces %s (its journal: journalctl -u %s)\n", announce.Unit, c.Key, announce.Unit)
		case "withdraw":
			if err := announce.Withdraw(ctx, announce.Host{}, c); err != nil {
				// The stop goes on: the key expires after its TTL.
				fmt.Fprintf(cl.Stdout, "could not delete %s (it expires after its TTL): %v\n", c.Key, err)
				return nil
			}
			fmt.Fprintf(cl.Stdout, "withdrew %s\n", c.Key)
		default:
			c.Log = cl.Stdout
			return envErr(announce.Run(ctx, c))
		}
		return nil
	}
}
