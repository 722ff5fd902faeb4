package deploy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// etcdTimeout bounds each request to an etcd endpoint.
const etcdTimeout = 10 * time.Second

// Etcd reads and deletes announcements over etcd's HTTP API, with curl: v2
// keys, or v3's JSON gateway (etcd 3.4: /v3/kv/…), as the operator's
// discovery.etcd says.
type Etcd struct {
	Endpoints []string
	V3        bool
	// Curl is the curl command; default "curl" from PATH.
	Curl []string
}

// do tries each endpoint in turn.
func (e *Etcd) do(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	var lastErr error
	for _, ep := range e.Endpoints {
		req := httpRequest{Method: method, URL: strings.TrimRight(ep, "/") + path, Body: body, Timeout: etcdTimeout, Limit: 16 << 20}
		if body != nil {
			req.Header = []string{"Content-Type: application/json"}
		}
		code, b, err := req.do(ctx, e.Curl)
		if err != nil {
			lastErr = err
			continue
		}
		return b, code, nil
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("no etcd endpoint configured")
	}
	return nil, 0, lastErr
}

// List returns every key under prefix (a directory, no trailing slash) with
// its value.
func (e *Etcd) List(ctx context.Context, prefix string) (map[string]string, error) {
	out := map[string]string{}
	if e.V3 {
		b, err := e.range3(ctx, prefix+"/", "range")
		if err != nil {
			return nil, err
		}
		var r struct {
			Kvs []struct{ Key, Value string } `json:"kvs"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("etcd: %v", err)
		}
		for _, kv := range r.Kvs {
			k, _ := base64.StdEncoding.DecodeString(kv.Key)
			v, _ := base64.StdEncoding.DecodeString(kv.Value)
			out[string(k)] = string(v)
		}
		return out, nil
	}
	b, code, err := e.do(ctx, "GET", "/v2/keys"+escapeKey(prefix)+"?recursive=true", nil)
	if err != nil {
		return nil, fmt.Errorf("etcd: %v", err)
	}
	if code == 404 {
		return out, nil
	}
	if code != 200 {
		return nil, fmt.Errorf("etcd: GET %s: status %d: %s", prefix, code, bytes.TrimSpace(b))
	}
	type node struct {
		Key   string  `json:"key"`
		Value string  `json:"value"`
		Dir   bool    `json:"dir"`
		Nodes []*node `json:"nodes"`
	}
	var r struct{ Node node }
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("etcd: %v", err)
	}
	var walk func(n *node)
	walk = func(n *node) {
		if !n.Dir {
			out[n.Key] = n.Value
		}
		for _, c := range n.Nodes {
			walk(c)
		}
	}
	walk(&r.Node)
	return out, nil
}

// DeletePrefix deletes every key under prefix.
func (e *Etcd) DeletePrefix(ctx context.Context, prefix string) error {
	if e.V3 {
		_, err := e.range3(ctx, prefix+"/", "deleterange")
		return err
	}
	b, code, err := e.do(ctx, "DELETE", "/v2/keys"+escapeKey(prefix)+"?recursive=true", nil)
	if err != nil {
		return fmt.Errorf("etcd: %v", err)
	}
	if code != 200 && code != 404 {
		return fmt.Errorf("etcd: DELETE %s: status %d: %s", prefix, code, bytes.TrimSpace(b))
	}
	return nil
}

func (e *Etcd) range3(ctx context.Context, prefix, op string) ([]byte, error) {
	end := []byte(prefix)
	end[len(end)-1]++ // the range [prefix, prefix with its last byte + 1)
	body, _ := json.Marshal(map[string]string{
		"key":       base64.StdEncoding.EncodeToString([]byte(prefix)),
		"range_end": base64.StdEncoding.EncodeToString(end),
	})
	b, code, err := e.do(ctx, "POST", "/v3/kv/"+op, body)
	if err != nil {
		return nil, fmt.Errorf("etcd: %v", err)
	}
	if code != 200 {
		return nil, fmt.Errorf("etcd: %s %s: status %d: %s", op, prefix, code, bytes.TrimSpace(b))
	}
	return b, nil
}

func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// Announcement is the value the host announcer writes.
type Announcement struct {
	Host    string         `json:"host"`
	Port    int            `json:"port"`
	Ports   map[string]int `json:"ports"`
	Release string         `json:"release"`
}

// Endpoint is one announced instance.
type Endpoint struct {
	Key  string
	Addr string // host:port
	Rev  string
}

func parseEndpoints(kv map[string]string) []Endpoint {
	var out []Endpoint
	for k, v := range kv {
		var a Announcement
		if json.Unmarshal([]byte(v), &a) != nil || a.Host == "" {
			continue
		}
		out = append(out, Endpoint{Key: k, Addr: joinHostPort(a.Host, a.Port), Rev: a.Release})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func joinHostPort(h string, p int) string {
	if strings.Contains(h, ":") {
		return fmt.Sprintf("[%s]:%d", h, p)
	}
	return fmt.Sprintf("%s:%d", h, p)
}
