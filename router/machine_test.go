package router

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nap-paas/nap/internal/naptest"
	"github.com/nap-paas/nap/internal/sandbox"
)

func TestMain(m *testing.M) { os.Exit(naptest.Main(m)) }

const machineConfig = `target: systemd
discovery: {etcd: v2, prefix: /services, host: 127.0.0.1}
router: {domain: apps.test, nginx: /usr/local/sbin/nginx}
`

// nginxWrapper is nginx, except that `-s reload` hangs while
// /run/hang-reload exists: a router stopped between writing its file and
// nginx's reload.
const nginxWrapper = `#!/bin/sh
case " $* " in *" -s reload "*) if [ -e /run/hang-reload ]; then exec sleep 600; fi;; esac
exec /usr/sbin/nginx "$@"
`

// The router as an operator runs it — its unit from `nap-render router
// units`, real etcd, Debian's nginx.service — in front of instances of
// examples/hello, announced by hand: what a user of APP.apps.test sees
// while instances come, go, die and etcd restarts, and that nothing
// hostile in etcd reaches nginx.
func TestRouterOnMachine(t *testing.T) {
	h := newRouterMachine(t)
	m := h.M

	e := m.Etcd().V2()
	put := func(key, value string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Put(ctx, "/services/"+key, value, 0); err != nil {
			t.Fatal(err)
		}
	}
	del := func(key string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Delete(ctx, "/services/"+key); err != nil {
			t.Fatal(err)
		}
	}
	instance := func(n int) string { return fmt.Sprintf(`{"host":"127.0.0.1","port":900%d,"release":"b"}`, n) }
	hc := m.HTTPClient()
	// await asks host until ok accepts the answer, at most 10 s; it
	// returns how long that took.
	await := func(host, what string, ok func(body string, err error) bool) time.Duration {
		t.Helper()
		began := time.Now()
		for {
			body, err := naptest.RouterGet(hc, host)
			if ok(body, err) {
				return time.Since(began)
			}
			if time.Since(began) > 10*time.Second {
				t.Fatalf("%s: %s is %q, %v after 10 s", what, host, body, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	answers := func(host string, n int) map[string]int {
		seen := map[string]int{}
		for i := 0; i < n; i++ {
			body, err := naptest.RouterGet(hc, host)
			if err != nil {
				t.Errorf("%s: %v", host, err)
			}
			seen[strings.TrimSpace(body)]++
		}
		return seen
	}
	reloads := func() int { return strings.Count(m.Journal("nap-router.service"), "router: nginx reloaded") }

	await("nobody.apps.test", "before any announcement", func(body string, err error) bool {
		return strings.Contains(err.Error(), "HTTP 404") && strings.Contains(err.Error(), "no app answers at this address")
	})

	// An announcement reaches nginx.
	put("shop/web/0123456789ab.1", instance(1))
	took := await("shop.apps.test", "the first instance", func(body string, err error) bool { return err == nil })
	t.Logf("BENCH router: a key written -> nginx serves it after %v", took.Round(time.Millisecond))

	// kill -9 of the router where it hurts most: its file written (the
	// same bytes it computes again after a restart), nginx not reloaded.
	// nginx serves on meanwhile; the router systemd starts again reloads
	// what the file holds although the file is unchanged. First, while
	// the router has seen no other app.
	t.Run("the router killed after a write, before the reload", func(t *testing.T) {
		// nginx's workers of the configuration before shop finish their
		// connections first: ten answers in a row, then the client
		for n := 0; n < 10; n++ {
			if _, err := naptest.RouterGet(hc, "shop.apps.test"); err != nil {
				n = -1
				time.Sleep(10 * time.Millisecond)
			}
		}
		c := naptest.StartRouterClient(m, "shop.apps.test", 10*time.Millisecond)
		h.Run("root", "touch", "/run/hang-reload")
		put("down/web/0123456789ab.1", instance(3))
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(h.Run("root", "cat", "/etc/nginx/conf.d/nap.conf"), "down.apps.test"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the router never wrote down.apps.test")
			}
		}
		if _, err := naptest.RouterGet(hc, "down.apps.test"); err == nil {
			t.Fatal("down.apps.test answers before nginx reloaded")
		}
		h.Run("root", "systemctl", "kill", "-s", "KILL", "nap-router.service")
		h.Run("root", "rm", "/run/hang-reload")
		took := await("down.apps.test", "after the router's restart", func(body string, err error) bool { return err == nil })
		t.Logf("down.apps.test served %v after the kill (the unit restarts the router after 2 s)", took.Round(10*time.Millisecond))
		c.Check(t, "the router killed", 0)
		del("down/web/0123456789ab.1")
	})

	t.Run("scale 1 to 3 to 1", func(t *testing.T) {
		put("shop/web/0123456789ab.2", instance(2))
		put("shop/web/0123456789ab.3", instance(3))
		await("shop.apps.test", "three instances", func(body string, err error) bool { return strings.Contains(body, "instance 3") })
		if seen := answers("shop.apps.test", 30); len(seen) != 3 {
			t.Errorf("30 requests over three instances reached %v", seen)
		}
		del("shop/web/0123456789ab.2")
		del("shop/web/0123456789ab.3")
		await("shop.apps.test", "one instance again", func(body string, err error) bool {
			return len(answers("shop.apps.test", 10)) == 1
		})
		if seen := answers("shop.apps.test", 30); len(seen) != 1 || seen["hello from b (instance 1)"] != 30 {
			t.Errorf("after scaling down, 30 requests reached %v", seen)
		}
	})

	t.Run("an instance killed", func(t *testing.T) {
		put("shop/web/0123456789ab.2", instance(2))
		await("shop.apps.test", "two instances", func(body string, err error) bool { return strings.Contains(body, "instance 2") })
		c := naptest.StartRouterClient(m, "shop.apps.test", 10*time.Millisecond)
		time.Sleep(500 * time.Millisecond)
		// its key stays until its sidekick or TTL removes it: nginx
		// moves each request off the dead instance
		h.Run("root", "systemctl", "kill", "-s", "KILL", "b2.service")
		time.Sleep(time.Second)
		del("shop/web/0123456789ab.2")
		time.Sleep(500 * time.Millisecond)
		c.Check(t, "an instance killed", 1)
	})

	t.Run("100 apps at once", func(t *testing.T) {
		before := reloads()
		began := time.Now()
		for i := 0; i < 100; i++ {
			put(fmt.Sprintf("app%d/web/0123456789ab.1", i), instance(1))
		}
		wrote := time.Since(began)
		await("app99.apps.test", "the 100th app", func(body string, err error) bool { return err == nil })
		took := time.Since(began)
		// workers of an earlier reload may still take a connection or two
		time.Sleep(300 * time.Millisecond)
		for _, app := range []string{"app0", "app42", "app99"} {
			if _, err := naptest.RouterGet(hc, app+".apps.test"); err != nil {
				t.Errorf("%s: %v", app, err)
			}
		}
		n := reloads() - before
		t.Logf("BENCH router: 100 apps written one by one in %v: all served %v after the first, in %d reload(s)", wrote.Round(time.Millisecond), took.Round(time.Millisecond), n)
		// One reload at the first write, then at most one per 100 ms
		// (the debounce) while writes go on, and the last: how long the
		// writes took depends on the machine's load, not on the router.
		if most := 2 + int(wrote/(100*time.Millisecond)); n > most {
			t.Errorf("%d reloads for 100 apps written in %v; want at most %d", n, wrote, most)
		}
	})

	t.Run("hostile entries", func(t *testing.T) {
		for key, value := range map[string]string{
			"evil;x/web/0123456789ab.1":  instance(1),
			"evil/web/0123456789ab.1":    `{"host":"127.0.0.1; include /etc/shadow","port":9001}`,
			"evil/web/0123456789ab.2":    `{"host":"127.0.0.1\n}\nserver { listen 81; }","port":9001}`,
			"evil/web/0123456789ab.3":    `{"host":"127.0.0.1","port":"9001; x"}`,
			"Evil/web/0123456789ab.1":    instance(1),
			"evil2/web/0123456789ab.1/x": instance(1),
			"evil3/web/0123456789ab.1":   `{"host":"$host","port":9001}`,
		} {
			put(key, value)
		}
		put("after/web/0123456789ab.1", instance(1))
		await("after.apps.test", "an app announced after the hostile entries", func(body string, err error) bool { return err == nil })
		conf := h.Run("root", "cat", "/etc/nginx/conf.d/nap.conf")
		for _, bad := range []string{"evil", "Evil", "shadow", "listen 81", "$host\n", "x;"} {
			if strings.Contains(conf, bad) {
				t.Errorf("nginx's configuration holds %q", bad)
			}
		}
		if j := m.Journal("nap-router.service"); strings.Count(j, "router: skipped ") < 6 {
			t.Errorf("the router's journal does not report every hostile entry:\n%s", j)
		}
		if _, err := naptest.RouterGet(hc, "shop.apps.test"); err != nil {
			t.Errorf("shop after the hostile entries: %v", err)
		}
	})

	t.Run("a configuration nginx refuses", func(t *testing.T) {
		// the operator's own server claims the default of port 80
		h.WriteFile("/etc/nginx/conf.d/zz-site.conf", []byte("server {\n\tlisten 80 default_server;\n\treturn 418;\n}\n"), "root", 0o644)
		before := h.Run("root", "cat", "/etc/nginx/conf.d/nap.conf")
		put("refused/web/0123456789ab.1", instance(1))
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(m.Journal("nap-router.service"), "nginx refused the configuration") {
			if time.Now().After(deadline) {
				t.Fatalf("no refusal in the router's journal:\n%s", m.Journal("nap-router.service"))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if after := h.Run("root", "cat", "/etc/nginx/conf.d/nap.conf"); after != before {
			t.Errorf("the refused configuration stayed in nap.conf")
		}
		if _, err := naptest.RouterGet(hc, "shop.apps.test"); err != nil {
			t.Errorf("shop while a configuration is refused: %v", err)
		}
		h.Run("root", "rm", "/etc/nginx/conf.d/zz-site.conf")
		del("refused/web/0123456789ab.1")
	})

	t.Run("etcd restarted", func(t *testing.T) {
		c := naptest.StartRouterClient(m, "shop.apps.test", 10*time.Millisecond)
		h.Run("root", "systemctl", "stop", "etcd.service")
		time.Sleep(2 * time.Second) // routes kept while etcd is away
		h.Run("root", "systemctl", "start", "etcd.service")
		put("late/web/0123456789ab.1", instance(3))
		await("late.apps.test", "an app announced after etcd's restart", func(body string, err error) bool { return err == nil })
		c.Check(t, "etcd's restart", 0)
	})
}

// newRouterMachine is a machine with etcd, Debian's nginx, three
// instances of examples/hello (b1–b3 on ports 9001–9003, answering
// "hello from b (instance N)") and the router's unit started.
func newRouterMachine(t testing.TB) *naptest.Host {
	m := sandbox.NewMachine(t, sandbox.Options{EtcdV2: true, Nginx: true})
	h := naptest.New(t, m)
	h.WriteFile("/usr/local/bin/hello", naptest.Program(t, naptest.HelloDir), "root", 0o755)
	for i := 1; i <= 3; i++ {
		h.Run("root", "systemd-run", "--unit", fmt.Sprintf("b%d", i), "-p", "Restart=no",
			"-E", fmt.Sprintf("PORT=900%d", i), "-E", "NAP_RELEASE=b", "-E", fmt.Sprint("NAP_INSTANCE=", i), "/usr/local/bin/hello")
	}
	h.WriteFile("/usr/local/sbin/nginx", []byte(nginxWrapper), "root", 0o755)
	h.WriteFile("/etc/nap/config.yaml", []byte(machineConfig), "root", 0o644)
	h.StartRouter("/etc/nap/config.yaml")

	return h
}
