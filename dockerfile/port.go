package dockerfile

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxPortRange is the widest EXPOSE range accepted, in ports. Docker accepts
// any range, but every port of it becomes a published port, a docker-proxy
// process and an entry in the announcement: a wider range is almost always a
// mistake.
const MaxPortRange = 1024

// ParsePort reads one EXPOSE word: "80", "80/tcp", "53/udp", "9000/sctp"
// (protocol in any case) or a range "8000-8010/tcp". Host parts
// ("8080:80") are rejected: nap always picks the host port.
func ParsePort(s string) (Port, error) {
	num, proto, hasProto := strings.Cut(s, "/")
	if hasProto {
		proto = strings.ToLower(proto)
		switch proto {
		case "tcp", "udp", "sctp":
		default:
			return Port{}, fmt.Errorf("invalid port %q: protocol must be tcp, udp or sctp", s)
		}
	} else {
		proto = "tcp"
	}
	if strings.Contains(num, ":") {
		return Port{}, fmt.Errorf("invalid port %q: EXPOSE takes the container port only; nap chooses the host port", s)
	}
	first, last, isRange := strings.Cut(num, "-")
	start, err := parsePortNumber(first)
	if err != nil {
		return Port{}, fmt.Errorf("invalid port %q: %w", s, err)
	}
	end := start
	if isRange {
		if end, err = parsePortNumber(last); err != nil {
			return Port{}, fmt.Errorf("invalid port %q: %w", s, err)
		}
		if end < start {
			return Port{}, fmt.Errorf("invalid port %q: range ends before it starts", s)
		}
		if int(end)-int(start)+1 > MaxPortRange {
			return Port{}, fmt.Errorf("invalid port %q: range of %d ports is wider than %d", s, int(end)-int(start)+1, MaxPortRange)
		}
	}
	return Port{Start: start, End: end, Proto: proto}, nil
}

var errPortNumber = errors.New("a port is a number from 1 to 65535")

func parsePortNumber(s string) (uint16, error) {
	// ParseUint alone would accept "+80" and "0x50" (with base 0); only plain
	// decimal digits are ports.
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errPortNumber
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 || n > 65535 {
		return 0, errPortNumber
	}
	return uint16(n), nil
}

// String is Docker's form: "8080/tcp", "8000-8010/udp".
func (p Port) String() string {
	s := strconv.Itoa(int(p.Start))
	if p.End != p.Start {
		s += "-" + strconv.Itoa(int(p.End))
	}
	return s + "/" + p.Proto
}

// Valid reports whether p could have come from ParsePort.
func (p Port) Valid() bool {
	switch p.Proto {
	case "tcp", "udp", "sctp":
	default:
		return false
	}
	return p.Start > 0 && p.End >= p.Start && int(p.End)-int(p.Start) < MaxPortRange
}

// comparePorts orders by number, then protocol.
func comparePorts(a, b Port) int {
	if c := int(a.Start) - int(b.Start); c != 0 {
		return c
	}
	if c := int(a.End) - int(b.End); c != 0 {
		return c
	}
	return strings.Compare(a.Proto, b.Proto)
}

// sortPorts sorts numerically and drops duplicates. Overlapping ranges are
// kept as written: Docker keeps them too, and merging would change what
// `docker inspect` shows.
func sortPorts(ports []Port) []Port {
	slices.SortFunc(ports, comparePorts)
	return slices.Compact(ports)
}
