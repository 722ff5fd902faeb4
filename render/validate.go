package render

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The validators below return messages without the field name; the caller
// adds the file, line and field. They are hand-written rather than regexps
// to keep nap-render's start-up free of regexp compilation.

// maxValue bounds one value from YAML: a unit line holds 2,047 bytes and
// escaping can double a value.
const maxValue = 1024

// validValue refuses what no unit line can hold: a value with CR, LF or NUL
// would become a second directive.
func validValue(s string) error {
	if len(s) > maxValue {
		return fmt.Errorf("a value may be %d bytes at most, this one is %d: put large or secret values in the operator's env_dir", maxValue, len(s))
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		return errors.New("a value cannot hold a line break or NUL: put it on one line")
	}
	if !utf8.ValidString(s) {
		return errors.New("a value must be valid UTF-8")
	}
	return nil
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isDigit(c) || 'A' <= c && c <= 'Z' }

func validEnvName(s string) error {
	ok := s != "" && len(s) <= 256 && !isDigit(s[0])
	for i := 0; ok && i < len(s); i++ {
		ok = isAlnum(s[i]) || s[i] == '_'
	}
	if !ok {
		return fmt.Errorf("invalid name %s: use letters, digits and '_', not starting with a digit", QuoteName(s))
	}
	return nil
}

func validTarget(s string) error {
	if s != string(TargetFleet) && s != string(TargetSystemd) {
		return fmt.Errorf("%s: use fleet or systemd", QuoteName(s))
	}
	return nil
}

func validStage(s string) error {
	ok := s != "" && len(s) <= 128 && isAlnum(s[0]) && !isDigit(s[0])
	for i := 0; ok && i < len(s); i++ {
		ok = isAlnum(s[i]) || strings.IndexByte("_.-", s[i]) >= 0
	}
	if !ok {
		return fmt.Errorf("invalid stage name %s: use the name of a FROM … AS NAME", QuoteName(s))
	}
	return nil
}

// validProcess: ^[a-z][a-z0-9]{0,15}$, so APP.PROC.R stays a valid,
// unambiguous unit name prefix.
func validProcess(s string) error {
	ok := s != "" && len(s) <= 16 && isLower(s[0])
	for i := 0; ok && i < len(s); i++ {
		ok = isLower(s[i]) || isDigit(s[i])
	}
	if !ok {
		return fmt.Errorf("invalid process name %s: use 1 to 16 of a-z and 0-9, starting with a letter", QuoteName(s))
	}
	if s == "build" || s == "discovery" {
		return fmt.Errorf("process name %q is reserved for nap's own units: choose another", s)
	}
	return nil
}

func validAbs(s string) error {
	if err := validValue(s); err != nil {
		return err
	}
	if !path.IsAbs(s) || path.Clean(s) != s || strings.ContainsAny(s, " \t\\") {
		return fmt.Errorf("%s: give an absolute, clean path without blanks, e.g. /usr/bin/docker", QuoteName(s))
	}
	return nil
}

func validAbsOrEmpty(s string) error {
	if s == "" {
		return nil
	}
	return validAbs(s)
}

// validBranch accepts a conservative subset of git's ref names.
func validBranch(s string) error {
	ok := s != "" && len(s) <= 200 && s[0] != '-' && s[0] != '/' &&
		!strings.HasSuffix(s, "/") && !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ".lock") &&
		!strings.Contains(s, "..") && !strings.Contains(s, "//") && !strings.Contains(s, "/.") && s[0] != '.'
	for i := 0; ok && i < len(s); i++ {
		ok = isAlnum(s[i]) || strings.IndexByte("._/-", s[i]) >= 0
	}
	if !ok {
		return fmt.Errorf("invalid branch name %s: use e.g. master or main", QuoteName(s))
	}
	return nil
}

// validRegistry: host[:port][/path], so that REGISTRY/APP:REV is a valid
// docker image reference.
func validRegistry(s string) error {
	bad := fmt.Errorf("invalid registry %s: use host[:port][/path], e.g. 127.0.0.1:5000 or registry.example.com/nap", QuoteName(s))
	hostPort, repo, _ := strings.Cut(s, "/")
	host, port, hasPort := strings.Cut(hostPort, ":")
	if ValidHostName(host) != nil && !isIPv4(host) {
		return bad
	}
	if hasPort && !validPort(port) {
		return bad
	}
	if strings.Contains(s, "/") {
		for _, comp := range strings.Split(repo, "/") {
			if !validRepoComponent(comp) {
				return bad
			}
		}
	}
	return nil
}

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535 && s[0] != '0' && s[0] != '+'
}

// validRepoComponent is docker's path component: lower-case alphanumerics
// separated by '.', '_', "__" or dashes.
func validRepoComponent(c string) bool {
	if c == "" || !isLower(c[0]) && !isDigit(c[0]) {
		return false
	}
	last := c[len(c)-1]
	if !isLower(last) && !isDigit(last) {
		return false
	}
	for i := 0; i < len(c); i++ {
		switch ch := c[i]; {
		case isLower(ch) || isDigit(ch) || ch == '-':
		case ch == '.' || ch == '_':
			if next := c[i+1]; next == '.' || next == '-' || ch == '.' && next == '_' {
				return false
			}
		default:
			return false
		}
	}
	return !strings.Contains(c, "___")
}

// ValidHostName reports whether s is a DNS name: dot-separated labels of
// letters, digits and inner dashes.
func ValidHostName(s string) error {
	ok := s != "" && len(s) <= 253
	for _, label := range strings.Split(s, ".") {
		if !ok {
			break
		}
		ok = label != "" && len(label) <= 63 && label[0] != '-' && label[len(label)-1] != '-'
		for i := 0; ok && i < len(label); i++ {
			ok = isAlnum(label[i]) || label[i] == '-'
		}
	}
	if !ok {
		return fmt.Errorf("invalid host name %s", QuoteName(s))
	}
	return nil
}

