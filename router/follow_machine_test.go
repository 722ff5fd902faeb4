package router

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nap-paas/nap/etcd"
	"github.com/nap-paas/nap/internal/sandbox"
)

// Follow on real etcd (v2 and v3): the table follows the announcements
// through etcd's watch; 100 announced at once make one or few updates; a
// hostile entry is refused; an etcd restart keeps the routes, and a change
// after it arrives.
func TestFollowOnMachine(t *testing.T) {
	m := sandbox.NewMachine(t, sandbox.Options{EtcdV2: true})
	for _, api := range []string{"v2", "v3"} {
		t.Run(api, func(t *testing.T) {
			prefix := "/services-" + api
			c := &etcd.Client{Endpoints: []string{"http://127.0.0.1:2379"}, V3: api == "v3", HTTP: m.HTTPClient()}
			e := m.Etcd().V2()
			if api == "v3" {
				e = m.Etcd().V3()
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type update struct {
				t        Table
				problems []string
				at       time.Time
			}
			updates := make(chan update, 100)
			go Follow(ctx, c, prefix, 100*time.Millisecond, func(t Table, p []string) { updates <- update{t, p, time.Now()} })
			next := func(what string, ok func(Table) bool) (update, int) {
				t.Helper()
				n := 0
				for deadline := time.After(20 * time.Second); ; {
					select {
					case u := <-updates:
						n++
						if ok(u.t) {
							return u, n
						}
					case <-deadline:
						t.Fatalf("no update with %s within 20 s", what)
					}
				}
			}
			next("the empty table", func(t Table) bool { return len(t) == 0 })

			put := func(key, value string) {
				t.Helper()
				pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer pcancel()
				if err := e.Put(pctx, key, value, 0); err != nil {
					t.Fatal(err)
				}
			}
			began := time.Now()
			for i := 0; i < 100; i++ {
				put(fmt.Sprintf("%s/app%d/web/%s.1", prefix, i, r1), fmt.Sprintf(`{"host":"10.0.0.%d","port":8080}`, i%250+1))
			}
			wrote := time.Since(began)
			u, n := next("100 apps", func(t Table) bool { return len(t) == 100 })
			t.Logf("BENCH router %s: 100 announcements written one by one in %v; the table complete %v after the first, in %d update(s)",
				api, wrote.Round(time.Millisecond), u.at.Sub(began).Round(time.Millisecond), n)
			if most := 2 + int(wrote/(100*time.Millisecond)); n > most { // see TestRouterOnMachine
				t.Errorf("%d updates for 100 announcements written in %v; want at most %d", n, wrote, most)
			}

			began = time.Now()
			put(prefix+"/app1/web/"+r1+".2", `{"host":"10.9.9.9","port":1234}`)
			u, _ = next("app1's second instance", func(t Table) bool { return len(t["app1"]) == 2 })
			t.Logf("BENCH router %s: a key changed -> the table has it after %v", api, u.at.Sub(began).Round(time.Millisecond))

			put(prefix+"/evil/web/"+r1+".1", `{"host":"1.2.3.4; include /etc/shadow","port":1}`)
			u, _ = next("the hostile entry reported", func(Table) bool { return true })
			if _, ok := u.t["evil"]; ok || len(u.problems) == 0 {
				t.Errorf("hostile entry: table %v, problems %q", u.t["evil"], u.problems)
			}

			if out, err := m.Systemctl("restart", "etcd.service"); err != nil {
				t.Fatalf("restart etcd: %v %s", err, out)
			}
			put(prefix+"/app100/web/"+r1+".1", `{"host":"10.0.1.1","port":80}`)
			// Routes are kept while etcd is away: no update drops an app.
			tt := t
			u, _ = next("app100, after etcd's restart", func(t Table) bool {
				if len(t) < 100 {
					tt.Errorf("an update with %d apps while etcd restarted", len(t))
				}
				return len(t["app100"]) == 1
			})
			if len(u.t) != 101 {
				t.Errorf("after etcd's restart the table has %d apps, want 101", len(u.t))
			}
		})
	}
}
