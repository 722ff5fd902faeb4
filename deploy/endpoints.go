package deploy

import (
	"net"
	"sort"
	"strconv"

	"github.com/nap-paas/nap/announce"
)

// Announcement is the value the host announcer writes (announce.Value).
type Announcement = announce.Value

// Endpoint is one announced instance.
type Endpoint struct {
	Key  string
	Addr string // host:port
	Rev  string
}

func parseEndpoints(kv map[string]string) []Endpoint {
	var out []Endpoint
	for k, v := range kv {
		a, err := announce.ParseValue(v)
		if err != nil {
			continue
		}
		out = append(out, Endpoint{Key: k, Addr: net.JoinHostPort(a.Host, strconv.Itoa(a.Port)), Rev: a.Release})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
