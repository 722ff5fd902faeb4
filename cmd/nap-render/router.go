package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/internal/cli"
	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/router"
	"github.com/nap-paas/nap/unit"
)

func init() {
	commands["router"] = &cli.Command{
		Synopsis: "[--once] [--config F] | router units [--config F] [--metadata K=V]…",
		Summary:  "router: keep this host's nginx serving APP.DOMAIN from etcd's announcements; router units: its unit",
		Help: `router follows etcd's announcements (discovery: in the operator config) and
writes router.conf for nginx: APP.DOMAIN reaches the instances of APP's web
process. Each configuration is tested by nginx before nginx reloads it; one
nginx refuses is reported and the running one stays. --once installs what
etcd holds now and exits.

router units prints the unit that runs it (### NAME, then its bytes): on
systemd enabled for multi-user.target, on fleet a global unit, placed on the
machines with every --metadata given.`,
		Args: [2]int{0, 1},
		Setup: func(fs *flag.FlagSet) func(*cli.Call) error {
			config := fs.String("config", "", "operator config (default "+deploy.DefaultConfig+")")
			once := fs.Bool("once", false, "install what etcd holds now, then exit")
			var metadata cli.Strings
			fs.Var(&metadata, "metadata", "units: run on fleet's machines with `KEY=VALUE` (repeatable)")
			return func(c *cli.Call) error {
				op, err := deploy.LoadOperator(*config)
				if err != nil {
					return err
				}
				switch append(c.Args, "")[0] {
				case "units":
					f, err := render.RouterUnit(op, *config, metadata)
					if err != nil {
						return usageErr("%v", err)
					}
					b, err := unit.MarshalAll([]*unit.File{f})
					if err == nil {
						_, err = c.Stdout.Write(b)
					}
					return err
				case "":
				default:
					return usageErr("unknown argument %q: router runs the router, router units prints its unit", c.Args[0])
				}
				if op.Router.Domain == "" {
					return usageErr("router.domain is empty in the operator config: set the domain apps answer under first")
				}
				r := &router.Router{Config: op.Router, Etcd: op.Discovery.Client(), Prefix: op.Discovery.Prefix, Log: c.Stderr}
				ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
				defer stop()
				if *once {
					return envErr(r.Once(ctx))
				}
				return envErr(r.Run(ctx))
			}
		},
	}
}
