package main

import (
	"flag"
	"os"
	"runtime"

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
		Args: [2]int{0, 1},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			var c announce.Config
			finish := c.Flags(fs)
			return func(cl *cli.Call) error {
				mode := cl.Arg(0)
				if mode != "serve" && mode != "register" && mode != "withdraw" && mode != "" {
					return usageErr("unknown mode %q: want register, withdraw or serve", mode)
				}
				err := finish()
				if err == nil && mode != "serve" && (mode != "withdraw" || c.Key == "") {
					err = c.Check()
				}
				if err != nil {
					return usageErr("%v", err)
				}
				// One thread: an announcer waits almost always, and an idle
				// second P only spins at every wake-up (BENCHMARKS.md).
				runtime.GOMAXPROCS(1)
				ctx, stop := cli.Interruptible()
				defer stop()
				exe, _ := os.Executable() // the path systemd started: the unit's ExecStart
				return envErr(announce.Command(ctx, mode, c, exe, cl.Stdout))
			}
		},
	}
}
