package unit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzExec: Exec's value holds no line break and systemd's splitting (as
// SplitExec implements it) gives back exactly argv; Marshal writes it (its
// scanning check agreeing with walkExec) and Read returns it unchanged. What SplitExec accepts is in turn a fixed point
// of SplitExec∘Exec (unless its executable starts with a flag character,
// which no quoting can express).
func FuzzExec(f *testing.F) {
	for _, s := range [][3]string{
		{"/bin/echo", "a b", "c"}, {"/bin/sh", "-c", `echo "$HOME" 100% \ ; exit`},
		{"/bin/x", ";", "\\;"}, {"/bin/x", "\t\n\r\x1b", "\xff☃\u00a0"}, {"/opt/my app/x", "", "%n%%"},
		{"-/bin/x", "a", "b"}, {"x", `"'`, `\x41`}, {`/bin/a ; /bin/b`, `'single \x41' "d\sq"`, "$$"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, exe, a, b string) {
		argv := []string{exe, a}
		if b != "" {
			argv = append(argv, strings.Split(b, "\x1f")...)
		}
		v := Exec(argv...)
		if strings.ContainsAny(v, "\r\n") {
			t.Fatalf("Exec(%q) = %q holds a line break", argv, v)
		}
		// SplitExec on anything must not panic; what it accepts is a fixed point.
		for _, raw := range []string{exe, a, b} {
			scanAgrees(t, raw)
			_, splitErr := SplitExec(raw)
			if checkErr := walkExec(raw, nil); (checkErr == nil) != (splitErr == nil) {
				t.Fatalf("%q: Marshal's check says %v, SplitExec says %v", raw, checkErr, splitErr)
			}
			if w, err := SplitExec(raw); err == nil && w != nil && napExecutable(w[0]) {
				w2, err := SplitExec(Exec(w...))
				if err != nil || !cmp.Equal(w, w2) {
					t.Fatalf("SplitExec(%q) = %q; SplitExec(Exec(that)) = %q, %v", raw, w, w2, err)
				}
			}
		}
		if !napExecutable(exe) || strings.Contains(strings.Join(argv, ""), "\x00") {
			return
		}
		// Exec's own output with a bare executable takes Marshal's fast path.
		if strings.IndexFunc(exe, needsExecQuote) < 0 && !strings.Contains(exe, "%") {
			if scan, walk := scanExec(v), walkExec(v, nil); scan != (walk == nil) {
				t.Fatalf("Exec(%q) = %q: scanExec %v, walkExec %v", argv, v, scan, walk)
			}
		}
		got, err := SplitExec(v)
		if err != nil {
			t.Fatalf("SplitExec(Exec(%q)) = %v (value %q)", argv, err, v)
		}
		if !cmp.Equal(argv, got) {
			t.Fatalf("SplitExec(Exec(%q)) = %q (value %q)", argv, got, v)
		}
		file := NewFile("a.service")
		file.Section("Service").AddRaw("ExecStart", v)
		m, err := Marshal(file)
		if err != nil {
			if strings.Contains(err.Error(), "no space to wrap") {
				return
			}
			t.Fatalf("Marshal(ExecStart=%q): %v", v, err)
		}
		back, err := Read(bytes.NewReader(m))
		if err != nil || !cmp.Equal(file.Sections, back.Sections) {
			t.Fatalf("Read(Marshal) = %+v, %v; want %q", back, err, v)
		}
	})
}

// napExecutable: an executable systemd takes as it is (flag characters at its
// start would be read as prefixes, a lone ";" as a separator).
func napExecutable(exe string) bool {
	return exe != "" && exe != ";" && !strings.ContainsRune("-@:+!", rune(exe[0])) && validExecutable([]byte(exe)) == nil
}

// FuzzMarshal: for any section, option name and value, Marshal fails or the
// file reads back as exactly the options put in — no more, none changed —
// with every physical line at most MaxLine bytes; it writes the bytes of
// go-systemd's SerializeSections, and its scanning checks pass nothing the
// walks refuse.
func FuzzMarshal(f *testing.F) {
	for _, s := range [][3]string{
		{"Service", "ExecStart", Exec("/bin/echo", "x")}, {"Unit", "Description", "x\nExecStartPre=/bin/evil"},
		{"Unit", "Description", `a\`}, {"Unit]\n[Service", "A", "b"}, {"X-Fleet", "MachineOf", "%i%%"},
		{"Unit", "Description", strings.Repeat("ab ", 1000)}, {"Unit", "Description", strings.Repeat(`a\ # `, 600)},
		{"Service", "Environment", `"A=b c" D=e`}, {"Unit", "Description", "a\\\\\\ ;b"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, section, name, value string) {
		in := NewFile("a.service")
		in.Section("Unit").Add("Description", Lit("before"))
		in.Section(section).AddRaw(name, value)
		in.Section("Install").Add("WantedBy", Lit("after.target"))
		scanAgrees(t, value)
		sameAsSerializeSections(t, in)
		b, err := Marshal(in)
		if err != nil {
			return
		}
		for i, l := range strings.Split(string(b), "\n") {
			if len(l) > MaxLine {
				t.Fatalf("line %d is %d bytes", i+1, len(l))
			}
		}
		out, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Read(Marshal(f)): %v\n%s", err, b)
		}
		if diff := cmp.Diff(in.Sections, out.Sections, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Read(Marshal(f)) (-want +got):\n%s", diff)
		}
	})
}
