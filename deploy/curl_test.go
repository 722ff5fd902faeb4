package deploy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/sandbox"
)

// TestCurl runs the real curl against a loopback server.
func TestCurl(t *testing.T) {
	sandbox.Tool(t, "curl")
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s accept=%q type=%q body=%q", r.Method, r.URL.RequestURI(), r.Header.Values("Accept"), r.Header.Get("Content-Type"), b)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such thing", http.StatusNotFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo?from=moved", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/lookalike", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a"+curlStatusSep+"500\nb")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2048")
		w.Write(make([]byte, 2048))
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 64; i++ { // chunked: no length known up front
			w.Write(make([]byte, 1024))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path string) httpRequest {
		return httpRequest{Method: "GET", URL: srv.URL + path, Timeout: 5 * time.Second, Limit: 1024}
	}
	post := get("/echo?x=1")
	post.Method, post.Body, post.Header = "POST", []byte(`{"key":"a"}`), []string{"Content-Type: application/json"}
	accept := get("/echo")
	accept.Header = []string{"Accept: one", "Accept: two"}
	slow := get("/slow")
	slow.Timeout = 300 * time.Millisecond

	for _, tc := range []struct {
		name    string
		req     httpRequest
		code    int
		body    string
		wantErr string
	}{
		{"get", get("/echo"), 200, `GET /echo accept=["*/*"] type="" body=""`, ""},
		{"headers", accept, 200, `GET /echo accept=["one" "two"] type="" body=""`, ""},
		{"post body", post, 200, `POST /echo?x=1 accept=["*/*"] type="application/json" body="{\"key\":\"a\"}"`, ""},
		{"status is not an error", get("/missing"), 404, "no such thing\n", ""},
		{"redirect followed", get("/moved"), 200, `GET /echo?from=moved accept=["*/*"] type="" body=""`, ""},
		{"body holding the separator", get("/lookalike"), 200, "a" + curlStatusSep + "500\nb", ""},
		{"over the limit, length known", get("/big"), 0, "", "larger than 1024 bytes"},
		{"over the limit, chunked", get("/endless"), 0, "", "larger than 1024 bytes"},
		{"timeout", slow, 0, "", "GET " + srv.URL + "/slow"},
		{"nothing listening", httpRequest{Method: "GET", URL: "http://127.0.0.1:1/", Timeout: 5 * time.Second, Limit: 10}, 0, "", "127.0.0.1"},
		{"not http", httpRequest{Method: "GET", URL: "file:///etc/passwd", Timeout: 5 * time.Second, Limit: 1 << 20}, 0, "", "file"},
	} {
		code, body, err := tc.req.do(context.Background(), nil)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %d %q, err %v; want an error containing %q", tc.name, code, body, err, tc.wantErr)
			}
			continue
		}
		if err != nil || code != tc.code || string(body) != tc.body {
			t.Errorf("%s: %d %q, %v; want %d %q", tc.name, code, body, err, tc.code, tc.body)
		}
	}

	if _, _, err := get("/echo").do(context.Background(), []string{"/nonexistent/curl"}); err == nil || !strings.Contains(err.Error(), "/nonexistent/curl is not installed") {
		t.Errorf("a missing curl: %v", err)
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
		if got, _, _ := (&Registry{Host: host}).base(); got != want {
			t.Errorf("%s: scheme %s, want %s", host, got, want)
		}
	}
	if got, _, _ := (&Registry{Host: "127.0.0.1:5000", Scheme: "https"}).base(); got != "https" {
		t.Errorf("an explicit scheme is kept: got %s", got)
	}
}
