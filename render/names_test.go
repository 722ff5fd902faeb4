package render

import (
	"strings"
	"testing"
)

func TestValidApp(t *testing.T) {
	for _, name := range []string{"a", "hello", "my-app", "a1", "x" + strings.Repeat("y", 62)} {
		if err := ValidApp(name); err != nil {
			t.Errorf("ValidApp(%q) = %v, want nil", name, err)
		}
	}
	for name, want := range map[string]string{
		"":                            "1 to 63",
		"x" + strings.Repeat("y", 63): "1 to 63",
		"Hello":                       "lower-case",
		"1app":                        "lower-case",
		"-app":                        "lower-case",
		"my_app":                      "only a-z",
		"my.app":                      "only a-z",
		"../etc":                      "only a-z",
		"a/b":                         "only a-z",
		"app\nExecStart=/bin/sh":      `"app\nExecStart=/bin/sh"`,
		"gitolite-admin":              "reserved",
		"nap":                         "reserved",
		"héllo":                       "only a-z",
	} {
		err := ValidApp(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidApp(%q) = %v, want an error containing %q", name, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("ValidApp(%q): message holds a newline: %q", name, err)
		}
	}
}

func TestValidRev(t *testing.T) {
	for _, rev := range []string{strings.Repeat("a", 40), strings.Repeat("0", 64), "0123456789abcdef0123456789abcdef01234567"} {
		if err := ValidRev(rev); err != nil {
			t.Errorf("ValidRev(%q) = %v", rev, err)
		}
	}
	for _, rev := range []string{"", "HEAD", strings.Repeat("a", 39), strings.Repeat("A", 40), strings.Repeat("g", 40), strings.Repeat("a", 41), "master"} {
		if err := ValidRev(rev); err == nil {
			t.Errorf("ValidRev(%q) = nil, want an error", rev)
		}
	}
}
