package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
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

// Registry reads image configs over the registry HTTP API v2.
type Registry struct {
	// Host is the operator's registry, host[:port][/path].
	Host string
	// Client defaults to a client with a 30 s timeout.
	Client *http.Client
	// Scheme is "http" or "https"; default https, http for a loopback host
	// (docker treats loopback registries as insecure too).
	Scheme string
}

func (r *Registry) base() (scheme, host, prefix string) {
	host, prefix, _ = strings.Cut(r.Host, "/")
	scheme = r.Scheme
	if scheme == "" {
		scheme = "https"
		h := host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			h = hh
		}
		if ip := net.ParseIP(h); h == "localhost" || ip != nil && ip.IsLoopback() {
			scheme = "http"
		}
	}
	if prefix != "" {
		prefix += "/"
	}
	return scheme, host, prefix
}

func (r *Registry) get(ctx context.Context, path string, accept ...string) ([]byte, http.Header, error) {
	scheme, host, _ := r.base()
	req, err := http.NewRequestWithContext(ctx, "GET", scheme+"://"+host+path, nil)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	c := r.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	return b, resp.Header, nil
}

// ImageConfig returns the config blob of repo:tag (repo without the
// registry's path) and the manifest's digest. A manifest list or OCI index is
// resolved to this machine's platform (linux/GOARCH).
func (r *Registry) ImageConfig(ctx context.Context, repo, tag string) (config []byte, digest string, err error) {
	_, _, prefix := r.base()
	name := prefix + repo
	ref := tag
	for hop := 0; hop < 2; hop++ {
		body, hdr, err := r.get(ctx, "/v2/"+name+"/manifests/"+ref, mediaDockerManifest, mediaOCIManifest, mediaDockerList, mediaOCIIndex)
		if err != nil {
			return nil, "", err
		}
		if digest == "" {
			digest = hdr.Get("Docker-Content-Digest")
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
		config, _, err = r.get(ctx, "/v2/"+name+"/blobs/"+m.Config.Digest)
		return config, digest, err
	}
	return nil, "", fmt.Errorf("manifest of %s:%s: nested manifest lists", name, tag)
}
