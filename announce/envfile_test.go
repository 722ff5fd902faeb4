package announce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveHost(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, want, err string
	}{
		{"plain", "COREOS_PUBLIC_IPV4=10.0.0.7\n", "10.0.0.7", ""},
		{"quoted, last wins, comments skipped", "# COREOS_PUBLIC_IPV4=1.1.1.1\nCOREOS_PUBLIC_IPV4=10.0.0.1\nCOREOS_PUBLIC_IPV4=\"10.0.0.8\"\n", "10.0.0.8", ""},
		{"other names only", "COREOS_PRIVATE_IPV4=10.0.0.9\nXCOREOS_PUBLIC_IPV4=1\n", "", "does not set COREOS_PUBLIC_IPV4"},
		{"empty", "COREOS_PUBLIC_IPV4=\n", "", `is ""`},
		{"a word with a space", "COREOS_PUBLIC_IPV4=10.0.0.1 evil\n", "", "want the host's address"},
		{"a quote inside", "COREOS_PUBLIC_IPV4=a\"b\n", "", "want the host's address"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		os.WriteFile(p, []byte(tc.file), 0o644)
		c := Config{HostFrom: "COREOS_PUBLIC_IPV4", EnvFile: p}
		err := c.ResolveHost()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || c.Host != tc.want {
			t.Errorf("%s: host %q, %v; want %q", tc.name, c.Host, err, tc.want)
		}
	}
	c := Config{HostFrom: "X", EnvFile: filepath.Join(dir, "missing")}
	if err := c.ResolveHost(); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}
