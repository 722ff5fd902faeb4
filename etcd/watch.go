package etcd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// watchRetry is how long Watch waits after a failed request.
const watchRetry = time.Second

// Watch calls changed whenever something under dir (no trailing slash) may
// have changed, until ctx ends, then returns ctx's error. It uses etcd's
// watch — v2's wait=true from the index after the last one seen, v3's
// streaming /v3/watch on the prefix — never a poll. changed is called once
// as soon as the watch is in place (a List after that call misses no
// change), and again after every failure, since events may have been
// missed while etcd did not answer: the caller re-reads what it needs.
func (c *Client) Watch(ctx context.Context, dir string, changed func()) error {
	if len(c.Endpoints) == 0 {
		return fmt.Errorf("no etcd endpoint configured")
	}
	for i := 0; ctx.Err() == nil; i = (i + 1) % len(c.Endpoints) {
		// A watch ends only by failing: the next endpoint (or the same
		// again) after a pause, the caller told to re-read.
		if c.V3 {
			c.watchV3(ctx, c.Endpoints[i], dir, changed)
		} else {
			c.watchV2(ctx, c.Endpoints[i], dir, changed)
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(watchRetry):
		}
	}
	return ctx.Err()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// watchV2 reads the current index, tells the caller, then waits for each
// next event from the index after the last one seen.
func (c *Client) watchV2(ctx context.Context, ep, dir string, changed func()) error {
	base := strings.TrimRight(ep, "/") + v2Path(dir)
	get := func(query string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", base+query, nil)
		if err != nil {
			return nil, err
		}
		return c.httpClient().Do(req)
	}
	resp, err := get("")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxReply))
	resp.Body.Close()
	index, err := strconv.ParseUint(resp.Header.Get("X-Etcd-Index"), 10, 64)
	if err != nil {
		return fmt.Errorf("etcd: no X-Etcd-Index from %s", ep)
	}
	changed()
	for {
		resp, err := get("?wait=true&recursive=true&waitIndex=" + strconv.FormatUint(index+1, 10))
		if err != nil {
			return err
		}
		var ev struct {
			ErrorCode int `json:"errorCode"`
			Node      struct {
				ModifiedIndex uint64 `json:"modifiedIndex"`
			} `json:"node"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, maxReply)).Decode(&ev)
		resp.Body.Close()
		switch {
		case err != nil:
			return err
		case ev.ErrorCode != 0:
			// 401: the index was cleared from etcd's event history; start
			// again from now (and the caller re-reads).
			changed()
			return fmt.Errorf("etcd: watch %s: error %d", dir, ev.ErrorCode)
		}
		if ev.Node.ModifiedIndex > index {
			index = ev.Node.ModifiedIndex
		}
		changed()
	}
}

// watchV3 opens the gateway's watch stream on dir's prefix and reads its
// messages: the creation, then events.
func (c *Client) watchV3(ctx context.Context, ep, dir string, changed func()) error {
	r := prefixRange(dir + "/")
	body, _ := json.Marshal(map[string]any{"create_request": r})
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(ep, "/")+"/v3/watch", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("etcd: POST /v3/watch: HTTP %d: %s", resp.StatusCode, short(b))
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Result struct {
				Created  bool              `json:"created"`
				Canceled bool              `json:"canceled"`
				Events   []json.RawMessage `json:"events"`
			} `json:"result"`
			Error *json.RawMessage `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			return err
		}
		switch {
		case msg.Error != nil || msg.Result.Canceled:
			changed()
			return fmt.Errorf("etcd: watch %s ended", dir)
		case msg.Result.Created || len(msg.Result.Events) > 0:
			changed()
		}
	}
}
