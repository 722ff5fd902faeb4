package router

import (
	"context"
	"reflect"
	"time"

	"github.com/nap-paas/nap/etcd"
)

// Follow keeps the routing table of the keys under prefix: it calls update
// with the table (and the entries FromKeys refused) once etcd's watch is
// in place, then after changes, and only when the table or the refused
// entries differ from the last ones given. A change after a quiet
// debounce is read at once; the changes that follow within debounce of
// that read are read together at its end (100 announcements landing at
// once make two or three updates, a lone one costs no wait). When etcd
// does not answer, the last table stands (routes are kept) until it does.
// It returns when ctx ends.
func Follow(ctx context.Context, c *etcd.Client, prefix string, debounce time.Duration, update func(Table, []string)) error {
	poke := make(chan struct{}, 1)
	go c.Watch(ctx, prefix, func() {
		select {
		case poke <- struct{}{}:
		default:
		}
	})
	var last Table
	var lastProblems []string
	var read time.Time // the last List
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poke:
		}
		if wait := debounce - time.Since(read); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			select { // what came during the pause is read below
			case <-poke:
			default:
			}
		}
		read = time.Now()
		kv, err := c.List(ctx, prefix)
		if err != nil {
			continue // the watch pokes again once etcd answers
		}
		t, problems := FromKeys(prefix, kv)
		if last == nil || !reflect.DeepEqual(t, last) || !reflect.DeepEqual(problems, lastProblems) {
			last, lastProblems = t, problems
			update(t, problems)
		}
	}
}
