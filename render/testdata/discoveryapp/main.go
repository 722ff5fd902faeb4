// Command discoveryapp is the app the discovery tests run in a FROM scratch
// image: it listens on LISTEN_PORTS only after LISTEN_AFTER, reports itself
// healthy (for "discoveryapp -check", a HEALTHCHECK without a shell) only
// after HEALTHY_AFTER, closes its ports 2 s after a SIGUSR1 (later than
// docker's "kill" event, which wakes the announcer) and goes on running,
// and prints when each happened.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const healthyFile = "/healthy"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-check" {
		if _, err := os.Stat(healthyFile); err != nil {
			os.Exit(1)
		}
		return
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-stop; os.Exit(0) }()

	time.Sleep(duration("LISTEN_AFTER"))
	var lns []net.Listener
	for _, p := range strings.Fields(os.Getenv("LISTEN_PORTS")) {
		ln, err := net.Listen("tcp", ":"+p)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		lns = append(lns, ln)
		go serve(ln)
	}
	event("listening")
	closePorts := make(chan os.Signal, 1)
	signal.Notify(closePorts, syscall.SIGUSR1)
	go func() {
		<-closePorts
		time.Sleep(2 * time.Second)
		for _, ln := range lns {
			ln.Close()
		}
		event("closed")
	}()
	if d := os.Getenv("HEALTHY_AFTER"); d != "" {
		time.Sleep(duration("HEALTHY_AFTER"))
		if err := os.WriteFile(healthyFile, nil, 0o644); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		event("healthy")
	}
	select {}
}

func event(what string) { fmt.Println(what, time.Now().UTC().Format(time.RFC3339Nano)) }

func duration(name string) time.Duration {
	d, err := time.ParseDuration(os.Getenv(name))
	if err != nil && os.Getenv(name) != "" {
		fmt.Println(name, err)
		os.Exit(1)
	}
	return d
}

func serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("ok\n"))
		c.Close()
	}
}
