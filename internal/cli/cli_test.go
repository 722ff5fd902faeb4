package cli

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// One rule for every command: flags anywhere, "--" ends them.
func TestParseFlags(t *testing.T) {
	for _, tc := range []struct{ args, pos, rev string }{
		{"APP --rev R", "APP", "R"},
		{"--rev R APP", "APP", "R"},
		{"APP --rev R X", "APP X", "R"},
		{"APP -- --rev R", "APP --rev R", ""},
		{"-- -x -y", "-x -y", ""},
		{"--rev R -- APP -- B", "APP -- B", "R"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		rev := fs.String("rev", "", "")
		pos, err := ParseFlags(fs, strings.Fields(tc.args))
		if err != nil || strings.Join(pos, " ") != tc.pos || *rev != tc.rev {
			t.Errorf("%q: positional %q, --rev %q, %v; want %q, %q", tc.args, pos, *rev, err, tc.pos, tc.rev)
		}
	}
}
