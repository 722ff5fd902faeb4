package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

func init() {
	register("status", command{
		summary: "status APP [--json]: releases, units and their states, endpoints",
		run:     runStatus,
	})
}

func runStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", "status APP [--json] [--config F]", stderr)
	var df deployFlags
	df.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("status takes one APP")
	}
	d, err := df.deployer(stderr) // progress lines (a reconcile) stay out of the report
	if err != nil {
		return err
	}
	st, err := d.Status(context.Background(), pos[0])
	if err != nil {
		return deployErr(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	cur := st.Current
	if cur == "" {
		cur = "-"
	}
	fmt.Fprintf(tw, "app\t%s\ncurrent\t%s\n\nRELEASE\tTIME\tSTATUS\n", st.App, cur)
	for i := len(st.Releases) - 1; i >= 0; i-- {
		r := st.Releases[i]
		mark := ""
		if r.Revision == st.Current {
			mark = " (current)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\n", r.Revision, r.Time.Format("2006-01-02 15:04:05Z"), r.Status, mark)
	}
	fmt.Fprintf(tw, "\nUNIT\tACTIVE\tSUB\tMACHINE\n")
	for _, u := range st.Units {
		m := u.Machine
		if m == "" {
			m = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Active, u.Sub, m)
	}
	fmt.Fprintf(tw, "\nENDPOINT\tADDRESS\n")
	for _, e := range st.Endpoints {
		fmt.Fprintf(tw, "%s\t%s\n", e.Key, e.Addr)
	}
	return tw.Flush()
}
