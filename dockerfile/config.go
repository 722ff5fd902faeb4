package dockerfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// imageConfig is the part of an image config (Docker's
// application/vnd.docker.container.image.v1+json or OCI's
// application/vnd.oci.image.config.v1+json) that says how a container runs.
type imageConfig struct {
	Config *struct {
		ExposedPorts map[string]struct{}
		Env          []string
		Entrypoint   []string
		Cmd          []string
		Healthcheck  *struct {
			Test                                          []string
			Interval, Timeout, StartPeriod, StartInterval time.Duration
			Retries                                       int
		}
		User       string
		WorkingDir string
		Volumes    map[string]struct{}
		StopSignal string
		Labels     map[string]string
	} `json:"config"`
}

// FromConfig reads the config of a built image, as a registry serves it
// (application/vnd.docker.container.image.v1+json or the OCI equivalent),
// into the same model, so settings inherited from a base image count.
// Only the runtime fields are filled: Ports, Env, Entrypoint, Cmd,
// Healthcheck, User, Workdir, Volumes, StopSignal, Labels. Errors are plain
// errors: a config has no lines.
func FromConfig(configJSON []byte) (*Image, error) {
	var ic imageConfig
	if err := json.Unmarshal(configJSON, &ic); err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	img := &Image{}
	c := ic.Config
	if c == nil {
		// An image with no config at all (FROM scratch and nothing else).
		return img, nil
	}
	for spec := range c.ExposedPorts {
		p, err := ParsePort(spec)
		if err != nil {
			return nil, fmt.Errorf("image config: ExposedPorts: %w", err)
		}
		img.Ports = append(img.Ports, p)
	}
	img.Ports = sortPorts(img.Ports)
	for _, kv := range c.Env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("image config: Env: %q is not NAME=value", kv)
		}
		img.Env = append(img.Env, EnvVar{Name: name, Value: value})
	}
	if c.Entrypoint != nil {
		img.Entrypoint = &Command{Args: c.Entrypoint}
	}
	if c.Cmd != nil {
		img.Cmd = &Command{Args: c.Cmd}
	}
	if h := c.Healthcheck; h != nil && len(h.Test) > 0 {
		switch h.Test[0] {
		case "NONE", "CMD", "CMD-SHELL":
		default:
			return nil, fmt.Errorf("image config: Healthcheck: unknown test type %q", h.Test[0])
		}
		if h.Interval < 0 || h.Timeout < 0 || h.StartPeriod < 0 || h.StartInterval < 0 || h.Retries < 0 {
			return nil, errors.New("image config: Healthcheck: negative duration or retries")
		}
		img.Healthcheck = &Healthcheck{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	img.User, img.Workdir, img.StopSignal = c.User, c.WorkingDir, c.StopSignal
	if img.StopSignal != "" {
		if err := checkSignal(img.StopSignal); err != nil {
			return nil, fmt.Errorf("image config: StopSignal: %w", err)
		}
	}
	for v := range c.Volumes {
		img.Volumes = append(img.Volumes, v)
	}
	slices.Sort(img.Volumes)
	if len(c.Labels) > 0 {
		img.Labels = c.Labels
	}
	return img, nil
}
