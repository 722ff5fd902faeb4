package unit

import (
	"fmt"
	"io"
	"strings"

	sd "github.com/coreos/go-systemd/v22/unit"
)

// Read parses a unit file, joining line continuations the way systemd does.
// The returned File has no Name.
//
// go-systemd's reader keeps a continuation's '\' and newline in the value
// and joins every line ending in '\'; systemd replaces the '\' by a space,
// joins only when that '\' is not itself escaped, and skips comment lines
// inside a continuation. Read returns the value systemd reads, and an error
// for input the two read differently.
func Read(r io.Reader) (*File, error) {
	secs, err := sd.DeserializeSections(r)
	if err != nil {
		return nil, err
	}
	f := &File{Sections: make([]Section, len(secs))}
	for i, s := range secs {
		f.Sections[i].Name = s.Section
		if len(s.Entries) > 0 {
			f.Sections[i].Options = make([]Option, len(s.Entries))
		}
		for j, e := range s.Entries {
			v, err := joinContinuations(e.Name, e.Value)
			if err != nil {
				return nil, fmt.Errorf("[%s] %s=: %v", s.Section, e.Name, err)
			}
			f.Sections[i].Options[j] = Option{Name: e.Name, Value: v}
		}
	}
	return f, nil
}

func joinContinuations(name, v string) (string, error) {
	if !strings.Contains(v, "\n") {
		return v, nil
	}
	lines := strings.Split(v, "\n")
	var b strings.Builder
	b.Grow(len(v))
	for i, l := range lines {
		if i > 0 {
			if t := strings.TrimLeft(l, whitespace); t != "" && (t[0] == '#' || t[0] == ';') {
				return "", fmt.Errorf("a comment line inside a continuation, which systemd skips and go-systemd keeps")
			}
		}
		if i == len(lines)-1 {
			b.WriteString(l)
			break
		}
		// go-systemd joined this line because it ends in '\'.
		b.WriteString(l[:len(l)-1])
		if escapedAtEnd(b.String()) {
			return "", fmt.Errorf("a line ending in an escaped '\\', which systemd does not join and go-systemd does")
		}
		b.WriteByte(' ')
	}
	return strings.TrimRight(b.String(), whitespace), nil
}

// escapedAtEnd reports whether s ends in an unpaired '\', scanning as systemd
// does.
func escapedAtEnd(s string) bool {
	n := 0
	for j := len(s) - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}
