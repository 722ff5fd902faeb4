package router

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nap-paas/nap/render"
)

var update = flag.Bool("update", false, "rewrite testdata/*.conf")

const r1 = "0123456789ab"

// What etcd holds, hostile entries among the real ones: only checked
// instances of web processes become upstreams, and each refusal is said.
func TestFromKeys(t *testing.T) {
	kv := map[string]string{
		"/services/shop/web/" + r1 + ".1":     `{"host":"10.0.0.2","port":32768,"ports":{"8080/tcp":32768},"release":"x"}`,
		"/services/shop/web/" + r1 + "-2.2":   `{"host":"m3.example.com","port":32769}`,
		"/services/shop/worker/" + r1 + ".1":  `{"host":"10.0.0.2","port":1}`,
		"/services/blog/web/" + r1 + ".1":     `{"host":"fd00::7","port":80}`,
		"/services/evil/web/" + r1 + ".1":     `{"host":"10.0.0.1:80; include /etc/shadow","port":1}`,
		"/services/evil/web/" + r1 + ".2":     `{"host":"a\nb","port":1}`,
		"/services/evil/web/" + r1 + ".3":     `{"host":"10.0.0.1","port":0}`,
		"/services/evil/web/" + r1 + ".4":     `not json`,
		"/services/ev;il/web/" + r1 + ".1":    `{"host":"10.0.0.1","port":1}`,
		"/services/evil/web/" + r1 + ".1/x":   `{"host":"10.0.0.1","port":1}`,
		"/services/evil/web/" + r1 + ".5":     `{"host":"fe80::1%eth0","port":1}`,
		"/services/evil/web/" + r1 + ".6":     `{"host":"-x.example.com","port":1}`,
		"/services/evil/web/" + r1 + ".7":     `{"host":"` + strings.Repeat("a", 300) + `","port":1}`,
		"/services/Evil/web/" + r1 + ".1":     `{"host":"10.0.0.1","port":1}`,
		"/services/evil/web/" + r1 + ".8":     `{"host":"10.0.0.1","port":65536}`,
		"/services/evil/web/" + r1 + "-01.1":  `{"host":"10.0.0.1","port":1}`,
		"/services/shop/web/" + r1 + ".3/../": `{"host":"10.0.0.1","port":1}`,
	}
	got, problems := FromKeys("/services", kv)
	want := Table{
		"shop": {{"10.0.0.2", 32768}, {"m3.example.com", 32769}},
		"blog": {{"fd00::7", 80}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	if len(problems) != 13 {
		t.Errorf("%d problems, want 13 (every hostile entry but the worker's):\n%s", len(problems), strings.Join(problems, "\n"))
	}
	for _, p := range problems {
		if strings.ContainsAny(p, "\n") {
			t.Errorf("a problem spans lines: %q", p)
		}
	}
}

// opts are the default router settings with domain.
func opts(domain string) render.Router {
	o := render.DefaultOperator().Router
	o.Domain = domain
	return o
}

func withTLS(o render.Router, https int, cert, key string) render.Router {
	o.HTTPS, o.TLSCert, o.TLSKey = https, cert, key
	return o
}

// The configuration, byte for byte, one file per case (go test ./router
// -update rewrites them).
func TestNginxGolden(t *testing.T) {
	tab := Table{"shop": {{"10.0.0.2", 32768}, {"10.0.0.3", 32770}}, "blog": {{"fd00::7", 80}}}
	for _, tc := range []struct {
		file string
		o    render.Router
	}{
		{"router.conf", opts("apps.example.com")},
		{"router-tls.conf", withTLS(opts("apps.example.com"), 443, "/etc/ssl/apps.pem", "/etc/ssl/private/apps.key")},
		{"router-ports.conf", withTLS(func() render.Router { o := opts("apps.example.com"); o.HTTP = 8080; return o }(), 8443, "/c.pem", "/k.pem")},
	} {
		got, err := Nginx(tc.o, tab, []string{"blog", "gone", "gone", "shop"})
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", tc.file)
		if *update {
			os.WriteFile(golden, got, 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("config differs from %s (-want +got):\n%s", golden, diff)
		}
		again, _ := Nginx(tc.o, tab, []string{"shop", "gone", "blog", "gone"})
		if string(again) != string(got) {
			t.Errorf("%s: same input, other bytes", tc.file)
		}
	}
}

// Nginx refuses what FromKeys would never let through, for a caller who
// built the table otherwise.
func TestNginxRefuses(t *testing.T) {
	a := opts("a.example")
	http := a
	http.HTTP = 70000
	for name, tc := range map[string]struct {
		o     render.Router
		t     Table
		known []string
	}{
		"app name":      {a, Table{"a b": {{"10.0.0.1", 1}}}, nil},
		"upstream host": {a, Table{"a": {{"10.0.0.1;", 1}}}, nil},
		"upstream port": {a, Table{"a": {{"10.0.0.1", 0}}}, nil},
		"known app":     {a, nil, []string{"x;y"}},
		"domain":        {opts("a.example; x"), nil, nil},
		"domain empty":  {opts(""), nil, nil},
		"listen":        {http, nil, nil},
		"cert path":     {withTLS(a, 443, "/c.pem;", "/k.pem"), nil, nil},
		"key missing":   {withTLS(a, 443, "/c.pem", ""), nil, nil},
		"no https port": {withTLS(a, 0, "/c.pem", "/k.pem"), nil, nil},
	} {
		if _, err := Nginx(tc.o, tc.t, tc.known); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Real nginx accepts what Nginx writes (nginx -t), the golden case and a
// table built from hostile etcd contents alike.
func TestNginxAcceptsIt(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Fatalf("nginx is required (make deps installs it): %v", err)
	}
	tab, _ := FromKeys("/services", map[string]string{
		"/services/shop/web/" + r1 + ".1":  `{"host":"10.0.0.2","port":32768}`,
		"/services/blog/web/" + r1 + ".1":  `{"host":"fd00::7","port":80}`,
		"/services/evil/web/" + r1 + ".1":  `{"host":"x; } server { listen 81","port":1}`,
		"/services/other/web/" + r1 + ".1": `{"host":"localhost","port":8080}`,
	})
	o := opts("apps.example.com")
	o.HTTP = 8088
	conf, err := Nginx(o, tab, []string{"quiet"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "router.conf"), conf, 0o644)
	main := "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\nevents {}\nhttp {\n\taccess_log off;\n\tinclude " + dir + "/router.conf;\n}\n"
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644)
	out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput()
	if err != nil {
		t.Errorf("nginx -t: %v\n%s\n%s", err, out, conf)
	}
	if strings.Contains(string(conf), "listen 81") || strings.Contains(string(conf), "evil") {
		t.Errorf("a hostile value reached the configuration:\n%s", conf)
	}
}

// Every line of the configuration is one of the shapes Nginx writes, with
// names and addresses of the allowed characters only.
var confLine = regexp.MustCompile(`^(|#.*|\t?\t?[a-z_]+( [A-Za-z0-9_.:$\[\]/"\\ ,{}=-]*)?;|[a-z]+ ?[a-z_0-9-]* ?\{|\t?\}|\t?location / \{|\treturn [0-9]+ "[^"]*";)$`)

func FuzzNginx(f *testing.F) {
	f.Add("/services/shop/web/"+r1+".1", `{"host":"10.0.0.2","port":32768}`, "shop")
	f.Add("/services/a;b/web/"+r1+".1", `{"host":"10.0.0.2\n","port":1}`, "x y")
	f.Fuzz(func(t *testing.T, key, value, known string) {
		tab, _ := FromKeys("/services", map[string]string{key: value})
		conf, err := Nginx(opts("apps.example.com"), tab, []string{known})
		if err != nil {
			return
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(conf), "\n"), "\n") {
			if !confLine.MatchString(line) {
				t.Fatalf("line %q of\n%s", line, conf)
			}
		}
	})
}
