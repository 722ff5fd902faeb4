package etcd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Set writes key = value with no TTL: a value that stays until it is
// deleted (an app's config vars, as the machines fetch them).
func (c *Client) Set(ctx context.Context, key, value string) error {
	if c.V3 {
		if err := c.v3(ctx, "/v3/kv/put", map[string]any{"key": b64(key), "value": b64(value)}, nil); err != nil {
			return fmt.Errorf("etcd: %v", err)
		}
		return nil
	}
	return (&Key{c: c, Name: key}).v2(ctx, "PUT", url.Values{"value": {value}})
}

// Get reads key's value; ErrMissing when it is not there.
func (c *Client) Get(ctx context.Context, key string) (string, error) {
	if c.V3 {
		var r struct {
			Kvs []struct{ Value string } `json:"kvs"`
		}
		if err := c.v3(ctx, "/v3/kv/range", map[string]any{"key": b64(key)}, &r); err != nil {
			return "", fmt.Errorf("etcd: %v", err)
		}
		if len(r.Kvs) == 0 {
			return "", ErrMissing
		}
		v, err := base64.StdEncoding.DecodeString(r.Kvs[0].Value)
		return string(v), err
	}
	code, b, err := c.do(ctx, "GET", v2Path(key), "", nil)
	switch {
	case err != nil:
		return "", fmt.Errorf("etcd: %v", err)
	case code == http.StatusNotFound:
		return "", ErrMissing
	case code != http.StatusOK:
		return "", fmt.Errorf("etcd: GET %s: HTTP %d: %s", key, code, short(b))
	}
	var r struct{ Node struct{ Value string } }
	if err := json.Unmarshal(b, &r); err != nil {
		return "", fmt.Errorf("etcd: %v", err)
	}
	return r.Node.Value, nil
}
