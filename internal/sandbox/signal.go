package sandbox

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

var signalOnce sync.Once

// installSignalHandler makes SIGINT and SIGTERM (an interrupted go test)
// tear down every machine before the process dies of the signal.
func installSignalHandler() {
	signalOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			sig := <-ch
			machinesMu.Lock()
			var all []*Machine
			for m := range machines {
				all = append(all, m)
			}
			machinesMu.Unlock()
			for _, m := range all {
				m.teardown()
			}
			signal.Reset(syscall.SIGINT, syscall.SIGTERM)
			syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		}()
	})
}
