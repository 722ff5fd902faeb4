package router

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostNginx is a real nginx of the test's own, its http block including
// the router's file (and extra, the operator's own lines).
type hostNginx struct {
	dir, conf string
	port      int
}

func startNginx(t *testing.T, extra string) *hostNginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Fatalf("nginx is required (make deps installs it): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	n := &hostNginx{dir: dir, conf: filepath.Join(dir, "conf.d", "nap.conf"), port: port}
	os.Mkdir(filepath.Join(dir, "conf.d"), 0o755)
	main := fmt.Sprintf("pid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n\taccess_log off;\n%s\tinclude %s/conf.d/*.conf;\n}\n", dir, extra, dir)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644)
	cmd := exec.Command(bin, "-e", "stderr", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off;")
	// a file, not a pipe: workers would hold a pipe open after the master
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stderr.Close()
	// TERM: the master stops its workers too
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
			break
		}
		if i == 100 {
			out, _ := os.ReadFile(stderr.Name())
			t.Fatalf("nginx did not start: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// router is a Router for n: nginx is called with n's main configuration.
func (n *hostNginx) router(t *testing.T, log io.Writer) *Router {
	wrapper := filepath.Join(n.dir, "nginx-wrapper")
	bin, _ := exec.LookPath("nginx")
	// nap calls nginx as the operator's binary; the test's nginx takes its
	// own -c, so a wrapper adds it (before -p and -c of the test alone).
	script := "#!/bin/sh\ncase \" $* \" in *\" -c \"*) exec " + bin + " \"$@\";; esac\nexec " + bin + " -p " + n.dir + " -c " + n.dir + "/nginx.conf \"$@\"\n"
	os.WriteFile(wrapper, []byte(script), 0o755)
	o := opts("apps.test")
	o.HTTP, o.Nginx, o.Conf = n.port, wrapper, n.conf
	return &Router{Config: o, Log: log}
}

var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get asks nginx for host until it answers code (a reload takes effect
// after nginx's signal returns), at most 5 s; it returns the last answer.
func (n *hostNginx) get(t *testing.T, host string, code int) (int, string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(n.port)+"/", nil)
		req.Host = host
		resp, err := noKeepAlive.Do(req)
		if err != nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond) // not listening on the port yet
			continue
		} else if err != nil {
			t.Fatalf("GET %s through nginx: %v", host, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == code || time.Now().After(deadline) {
			return resp.StatusCode, string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func backend(t *testing.T, name string) Upstream {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
	t.Cleanup(s.Close)
	a := s.Listener.Addr().(*net.TCPAddr)
	return Upstream{Host: a.IP.String(), Port: a.Port}
}

// install and apply on a real nginx: a table reaches it (and a host
// nobody announced gets the 404 page, an app gone the 503); an unchanged
// table reloads nothing; a configuration the operator's other files
// clash with is taken back out and the running one serves on; one nginx
// refuses alone is never written.
func TestInstallOnNginx(t *testing.T) {
	// the operator's own default server on the router's port: nginx refuses
	// a second one, but only with the rest of its configuration
	n := startNginx(t, "")
	var log bytes.Buffer
	r := n.router(t, &log)
	ctx := context.Background()

	shop := backend(t, "shop-1")
	if changed, err := r.install(ctx, Table{"shop": {shop}}, true); err != nil || !changed {
		t.Fatalf("install: %v %v\n%s", changed, err, log.String())
	}
	if code, body := n.get(t, "shop.apps.test", 200); code != 200 || body != "shop-1" {
		t.Errorf("shop.apps.test: %d %q", code, body)
	}
	if code, body := n.get(t, "nobody.apps.test", 404); code != 404 || !strings.Contains(body, "no app answers") {
		t.Errorf("an unknown host: %d %q", code, body)
	}
	if changed, err := r.install(ctx, Table{"shop": {shop}}, false); err != nil || changed {
		t.Errorf("the same table again: changed %v, %v", changed, err)
	}
	if changed, err := r.install(ctx, Table{}, false); err != nil || !changed {
		t.Fatalf("shop gone: %v %v", changed, err)
	}
	if code, body := n.get(t, "shop.apps.test", 503); code != 503 || body != "shop has no instance running\n" {
		t.Errorf("shop without instances: %d %q", code, body)
	}
	if !strings.Contains(log.String(), "router: nginx reloaded: 0 apps, 0 instances") {
		t.Errorf("log:\n%s", log.String())
	}

	good, _ := os.ReadFile(n.conf)
	// refused alone: a certificate that is not there
	bad := r.Config
	bad.HTTPS, bad.TLSCert, bad.TLSKey = n.port+1, "/nonexistent/c.pem", "/nonexistent/k.pem"
	r2 := &Router{Config: bad}
	if _, err := r2.install(ctx, Table{"shop": {shop}}, false); err == nil || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("a missing certificate: %v", err)
	}
	if now, _ := os.ReadFile(n.conf); !bytes.Equal(now, good) {
		t.Errorf("a refused configuration changed %s", n.conf)
	}
	// refused with the rest: another server holds default_server on the port
	os.WriteFile(filepath.Join(n.dir, "conf.d", "other.conf"), []byte(fmt.Sprintf("server {\n\tlisten %d default_server;\n\treturn 418;\n}\n", n.port)), 0o644)
	_, err := r.install(ctx, Table{"shop": {shop, backend(t, "shop-2")}}, false)
	if err == nil || !strings.Contains(err.Error(), "keeps what it held") || !strings.Contains(err.Error(), "duplicate default server") {
		t.Errorf("a clash with the operator's configuration: %v", err)
	}
	if now, _ := os.ReadFile(n.conf); !bytes.Equal(now, good) {
		t.Errorf("the refused configuration stayed in %s", n.conf)
	}
	time.Sleep(200 * time.Millisecond) // a reload, had there been one, would show by now
	if code, _ := n.get(t, "shop.apps.test", 503); code != 503 {
		t.Errorf("after a refused configuration nginx answers %d, want the running configuration's 503", code)
	}
}

// TLS with the operator's certificate, on a real nginx: the app answers
// over HTTPS, and HTTP redirects there.
func TestInstallTLSOnNginx(t *testing.T) {
	n := startNginx(t, "")
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "apps.pem"), filepath.Join(dir, "apps.key")
	pool := writeCert(t, cert, key, "*.apps.test")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	https := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := n.router(t, nil)
	r.Config.HTTPS, r.Config.TLSCert, r.Config.TLSKey = https, cert, key
	if _, err := r.install(context.Background(), Table{"shop": {backend(t, "shop-tls")}}, true); err != nil {
		t.Fatal(err)
	}
	// the redirect
	if code, _ := n.get(t, "shop.apps.test", 301); code != 301 {
		t.Errorf("HTTP: %d, want 301", code)
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(n.port)+"/x?y=1", nil)
	req.Host = "shop.apps.test"
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("https://shop.apps.test:%d/x?y=1", https) {
		t.Errorf("redirect to %q", loc)
	}
	// HTTPS, the certificate checked against the name
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "shop.apps.test"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(https))
		}}}
	resp, err = hc.Get(fmt.Sprintf("https://shop.apps.test:%d/", https))
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "shop-tls" {
		t.Errorf("HTTPS: %d %q", resp.StatusCode, body)
	}
}

// writeCert writes a self-signed certificate for name and its key, and
// returns a pool that trusts it.
func writeCert(t *testing.T, certFile, keyFile, name string) *x509.CertPool {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return pool
}
