package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// deploy speaks HTTP to the registry and to etcd through curl, as it drives
// docker, systemctl and fleetctl through their commands. Go's net/http and
// crypto/tls would be linked into nap-render, whose every start (render,
// check, the pre-receive hook) would pay for them: 4.9 MB of binary and
// 0.12x of the seed's render time (BENCHMARKS.md, render, "what the
// start-up paid for"). curl brings TLS with the system's roots, proxies
// (HTTPS_PROXY), redirects (registries send blobs to their storage) and
// chunked replies; a deploy makes a handful of requests, for which a
// process each costs nothing next to a docker build.

// httpRequest is one request made with curl.
type httpRequest struct {
	Method  string
	URL     string
	Header  []string // "Name: value"
	Body    []byte   // sent as is when not nil
	Timeout time.Duration
	Limit   int64 // the most body bytes accepted
}

// curlStatusSep ends the body on curl's standard output; what follows is
// the status code (--write-out).
const curlStatusSep = "\n--nap-http-status:"

// do makes the request with curl (argv; default "curl" from PATH) and
// returns the final response's status code and body. A status is not an
// error; not reaching the server, a timeout and a body over the limit are.
func (r httpRequest) do(ctx context.Context, argv []string) (int, []byte, error) {
	if len(argv) == 0 {
		argv = []string{"curl"}
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return 0, nil, fmt.Errorf("%s is not installed (%v): deploy reads the registry and etcd with it", argv[0], err)
	}
	args := []string{
		"-q", // first: no ~/.curlrc
		"--silent", "--show-error", "--location",
		"--proto", "=http,https", "--proto-redir", "=http,https",
		"--max-time", strconv.FormatFloat(r.Timeout.Seconds(), 'f', 3, 64),
		"--max-filesize", strconv.FormatInt(r.Limit, 10),
		"--write-out", curlStatusSep + "%{http_code}",
	}
	if r.Method != "GET" {
		// not for GET: with --location, --request would also be used for
		// a redirect that asks for GET
		args = append(args, "--request", r.Method)
	}
	for _, h := range r.Header {
		args = append(args, "--header", h)
	}
	if r.Body != nil {
		args = append(args, "--data-binary", "@-")
	}
	args = append(args, "--url", r.URL)
	cmd := exec.CommandContext(ctx, argv[0], append(append([]string(nil), argv[1:]...), args...)...)
	cmd.WaitDelay = cmdWaitDelay
	if r.Body != nil {
		cmd.Stdin = bytes.NewReader(r.Body)
	}
	var out, errb bytes.Buffer
	stdout := &limitedBuffer{buf: &out, max: r.Limit + int64(len(curlStatusSep)) + 8}
	cmd.Stdout, cmd.Stderr = stdout, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		return 0, nil, fmt.Errorf("%s %s: %v", r.Method, r.URL, ctx.Err())
	}
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 63 {
			msg = fmt.Sprintf("reply larger than %d bytes", r.Limit)
		}
		if msg == "" {
			msg = err.Error()
		}
		return 0, nil, fmt.Errorf("%s %s: %s", r.Method, r.URL, strings.TrimPrefix(msg, "curl: "))
	}
	b := out.Bytes()
	i := bytes.LastIndex(b, []byte(curlStatusSep))
	if i < 0 || stdout.dropped {
		return 0, nil, fmt.Errorf("%s %s: reply larger than %d bytes", r.Method, r.URL, r.Limit)
	}
	code, err := strconv.Atoi(string(b[i+len(curlStatusSep):]))
	if err != nil || code == 0 {
		return 0, nil, fmt.Errorf("%s %s: no HTTP status in curl's output %q", r.Method, r.URL, b[i+len(curlStatusSep):])
	}
	return code, b[:i], nil
}

// limitedBuffer keeps at most max bytes and drops the rest, so a server
// that sends an endless chunked body cannot fill the memory.
type limitedBuffer struct {
	buf     *bytes.Buffer
	max     int64
	dropped bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	room := l.max - int64(l.buf.Len())
	if int64(len(p)) > room {
		l.dropped = true
		p = p[:max(room, 0)]
	}
	l.buf.Write(p)
	return n, nil
}
