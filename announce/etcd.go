package announce

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
	"strconv"
	"strings"
	"time"
)

// requestTimeout bounds one request to one etcd endpoint.
const requestTimeout = 3 * time.Second

// etcd writes one key over etcd's HTTP API: v2's keys, or v3's JSON gateway
// (etcd 3.4: /v3/…) with one lease per announcement, kept alive.
type etcd struct {
	endpoints []string
	v3        bool
	key       string
	ttl       time.Duration
	client    *http.Client
	lease     string // v3: the lease the key was put with; "" none
}

// errMissing: a refresh found no key (or lease) to refresh.
var errMissing = errors.New("no such key or lease")

// do sends one request to each endpoint in turn until one answers. It
// returns the answer's status and body; err only when none answered.
func (e *etcd) do(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error) {
	var errs []error
	for _, ep := range e.endpoints {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		req, err := http.NewRequestWithContext(rctx, method, strings.TrimRight(ep, "/")+path, bytes.NewReader(body))
		if err != nil {
			cancel()
			return 0, nil, err
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := e.client.Do(req)
		if err != nil {
			cancel()
			errs = append(errs, err)
			continue
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return resp.StatusCode, b, nil
	}
	return 0, nil, errors.Join(errs...)
}

// v2path is the key's URL path, each segment escaped: a key is text, never
// URL syntax.
func (e *etcd) v2path() string {
	segs := strings.Split(strings.TrimPrefix(e.key, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/v2/keys/" + strings.Join(segs, "/")
}

func (e *etcd) ttlSeconds() int64 { return int64(e.ttl / time.Second) }

// put writes value with the TTL (v2) or under a live lease (v3).
func (e *etcd) put(ctx context.Context, value string) error {
	if !e.v3 {
		form := url.Values{"value": {value}, "ttl": {strconv.FormatInt(e.ttlSeconds(), 10)}}
		return e.v2(ctx, "PUT", form)
	}
	if e.lease == "" {
		var r struct{ ID string }
		if err := e.v3call(ctx, "/v3/lease/grant", map[string]any{"TTL": e.ttlSeconds()}, &r); err != nil {
			return err
		}
		if r.ID == "" {
			return fmt.Errorf("lease grant: no lease in the answer")
		}
		e.lease = r.ID
	}
	err := e.v3call(ctx, "/v3/kv/put", map[string]any{"key": b64(e.key), "value": b64(value), "lease": e.lease}, nil)
	if err != nil && strings.Contains(err.Error(), "requested lease not found") {
		e.lease = ""
		return e.put(ctx, value)
	}
	return err
}

// refresh renews the key's TTL: v2 writes value again with its TTL (as
// `etcdctl set --ttl` does); v3 keeps the lease alive, writing nothing.
// errMissing when the v3 lease expired.
func (e *etcd) refresh(ctx context.Context, value string) error {
	if !e.v3 {
		return e.put(ctx, value)
	}
	if e.lease == "" {
		return errMissing
	}
	var r struct {
		Result struct{ TTL string } `json:"result"`
	}
	if err := e.v3call(ctx, "/v3/lease/keepalive", map[string]any{"ID": e.lease}, &r); err != nil {
		return err
	}
	if r.Result.TTL == "" || r.Result.TTL == "0" {
		e.lease = ""
		return errMissing
	}
	return nil
}

// remove deletes the key (and revokes its lease): gone already is fine.
func (e *etcd) remove(ctx context.Context) error {
	if !e.v3 {
		err := e.v2(ctx, "DELETE", nil)
		if errors.Is(err, errMissing) {
			return nil
		}
		return err
	}
	if err := e.v3call(ctx, "/v3/kv/deleterange", map[string]any{"key": b64(e.key)}, nil); err != nil {
		return err
	}
	if e.lease != "" {
		e.v3call(ctx, "/v3/lease/revoke", map[string]any{"ID": e.lease}, nil)
		e.lease = ""
	}
	return nil
}

func (e *etcd) v2(ctx context.Context, method string, form url.Values) error {
	path, body, ct := e.v2path(), []byte(nil), ""
	if form != nil {
		body, ct = []byte(form.Encode()), "application/x-www-form-urlencoded"
	}
	code, b, err := e.do(ctx, method, path, ct, body)
	if err != nil {
		return err
	}
	switch {
	case code == http.StatusOK || code == http.StatusCreated:
		return nil
	case code == http.StatusNotFound:
		return errMissing
	}
	return fmt.Errorf("%s %s: HTTP %d: %s", method, path, code, short(b))
}

func (e *etcd) v3call(ctx context.Context, path string, req map[string]any, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	code, b, err := e.do(ctx, "POST", path, "application/json", body)
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

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// short shows an answer's body on one line, cut short.
func short(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
