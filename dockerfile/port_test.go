package dockerfile

import (
	"testing"
	"testing/quick"
)

func TestParsePort(t *testing.T) {
	good := []struct {
		in   string
		want Port
		str  string
	}{
		{"80", Port{80, 80, "tcp"}, "80/tcp"},
		{"80/tcp", Port{80, 80, "tcp"}, "80/tcp"},
		{"53/udp", Port{53, 53, "udp"}, "53/udp"},
		{"9000/SCTP", Port{9000, 9000, "sctp"}, "9000/sctp"},
		{"8000-8010/tcp", Port{8000, 8010, "tcp"}, "8000-8010/tcp"},
		{"8000-8000", Port{8000, 8000, "tcp"}, "8000/tcp"},
		{"1-1024/udp", Port{1, 1024, "udp"}, "1-1024/udp"},
		{"65535", Port{65535, 65535, "tcp"}, "65535/tcp"},
		{"00080", Port{80, 80, "tcp"}, "80/tcp"},
	}
	for _, tt := range good {
		got, err := ParsePort(tt.in)
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParsePort(%q) = %+v %q, %v; want %+v %q", tt.in, got, got.String(), err, tt.want, tt.str)
		}
	}
	bad := map[string]string{
		"":            `invalid port "": a port is a number from 1 to 65535`,
		"0":           `invalid port "0": a port is a number from 1 to 65535`,
		"65536":       `invalid port "65536": a port is a number from 1 to 65535`,
		"99999999999": `invalid port "99999999999": a port is a number from 1 to 65535`,
		"+80":         `invalid port "+80": a port is a number from 1 to 65535`,
		"0x50":        `invalid port "0x50": a port is a number from 1 to 65535`,
		"80/":         `invalid port "80/": protocol must be tcp, udp or sctp`,
		"80/tcp/udp":  `invalid port "80/tcp/udp": protocol must be tcp, udp or sctp`,
		"/tcp":        `invalid port "/tcp": a port is a number from 1 to 65535`,
		"90-80":       `invalid port "90-80": range ends before it starts`,
		"80-":         `invalid port "80-": a port is a number from 1 to 65535`,
		"1-2-3":       `invalid port "1-2-3": a port is a number from 1 to 65535`,
		"1-1025":      `invalid port "1-1025": range of 1025 ports is wider than 1024`,
		"1.2.3.4:80":  `invalid port "1.2.3.4:80": EXPOSE takes the container port only; nap chooses the host port`,
		"٨٠":          `invalid port "٨٠": a port is a number from 1 to 65535`,
	}
	for in, want := range bad {
		if got, err := ParsePort(in); err == nil || err.Error() != want {
			t.Errorf("ParsePort(%q) = %+v, %v; want error %q", in, got, err, want)
		}
	}
}

// TestPortRoundTrip: every valid port prints as a spec that reads back as
// the same port.
func TestPortRoundTrip(t *testing.T) {
	protos := []string{"tcp", "udp", "sctp"}
	f := func(start uint16, width uint16, proto uint8) bool {
		p := Port{Start: start, End: start + width%MaxPortRange, Proto: protos[int(proto)%3]}
		if !p.Valid() {
			return p.Start == 0 || p.End < p.Start
		}
		q, err := ParsePort(p.String())
		return err == nil && q == p
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
}

func TestSortPorts(t *testing.T) {
	got := sortPorts([]Port{{443, 443, "tcp"}, {80, 80, "udp"}, {80, 80, "tcp"}, {443, 443, "tcp"}, {80, 90, "tcp"}})
	want := []Port{{80, 80, "tcp"}, {80, 80, "udp"}, {80, 90, "tcp"}, {443, 443, "tcp"}}
	if len(got) != len(want) {
		t.Fatalf("sortPorts = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sortPorts = %v, want %v", got, want)
		}
	}
}
