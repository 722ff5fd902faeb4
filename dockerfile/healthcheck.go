package dockerfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// healthcheck reads HEALTHCHECK as Docker does: NONE, or CMD in exec or
// shell form with optional --interval, --timeout, --start-period,
// --start-interval and --retries.
func (in *instruction) healthcheck() (*Healthcheck, error) {
	if len(in.args) == 0 {
		return nil, errors.New("HEALTHCHECK requires at least one argument")
	}
	typ := strings.ToUpper(in.args[0])
	args := in.args[1:]
	if typ == "NONE" {
		if len(args) != 0 {
			return nil, errors.New("HEALTHCHECK NONE takes no arguments")
		}
		return &Healthcheck{Test: []string{"NONE"}}, nil
	}
	if typ != "CMD" {
		return nil, fmt.Errorf("Unknown type %q in HEALTHCHECK (try CMD)", typ)
	}
	hc := &Healthcheck{}
	if in.json {
		hc.Test = append([]string{"CMD"}, args...)
	} else {
		hc.Test = []string{"CMD-SHELL", strings.Join(args, " ")}
	}
	if len(args) == 0 {
		return nil, errors.New("Missing command after HEALTHCHECK CMD")
	}
	for _, d := range []struct {
		flag string
		to   *time.Duration
	}{
		{"interval", &hc.Interval}, {"timeout", &hc.Timeout},
		{"start-period", &hc.StartPeriod}, {"start-interval", &hc.StartInterval},
	} {
		v, _ := in.flag(d.flag)
		if v == "" {
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", d.flag, err)
		}
		if dur != 0 && dur < time.Millisecond {
			return nil, fmt.Errorf("Interval %q cannot be less than %s", d.flag, time.Millisecond)
		}
		*d.to = dur
	}
	if v, _ := in.flag("retries"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--retries: %w", err)
		}
		if n < 0 {
			return nil, fmt.Errorf("--retries cannot be negative (%d)", n)
		}
		hc.Retries = int(n)
	}
	return hc, nil
}
