package unit

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExecQuoting(t *testing.T) {
	for _, tc := range []struct {
		name string
		argv []string
		want string
	}{
		{"bare", []string{"/usr/bin/docker", "run", "--rm", "app:1"}, `/usr/bin/docker run --rm app:1`},
		{"space", []string{"/bin/echo", "a b"}, `/bin/echo "a b"`},
		{"empty word", []string{"/bin/echo", ""}, `/bin/echo ""`},
		{"dollar", []string{"/bin/echo", "$HOME", "${X}", "a$"}, `/bin/echo $$HOME $${X} a$$`},
		{"percent", []string{"/bin/echo", "%n", "100%"}, `/bin/echo %%n 100%%`},
		{"lone semicolon", []string{"/bin/echo", ";", "a;b"}, `/bin/echo ";" "a;b"`},
		{"double quote", []string{"/bin/echo", `say "hi"`}, `/bin/echo "say \"hi\""`},
		{"single quote", []string{"/bin/echo", "it's"}, `/bin/echo "it's"`},
		{"backslash", []string{"/bin/echo", `a\b`, `end\`}, `/bin/echo "a\\b" "end\\"`},
		{"tab", []string{"/bin/echo", "a\tb"}, `/bin/echo "a\tb"`},
		{"newline injection", []string{"/bin/echo", "x\nExecStartPre=/bin/evil"}, `/bin/echo "x\nExecStartPre=/bin/evil"`},
		{"carriage return", []string{"/bin/echo", "x\ry"}, `/bin/echo "x\x0dy"`},
		{"escape char", []string{"/bin/echo", "\x1b[31m"}, `/bin/echo "\x1b[31m"`},
		{"unicode", []string{"/bin/echo", "héllo wörld ☃"}, `/bin/echo "héllo wörld ☃"`},
		{"unicode space", []string{"/bin/echo", "a\u00a0b\u2028"}, `/bin/echo "a\xc2\xa0b\xe2\x80\xa8"`},
		{"invalid utf8", []string{"/bin/echo", "\xff\xfe"}, `/bin/echo "\xff\xfe"`},
		{"noncharacter", []string{"/bin/echo", "\uFFFE"}, `/bin/echo "\xef\xbf\xbe"`},
		{"space in executable", []string{"/opt/my app/run"}, `"/opt/my app/run"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Exec(tc.argv...)
			if got != tc.want {
				t.Errorf("Exec(%q)\n got %s\nwant %s", tc.argv, got, tc.want)
			}
			back, err := SplitExec(got)
			if err != nil {
				t.Fatalf("SplitExec(%s): %v", got, err)
			}
			if diff := cmp.Diff(tc.argv, back); diff != "" {
				t.Errorf("SplitExec(Exec(argv)) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecWordsFlagsAndSpecifiers(t *testing.T) {
	got := ExecWords(IgnoreFailure|ArgvZero, Lit("/usr/bin/docker"), Lit("docker"), Lit("stop"), Cat(Lit("app.web.%"), Spec(Instance)))
	want := `-@/usr/bin/docker docker stop app.web.%%%i`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	argv, err := SplitExec(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/usr/bin/docker", "docker", "stop", "app.web.%%i"}, argv); diff != "" {
		// "%%i" is "%" then the specifier "%i": SplitExec keeps specifiers as "%X".
		t.Error(diff)
	}
	if got := ExecWords(FullPrivileges, Lit("/bin/x y")); got != `+"/bin/x y"` {
		t.Errorf("got %s", got)
	}
}

func TestSplitExecSystemdRules(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: nil},
		{in: "   ", want: nil},
		{in: `/bin/a 'single \x41' "d\sq" mid"dle word"s`, want: []string{"/bin/a", "single A", "d q", "middle words"}},
		{in: `/bin/a \; b`, want: []string{"/bin/a", ";", "b"}},
		{in: `/bin/a ";"`, want: []string{"/bin/a", ";"}},
		{in: `/bin/a \101\u00e9\U0001F600`, want: []string{"/bin/a", "Aé\U0001F600"}},
		{in: "-!!/bin/a", want: []string{"/bin/a"}},
		{in: `echo hi`, want: []string{"echo", "hi"}},
		{in: `/bin/a ; /bin/b`, err: "lone ';'"},
		{in: `/bin/a "open`, err: "unbalanced"},
		{in: `/bin/a \q`, err: "unknown escape"},
		{in: `/bin/a \x00`, err: "invalid escape"},
		{in: `/bin/a \ufffe`, err: "invalid escape"},
		{in: `/bin/a $HOME`, err: "environment variable"},
		{in: `/bin/a %z`, err: "unknown specifier"},
		{in: `/bin/a 5%`, err: "lone '%'"},
		{in: `/bin/a x\`, err: "ends in a backslash"},
		{in: `-`, err: "no executable"},
		{in: `@/bin/a`, err: "no argv[0]"},
		{in: `+!/bin/a`, err: "neither an absolute path"},
		{in: `bin/a`, err: "neither an absolute path"},
		{in: `/bin/`, err: "ends in '/'"},
		{in: `"/bin/a\"b"`, err: "quotes"},
		{in: `/bin/$$a`, err: "'$'"},
		{in: `;`, err: "starts with ';'"},
	} {
		got, err := SplitExec(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("SplitExec(%s) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("SplitExec(%s): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("SplitExec(%s) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestEnv(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value Text
		want  string
	}{
		{"PORT", Lit("8080"), `PORT=8080`},
		{"MSG", Lit("hello world"), `"MSG=hello world"`},
		{"HOME", Lit("$HOME"), `HOME=$HOME`},
		{"P", Lit("100%"), `P=100%%`},
		{"H", Spec(Host), `H=%H`},
		{"Q", Lit(`a"b\c`), `"Q=a\"b\\c"`},
		{"NL", Lit("x\nExecStartPre=/bin/evil"), `"NL=x\nExecStartPre=/bin/evil"`},
		{"T", Lit("a\tb"), `"T=a\tb"`},
	} {
		got := Env(tc.name, tc.value)
		if got != tc.want {
			t.Errorf("Env(%q, %q) = %s, want %s", tc.name, tc.value, got, tc.want)
		}
		if _, err := SplitEnv(got); err != nil {
			t.Errorf("SplitEnv(%s): %v", got, err)
		}
	}
	for _, bad := range []string{"", "1X", "A=B", "A B", "A-B", "A\nB", "É"} {
		f := NewFile("a.service")
		f.Section("Service").AddRaw("Environment", Env(bad, Lit("v")))
		_, err := Marshal(f)
		if err == nil || !strings.Contains(err.Error(), "invalid environment variable name") {
			t.Errorf("Env(%q): Marshal error %v, want one naming the invalid name", bad, err)
		}
	}
}
