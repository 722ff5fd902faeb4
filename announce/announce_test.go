package announce

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

func TestValue(t *testing.T) {
	a := &announcer{c: Config{Host: `h"o\s t`, Primary: "8080/tcp", Ports: []string{"8080/tcp", "9090/udp", "10000/tcp"}, Release: "0123"}}
	got := a.value(&container{Ports: map[string]string{"8080/tcp": "32768", "9090/udp": "32769"}})
	const want = `{"host":"h\"o\\s t","port":32768,"ports":{"8080/tcp":32768,"9090/udp":32769,"10000/tcp":null},"release":"0123"}`
	if got != want {
		t.Errorf("value\n got %s\nwant %s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil || v["host"] != `h"o\s t` {
		t.Errorf("not the JSON meant: %v %v", v, err)
	}
}

func TestReady(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	_, closedPort, _ := net.SplitHostPort(closed.Addr().String())
	closed.Close()
	running := func(health string) *container {
		return &container{Running: true, Health: health, IP: "127.0.0.1", Ports: map[string]string{port + "/tcp": "40000"}}
	}
	for _, tc := range []struct {
		name, probe, primary string
		c                    *container
		waiting              string // "" = ready
	}{
		{"no container", "tcp", port + "/tcp", nil, "waiting for container c"},
		{"not running", "tcp", port + "/tcp", &container{Ports: map[string]string{}}, "waiting for container c to run with its ports published"},
		{"port not published", "tcp", closedPort + "/tcp", running(""), "waiting for container c to run with its ports published"},
		{"listening", "tcp", port + "/tcp", running(""), ""},
		{"starting health", "health", port + "/tcp", running("starting"), "waiting for container c to be healthy (starting)"},
		{"healthy", "health", port + "/tcp", running("healthy"), ""},
		{"no probe", "none", port + "/tcp", running(""), ""},
	} {
		a := &announcer{c: Config{Container: "c", Primary: tc.primary, Ports: []string{tc.primary}, Probe: tc.probe}}
		value, waiting := a.ready(tc.c)
		if waiting != tc.waiting || (waiting == "") != (value != "") {
			t.Errorf("%s: ready = %q, %q; want waiting %q", tc.name, value, waiting, tc.waiting)
		}
	}
	// Published, but the app does not accept: it is not announced.
	a := &announcer{c: Config{Container: "c", Primary: closedPort + "/tcp", Ports: []string{closedPort + "/tcp"}, Probe: "tcp"}}
	c := &container{Running: true, IP: "127.0.0.1", Ports: map[string]string{closedPort + "/tcp": "40001"}}
	if _, waiting := a.ready(c); !strings.HasPrefix(waiting, "waiting for container c to accept TCP on 127.0.0.1:") {
		t.Errorf("closed port: %q", waiting)
	}
}

// Every announcer of a host wakes on the same instants: polls on the
// period's grid, at most a period away; deadlines moved up to the next
// quarter second, never earlier.
func TestGrid(t *testing.T) {
	base := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, off := range []time.Duration{0, time.Millisecond, 249 * time.Millisecond, 250 * time.Millisecond, 999 * time.Millisecond} {
		now := base.Add(off)
		for _, period := range []time.Duration{notReadyPoll, answerPoll} {
			got := tick(now, period)
			if !got.After(now) || got.Sub(now) > period || !got.Truncate(period).Equal(got) {
				t.Errorf("tick(%v, %v) = %v", off, period, got.Sub(base))
			}
		}
		g := onGrid(now)
		if g.Before(now) || g.Sub(now) >= notReadyPoll || !g.Truncate(notReadyPoll).Equal(g) {
			t.Errorf("onGrid(%v) = %v", off, g.Sub(base))
		}
	}
}

func TestProbeTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if !probeTCP("127.0.0.1", port, time.Second) {
		t.Errorf("a listening port does not answer")
	}
	ln.Close()
	if probeTCP("127.0.0.1", port, time.Second) {
		t.Errorf("a closed port answers")
	}
	if probeTCP("not an address", port, time.Second) {
		t.Errorf("a bad address answers")
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	for n := 1; n <= 1000; n++ {
		w := 4 * time.Second
		if n <= len(want) {
			w = want[n-1]
		}
		if got := backoff(n); got != w {
			t.Fatalf("backoff(%d) = %v, want %v", n, got, w)
		}
	}
}
