package announce

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode"
)

// ResolveHost sets c.Host from c.HostFrom, a variable of c.EnvFile, when
// set: the environment file of the instance's machine (CoreOS keeps
// COREOS_PUBLIC_IPV4 in /etc/environment).
func (c *Config) ResolveHost() error {
	if c.HostFrom == "" {
		return nil
	}
	v, err := envFileValue(c.EnvFile, c.HostFrom)
	if err != nil {
		return err
	}
	if v == "" || len(v) > 253 || strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) || r == '"' || r == '/' }) >= 0 {
		return fmt.Errorf("%s in %s is %q: want the host's address or name, which the other machines reach", c.HostFrom, c.EnvFile, v)
	}
	c.Host = v
	return nil
}

// envFileValue is name's value in the environment file at path: the last
// NAME=VALUE line (comments and blank lines skipped, one pair of quotes
// around the value removed), as systemd's EnvironmentFile= reads it.
func envFileValue(path, name string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the announced host (%s): %v", name, err)
	}
	value, found := "", false
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") || strings.TrimSpace(k) != name {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		value, found = v, true
	}
	if !found {
		return "", fmt.Errorf("%s does not set %s, the announced host (discovery.host)", path, name)
	}
	return value, nil
}
