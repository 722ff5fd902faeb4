// Command worker is nap's example of an app with two processes from one
// image: "web" serves HTTP on $PORT; "worker" (run with -worker, see
// nap.yaml) does background work and publishes no port.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	worker := flag.Bool("worker", false, "run the background worker instead of the web server")
	every := flag.Duration("every", 5*time.Second, "worker: time between jobs")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *worker {
		work(ctx, *every)
		return
	}
	serve(ctx)
}

// work runs a job every tick until SIGTERM, then returns (exit 0).
func work(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			log.Print("worker stopped")
			return
		case <-tick.C:
			log.Printf("worker %s: job %d done", os.Getenv("NAP_INSTANCE"), n)
		}
	}
}

func serve(ctx context.Context) {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "web %s: request %d\n", os.Getenv("NAP_RELEASE"), hits.Add(1))
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Fatal(err)
	}
}
