package etcd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nap-paas/nap/etcd"
	"github.com/nap-paas/nap/internal/sandbox"
)

// Set and Get on real etcd, both APIs: a value with no TTL (an app's
// config vars on fleet), read back byte for byte; a missing key is
// ErrMissing; DeleteDir takes it.
func TestSetGetOnMachine(t *testing.T) {
	m := sandbox.NewMachine(t, sandbox.Options{EtcdV2: true})
	for _, v3 := range []bool{false, true} {
		c := &etcd.Client{Endpoints: []string{"http://127.0.0.1:2379"}, V3: v3, HTTP: m.HTTPClient()}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		const value = "API_KEY=s3cr3t with spaces & 'quotes'\nMODE=blue\n"
		if err := c.Set(ctx, "/nap/config/shop/1", value); err != nil {
			t.Fatalf("v3=%v: Set: %v", v3, err)
		}
		time.Sleep(1100 * time.Millisecond) // a TTL of 0 or 1 would have run out
		if got, err := c.Get(ctx, "/nap/config/shop/1"); err != nil || got != value {
			t.Errorf("v3=%v: Get = %q, %v", v3, got, err)
		}
		if _, err := c.Get(ctx, "/nap/config/shop/2"); !errors.Is(err, etcd.ErrMissing) {
			t.Errorf("v3=%v: Get of a missing key: %v", v3, err)
		}
		if err := c.DeleteDir(ctx, "/nap/config/shop"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "/nap/config/shop/1"); !errors.Is(err, etcd.ErrMissing) {
			t.Errorf("v3=%v: after DeleteDir: %v", v3, err)
		}
	}
}
