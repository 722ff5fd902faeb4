package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nap-paas/nap/unit"
)

func TestVerifyPassesAGoodSet(t *testing.T) {
	run := unit.NewFile("app@.service")
	run.Section("Unit").Add("Description", unit.Cat(unit.Lit("app "), unit.Spec(unit.Instance)))
	run.Section("Unit").Add("After", unit.Lit("docker.service"))
	run.Section("Service").AddRaw("ExecStart", unit.Exec("/bin/sleep", "infinity"))
	side := unit.NewFile("app.discovery@.service")
	side.Section("Unit").Add("BindsTo", unit.Cat(unit.Lit("app@"), unit.Spec(unit.Instance), unit.Lit(".service")))
	side.Section("Service").AddRaw("ExecStart", unit.Exec("/bin/true"))
	side.Section("Install").Add("WantedBy", unit.Cat(unit.Lit("app@"), unit.Spec(unit.Instance), unit.Lit(".service")))
	side.Section("X-Fleet").Add("MachineOf", unit.Cat(unit.Lit("app@"), unit.Spec(unit.Instance), unit.Lit(".service")))
	Verify(t, run, side)
}

// TestVerifyFails checks that each defect makes systemd-analyze complain and
// VerifyDir fail the test.
func TestVerifyFails(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"missing binary", "[Service]\nExecStart=/nonexistent/nap-binary\n", "nap-binary"},
		{"bad specifier", "[Service]\nExecStart=/bin/echo %z\n", "specifier"},
		{"unknown key", "[Service]\nExecStart=/bin/true\nNoSuchKey=1\n", "NoSuchKey"},
		{"unknown escape", "[Service]\nExecStart=/bin/echo \\q\n", "escape"},
		{"missing BindsTo", "[Unit]\nBindsTo=nothere.service\n[Service]\nExecStart=/bin/true\n", "nothere"},
		{"no ExecStart", "[Service]\nType=simple\n", "ExecStart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "bad@.service"), []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			rec := &recorder{TB: t}
			VerifyDir(rec, dir)
			if !rec.failed || !strings.Contains(rec.msg, tc.want) {
				t.Errorf("VerifyDir failed=%v with %q; want a failure mentioning %q", rec.failed, rec.msg, tc.want)
			}
		})
	}
}

// recorder catches a failure instead of failing the test.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg += sprintf(format, args...)
}
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
