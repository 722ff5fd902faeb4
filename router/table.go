// Package router turns etcd's announcements into an nginx configuration:
// APP.DOMAIN reaches the instances of the app's web process. Table reads
// what etcd holds (shared, so input like any other: every key and value is
// parsed and checked, anything else skipped and reported); Nginx writes the
// configuration, deterministically, from a Table.
package router

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"

	"github.com/nap-paas/nap/announce"
	"github.com/nap-paas/nap/render"
)

// Upstream is one instance's address.
type Upstream struct {
	Host string // an IP or a DNS name
	Port int
}

func (u Upstream) String() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) }

// Table is app → the instances of its web process, sorted.
type Table map[string][]Upstream

// WebProcess is the process an app's address reaches.
const WebProcess = "web"

// FromKeys builds the table from the keys under prefix (key → value, as
// etcd.Client.List returns them). A key that is not an app's instance key,
// a value that is not an announcement, or an address that is neither an IP
// nor a DNS name is skipped; problems says which, one line each, quoted.
func FromKeys(prefix string, kv map[string]string) (t Table, problems []string) {
	t = Table{}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		k, ok := render.ParseKey(prefix, key)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: not an instance key under %s", render.QuoteName(key), prefix))
			continue
		}
		if k.Proc != WebProcess {
			continue
		}
		v, err := announce.ParseValue(kv[key])
		if err == nil {
			err = validHost(v.Host)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", key, err))
			continue
		}
		t[k.App] = append(t[k.App], Upstream{Host: v.Host, Port: v.Port})
	}
	for _, ups := range t {
		sort.Slice(ups, func(i, j int) bool { return ups[i].String() < ups[j].String() })
	}
	return t, problems
}

// validHost: an IP (without a zone) or a DNS name (render.ValidHostName) —
// what may stand in an nginx server line without quoting.
func validHost(h string) error {
	if a, err := netip.ParseAddr(h); err == nil && a.Zone() == "" {
		return nil
	}
	if render.ValidHostName(h) != nil {
		return fmt.Errorf("host %s is neither an IP nor a DNS name", render.QuoteName(h))
	}
	return nil
}
