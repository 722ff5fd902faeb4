package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nap-paas/nap/unit"
)

// Router is the operator's `router:`: apps answer at APP.DOMAIN through
// nginx on the edge hosts, configured by `nap-render router` from etcd's
// announcements.
type Router struct {
	Domain  string // "" = no router
	HTTP    int    // nginx's HTTP port; default 80
	HTTPS   int    // nginx's HTTPS port; 0 = no TLS. On, HTTP redirects to it
	TLSCert string // absolute; the certificate for *.DOMAIN (a wildcard, say), PEM
	TLSKey  string // absolute; its key
	Nginx   string // absolute; default /usr/sbin/nginx
	Conf    string // absolute; the file nginx's http block includes; default /etc/nginx/conf.d/nap.conf
}

// URL is where app answers, or "" without a router.
func (r Router) URL(app string) string {
	if r.Domain == "" {
		return ""
	}
	scheme, port, standard := "http", r.HTTP, 80
	if r.HTTPS > 0 {
		scheme, port, standard = "https", r.HTTPS, 443
	}
	u := scheme + "://" + app + "." + r.Domain
	if port != standard {
		u += ":" + strconv.Itoa(port)
	}
	return u
}

// Check refuses settings that cannot work together or cannot stand in
// nginx's configuration unquoted.
func (r Router) Check() error {
	if err := validDomain(r.Domain); err != nil {
		return fmt.Errorf("router.domain: %v", err)
	}
	if r.HTTP < 1 || r.HTTP > 65535 || r.HTTPS < 0 || r.HTTPS > 65535 {
		return fmt.Errorf("router: ports are 1 to 65535 (https 0 = no TLS), not http %d, https %d", r.HTTP, r.HTTPS)
	}
	if r.HTTP == r.HTTPS {
		return fmt.Errorf("router: http and https are both port %d: give them two ports", r.HTTP)
	}
	for _, p := range []struct{ name, path string }{{"tls_cert", r.TLSCert}, {"tls_key", r.TLSKey}, {"nginx", r.Nginx}, {"conf", r.Conf}} {
		if p.path == "" && (p.name == "tls_cert" || p.name == "tls_key") {
			continue
		}
		if err := validNginxPath(p.path); err != nil {
			return fmt.Errorf("router.%s: %v", p.name, err)
		}
	}
	if (r.HTTPS > 0) != (r.TLSCert != "" && r.TLSKey != "") || (r.TLSCert == "") != (r.TLSKey == "") {
		return fmt.Errorf("router: TLS needs https (a port), tls_cert and tls_key together; without TLS leave all three out")
	}
	return nil
}

// validDomain: "" (no router) or a lower-case DNS name.
func validDomain(s string) error {
	if s != "" && (ValidHostName(s) != nil || strings.ToLower(s) != s) {
		return fmt.Errorf("%s: use a lower-case DNS name such as apps.example.com", QuoteName(s))
	}
	return nil
}

// validNginxPath: an absolute path of characters nginx reads unquoted.
func validNginxPath(s string) error {
	if err := validAbs(s); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("/._-+@", rune(c)) {
			return fmt.Errorf("%s: use letters, digits and / . _ - + @ only", QuoteName(s))
		}
	}
	return nil
}

// RouterUnitName is the router's unit on every edge host.
const RouterUnitName = "nap-router.service"

// RouterUnit is the unit that runs `nap-render router` (the operator's
// nap_render, reading config, "" = its default) beside nginx: on systemd
// enabled for multi-user.target; on fleet a global unit, on the machines
// with every one of metadata (KEY=VALUE) when some are given.
func RouterUnit(op Operator, config string, metadata []string) (*unit.File, error) {
	if op.Router.Domain == "" {
		return nil, fmt.Errorf("router.domain is empty: set it in the operator config first")
	}
	if err := op.Router.Check(); err != nil {
		return nil, err
	}
	argv := []unit.Text{unit.Lit(op.NapRender), unit.Lit("router")}
	if config != "" {
		if err := validAbs(config); err != nil {
			return nil, fmt.Errorf("--config: %v", err)
		}
		argv = append(argv, unit.Lit("--config"), unit.Lit(config))
	}
	for _, m := range metadata {
		if err := validMetadata(m); err != nil {
			return nil, fmt.Errorf("--metadata: %v", err)
		}
	}
	if len(metadata) > 0 && op.Target != TargetFleet {
		return nil, fmt.Errorf("--metadata places the router on fleet's machines: the target is %s", op.Target)
	}
	f := unit.NewFile(RouterUnitName)
	f.Section("Unit").
		Add("Description", unit.Lit("nap router: *."+op.Router.Domain+" by nginx from etcd's announcements")).
		Add("Wants", unit.Lit("network-online.target nginx.service")).
		// After a local etcd and nginx: the first configuration is loaded at
		// once (reloading an nginx that is not up is reported and retried
		// at the next change).
		Add("After", unit.Lit("network-online.target nginx.service etcd.service etcd2.service etcd-member.service")).
		Add("StartLimitIntervalSec", unit.Lit("0"))
	f.Section("Service").
		AddRaw("ExecStart", unit.ExecWords(0, argv...)).
		Add("Restart", unit.Lit("always")).
		Add("RestartSec", unit.Lit("2s"))
	if op.Target == TargetFleet {
		x := f.Section(unit.FleetSection).Add("Global", unit.Lit("true"))
		for _, m := range slices.Sorted(slices.Values(metadata)) {
			x.Add("MachineMetadata", unit.Lit(m))
		}
	} else {
		f.Section("Install").Add("WantedBy", unit.Lit("multi-user.target"))
	}
	return f, nil
}
