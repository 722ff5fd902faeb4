package main

import (
	"os/exec"
	"strings"
	"testing"
)

// heavyPackages are kept out of nap-render: text/template's by-name method
// calls keep every exported method in the binary (2.3 MB); go-cmp and
// testing belong to tests; dockerfile2llb is forbidden by the design, and
// buildkit's instructions package costs ≈1.5 ms of initialisation at every
// start. net/http and crypto/tls are linked: the host announcer, deploy's
// registry reads and the etcd client use them — ≈0.4 ms of start-up that
// no user feels (BENCHMARKS.md, "render" and "discovery").
var heavyPackages = []string{
	"text/template", "html/template",
	"github.com/google/go-cmp/cmp", "testing",
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb",
	"github.com/moby/buildkit/frontend/dockerfile/instructions",
}

func TestNoHeavyPackages(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is needed to list nap-render's packages: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/nap-paas/nap/cmd/nap-render").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	for _, p := range heavyPackages {
		if deps[p] {
			t.Errorf("nap-render links %s; see heavyPackages for why it must not", p)
		}
	}
}
