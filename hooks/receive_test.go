package hooks

import (
	"context"
	"strings"
	"testing"
)

func TestParseUpdates(t *testing.T) {
	z40, z64 := strings.Repeat("0", 40), strings.Repeat("0", 64)
	a40, b40, a64 := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 64)
	in := z40 + " " + a40 + " refs/heads/master\n" + a40 + " " + z40 + " refs/heads/dev\n" + a64 + " " + z64 + " refs/heads/x\n" + a40 + " " + b40 + " refs/tags/v1\n"
	got, err := ParseUpdates(strings.NewReader(in))
	if err != nil || len(got) != 4 {
		t.Fatalf("ParseUpdates = %v, %v", got, err)
	}
	if !got[0].Created() || got[0].Deleted() || !got[1].Deleted() || !got[2].Deleted() || got[3].Created() || got[3].Deleted() {
		t.Errorf("Created/Deleted wrong: %+v", got)
	}
	for _, bad := range []string{
		a40 + " " + b40,
		a40 + " " + b40 + " refs/heads/a b",
		a40 + " " + a64 + " refs/heads/master",
		"xyz " + b40 + " refs/heads/master",
		strings.ToUpper(a40) + " " + b40 + " refs/heads/master",
		a40 + " " + b40 + " master",
	} {
		if _, err := ParseUpdates(strings.NewReader(bad + "\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseUpdates(%q) = %v, want an error on line 1", bad, err)
		}
	}
}

func TestReceiveRefusesDeletingTheDeployBranch(t *testing.T) {
	var out strings.Builder
	r := &Receiver{App: "myapp", GitDir: "/nonexistent", DeployBranch: "master", Git: "git", Stdout: &out, Stderr: &out}
	a40, zero := strings.Repeat("a", 40), strings.Repeat("0", 40)
	err := r.Receive(context.Background(), []Update{{Old: a40, New: zero, Ref: "refs/heads/dev"}, {Old: a40, New: zero, Ref: "refs/heads/master"}})
	const want = "deleting refs/heads/master is refused: it names what myapp runs; to remove the app, run nap-render destroy myapp on the git host"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if !strings.Contains(out.String(), "refs/heads/dev: accepted, not deployed") {
		t.Errorf("output %q", out.String())
	}
}
