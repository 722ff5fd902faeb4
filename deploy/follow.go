package deploy

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"time"
)

// follower streams a unit's journal to the pusher as "-----> " lines while
// the unit runs.
type follower struct {
	name   string
	stop   context.CancelFunc
	done   chan struct{} // closed when every line read has been printed
	notify chan struct{} // a line was printed (for finish)
	wake   chan struct{} // a line was printed (for wait)

	mu     sync.Mutex
	recent [followRecent]string // the last lines printed, a ring
	n      int                  // lines printed
}

// followRecent is how many printed lines finish can look back on.
const followRecent = 256

// The bounds of finish: how long the journal may stay quiet once its last
// entry has been printed (or, if it could not be read, at all), and how long
// finish waits in all.
const (
	followSettle   = 100 * time.Millisecond
	followQuiet    = 500 * time.Millisecond
	followMaxFlush = 5 * time.Second
)

func startFollow(ctx context.Context, drv Driver, name string, out io.Writer) *follower {
	fctx, stop := context.WithCancel(ctx)
	f := &follower{name: name, stop: stop, done: make(chan struct{}), notify: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			Say(out, "%s", sc.Text())
			f.mu.Lock()
			f.recent[f.n%followRecent] = sc.Text()
			f.n++
			f.mu.Unlock()
			for _, c := range []chan struct{}{f.notify, f.wake} {
				select {
				case c <- struct{}{}:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
		close(f.done)
	}()
	go func() {
		drv.Follow(fctx, name, pw)
		pw.Close()
	}()
	return f
}

// followMinCheck is the shortest wait: a build printing many lines does not
// make its state be asked for more often than this.
const followMinCheck = 100 * time.Millisecond

// wait returns after d, or earlier once the unit has printed a line and
// followMinCheck has passed: a unit's last line (systemd's "Finished …") comes
// as it ends, so its state is asked for at once rather than up to a poll
// later.
func (f *follower) wait(ctx context.Context, d time.Duration) error {
	poll := time.NewTimer(d)
	defer poll.Stop()
	least := time.NewTimer(min(followMinCheck, d))
	defer least.Stop()
	woke, leastPassed := false, false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
			return nil
		case <-f.wake:
			if leastPassed {
				return nil
			}
			woke = true
		case <-least.C:
			if woke {
				return nil
			}
			leastPassed = true
		}
	}
}

// printed reports whether line is among the last lines printed.
func (f *follower) printed(line string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < min(f.n, followRecent); i++ {
		if f.recent[i] == line {
			return true
		}
	}
	return false
}

// finish stops following once the unit is done. The follower may not have
// passed on the unit's last lines yet (the push's digest, a failure's
// cause): finish reads the journal's last entry as it stands and waits until
// that line has been printed and the journal has then been quiet for
// followSettle, for lines journald files late; without that entry, until it
// has been quiet for followQuiet. Within followMaxFlush either way, so a
// busy host does not hold the push.
func (f *follower) finish(ctx context.Context, drv Driver) {
	last := ""
	jctx, cancel := context.WithTimeout(ctx, followMaxFlush)
	out, err := drv.Journal(jctx, f.name, 1)
	cancel()
	if err == nil {
		out = strings.TrimRight(out, "\n")
		last = out[strings.LastIndex(out, "\n")+1:]
	}
	bound := time.NewTimer(followMaxFlush)
	defer bound.Stop()
	for {
		quiet := followQuiet
		if last != "" && f.printed(last) {
			quiet = followSettle
		} else if last != "" {
			quiet = followMaxFlush
		}
		select {
		case <-f.notify:
			continue
		case <-time.After(quiet):
		case <-bound.C:
		case <-f.done:
		}
		break
	}
	f.stop()
	<-f.done
}
