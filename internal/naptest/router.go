package naptest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/sandbox"
)

// RouterClient is a user of an app behind the router: one request to
// http://HOST/ through the nginx on a machine every interval, over
// keep-alive connections as a browser would, without retries.
type RouterClient struct {
	halt, done chan struct{}
	mu         sync.Mutex
	requests   int
	failures   []string
	bodies     map[string]int
}

// StartRouterClient asks http://host/ of the router on m (port 80) every
// interval until Stop.
func StartRouterClient(m *sandbox.Machine, host string, every time.Duration) *RouterClient {
	c := &RouterClient{halt: make(chan struct{}), done: make(chan struct{}), bodies: map[string]int{}}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: m.DialContext, Proxy: nil}}
	go func() {
		defer close(c.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			body, err := RouterGet(hc, host)
			c.mu.Lock()
			c.requests++
			if err != nil {
				c.failures = append(c.failures, time.Now().Format("15:04:05.000 ")+err.Error())
			} else {
				c.bodies[body]++
			}
			c.mu.Unlock()
			select {
			case <-c.halt:
				return
			case <-tick.C:
			}
		}
	}()
	return c
}

// RouterGet asks http://host/ through hc once; an answer other than 200 is
// an error.
func RouterGet(hc *http.Client, host string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1/", nil)
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("HTTP %d: %q", resp.StatusCode, b)
	}
	return string(b), err
}

// Stop ends the client and returns how many requests it sent, the
// failures (when, and why) and how often each answer came.
func (c *RouterClient) Stop() (requests int, failures []string, bodies map[string]int) {
	select {
	case <-c.halt:
	default:
		close(c.halt)
	}
	<-c.done
	return c.requests, c.failures, c.bodies
}

// Check stops the client and fails t when more than allowed requests
// failed; it logs the counts as a user would state them.
func (c *RouterClient) Check(t testing.TB, during string, allowed int) map[string]int {
	t.Helper()
	requests, failures, bodies := c.Stop()
	answers := make([]string, 0, len(bodies))
	for b, n := range bodies {
		answers = append(answers, fmt.Sprintf("%d× %q", n, strings.TrimSpace(b)))
	}
	sort.Strings(answers)
	t.Logf("router client during %s: %d requests, %d failed; answers %s", during, requests, len(failures), strings.Join(answers, ", "))
	if len(failures) > allowed {
		t.Errorf("%d of %d requests through the router failed during %s (allowed %d):\n%s", len(failures), requests, during, allowed, strings.Join(failures, "\n"))
	}
	return bodies
}

// StartRouter installs the router's unit as `nap-render router units`
// renders it for config (a path on h's machine) and starts it, as README
// tells an operator: on systemd enabled on h's machine; on fleet submitted
// and started through fleetctl, placed by metadata.
func (h *Host) StartRouter(config string, metadata ...string) {
	h.t.Helper()
	argv := []string{Bin, "router", "units", "--config", config}
	for _, m := range metadata {
		argv = append(argv, "--metadata", m)
	}
	out := h.Run("root", argv...)
	name, unitText, ok := strings.Cut(strings.TrimPrefix(out, "### "), "\n")
	if !ok || strings.Contains(unitText, "\n### ") {
		h.t.Fatalf("router units printed %q, want one unit", out)
	}
	if strings.Contains(unitText, "\n[X-Fleet]\n") {
		h.WriteFile("/root/"+name, []byte(unitText), "root", 0o644)
		h.Run("root", "fleetctl", "start", "--no-block", "/root/"+name)
		return
	}
	h.WriteFile("/etc/systemd/system/"+name, []byte(unitText), "root", 0o644)
	h.Run("root", "systemctl", "daemon-reload")
	h.Run("root", "systemctl", "enable", "--now", name)
}
