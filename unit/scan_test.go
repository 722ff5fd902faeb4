package unit

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// scanAgrees fails t if a scanning check passes a value its walk refuses:
// the scans may leave a value to the walk, never pass one it would not.
func scanAgrees(t *testing.T, v string) {
	t.Helper()
	if scanExec(v) {
		if err := walkExec(v, nil); err != nil {
			t.Fatalf("scanExec(%q) passes what walkExec refuses: %v", v, err)
		}
	}
	if scanEnv(v) {
		if err := walkEnv(v, func([]byte) {}); err != nil {
			t.Fatalf("scanEnv(%q) passes what walkEnv refuses: %v", v, err)
		}
	}
}

func TestScanExec(t *testing.T) {
	for _, tc := range []struct {
		value string
		pass  bool // false: left to walkExec, which may accept or refuse
	}{
		{Exec("/bin/echo", "a b", `"'\`, "$HOME", "100%", ";", "\t\x01\xff☃", ""), true},
		{ExecWords(IgnoreFailure|ArgvZero, Lit("/bin/sh"), Lit("sh"), Spec(Instance), Cat(Lit("a%"), Spec(Host))), true},
		{`/bin/echo "a\x25n" "\u00e9\U0001F600" \x`, false},
		{`/bin/echo "a\x25n"`, true},
		{`/bin/echo "a\x25z"`, false},
		{`/bin/echo "\x24\x24"`, true},
		{`/bin/echo "\x24"`, false},
		{`/bin/echo "$$" $$a%%b%n`, true},
		{"/bin/echo $", false},
		{"/bin/echo %", false},
		{`/bin/echo "%"`, false},
		{`/bin/echo "%"n`, false},
		{`/bin/echo "a"b`, false},
		{`/bin/echo "a`, false},
		{`/bin/echo "a\`, false},
		{`/bin/echo a"b"`, false},
		{`/bin/echo 'a'`, false},
		{`/bin/echo \;`, false},
		{`/bin/echo ; /bin/x`, false},
		{`/bin/echo "\q"`, false},
		{"@/bin/echo", false},
		{"@/bin/echo x", true},
		{"-!!/bin/echo", true},
		{"+!/bin/echo", false},
		{"%n", false},
		{"bin/x", false},
		{`"/bin/x"`, false},
		{"", false},
		{" /bin/x", false},
	} {
		if got := scanExec(tc.value); got != tc.pass {
			t.Errorf("scanExec(%q) = %v, want %v", tc.value, got, tc.pass)
		}
		scanAgrees(t, tc.value)
	}
}

func TestScanEnv(t *testing.T) {
	for _, tc := range []struct {
		value string
		pass  bool
	}{
		{Env("A", Lit("b")), true},
		{Env("A_1", Lit(`x y "q" \ $HOME 100% é`+"\t\n")), true},
		{Env("A", Cat(Lit("a"), Spec(Instance))), true},
		{`"A=\u00e9" B=c`, true},
		{`"A=\xc3\xa9"`, false},
		{`"A=\x25z"`, false},
		{"A=%z", false},
		{"A=b%", false},
		{"%n=b", false},
		{"1A=b", false},
		{"=b", false},
		{"A", false},
		{`A="b c"`, false},
		{`"A B=c"`, false},
		{`"A=b"c`, false},
		{"A=\xff", false},
		{"", true},
	} {
		if got := scanEnv(tc.value); got != tc.pass {
			t.Errorf("scanEnv(%q) = %v, want %v", tc.value, got, tc.pass)
		}
		scanAgrees(t, tc.value)
	}
}

var nonASCIIEscape = regexp.MustCompile(`\\x[89a-f]`)

// TestScanCoversConstructors: what Exec and Env write is passed by the scans
// exactly when the walks pass it (the executable bare), so Marshal's fast
// path is the one taken; hostile raw values never get past a scan alone.
func TestScanCoversConstructors(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		argv := []string{"/bin/" + strings.Repeat("x", 1+r.IntN(3))}
		for k := r.IntN(6); k > 0; k-- {
			argv = append(argv, randomText(r))
		}
		v := Exec(argv...)
		if scan, walk := scanExec(v), walkExec(v, nil); scan != (walk == nil) {
			t.Fatalf("Exec(%q) = %q: scanExec %v, walkExec %v", argv, v, scan, walk)
		}
		e := Env("V_1", Lit(randomText(r)))
		// Byte escapes from 0x80 (a non-printable character) are left to
		// walkEnv, which checks the UTF-8 they make.
		if scan, walk := scanEnv(e), walkEnv(e, func([]byte) {}); scan != (walk == nil) && !nonASCIIEscape.MatchString(e) {
			t.Fatalf("Env = %q: scanEnv %v, walkEnv %v", e, scan, walk)
		}
		scanAgrees(t, randomText(r))
		scanAgrees(t, "/bin/x "+randomText(r))
		scanAgrees(t, "A="+randomText(r))
	}
}

// TestIndexQuotedStop compares the eight-bytes-at-a-time search with the
// plain one.
func TestIndexQuotedStop(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const alphabet = "ab \"\\%$\x00\xff\x80\x7f#\x21\x23\x24\x25\x5b\x5c\x5d\xa2\xa4\xa5\xdc"
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for j := range b {
			if r.IntN(4) == 0 {
				b[j] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[j] = byte(r.IntN(256))
			}
		}
		from := r.IntN(len(b) + 1)
		want := from
		for want < len(b) && !quotedStop[b[want]] {
			want++
		}
		if got := indexQuotedStop(string(b), from); got != want {
			t.Fatalf("indexQuotedStop(%q, %d) = %d, want %d", b, from, got, want)
		}
	}
}
