package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nap-paas/nap/dockerfile"
)

func TestNames(t *testing.T) {
	n := Names{App: "shop", Rev: discoveryRev}
	for _, tc := range []struct{ got, want string }{
		{n.Build(), "shop.build.0123456789ab.service"},
		{n.Run("web"), "shop.web.0123456789ab@.service"},
		{n.RunInstance("web", 3), "shop.web.0123456789ab@3.service"},
		{n.RunGlob("web"), "shop.web.0123456789ab@*.service"},
		{n.Discovery("worker"), "shop.worker.0123456789ab.discovery@.service"},
		{n.DiscoveryInstance("worker", 12), "shop.worker.0123456789ab.discovery@12.service"},
		{n.Container("web", 2), "shop.web.0123456789ab.2"},
		{n.Key("/services/", "web", 2), "/services/shop/web/0123456789ab.2"},
		{n.Key("/a/b", "web", 2), "/a/b/shop/web/0123456789ab.2"},
		{AppKey("/services", "shop"), "/services/shop"},
		// the second release of the same revision with other units
		{Names{App: "shop", Rev: discoveryRev, Gen: 2}.Run("web"), "shop.web.0123456789ab-2@.service"},
		{Names{App: "shop", Rev: discoveryRev, Gen: 2}.Container("web", 1), "shop.web.0123456789ab-2.1"},
		{Names{App: "shop", Rev: discoveryRev, Gen: 12}.Key("/services", "web", 3), "/services/shop/web/0123456789ab-12.3"},
		{Names{App: "shop", Rev: discoveryRev, Gen: 2}.Build(), "shop.build.0123456789ab.service"},
		{ReleaseKey(discoveryRev, 1), discoveryRev},
		{ReleaseKey(discoveryRev, 3), discoveryRev + "-3"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// ParseUnit reads back exactly what Names makes, and nothing else.
func TestParseUnit(t *testing.T) {
	n := Names{App: "shop", Rev: discoveryRev}
	r := n.R()
	for _, want := range []UnitName{
		{App: "shop", R: r, Kind: BuildUnit},
		{App: "shop", R: r, Kind: RunUnit, Proc: "web"},
		{App: "shop", R: r, Kind: RunUnit, Proc: "web", Instance: 10},
		{App: "shop", R: r, Kind: DiscoveryUnit, Proc: "worker"},
		{App: "shop", R: r, Kind: DiscoveryUnit, Proc: "worker", Instance: 1},
		{App: "shop", R: r + "-2", Kind: RunUnit, Proc: "web", Instance: 3},
		{App: "shop", R: r + "-17", Kind: DiscoveryUnit, Proc: "web"},
	} {
		got, ok := ParseUnit("shop", want.String())
		if !ok || got != want {
			t.Errorf("ParseUnit(%q) = %+v, %v; want %+v", want.String(), got, ok, want)
		}
		if got.Template() != (want.Kind != BuildUnit && want.Instance == 0) {
			t.Errorf("%s: Template() = %v", want, got.Template())
		}
	}
	for _, name := range []string{
		"shop-2.web.0123456789ab@1.service", // another app
		"shop.web.0123456789ab@1.socket",
		"shop.web.0123456789ab@01.service",
		"shop.web.0123456789ab@0.service",
		"shop.web.0123456789ab@x.service",
		"shop.web.0123456789a@1.service",
		"shop.web.0123456789AB@1.service",
		"shop.Web.0123456789ab@1.service",
		"shop.build.0123456789ab@1.service",
		"shop.build.xyz.service",
		"shop.web.0123456789ab-1@1.service",
		"shop.web.0123456789ab-02@1.service",
		"shop.web.0123456789ab-x@1.service",
		"shop.web.0123456789ab-@1.service",
		"shop.build.0123456789ab-2.service",
		"shop.web.0123456789ab.service",
		"shop.web.0123456789ab.other@1.service",
		"shop.web.x.0123456789ab@1.service",
		"nap-announce.service",
	} {
		if got, ok := ParseUnit("shop", name); ok {
			t.Errorf("ParseUnit(%q) = %+v; want no match", name, got)
		}
	}
}

func TestParseReleaseKey(t *testing.T) {
	for _, tc := range []struct {
		key string
		rev string
		gen int
		ok  bool
	}{
		{discoveryRev, discoveryRev, 1, true},
		{discoveryRev + "-2", discoveryRev, 2, true},
		{discoveryRev + "-10", discoveryRev, 10, true},
		{discoveryRev + "-1", discoveryRev, 0, false},
		{discoveryRev + "-02", discoveryRev, 0, false},
		{discoveryRev + "-", discoveryRev, 0, false},
	} {
		rev, gen, ok := ParseReleaseKey(tc.key)
		if ok != tc.ok || ok && (rev != tc.rev || gen != tc.gen) {
			t.Errorf("ParseReleaseKey(%q) = %q, %d, %v; want %q, %d, %v", tc.key, rev, gen, ok, tc.rev, tc.gen, tc.ok)
		}
	}
}

func TestSortProcesses(t *testing.T) {
	got := []string{"worker", "clock", "web", "api"}
	SortProcesses(got)
	if diff := cmp.Diff([]string{"web", "api", "clock", "worker"}, got); diff != "" {
		t.Error(diff)
	}
}

// RenderUnits is Render, typed: the same files in the same order, and per
// process its instances and whether it is announced.
func TestRenderUnits(t *testing.T) {
	cfg := discoveryConfig(t, "")
	cfg, err := ParseAppConfig(cfg.Operator, "nap.yaml", []byte("processes:\n  web: {instances: 3}\n  worker: {command: [run]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	img := &dockerfile.Image{Ports: []dockerfile.Port{{Start: 8080, End: 8080, Proto: "tcp"}}, Cmd: &dockerfile.Command{Args: []string{"/app"}}}
	rel := Release{App: "shop", Rev: discoveryRev}
	u, err := RenderUnits(img, cfg, rel)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := Render(img, cfg, rel)
	var names, want []string
	for _, f := range u.Files() {
		names = append(names, f.Name)
	}
	for _, f := range files {
		want = append(want, f.Name)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("Files() (-Render +RenderUnits):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"web": 3, "worker": 1}, u.Instances()); diff != "" {
		t.Errorf("Instances: %s", diff)
	}
	if u.Processes[0].Name != "web" || u.Processes[0].Discovery == nil || u.Processes[1].Discovery != nil {
		t.Errorf("web announced, worker not: %+v", u.Processes)
	}
}

// ParseKey reads back what Names.Key makes, and nothing else.
func TestParseKey(t *testing.T) {
	n := Names{App: "shop", Rev: discoveryRev, Gen: 3}
	if k, ok := ParseKey("/services/", n.Key("/services", "web", 2)); !ok || k != (KeyName{"shop", "web", n.ID(), 2}) {
		t.Errorf("ParseKey(%q) = %+v, %v", n.Key("/services", "web", 2), k, ok)
	}
	for _, key := range []string{
		"/services/shop/web/0123456789ab",
		"/services/shop/web/0123456789ab.0",
		"/services/shop/web/0123456789ab.01",
		"/services/shop/web/0123456789ab.1/x",
		"/services/Shop/web/0123456789ab.1",
		"/services/shop/Web/0123456789ab.1",
		"/services/shop/web/0123456789a.1",
		"/services/shop/web/0123456789ab-1.1",
		"/services/sh;op/web/0123456789ab.1",
		"/services/shop\n/web/0123456789ab.1",
		"/other/shop/web/0123456789ab.1",
		"/services/../web/0123456789ab.1",
	} {
		if k, ok := ParseKey("/services", key); ok {
			t.Errorf("ParseKey(%q) = %+v; want no match", key, k)
		}
	}
}
