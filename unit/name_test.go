package unit

import "testing"

func TestValidName(t *testing.T) {
	for _, ok := range []string{
		"app.build.0123456789ab.service", "app.web.0123456789ab@.service", "app.web.0123456789ab@1.service",
		"app.web.0123456789ab.discovery@.service", "a:b_c-d.target", "x.timer",
	} {
		if err := ValidName(ok); err != nil {
			t.Errorf("ValidName(%q): %v", ok, err)
		}
	}
	long := ""
	for len(long) < 250 {
		long += "a"
	}
	for _, bad := range []string{
		"", "app", "app.", ".service", "app.exe", "@.service", "@x.service", "a@b@c.service",
		`app\x2dx.service`, "app x.service", "app\n.service", "app/x.service", "ap%p.service",
		long + ".service", "é.service",
	} {
		if err := ValidName(bad); err == nil {
			t.Errorf("ValidName(%q) = nil, want an error", bad)
		}
	}
}
