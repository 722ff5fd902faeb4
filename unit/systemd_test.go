package unit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/unit"
)

// hostile are values users control, each of which has broken a unit
// generator somewhere.
var hostile = []string{
	`say "hi"`, `it's`, `a\b`, `end\`, `\`, `\\`, `$HOME`, `${PATH}`, `$`, `$$`, `100%`, `%n`, `%%`, `%`,
	"a\tb", "x\nExecStartPre=/bin/evil", "x\r\n[Service]", "\x1b[2J", "héllo ☃ 日本", "\u00a0nbsp\u2028",
	"\xff\xfe", ";", `\;`, "-", "@", "", " ", "#comment", "; also", "[Unit]", "a b  c",
	strings.Repeat("w", 2000), strings.Repeat("word ", 500),
}

// TestSystemdAcceptsHostileValues hands systemd itself units built from
// hostile values: it must load them without a warning.
func TestSystemdAcceptsHostileValues(t *testing.T) {
	f := unit.NewFile("hostile.service")
	f.Section("Unit")
	svc := f.Section("Service")
	u := &f.Sections[0] // taken after the last section was added, so it stays valid
	svc.Add("Type", unit.Lit("oneshot"))
	argv := []string{"/bin/echo"}
	for i, h := range hostile {
		argv = append(argv, h)
		if d := unit.Lit(h).String(); d != "" && !strings.ContainsAny(d, "\r\n\x1b\xff\u00a0\u2028\\") && strings.TrimSpace(d) == d {
			u.Add("Description", unit.Lit(h))
		}
		if !utf8.ValidString(h) {
			continue // systemd ignores such an assignment; Marshal refuses it
		}
		svc.AddRaw("Environment", unit.Env("V"+string(rune('A'+i%26))+"_"+strings.Repeat("X", i/26), unit.Lit(h)))
	}
	svc.AddRaw("ExecStart", unit.Exec(argv...))
	svc.AddRaw("ExecStartPre", unit.Exec(append([]string{"/bin/true"}, strings.Repeat("x", 2000), strings.Repeat("y", 2000))...))
	svc.AddRaw("ExecStartPost", unit.ExecWords(unit.IgnoreFailure, unit.Lit("/bin/echo"), unit.Spec(unit.Instance), unit.Spec(unit.FullName), unit.Spec(unit.Host)))
	if _, err := unit.Marshal(f); err != nil {
		t.Fatal(err)
	}
	sandbox.Verify(t, append(unit.SampleSet(), f)...)
}

// TestSystemdSkipsCommentsInContinuations proves the fact Marshal's wrapping
// and Read rely on: systemd drops a comment line inside a continuation (the
// %z there would fail verification otherwise), which go-systemd keeps, so
// Read refuses such input and Marshal never writes it.
func TestSystemdSkipsCommentsInContinuations(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"hash.service": "[Service]\nExecStart=/bin/echo a \\\n# comment %z\nb\n",
		"semi.service": "[Service]\nExecStart=/bin/echo a \\\n  ; comment %z\nb\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if f, err := unit.Read(strings.NewReader(body)); err == nil {
			t.Errorf("Read(%q) = %+v, want an error", body, f)
		}
	}
	sandbox.VerifyDir(t, dir)
}
