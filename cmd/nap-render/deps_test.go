package main

import (
	"os/exec"
	"strings"
	"testing"
)

// heavyPackages are kept out of nap-render: every render, check and
// pre-receive hook starts it, and its start-up is measured against the seed
// (BENCHMARKS.md, "render"). net/http and crypto/tls cost 4.9 MB and
// ≈0.4 ms of package initialisation (deploy runs curl instead);
// text/template's by-name method calls keep every exported method in the
// binary (2.3 MB); go-cmp and testing belong to tests; dockerfile2llb is
// forbidden by the design, and buildkit's instructions package costs
// ≈1.5 ms of initialisation.
var heavyPackages = []string{
	"net", "net/http", "crypto/tls", "crypto/x509",
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
