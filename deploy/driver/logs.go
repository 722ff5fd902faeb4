package driver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Entry is one journal entry of a unit.
type Entry struct {
	Unit    string
	Time    int64 // microseconds since the epoch
	Message string
}

// journalEntry reads one line of journalctl -o json: MESSAGE is a string,
// or an array of bytes when it is not UTF-8; the unit is UNIT for what
// systemd says about it ("Started …"), else the process's _SYSTEMD_UNIT.
func journalEntry(line []byte) (Entry, bool) {
	var f map[string]json.RawMessage
	if json.Unmarshal(line, &f) != nil {
		return Entry{}, false
	}
	str := func(k string) string {
		var s string
		if json.Unmarshal(f[k], &s) != nil {
			var b []byte
			var ints []int
			if json.Unmarshal(f[k], &ints) == nil {
				for _, i := range ints {
					b = append(b, byte(i))
				}
			}
			s = string(b)
		}
		return s
	}
	e := Entry{Unit: str("UNIT"), Message: str("MESSAGE")}
	if e.Unit == "" {
		e.Unit = str("_SYSTEMD_UNIT")
	}
	e.Time, _ = strconv.ParseInt(str("__REALTIME_TIMESTAMP"), 10, 64)
	return e, true
}

// streamJournal runs argv (a journalctl, or fleetctl journal, printing
// -o json) and calls emit for each entry until the command ends, ctx ends
// or emit fails.
func streamJournal(ctx context.Context, argv []string, emit func(Entry) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = cmdWaitDelay
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return envErr("journal", "%s: %v", argv[0], err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var emitErr error
	for sc.Scan() {
		if e, ok := journalEntry(sc.Bytes()); ok {
			if emitErr = emit(e); emitErr != nil {
				cancel()
				break
			}
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	switch {
	case emitErr != nil:
		return emitErr
	case ctx.Err() != nil:
		return nil
	case err != nil:
		return envErr("journal", "%s: %v", argv[0], err)
	}
	return nil
}

// Logs writes the last n entries of the units, merged in time order, then
// with follow what they log until ctx ends: one journalctl for all of
// them, which merges by itself.
func (s *Systemd) Logs(ctx context.Context, names []string, n int, follow bool, emit func(Entry) error) error {
	argv := append(slices.Clip(s.journalctl()), "--no-pager", "-o", "json", "-n", strconv.Itoa(n))
	if follow {
		argv = append(argv, "-f")
	}
	for _, name := range names {
		argv = append(argv, "-u", name)
	}
	return streamJournal(ctx, argv, emit)
}

// fleetBacklog is how long a followed fleet journal gathers its backlog
// (fleetctl, and ssh to the unit's machine, start within it) before the
// entries are merged and written.
const fleetBacklog = 2 * time.Second

// Logs, on fleet: fleetctl journal on each unit's machine (over ssh for
// other machines), the last n entries of all merged in time order; with
// follow, then each entry as it arrives.
func (f *Fleet) Logs(ctx context.Context, names []string, n int, follow bool, emit func(Entry) error) error {
	var mu sync.Mutex
	var backlog []Entry
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := make(chan struct{})
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			argv := append(f.argv(), "journal", "--lines="+strconv.Itoa(n), "--output=json")
			if follow {
				argv = append(argv, "--follow")
			}
			errs[i] = streamJournal(ctx, append(argv, name), func(e Entry) error {
				mu.Lock()
				defer mu.Unlock()
				select {
				case <-started: // the backlog is out: each entry as it comes
					return emit(e)
				default:
					backlog = append(backlog, e)
					return nil
				}
			})
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	// The backlog: what every journal holds now. Without follow the
	// commands end by themselves; with it, what came within a moment.
	if !follow {
		wg.Wait()
	} else {
		select {
		case <-ctx.Done():
		case <-time.After(fleetBacklog):
		}
	}
	mu.Lock()
	sort.SliceStable(backlog, func(i, j int) bool { return backlog[i].Time < backlog[j].Time })
	if len(backlog) > n {
		backlog = backlog[len(backlog)-n:]
	}
	var err error
	for _, e := range backlog {
		if err = emit(e); err != nil {
			cancel()
			break
		}
	}
	close(started)
	mu.Unlock()
	wg.Wait()
	if err != nil {
		return err
	}
	for i, e := range errs {
		if e != nil {
			return fmt.Errorf("%s: %w", names[i], e)
		}
	}
	return nil
}
