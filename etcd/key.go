package etcd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Key is one key kept alive: written with a TTL (v2) or under a lease of
// its own (v3), refreshed before the TTL ends, deleted when done.
type Key struct {
	c     *Client
	Name  string
	TTL   time.Duration // whole seconds
	lease string        // v3: the lease the key was put with; "" none
}

// Key returns name as a key of c kept alive with ttl.
func (c *Client) Key(name string, ttl time.Duration) *Key { return &Key{c: c, Name: name, TTL: ttl} }

func (k *Key) ttlSeconds() int64 { return int64(k.TTL / time.Second) }

// Put writes value with the TTL (v2) or under a live lease (v3, granted
// when there is none or it was lost).
func (k *Key) Put(ctx context.Context, value string) error {
	if !k.c.V3 {
		return k.v2(ctx, "PUT", url.Values{"value": {value}, "ttl": {strconv.FormatInt(k.ttlSeconds(), 10)}})
	}
	if k.lease == "" {
		var r struct{ ID string }
		if err := k.c.v3(ctx, "/v3/lease/grant", map[string]any{"TTL": k.ttlSeconds()}, &r); err != nil {
			return err
		}
		if r.ID == "" {
			return fmt.Errorf("lease grant: no lease in the answer")
		}
		k.lease = r.ID
	}
	err := k.c.v3(ctx, "/v3/kv/put", map[string]any{"key": b64(k.Name), "value": b64(value), "lease": k.lease}, nil)
	if err != nil && strings.Contains(err.Error(), "requested lease not found") {
		k.lease = ""
		return k.Put(ctx, value)
	}
	return err
}

// Refresh renews the TTL: v2 writes value again with its TTL (as `etcdctl
// set --ttl` does); v3 keeps the lease alive, writing nothing. ErrMissing
// when v3's lease expired (Put grants a new one).
func (k *Key) Refresh(ctx context.Context, value string) error {
	if !k.c.V3 {
		return k.Put(ctx, value)
	}
	if k.lease == "" {
		return ErrMissing
	}
	var r struct {
		Result struct{ TTL string } `json:"result"`
	}
	if err := k.c.v3(ctx, "/v3/lease/keepalive", map[string]any{"ID": k.lease}, &r); err != nil {
		return err
	}
	if r.Result.TTL == "" || r.Result.TTL == "0" {
		k.lease = ""
		return ErrMissing
	}
	return nil
}

// Delete deletes the key (and revokes its lease): gone already is done.
func (k *Key) Delete(ctx context.Context) error {
	if !k.c.V3 {
		err := k.v2(ctx, "DELETE", nil)
		if errors.Is(err, ErrMissing) {
			return nil
		}
		return err
	}
	if err := k.c.v3(ctx, "/v3/kv/deleterange", map[string]any{"key": b64(k.Name)}, nil); err != nil {
		return err
	}
	if k.lease != "" {
		k.c.v3(ctx, "/v3/lease/revoke", map[string]any{"ID": k.lease}, nil)
		k.lease = ""
	}
	return nil
}

func (k *Key) v2(ctx context.Context, method string, form url.Values) error {
	path, body, ct := v2Path(k.Name), []byte(nil), ""
	if form != nil {
		body, ct = []byte(form.Encode()), "application/x-www-form-urlencoded"
	}
	code, b, err := k.c.do(ctx, method, path, ct, body)
	if err != nil {
		return err
	}
	switch {
	case code == http.StatusOK || code == http.StatusCreated:
		return nil
	case code == http.StatusNotFound:
		return ErrMissing
	}
	return fmt.Errorf("%s %s: HTTP %d: %s", method, path, code, short(b))
}
