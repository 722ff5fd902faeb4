package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRegistryGet runs the registry client's requests against a loopback
// server: headers, redirects, statuses, limits and timeouts.
func TestRegistryGet(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s accept=%q", r.Method, r.URL.RequestURI(), r.Header.Values("Accept"))
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such thing", http.StatusNotFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo?from=moved", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(maxManifest+1))
		w.Write(make([]byte, maxManifest+1))
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < maxManifest/1024+2; i++ { // chunked: no length known up front
			if _, err := w.Write(make([]byte, 1024)); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	reg := &Client{Host: host}

	for _, tc := range []struct {
		name, path string
		accept     []string
		code       int
		body       string
		wantErr    string
	}{
		{"get", "/echo", nil, 200, `GET /echo accept=[]`, ""},
		{"accept headers", "/echo", []string{"one", "two"}, 200, `GET /echo accept=["one" "two"]`, ""},
		{"status is not an error", "/missing", nil, 404, "no such thing\n", ""},
		{"redirect followed", "/moved", nil, 200, `GET /echo?from=moved accept=[]`, ""},
		{"over the limit, length known", "/big", nil, 0, "", "larger than"},
		{"over the limit, chunked", "/endless", nil, 0, "", "larger than"},
	} {
		code, body, err := reg.get(context.Background(), tc.path, tc.accept...)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %d, err %v; want an error containing %q", tc.name, code, err, tc.wantErr)
			}
			continue
		}
		if err != nil || code != tc.code || string(body) != tc.body {
			t.Errorf("%s: %d %q, %v; want %d %q", tc.name, code, body, err, tc.code, tc.body)
		}
	}
	if _, err := reg.getOK(context.Background(), "/missing"); err == nil || !strings.Contains(err.Error(), "GET "+srv.URL+"/missing: HTTP 404") {
		t.Errorf("getOK of a missing path: %v", err)
	}
	if err := (&Client{Host: "127.0.0.1:1"}).Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("Ping of nothing listening: %v", err)
	}
	if err := reg.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("Ping of a server without /v2/: %v", err)
	}
}

func TestRegistryScheme(t *testing.T) {
	for host, want := range map[string]string{
		"127.0.0.1:5000":           "http",
		"127.0.0.1":                "http",
		"127.8.0.1:5000/nap":       "http",
		"localhost:5000":           "http",
		"localhost":                "http",
		"[::1]:5000":               "http",
		"::1":                      "http",
		"10.0.0.1:5000":            "https",
		"registry.example.com":     "https",
		"registry.example.com:443": "https",
		"localhost.example.com":    "https",
		"[2001:db8::1]:5000":       "https",
	} {
		if got, _, _ := (&Client{Host: host}).base(); got != want {
			t.Errorf("%s: scheme %s, want %s", host, got, want)
		}
	}
	if got, _, _ := (&Client{Host: "127.0.0.1:5000", Scheme: "https"}).base(); got != "https" {
		t.Errorf("an explicit scheme is kept: got %s", got)
	}
}
