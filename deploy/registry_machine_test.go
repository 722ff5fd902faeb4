package deploy_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/dockerfile"
	"github.com/nap-paas/nap/internal/sandbox"
	"github.com/nap-paas/nap/registry"
)

// ociPusher uploads blobs and manifests to a machine's registry over the
// registry HTTP API v2, as a client that builds OCI images (buildah,
// buildkit with oci-mediatypes) does.
type ociPusher struct {
	t    *testing.T
	c    *http.Client
	base string // http://127.0.0.1:5000
	repo string
}

type ociDescriptor struct {
	MediaType string            `json:"mediaType"`
	Digest    string            `json:"digest"`
	Size      int               `json:"size"`
	Platform  map[string]string `json:"platform,omitempty"`
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func (p *ociPusher) do(method, target, contentType string, body []byte, want int) *http.Response {
	p.t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	must(p.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := p.c.Do(req)
	must(p.t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		p.t.Fatalf("%s %s: %s, want %d: %s", method, target, resp.Status, want, b)
	}
	return resp
}

// blob uploads b monolithically (POST an upload, PUT it with its digest).
func (p *ociPusher) blob(mediaType string, b []byte) ociDescriptor {
	p.t.Helper()
	resp := p.do("POST", p.base+"/v2/"+p.repo+"/blobs/uploads/", "", nil, http.StatusAccepted)
	loc, err := url.Parse(p.base + "/")
	must(p.t, err)
	loc, err = loc.Parse(resp.Header.Get("Location"))
	must(p.t, err)
	q := loc.Query()
	q.Set("digest", digestOf(b))
	loc.RawQuery = q.Encode()
	p.do("PUT", loc.String(), "application/octet-stream", b, http.StatusCreated)
	return ociDescriptor{MediaType: mediaType, Digest: digestOf(b), Size: len(b)}
}

func (p *ociPusher) manifest(ref, mediaType string, m any) []byte {
	p.t.Helper()
	b, err := json.Marshal(m)
	must(p.t, err)
	p.do("PUT", p.base+"/v2/"+p.repo+"/manifests/"+ref, mediaType, b, http.StatusCreated)
	return b
}

// testRegistryOCI pushes an OCI image built by hand (a config blob, one gzip
// layer, an OCI manifest, and an OCI index over it) to the machine's
// registry, then reads it back with deploy.Registry.
func testRegistryOCI(t *testing.T, m *sandbox.Machine) {
	var raw, layer bytes.Buffer
	tw := tar.NewWriter(&raw)
	must(t, tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o755, Size: 3, ModTime: time.Unix(0, 0)}))
	tw.Write([]byte("hi\n"))
	must(t, tw.Close())
	gz := gzip.NewWriter(&layer)
	gz.Write(raw.Bytes())
	must(t, gz.Close())
	diffID := digestOf(raw.Bytes()) // the config names layers uncompressed
	config := []byte(`{"architecture":"` + runtime.GOARCH + `","os":"linux",` +
		`"config":{"Env":["PATH=/usr/bin","GREETING=oci"],"ExposedPorts":{"9090/tcp":{}},"Cmd":["/hello"],"WorkingDir":"/"},` +
		`"rootfs":{"type":"layers","diff_ids":["` + diffID + `"]}}`)

	p := &ociPusher{t: t, c: m.HTTPClient(), base: "http://127.0.0.1:5000", repo: "ocitest"}
	cfg := p.blob("application/vnd.oci.image.config.v1+json", config)
	lay := p.blob("application/vnd.oci.image.layer.v1.tar+gzip", layer.Bytes())
	man := p.manifest("v1", "application/vnd.oci.image.manifest.v1+json", map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        cfg,
		"layers":        []ociDescriptor{lay},
	})
	// another platform's image, listed first in the index: the client must
	// pick linux/GOARCH
	otherArch := "s390x"
	if runtime.GOARCH == otherArch {
		otherArch = "arm64"
	}
	otherConfig := bytes.Replace(config, []byte(`"architecture":"`+runtime.GOARCH+`"`), []byte(`"architecture":"`+otherArch+`"`), 1)
	otherMan := p.manifest("other", "application/vnd.oci.image.manifest.v1+json", map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        p.blob("application/vnd.oci.image.config.v1+json", otherConfig),
		"layers":        []ociDescriptor{lay},
	})
	other := ociDescriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: digestOf(otherMan), Size: len(otherMan),
		Platform: map[string]string{"os": "linux", "architecture": otherArch}}
	this := ociDescriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: digestOf(man), Size: len(man),
		Platform: map[string]string{"os": "linux", "architecture": runtime.GOARCH}}
	index := p.manifest("multi", "application/vnd.oci.image.index.v1+json", map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []ociDescriptor{other, this},
	})

	reg := &registry.Client{Host: "127.0.0.1:5000", HTTP: m.HTTPClient()}
	for _, tc := range []struct{ tag, digest string }{{"v1", digestOf(man)}, {"multi", digestOf(index)}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		got, digest, err := reg.ImageConfig(ctx, "ocitest", tc.tag)
		cancel()
		if err != nil {
			t.Errorf("ImageConfig(ocitest:%s): %v", tc.tag, err)
			continue
		}
		if !bytes.Equal(got, config) {
			t.Errorf("ImageConfig(ocitest:%s) = %s, want the pushed config", tc.tag, got)
		}
		if digest != tc.digest {
			t.Errorf("ImageConfig(ocitest:%s) digest = %s, want %s", tc.tag, digest, tc.digest)
		}
		img, err := dockerfile.FromConfig(got)
		if err != nil || len(img.Ports) != 1 || img.Ports[0].Start != 9090 {
			t.Errorf("FromConfig: %+v, %v; want port 9090", img, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := reg.ImageConfig(ctx, "ocitest", "missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("ImageConfig of a missing tag: %v; want a 404 named", err)
	}
}

// testRegistryTLS serves the machine's registry storage over HTTPS too,
// with a certificate from a CA made here, and reads the image of
// testRegistryOCI through it: at the machine's own address (not loopback,
// so https by default), with a client trusting that CA, and then with the
// system's roots, which must refuse the certificate.
func testRegistryTLS(t *testing.T, m *sandbox.Machine) {
	ca, caKey := newCert(t, nil, nil, "nap test CA", nil)
	cert, key := newCert(t, ca, caKey, "registry", net.ParseIP(m.IP))
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	must(t, err)
	must(t, m.WriteFile("/etc/docker/registry-tls/cert.pem", pemBlock("CERTIFICATE", cert.Raw), 0o644))
	must(t, m.WriteFile("/etc/docker/registry-tls/key.pem", pemBlock("PRIVATE KEY", keyDER), 0o600))
	must(t, m.WriteFile("/etc/docker/registry-tls/config.yml", []byte(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
http:
  addr: 0.0.0.0:5443
  tls:
    certificate: /etc/docker/registry-tls/cert.pem
    key: /etc/docker/registry-tls/key.pem
`), 0o644))
	ctx := context.Background()
	m.Exec(ctx, "chown", "docker-registry", "/etc/docker/registry-tls/key.pem")
	res, err := m.Exec(ctx, "systemd-run", "--unit", "registry-tls", "--property", "User=docker-registry",
		"/usr/bin/docker-registry", "serve", "/etc/docker/registry-tls/config.yml")
	if err != nil || res.Code != 0 {
		t.Fatalf("systemd-run registry-tls: %v %s", err, res)
	}
	defer m.Systemctl("stop", "registry-tls.service")

	roots := x509.NewCertPool()
	roots.AddCert(ca)
	trusting := m.HTTPClient()
	trusting.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots}
	overTLS := &registry.Client{Host: m.IP + ":5443", HTTP: trusting}
	plain := &registry.Client{Host: "127.0.0.1:5000", HTTP: m.HTTPClient()}
	want, wantDigest, err := plain.ImageConfig(ctx, "ocitest", "v1")
	must(t, err)
	var got []byte
	var digest string
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, digest, err = overTLS.ImageConfig(ctx, "ocitest", "v1")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the registry is starting
	}
	if err != nil || !bytes.Equal(got, want) || digest != wantDigest {
		t.Fatalf("over https: %s, %s, %v; want %s, %s\n%s", got, digest, err, want, wantDigest, m.Journal("registry-tls.service"))
	}
	untrusting := &registry.Client{Host: m.IP + ":5443", HTTP: m.HTTPClient()}
	if _, _, err := untrusting.ImageConfig(ctx, "ocitest", "v1"); err == nil || !strings.Contains(err.Error(), "https://"+m.IP+":5443/") || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("over https with a CA the client does not trust: %v; want the URL and a certificate error", err)
	}
}

// newCert makes an ECDSA certificate for cn signed by parent (self-signed
// when parent is nil, then a CA), valid for ip if given.
func newCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn string, ip net.IP) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		parent, parentKey = tmpl, key
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	return cert, key
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
