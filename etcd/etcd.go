// Package etcd is nap's client of etcd's HTTP APIs: v2's keys, or v3's
// JSON gateway (etcd 3.4: /v3/…), as the operator's discovery.etcd says.
// It does what nap needs and nothing more: list and delete the keys under
// a prefix, keep one key alive with a TTL (v2) or a lease (v3), and watch
// a prefix for changes.
//
// Endpoints are tried in turn until one answers; an HTTP status is an
// answer. Keys are text, never URL syntax: every segment is escaped.
package etcd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one etcd cluster.
type Client struct {
	Endpoints []string // client URLs, tried in turn
	V3        bool     // the v3 JSON gateway, else v2's keys
	// Timeout bounds one request to one endpoint; default 3 s.
	Timeout time.Duration
	// HTTP is the client requests go through; nil: http.DefaultClient.
	HTTP *http.Client
}

// maxReply bounds what is read of one answer.
const maxReply = 16 << 20

// ErrMissing: the key (or its v3 lease) is not there.
var ErrMissing = errors.New("no such key or lease")

// do sends one request to each endpoint in turn until one answers, and
// returns the answer's status and body; err only when none answered.
func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error) {
	if len(c.Endpoints) == 0 {
		return 0, nil, errors.New("no etcd endpoint configured")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	var errs []error
	for _, ep := range c.Endpoints {
		code, b, err := func() (int, []byte, error) {
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(rctx, method, strings.TrimRight(ep, "/")+path, bytes.NewReader(body))
			if err != nil {
				return 0, nil, err
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			resp, err := hc.Do(req)
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
			if err == nil && len(b) > maxReply {
				err = fmt.Errorf("%s %s: reply larger than %d bytes", method, req.URL.Redacted(), maxReply)
			}
			return resp.StatusCode, b, err
		}()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return code, b, nil
	}
	return 0, nil, errors.Join(errs...)
}

// v2Path is key's URL path under /v2/keys, each segment escaped.
func v2Path(key string) string {
	segs := strings.Split(strings.TrimPrefix(key, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/v2/keys/" + strings.Join(segs, "/")
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// v3 posts req as JSON to path and decodes the answer into out (nil: none).
func (c *Client) v3(ctx context.Context, path string, req map[string]any, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	code, b, err := c.do(ctx, "POST", path, "application/json", body)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("POST %s: HTTP %d: %s", path, code, short(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// List returns every key under dir (no trailing slash) with its value.
func (c *Client) List(ctx context.Context, dir string) (map[string]string, error) {
	out := map[string]string{}
	if c.V3 {
		var r struct {
			Kvs []struct{ Key, Value string } `json:"kvs"`
		}
		if err := c.v3(ctx, "/v3/kv/range", prefixRange(dir+"/"), &r); err != nil {
			return nil, fmt.Errorf("etcd: %v", err)
		}
		for _, kv := range r.Kvs {
			k, _ := base64.StdEncoding.DecodeString(kv.Key)
			v, _ := base64.StdEncoding.DecodeString(kv.Value)
			out[string(k)] = string(v)
		}
		return out, nil
	}
	code, b, err := c.do(ctx, "GET", v2Path(dir)+"?recursive=true", "", nil)
	if err != nil {
		return nil, fmt.Errorf("etcd: %v", err)
	}
	if code == http.StatusNotFound {
		return out, nil
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("etcd: GET %s: HTTP %d: %s", dir, code, short(b))
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

// DeleteDir deletes every key under dir (no trailing slash).
func (c *Client) DeleteDir(ctx context.Context, dir string) error {
	if c.V3 {
		if err := c.v3(ctx, "/v3/kv/deleterange", prefixRange(dir+"/"), nil); err != nil {
			return fmt.Errorf("etcd: %v", err)
		}
		return nil
	}
	code, b, err := c.do(ctx, "DELETE", v2Path(dir)+"?recursive=true", "", nil)
	if err != nil {
		return fmt.Errorf("etcd: %v", err)
	}
	if code != http.StatusOK && code != http.StatusNotFound {
		return fmt.Errorf("etcd: DELETE %s: HTTP %d: %s", dir, code, short(b))
	}
	return nil
}

// prefixRange is v3's range of every key beginning with prefix:
// [prefix, prefix with its last byte + 1).
func prefixRange(prefix string) map[string]any {
	end := []byte(prefix)
	end[len(end)-1]++
	return map[string]any{"key": b64(prefix), "range_end": base64.StdEncoding.EncodeToString(end)}
}

// short shows an answer's body on one line, cut short.
func short(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
