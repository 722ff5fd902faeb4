package main

import (
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
		Flags: []cli.Flag{configFlag, opt("once", false, "install what etcd holds now, then exit"),
			opt("metadata", cli.Strings(nil), "units: run on fleet's machines with `KEY=VALUE` (repeatable)")},
		Run: func(c *cli.Call) error {
			op, err := deploy.LoadOperator(c.String("config"))
			switch {
			case err != nil:
				return err
			case c.Arg(0) == "units":
				f, err := render.RouterUnit(op, c.String("config"), c.Strings("metadata"))
				if err != nil {
					return usageErr("%v", err)
				}
				return writeUnits(c, []*unit.File{f})
			case c.Arg(0) != "":
				return usageErr("unknown argument %q: router runs the router, router units prints its unit", c.Args[0])
			case op.Router.Domain == "":
				return usageErr("router.domain is empty in the operator config: set the domain apps answer under first")
			}
			r := &router.Router{Config: op.Router, Etcd: op.Discovery.Client(), Prefix: op.Discovery.Prefix, Log: c.Stderr}
			ctx, stop := cli.Interruptible()
			defer stop()
			if c.Bool("once") {
				return envErr(r.Once(ctx))
			}
			return envErr(r.Run(ctx))
		},
	}
}
