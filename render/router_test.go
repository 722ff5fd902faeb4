package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nap-paas/nap/unit"
)

func TestRouterURL(t *testing.T) {
	r := DefaultOperator().Router
	for _, tc := range []struct {
		domain      string
		http, https int
		want        string
	}{
		{"", 80, 0, ""},
		{"apps.example.com", 80, 0, "http://shop.apps.example.com"},
		{"apps.example.com", 8080, 0, "http://shop.apps.example.com:8080"},
		{"apps.example.com", 80, 443, "https://shop.apps.example.com"},
		{"apps.example.com", 80, 8443, "https://shop.apps.example.com:8443"},
	} {
		r.Domain, r.HTTP, r.HTTPS = tc.domain, tc.http, tc.https
		if got := r.URL("shop"); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc, got, tc.want)
		}
	}
}

func TestParseRouter(t *testing.T) {
	op, err := ParseOperator(OperatorFile, []byte("router:\n  domain: apps.example.com\n  https: 443\n  tls_cert: /etc/ssl/apps.pem\n  tls_key: /etc/ssl/private/apps.key\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Router{Domain: "apps.example.com", HTTP: 80, HTTPS: 443, TLSCert: "/etc/ssl/apps.pem", TLSKey: "/etc/ssl/private/apps.key",
		Nginx: "/usr/sbin/nginx", Conf: "/etc/nginx/conf.d/nap.conf"}
	if diff := cmp.Diff(want, op.Router); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// The router's unit, per target, byte for byte (testdata/router-*.service;
// go test ./render -update rewrites them).
func TestRouterUnit(t *testing.T) {
	op := DefaultOperator()
	op.Router.Domain = "apps.example.com"
	op.Target = TargetSystemd
	for _, tc := range []struct {
		file     string
		target   Target
		config   string
		metadata []string
	}{
		{"router-systemd.service", TargetSystemd, "/etc/nap/config.yaml", nil},
		{"router-fleet.service", TargetFleet, "", []string{"role=edge", "disk=ssd"}},
	} {
		op.Target = tc.target
		f, err := RouterUnit(op, tc.config, tc.metadata)
		if err != nil {
			t.Fatal(err)
		}
		got, err := unit.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", tc.file)
		if *update {
			os.WriteFile(golden, got, 0o644)
		}
		want, _ := os.ReadFile(golden)
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", golden, diff)
		}
	}
	op.Target = TargetSystemd
	for name, tc := range map[string]struct {
		config   string
		metadata []string
		want     string
	}{
		"config relative":   {"config.yaml", nil, "--config:"},
		"config newline":    {"/etc/nap/c\nExecStartPre=/bin/sh", nil, "--config:"},
		"metadata hostile":  {"", []string{"role=edge\nExecStart=/bin/sh"}, "--metadata:"},
		"metadata, systemd": {"", []string{"role=edge"}, "places the router on fleet's machines"},
	} {
		if _, err := RouterUnit(op, tc.config, tc.metadata); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	op.Router.Domain = ""
	if _, err := RouterUnit(op, "", nil); err == nil {
		t.Errorf("no domain: accepted")
	}
}
