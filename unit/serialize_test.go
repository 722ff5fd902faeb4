package unit

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fileWith is a unit whose [Service] holds the one option.
func fileWith(name, value string) *File {
	f := NewFile("app.service")
	f.Section("Service").AddRaw(name, value)
	return f
}

func TestMarshalLines(t *testing.T) {
	for _, tc := range []struct {
		name   string
		option string
		value  string
		line   string // the option's line as written
	}{
		{"literal percent", "Description", Lit("100% %n").String(), "Description=100%% %%n"},
		{"specifier", "Description", Cat(Lit("web "), Spec(Instance)).String(), "Description=web %i"},
		{"unicode", "Description", Lit("héllo ☃").String(), "Description=héllo ☃"},
		{"tab inside", "Description", "a\tb", "Description=a\tb"},
		{"empty", "ExecStart", "", "ExecStart="},
		{"exec newline injection", "ExecStart", Exec("/bin/echo", "x\nExecStartPre=/bin/evil"), `ExecStart=/bin/echo "x\nExecStartPre=/bin/evil"`},
		{"exec dollar", "ExecStart", Exec("/bin/echo", "$HOME"), `ExecStart=/bin/echo $$HOME`},
		{"exec trailing backslash", "ExecStart", Exec("/bin/echo", `a\`), `ExecStart=/bin/echo "a\\"`},
		{"exec lone semicolon", "ExecStart", Exec("/bin/echo", ";", "/bin/evil"), `ExecStart=/bin/echo ";" /bin/evil`},
		{"env newline", "Environment", Env("X", Lit("a\n[Service]")), `Environment="X=a\n[Service]"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(fileWith(tc.option, tc.value))
			if err != nil {
				t.Fatal(err)
			}
			want := Header + "\n[Service]\n" + tc.line + "\n"
			if string(b) != want {
				t.Errorf("got\n%s\nwant\n%s", b, want)
			}
		})
	}
}

func TestMarshalRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *File
		err  string
	}{
		{"newline", fileWith("Description", "x\nExecStartPre=/bin/evil"), "[Service] Description=: value holds a line break"},
		{"carriage return", fileWith("Description", "x\rExecStartPre=/bin/evil"), "line break"},
		{"NUL", fileWith("Description", "a\x00b"), "NUL"},
		{"escape char", fileWith("Description", "\x1b[2J"), "control character"},
		{"invalid utf8", fileWith("Description", "\xff"), "UTF-8"},
		{"trailing backslash", fileWith("Description", `a\`), "ends in '\\'"},
		{"leading space", fileWith("Description", " a"), "white space"},
		{"trailing nbsp", fileWith("Description", "a\u00a0"), "white space"},
		{"unknown specifier", fileWith("Description", "%z"), "unknown specifier"},
		{"lone percent", fileWith("Description", "5%"), "lone '%'"},
		{"exec variable", fileWith("ExecStart", "/bin/echo $HOME"), "environment variable"},
		{"exec relative", fileWith("ExecStartPre", "bin/x"), "neither an absolute path"},
		{"exec separator", fileWith("ExecStop", "/bin/a ; /bin/b"), "lone ';'"},
		{"env bad assignment", fileWith("Environment", `"A B=c"`), "invalid environment assignment"},
		{"option name", fileWith("Exec Start", "/bin/x"), `option name "Exec Start"`},
		{"option name equals", fileWith("A=B", "x"), "option name"},
		{"section bracket", &File{Name: "a.service", Sections: []Section{{Name: "Unit]\n[Service"}}}, "section name"},
		{"long section", &File{Name: "a.service", Sections: []Section{{Name: strings.Repeat("S", 3000)}}}, "more than 256"},
		{"long option name", fileWith(strings.Repeat("O", 257), "x"), "more than 256"},
		{"empty section", &File{Name: "a.service", Sections: []Section{{Name: ""}}}, "empty section name"},
		{"unit name", &File{Name: "../a.service"}, "unit name"},
		{"fleet percent", fleetWith("MachineOf", Lit("100%").String()), "fleet does not unescape"},
		{"fleet host", fleetWith("MachineOf", Spec(Host).String()), "fleet does not unescape"},
		{"fleet long", fleetWith("Conflicts", strings.Repeat("a ", 1100)+"a"), "never wrapped"},
		{"no space to wrap", fileWith("Description", strings.Repeat("a", 3000)), "no space to wrap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Marshal(tc.f)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Marshal = %q, %v; want error containing %q", b, err, tc.err)
			}
			var ue *Error
			if !errors.As(err, &ue) || ue.Unit != tc.f.Name {
				t.Errorf("error %v is not a *unit.Error naming %s", err, tc.f.Name)
			}
			if b != nil {
				t.Errorf("Marshal returned bytes with an error")
			}
		})
	}
}

func fleetWith(name, value string) *File {
	f := NewFile("app@.service")
	f.Section(FleetSection).AddRaw(name, value)
	return f
}

func TestMarshalFleet(t *testing.T) {
	f := NewFile("app.web.0123456789ab.discovery@.service")
	f.Section(FleetSection).Add("MachineOf", Cat(Lit("app.web.0123456789ab@"), Spec(Instance), Lit(".service")))
	f.Section(FleetSection).Add("Conflicts", Cat(Spec(Prefix), Lit("@*.service")))
	b, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := Header + "\n[X-Fleet]\nMachineOf=app.web.0123456789ab@%i.service\nConflicts=%p@*.service\n"
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
}

// TestMarshalWrap checks long values: every physical line fits, the
// continuation is a bare '\' (no indent), and both readers get the value back.
func TestMarshalWrap(t *testing.T) {
	script := strings.Repeat(`echo "a  b" ; x=$$((1+2)) # c; `, 150) + "done"
	for _, tc := range []struct {
		name  string
		value string
	}{
		{"exec sh -c", Exec("/bin/sh", "-c", script)},
		{"2000-byte words", Exec("/bin/echo", strings.Repeat("x", 2000), strings.Repeat("y", 2000), strings.Repeat("z", 2000))},
		{"runs of spaces", "a" + strings.Repeat(" ", 5000) + "b"},
		{"backslash before space", strings.Repeat(`x\ y\\ `, 600) + "y"},
		{"comment after space", strings.Repeat("# ; a ", 1000) + "y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fileWith("ExecStart", tc.value)
			if !strings.HasPrefix(tc.value, "/") {
				f = fileWith("Description", tc.value)
			}
			b, err := Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(b), "\n")
			if len(lines) < 4 {
				t.Fatalf("not wrapped: %d lines", len(lines))
			}
			for i, l := range lines {
				if len(l) > MaxLine {
					t.Errorf("line %d is %d bytes", i+1, len(l))
				}
				if strings.HasSuffix(l, `\`) && i+1 < len(lines) {
					if n := len(l) - len(strings.TrimRight(l, `\`)); n%2 == 0 {
						t.Errorf("line %d ends in an escaped backslash", i+1)
					}
					if next := strings.TrimLeft(lines[i+1], " \t"); next != "" && (next[0] == '#' || next[0] == ';') {
						t.Errorf("line %d starts with a comment character", i+2)
					}
				}
			}
			got, err := Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(f.Sections, got.Sections); diff != "" {
				t.Errorf("Read(Marshal(f)) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadRefusesAmbiguity(t *testing.T) {
	for _, in := range []string{
		"[Service]\nExecStart=/bin/echo a\\\\\nb\n",
		"[Service]\nExecStart=/bin/echo a\\\n# comment\nb\n",
	} {
		if f, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("Read(%q) = %+v, want an error", in, f)
		}
	}
	f, err := Read(strings.NewReader("# c\n[Unit]\nDescription=a\\\n  b\n\n[Service]\nExecStart=/bin/x\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Section{{Name: "Unit", Options: []Option{{"Description", "a   b"}}}, {Name: "Service", Options: []Option{{"ExecStart", "/bin/x"}}}}
	if diff := cmp.Diff(want, f.Sections); diff != "" {
		t.Error(diff)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f := range sampleSet() {
		b, err := Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		b2, _ := Marshal(f)
		if !bytes.Equal(b, b2) {
			t.Error("Marshal is not deterministic")
		}
		got, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(f.Sections, got.Sections, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: Read(Marshal(f)) (-want +got):\n%s", f.Name, diff)
		}
	}
}