// validDiscoveryHost: the host part of an announcement, "%H" (systemd's
// host name specifier), "${NAME}" (a variable of discovery.env_file on the
// instance's machine) or a literal name or IP.
func validDiscoveryHost(s string) error {
	if s == "%H" {
		return nil
	}
	if name, ok := HostVar(s); ok {
		return validEnvVarName(name)
	}
	if _, err := netip.ParseAddr(s); err == nil && !strings.Contains(s, "%") {
		return nil
	}
	if ValidHostName(s) == nil {
		return nil
	}
	return fmt.Errorf("%s: use %%H (the host's name), ${NAME} (a variable of discovery.env_file, e.g. ${COREOS_PUBLIC_IPV4}) or a literal host name or IP", QuoteName(s))
}

// HostVar returns NAME when discovery.host is "${NAME}".
func HostVar(host string) (string, bool) {
	name, ok := strings.CutPrefix(host, "${")
	if !ok || !strings.HasSuffix(name, "}") {
		return "", false
	}
	return strings.TrimSuffix(name, "}"), true
}

// validEnvVarName: a shell-style variable name, as an environment file
// holds them.
func validEnvVarName(s string) error {
	ok := s != "" && len(s) <= 64 && !isDigit(s[0])
	for i := 0; ok && i < len(s); i++ {
		ok = isAlnum(s[i]) || s[i] == '_'
	}
	if !ok {
		return fmt.Errorf("${%s}: use a variable name of letters, digits and '_', e.g. ${COREOS_PUBLIC_IPV4}", s)
	}
	return nil
}

// validEndpoint: http(s)://host[:port][/], as etcdctl takes it.
func validEndpoint(s string) error {
	bad := fmt.Errorf("invalid etcd endpoint %s: use e.g. http://127.0.0.1:2379", QuoteName(s))
	rest, ok := strings.CutPrefix(s, "http://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "https://"); !ok {
			return bad
		}
	}
	rest = strings.TrimSuffix(rest, "/")
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad
		}
		if a, err := netip.ParseAddr(rest[1:end]); err != nil || !a.Is6() || a.Zone() != "" {
			return bad
		}
		host, rest = "", rest[end+1:]
		if rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return bad
			}
			port = p
		}
	} else if h, p, ok := strings.Cut(rest, ":"); ok {
		host, port = h, p
		if p == "" {
			return bad
		}
	}
	if host != "" && !isIPv4(host) && ValidHostName(host) != nil {
		return bad
	}
	if port != "" && !validPort(port) {
		return bad
	}
	return nil
}

func validPrefix(s string) error {
	ok := len(s) > 1 && s[0] == '/' && !strings.HasSuffix(s, "/") && len(s) <= 200
	if ok {
		for _, seg := range strings.Split(s[1:], "/") {
			ok = ok && seg != "" && seg != "." && seg != ".."
			for i := 0; ok && i < len(seg); i++ {
				ok = isAlnum(seg[i]) || strings.IndexByte("._-", seg[i]) >= 0
			}
		}
	}
	if !ok {
		return fmt.Errorf("invalid key prefix %s: use an absolute key path such as /services", QuoteName(s))
	}
	return nil
}

// validFleetWord is a value handed to fleetctl as one flag argument.
func validFleetWord(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return fmt.Errorf("%s holds a blank or a non-printable character", QuoteName(s))
		}
	}
	return nil
}

func validFleetDriver(s string) error {
	if s != "" && s != "API" && s != "etcd" {
		return fmt.Errorf("%s: fleetctl's --driver is API or etcd, spelled so (or leave it empty for API)", QuoteName(s))
	}
	return nil
}

func validMachineIDOrEmpty(s string) error {
	ok := s == "" || len(s) == 32
	for i := 0; ok && i < len(s); i++ {
		ok = isDigit(s[i]) || 'a' <= s[i] && s[i] <= 'f'
	}
	if !ok {
		return fmt.Errorf("invalid machine id %s: use the 32 hex digits of the builder's /etc/machine-id", QuoteName(s))
	}
	return nil
}

// validMetadata is fleet's key=value machine metadata.
func validMetadata(s string) error {
	k, v, ok := strings.Cut(s, "=")
	ok = ok && k != "" && v != "" && len(s) <= 128
	for i := 0; ok && i < len(k); i++ {
		ok = isAlnum(k[i]) || k[i] == '_' || k[i] == '-'
	}
	for i := 0; ok && i < len(v); i++ {
		ok = isAlnum(v[i]) || strings.IndexByte("._-", v[i]) >= 0
	}
	if !ok {
		return fmt.Errorf("invalid metadata %s: use key=value, e.g. disk=ssd", QuoteName(s))
	}
	return nil
}

// FormatSize writes bytes the way docker reads them, in the largest whole unit.
func FormatSize(b int64) string {
	switch {
	case b%(1<<30) == 0:
		return strconv.FormatInt(b>>30, 10) + "g"
	case b%(1<<20) == 0:
		return strconv.FormatInt(b>>20, 10) + "m"
	case b%(1<<10) == 0:
		return strconv.FormatInt(b>>10, 10) + "k"
	}
	return strconv.FormatInt(b, 10)
}

// ValidProcess reports whether s is a valid process name (nap.yaml's
// processes keys).
func ValidProcess(s string) error { return validProcess(s) }
