package sh

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"logs hello -f", []string{"logs", "hello", "-f"}},
		{"  config:set  hello\tK=V  ", []string{"config:set", "hello", "K=V"}},
		{`config:set hello 'A=it is' "B=two words"`, []string{"config:set", "hello", "A=it is", "B=two words"}},
		{`config:set hello A=it\'s`, []string{"config:set", "hello", "A=it's"}},
		{`run hello -- echo '$HOME' "$HOME" "$(id)" ` + "`id`" + ` ~ *`, []string{"run", "hello", "--", "echo", "$HOME", "$HOME", "$(id)", "`id`", "~", "*"}},
		{`x "a\"b\\c\$d\e"`, []string{"x", `a"b\c$d\e`}},
		{`x '' ""`, []string{"x", "", ""}},
		{`x a'b'"c"\d`, []string{"x", "abcd"}},
		{"x a\\\nb", []string{"x", "ab"}},
		{"x 'a\nb'", []string{"x", "a\nb"}},
		{`x 'a;b' "c|d" e\;f`, []string{"x", "a;b", "c|d", "e;f"}},
	} {
		got, err := Split(tc.in)
		if err != nil {
			t.Errorf("Split(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Split(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestSplitRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"logs hello; rm -rf /": `at byte 10: ';' outside quotes`,
		"logs hello\nid":       `'\n' outside quotes`,
		"logs hello | cat":     `'|' outside quotes`,
		"logs hello && id":     `'&' outside quotes`,
		"logs hello > /tmp/x":  `'>' outside quotes`,
		"run hello -- $(id)":   `'(' outside quotes`,
		`run hello -- "$(id)"`: "", // accepted, and nothing expanded
		"logs 'hello":          "a single quote is not closed",
		`logs "hello`:          "a double quote is not closed",
		`logs hello\`:          "a backslash at the end",
		"logs hel\x00lo":       "a NUL byte",
		"logs 'hel\x00lo'":     "a NUL byte",
		"logs (hello)":         `'(' outside quotes`,
	} {
		_, err := Split(in)
		if want == "" {
			if err != nil {
				t.Errorf("Split(%q): %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Split(%q) = %v, want %q", in, err, want)
		}
	}
}

// What Split accepts, a real sh splits the same way (printf '%s\0' with
// the words), for lines without anything a shell would expand.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"a b", `a 'b c' "d\"e"`, `a\ b`, "a\\\nb", `"\\$"`, `x '' ""`} {
		f.Add(s)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := Split(line)
		if err != nil || strings.ContainsAny(line, "$`~*?[#=\r") || strings.HasPrefix(strings.TrimLeft(line, " \t"), "{") || strings.Contains(line, "!") {
			return
		}
		out, err := exec.Command(sh, "-c", "printf '%s\\0' "+line+" ''").Output()
		if err != nil {
			return // a word the shell treats as a keyword, say
		}
		got := strings.Split(string(out), "\x00")
		got = got[:len(got)-2] // the '' added so printf always runs, and the split's tail
		if len(words) == 0 {
			words = []string{}
		}
		if diff := cmp.Diff(words, got); diff != "" {
			t.Errorf("Split(%q) differs from sh (-Split +sh):\n%s", line, diff)
		}
	})
}
