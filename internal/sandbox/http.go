package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// HTTPClient returns a client whose connections start inside the machine's
// network namespace: http://127.0.0.1:5000/ is the machine's own registry.
func (m *Machine) HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:       m.DialContext,
			DisableKeepAlives: true,
			Proxy:             nil,
		},
	}
}

// HTTPGet fetches target from inside the machine and returns the status
// code and body. target is a URL; "http://" may be left out.
func (m *Machine) HTTPGet(target string) (int, string, error) {
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := m.HTTPClient().Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("sandbox: %s: GET %s: %w", m.Name, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}
