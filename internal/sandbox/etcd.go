package sandbox

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
	"sort"
	"strconv"
	"strings"
	"time"
)

// Etcd is a small etcd client for assertions, speaking etcd's own HTTP APIs
// (v2 keys API; v3 through its JSON gateway) from inside a machine's
// network namespace.
type Etcd struct {
	m        *Machine
	endpoint string // http://host:port
	v2       bool
}

// KV is one key of etcd.
type KV struct {
	Key, Value string
	// TTL is the time to live left in seconds (0: none). v3: the TTL of
	// the key's lease.
	TTL int64
}

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("etcd: key not found")

// Etcd returns a client for the machine's own etcd (127.0.0.1:2379),
// speaking v2 if the machine enabled it, v3 otherwise.
func (m *Machine) Etcd() *Etcd {
	return &Etcd{m: m, endpoint: "http://127.0.0.1:2379", v2: m.opts.EtcdV2}
}

// EtcdAt returns a client for the etcd at endpoint (e.g.
// "http://10.213.0.2:2379"), reached from this machine, speaking v3.
func (m *Machine) EtcdAt(endpoint string) *Etcd {
	return &Etcd{m: m, endpoint: strings.TrimSuffix(endpoint, "/")}
}

// V2 returns the client speaking etcd's v2 API.
func (e *Etcd) V2() *Etcd { c := *e; c.v2 = true; return &c }

// V3 returns the client speaking etcd's v3 API.
func (e *Etcd) V3() *Etcd { c := *e; c.v2 = false; return &c }

// Get returns key, or ErrNotFound.
func (e *Etcd) Get(ctx context.Context, key string) (KV, error) {
	if e.v2 {
		var r v2Response
		if err := e.v2Do(ctx, http.MethodGet, key, nil, nil, &r); err != nil {
			return KV{}, err
		}
		return KV{Key: r.Node.Key, Value: r.Node.Value, TTL: r.Node.TTL}, nil
	}
	kvs, err := e.v3Range(ctx, key, "")
	if err != nil {
		return KV{}, err
	}
	if len(kvs) == 0 {
		return KV{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return kvs[0], nil
}

// List returns every key below prefix (v2: below the directory prefix,
// recursively; v3: every key starting with prefix), sorted by key.
func (e *Etcd) List(ctx context.Context, prefix string) ([]KV, error) {
	if e.v2 {
		var r v2Response
		err := e.v2Do(ctx, http.MethodGet, prefix, url.Values{"recursive": {"true"}}, nil, &r)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var kvs []KV
		var walk func(n v2Node)
		walk = func(n v2Node) {
			if !n.Dir {
				kvs = append(kvs, KV{Key: n.Key, Value: n.Value, TTL: n.TTL})
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		}
		walk(r.Node)
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
		return kvs, nil
	}
	return e.v3Range(ctx, prefix, prefixEnd(prefix))
}

// Put sets key to value; ttl > 0 makes it expire (v3: with a lease).
func (e *Etcd) Put(ctx context.Context, key, value string, ttl time.Duration) error {
	if e.v2 {
		form := url.Values{"value": {value}}
		if ttl > 0 {
			form.Set("ttl", strconv.FormatInt(int64(ttl/time.Second), 10))
		}
		return e.v2Do(ctx, http.MethodPut, key, nil, form, nil)
	}
	req := map[string]any{"key": b64(key), "value": b64(value)}
	if ttl > 0 {
		var lease struct {
			ID string `json:"ID"`
		}
		if err := e.v3Post(ctx, "/v3/lease/grant", map[string]any{"TTL": int64(ttl / time.Second)}, &lease); err != nil {
			return err
		}
		req["lease"] = lease.ID
	}
	return e.v3Post(ctx, "/v3/kv/put", req, nil)
}

// Delete removes key; a missing key is not an error.
func (e *Etcd) Delete(ctx context.Context, key string) error {
	if e.v2 {
		err := e.v2Do(ctx, http.MethodDelete, key, nil, nil, nil)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return e.v3Post(ctx, "/v3/kv/deleterange", map[string]any{"key": b64(key)}, nil)
}

// WaitFor polls key until cond holds for it (found reports whether the key
// exists) or ctx ends; it returns the last value seen.
func (e *Etcd) WaitFor(ctx context.Context, key string, cond func(kv KV, found bool) bool) (KV, error) {
	for {
		kv, err := e.Get(ctx, key)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			if ctx.Err() != nil {
				return kv, err
			}
		} else if cond(kv, found) {
			return kv, nil
		}
		select {
		case <-ctx.Done():
			return kv, fmt.Errorf("etcd: waiting for %s (found=%v, value %q): %w", key, found, kv.Value, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type v2Node struct {
	Key   string   `json:"key"`
	Value string   `json:"value"`
	Dir   bool     `json:"dir"`
	TTL   int64    `json:"ttl"`
	Nodes []v2Node `json:"nodes"`
}

type v2Response struct {
	Node      v2Node `json:"node"`
	ErrorCode int    `json:"errorCode"`
	Message   string `json:"message"`
	Cause     string `json:"cause"`
}

func (e *Etcd) v2Do(ctx context.Context, method, path string, query, form url.Values, out *v2Response) error {
	u := e.endpoint + "/v2/keys" + (&url.URL{Path: "/" + strings.TrimPrefix(path, "/")}).EscapedPath()
	if query != nil {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := e.m.HTTPClient().Do(req)
	if err != nil {
		return fmt.Errorf("etcd v2 %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r v2Response
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("etcd v2 %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if r.ErrorCode == 100 {
		return fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if r.ErrorCode != 0 || resp.StatusCode >= 300 {
		return fmt.Errorf("etcd v2 %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		*out = r
	}
	return nil
}

func (e *Etcd) v3Post(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.m.HTTPClient().Do(req)
	if err != nil {
		return fmt.Errorf("etcd v3 %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd v3 %s: %d %s", path, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

func (e *Etcd) v3Range(ctx context.Context, key, rangeEnd string) ([]KV, error) {
	req := map[string]any{"key": b64(key)}
	if rangeEnd != "" {
		req["range_end"] = b64(rangeEnd)
	}
	var r struct {
		Kvs []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
			Lease string `json:"lease"`
		} `json:"kvs"`
	}
	if err := e.v3Post(ctx, "/v3/kv/range", req, &r); err != nil {
		return nil, err
	}
	var kvs []KV
	for _, kv := range r.Kvs {
		k, err1 := base64.StdEncoding.DecodeString(kv.Key)
		v, err2 := base64.StdEncoding.DecodeString(kv.Value)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("etcd v3 range: %w", err)
		}
		item := KV{Key: string(k), Value: string(v)}
		if kv.Lease != "" && kv.Lease != "0" {
			var ttl struct {
				TTL string `json:"TTL"`
			}
			if err := e.v3Post(ctx, "/v3/lease/timetolive", map[string]any{"ID": kv.Lease}, &ttl); err == nil {
				item.TTL, _ = strconv.ParseInt(ttl.TTL, 10, 64)
			}
		}
		kvs = append(kvs, item)
	}
	return kvs, nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// prefixEnd is the v3 range end covering every key that starts with p.
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00" // every key
}
