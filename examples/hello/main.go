// Command hello is nap's example app: an HTTP server on $PORT that answers
// with the release it runs (NAP_RELEASE) and stops cleanly on SIGTERM.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(oneOff(os.Args[1:]))
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	release := os.Getenv("NAP_RELEASE")
	instance := os.Getenv("NAP_INSTANCE")

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s (instance %s)\n", release, instance)
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	// docker stop sends SIGTERM: finish the requests in flight and exit 0,
	// so that a stop is never mistaken for a crash.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("hello %s listening on :%s", release, port)

	select {
	case err := <-errc:
		log.Fatal(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Fatal(err)
	}
	log.Print("stopped")
}

// oneOff is the app's one-off command (nap-render run hello -- /hello
// exit N [VAR…]): it prints the release and each VAR's value, copies stdin
// to stdout, and exits with N.
func oneOff(args []string) int {
	if len(args) < 2 || args[0] != "exit" {
		fmt.Fprintln(os.Stderr, "usage: hello [exit N [VAR…]]")
		return 2
	}
	code, err := strconv.Atoi(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello: exit N: N is a number")
		return 2
	}
	fmt.Printf("release %s\n", os.Getenv("NAP_RELEASE"))
	for _, v := range args[2:] {
		fmt.Printf("%s=%s\n", v, os.Getenv(v))
	}
	io.Copy(os.Stdout, os.Stdin)
	return code
}
