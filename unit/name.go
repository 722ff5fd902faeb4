package unit

import (
	"fmt"
	"strings"
)

// maxNameLen is systemd's UNIT_NAME_MAX.
const maxNameLen = 256

// unitTypes are the unit type suffixes systemd knows.
var unitTypes = map[string]bool{
	"service": true, "socket": true, "device": true, "mount": true,
	"automount": true, "swap": true, "target": true, "path": true,
	"timer": true, "slice": true, "scope": true,
}

// ValidName reports whether name is a unit name nap may emit and both systemd
// and fleet accept: [A-Za-z0-9:_.@-], at most 256 bytes, a known unit type
// suffix, not starting with '@', templates "p@.service", instances
// "p@i.service". Returns a descriptive error.
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("unit name is empty")
	case len(name) > maxNameLen:
		return fmt.Errorf("unit name %.40q… is %d bytes long, more than %d", name, len(name), maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '\\' {
			return fmt.Errorf("unit name %q holds '\\': nap never writes escaped unit names", name)
		}
		if !nameByte(c) {
			return fmt.Errorf("unit name %q holds %q: only letters, digits and \":_.@-\" are allowed", name, c)
		}
	}
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 || !unitTypes[name[dot+1:]] {
		return fmt.Errorf("unit name %q does not end in a known unit type (.service, .target, …)", name)
	}
	stem := name[:dot]
	if stem == "" {
		return fmt.Errorf("unit name %q has nothing before its type", name)
	}
	if stem[0] == '@' {
		return fmt.Errorf("unit name %q starts with '@'", name)
	}
	if strings.Count(stem, "@") > 1 {
		return fmt.Errorf("unit name %q holds more than one '@'", name)
	}
	return nil
}

// IsTemplate reports whether name is a template unit name ("p@.service").
func IsTemplate(name string) bool {
	dot := strings.LastIndexByte(name, '.')
	return dot > 0 && name[dot-1] == '@'
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == ':' || c == '_' || c == '.' || c == '@' || c == '-'
}

// TemplateOf is the template an instance name comes from ("p@i.service" →
// "p@.service"); any other name is returned as it is.
func TemplateOf(name string) string {
	at := strings.IndexByte(name, '@')
	dot := strings.LastIndexByte(name, '.')
	if at < 0 || dot < at {
		return name
	}
	return name[:at+1] + name[dot:]
}
