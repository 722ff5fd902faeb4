// Package registry reads what nap needs from a Docker registry over its
// HTTP API v2: an image's config (docker v2 and OCI manifests, lists and
// indexes resolved to this machine's platform) and whether it answers.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"
)

// Media types a registry may answer a manifest request with.
const (
	mediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

// maxManifest bounds what is read from a registry (manifests and configs are
// a few KB).
const maxManifest = 4 << 20

// registryTimeout bounds each request to the registry.
const registryTimeout = 30 * time.Second

// Client reads image configs over the registry HTTP API v2.
type Client struct {
	// Host is the operator's registry, host[:port][/path].
	Host string
	// Scheme is "http" or "https"; default https, http for a loopback host
	// (docker treats loopback registries as insecure too).
	Scheme string
	// HTTP is the client requests go through; nil: one with Go's defaults —
	// the system's roots, HTTPS_PROXY, redirects followed (registries send
	// blobs to their storage).
	HTTP *http.Client
}

func (r *Client) base() (scheme, host, prefix string) {
	host, prefix, _ = strings.Cut(r.Host, "/")
	scheme = r.Scheme
	if scheme == "" {
		scheme = "https"
		if isLoopback(host) {
			scheme = "http"
		}
	}
	if prefix != "" {
		prefix += "/"
	}
	return scheme, host, prefix
}

// isLoopback reports whether host[:port] names this machine: localhost, or
// a loopback IPv4 or [IPv6] address.
func isLoopback(hostport string) bool {
	h := hostport
	if rest, ok := strings.CutPrefix(h, "["); ok {
		h, _, _ = strings.Cut(rest, "]")
	} else if strings.Count(h, ":") == 1 {
		h, _, _ = strings.Cut(h, ":")
	}
	ip, err := netip.ParseAddr(h)
	return h == "localhost" || err == nil && ip.IsLoopback()
}

// get fetches path from the registry: the final answer's status and at
// most maxManifest bytes of its body. A status is not an error; not
// reaching the registry, a timeout and a longer body are.
func (r *Client) get(ctx context.Context, path string, accept ...string) (int, []byte, error) {
	scheme, host, _ := r.base()
	url := scheme + "://" + host + path
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, nil, err
	}
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	hc := r.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err // names the method and URL
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %v", url, err)
	}
	if len(b) > maxManifest {
		return 0, nil, fmt.Errorf("GET %s: reply larger than %d bytes", url, maxManifest)
	}
	return resp.StatusCode, b, nil
}

// getOK is get wanting 200.
func (r *Client) getOK(ctx context.Context, path string, accept ...string) ([]byte, error) {
	code, b, err := r.get(ctx, path, accept...)
	if err == nil && code != http.StatusOK {
		scheme, host, _ := r.base()
		err = fmt.Errorf("GET %s://%s%s: HTTP %d", scheme, host, path, code)
	}
	return b, err
}

// ImageConfig returns the config blob of repo:tag (repo without the
// registry's path) and the manifest's digest: the sha256 of the bytes the
// registry served for the tag, which is what its Docker-Content-Digest
// names. A manifest list or OCI index is resolved to this machine's platform
// (linux/GOARCH).
func (r *Client) ImageConfig(ctx context.Context, repo, tag string) (config []byte, digest string, err error) {
	_, _, prefix := r.base()
	name := prefix + repo
	ref := tag
	for hop := 0; hop < 2; hop++ {
		body, err := r.getOK(ctx, "/v2/"+name+"/manifests/"+ref, mediaDockerManifest, mediaOCIManifest, mediaDockerList, mediaOCIIndex)
		if err != nil {
			return nil, "", err
		}
		if digest == "" {
			sum := sha256.Sum256(body)
			digest = "sha256:" + hex.EncodeToString(sum[:])
		}
		var m struct {
			MediaType string `json:"mediaType"`
			Config    struct {
				Digest string `json:"digest"`
			} `json:"config"`
			Manifests []struct {
				Digest   string `json:"digest"`
				Platform struct {
					OS           string `json:"os"`
					Architecture string `json:"architecture"`
				} `json:"platform"`
			} `json:"manifests"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, "", fmt.Errorf("manifest of %s:%s: %v", name, tag, err)
		}
		if len(m.Manifests) > 0 {
			ref = ""
			for _, d := range m.Manifests {
				if d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
					ref = d.Digest
					break
				}
			}
			if ref == "" {
				return nil, "", fmt.Errorf("manifest list of %s:%s has no linux/%s image", name, tag, runtime.GOARCH)
			}
			continue
		}
		if !strings.HasPrefix(m.Config.Digest, "sha256:") {
			return nil, "", fmt.Errorf("manifest of %s:%s names no config blob", name, tag)
		}
		config, err = r.getOK(ctx, "/v2/"+name+"/blobs/"+m.Config.Digest)
		return config, digest, err
	}
	return nil, "", fmt.Errorf("manifest of %s:%s: nested manifest lists", name, tag)
}

// Ping asks the registry's API root: nil when it answers at all (401 too:
// a registry with auth is up).
func (r *Client) Ping(ctx context.Context) error {
	code, _, err := r.get(ctx, "/v2/")
	if err != nil {
		return err
	}
	if code != http.StatusOK && code != http.StatusUnauthorized {
		scheme, host, _ := r.base()
		return fmt.Errorf("GET %s://%s/v2/: HTTP %d", scheme, host, code)
	}
	return nil
}
